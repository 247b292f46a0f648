"""Six denoisers for saliency maps and images: TV, bilateral, median, wavelet, non-local means, Gaussian.

Paper 002 cleans Grad-CAM heatmaps with total-variation denoising and trains the same network on
data sets denoised with five filters; paper 003 smooths every map with a Gaussian (sigma 1.0)
before scoring it. Each is one call here::

    clean = xai_tf.denoise(maps, "tv")            # (N, H, W) -> (N, H, W) float32
    xai_tf.denoise.methods()                      # ('tv', 'bilateral', 'median', 'wavelet', 'nlm', 'gaussian')

Libraries (used as they are; none is broken): scikit-image for total variation (Chambolle),
wavelet (BayesShrink) and non-local means; OpenCV for bilateral and median (C++, on float32, so
maps are not quantised to 8 bits); SciPy for the Gaussian. This module adds what they lack: one
value convention for signed and arbitrarily scaled maps, input checks, and a thread pool over the
batch (the filters release the GIL, so images run in parallel).

How values are treated (the filters' strengths are defined on a [0, 1] intensity scale, or the
8-bit scale for bilateral, so every map is brought onto it first):

- Images ``(N, H, W, C)`` must lie in [0, 1] and are denoised as they are, so every image of a data
  set gets the same filter strength (paper 002's data-set experiment).
- Maps ``(H, W)`` or ``(N, H, W)`` are mapped one by one onto [0, 1] by an affine map, denoised
  and mapped back:

  * a non-negative map is divided by its maximum. A map normalised to maximum 1, as paper 002's
    heatmaps are, is therefore passed to the library unchanged (``denoise(m, "tv")`` equals
    ``denoise_tv_chambolle(m, weight=0.1)``);
  * a signed map ``m`` with ``s = max|m|`` becomes ``(m / s + 1) / 2``, so zero sits at 0.5. All
    six filters treat bright and dark alike, hence ``denoise(-m) == -denoise(m)``: positive and
    negative evidence stay on their own side of zero and keep their scale;
  * an all-zero map is returned as it is.

  The result is scale-equivariant, ``denoise(c * m) == c * denoise(m)`` for ``c > 0``, so raw
  gradients (values near 1e-3) and normalised heatmaps are smoothed alike. The Gaussian is linear
  and is applied to the raw values directly.

Output lies in the input's value range: every filter but the wavelet is an average of input
values, and scikit-image clips the wavelet result to [0, 1] on the working scale. So a map or image
in [0, 1] stays in [0, 1], a non-negative map stays non-negative, and a signed map stays in
``[-s, s]``.
"""
from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np
import pywt
from scipy import ndimage
from skimage.restoration import (
    denoise_nl_means,
    denoise_tv_chambolle,
    denoise_wavelet,
    estimate_sigma,
)

from xai_tf._checks import (
    as_float_array,
    check_choice,
    check_finite,
    check_images,
    check_positive,
    worker_count,
)
from xai_tf._progress import progress

# ---------------------------------------------------------------------------------------------
# The six filters. Each takes one float32 array on the [0, 1] working scale, (H, W) or (H, W, C),
# and returns a float32 array of the same shape.
# ---------------------------------------------------------------------------------------------


def _total_variation(x: np.ndarray, *, weight: float, max_num_iter: int) -> np.ndarray:
    channel_axis = -1 if x.ndim == 3 else None
    return denoise_tv_chambolle(x, weight=weight, max_num_iter=max_num_iter, channel_axis=channel_axis)


def _bilateral(x: np.ndarray, *, d: int, sigma_color: float, sigma_space: float) -> np.ndarray:
    # sigma_color is on the 8-bit scale (paper 002's OpenCV call on uint8 images); filtering the
    # 0..255 float copy keeps that meaning without rounding the map to 256 levels.
    def filter_channels(channels: np.ndarray) -> np.ndarray:
        return cv2.bilateralFilter(np.ascontiguousarray(channels) * np.float32(255.0), d, sigma_color,
                                   sigma_space) / np.float32(255.0)

    if x.ndim == 2 or x.shape[-1] in (1, 3):  # OpenCV filters 1 or 3 channels jointly
        return filter_channels(x).reshape(x.shape)
    return np.stack([filter_channels(x[..., c]) for c in range(x.shape[-1])], axis=-1)


def _median(x: np.ndarray, *, size: int) -> np.ndarray:
    channels = x[..., None] if x.ndim == 2 else x
    out = np.empty_like(channels)
    for c in range(channels.shape[-1]):
        plane = np.ascontiguousarray(channels[..., c])
        if size in (3, 5):  # OpenCV's float median handles 3x3 and 5x5 only; same replicate border as below
            out[..., c] = cv2.medianBlur(plane, size)
        else:
            out[..., c] = ndimage.median_filter(plane, size=size, mode="nearest")
    return out.reshape(x.shape)


def _has_finest_detail(plane: np.ndarray, wavelet: str) -> bool:
    """Whether the finest diagonal wavelet band of a 2-D plane has a nonzero coefficient.

    scikit-image estimates the noise sigma as the median of that band's nonzero magnitudes; with
    none (a constant map, or a ramp for smooth wavelets) it takes the median of nothing and warns.
    Checking first keeps that warning out (``warnings.catch_warnings`` is not thread-safe).
    """
    return bool(np.any(pywt.dwtn(plane, wavelet)["dd"]))


def _wavelet(x: np.ndarray, *, wavelet: str, mode: str, method: str, wavelet_levels: int | None) -> np.ndarray:
    if x.ndim == 3:  # channel by channel, as scikit-image's channel_axis does, each with its own noise estimate
        return np.stack([_wavelet(x[..., c], wavelet=wavelet, mode=mode, method=method,
                                  wavelet_levels=wavelet_levels) for c in range(x.shape[-1])], axis=-1)
    if not _has_finest_detail(x, wavelet):
        # zero estimated noise means a zero threshold: nothing to remove
        return x.copy()
    return denoise_wavelet(x, wavelet=wavelet, mode=mode, method=method, wavelet_levels=wavelet_levels,
                           rescale_sigma=True)


def _non_local_means(x: np.ndarray, *, patch_size: int, search_window: int, h: float | None) -> np.ndarray:
    channel_axis = -1 if x.ndim == 3 else None
    if h is None:
        # scikit-image's recommended cut-off for the fast algorithm: 0.8 x the estimated noise sigma,
        # averaged over channels (estimate_sigma(..., average_sigmas=True)); estimate_sigma uses db2
        planes = [x] if x.ndim == 2 else [x[..., c] for c in range(x.shape[-1])]
        sigma = float(np.mean([estimate_sigma(plane) if _has_finest_detail(plane, "db2") else 0.0
                               for plane in planes]))
        if sigma == 0.0:
            # no finest-scale detail (e.g. a constant map) means no measurable noise: nothing to average
            return x.copy()
        h = 0.8 * sigma
    return denoise_nl_means(x, patch_size=patch_size, patch_distance=(search_window - 1) // 2, h=h,
                            fast_mode=True, channel_axis=channel_axis)


def _gaussian(x: np.ndarray, *, sigma: float, truncate: float) -> np.ndarray:
    sigmas = sigma if x.ndim == 2 else (sigma, sigma, 0.0)  # images: smooth space, not across channels
    return ndimage.gaussian_filter(x, sigma=sigmas, truncate=truncate, mode="reflect")


# ---------------------------------------------------------------------------------------------
# Parameter checks
# ---------------------------------------------------------------------------------------------


def _positive_number(value, name):
    return float(check_positive(value, name))


def _positive_int(value, name):
    return int(check_positive(value, name, integer=True))


def _odd_int(value, name):
    value = _positive_int(value, name)
    if value % 2 == 0:
        raise ValueError(f"{name} must be an odd number of pixels (a centred window); got {value}")
    return value


def _optional(check):
    return lambda value, name: None if value is None else check(value, name)


def _one_of(*choices):
    return lambda value, name: check_choice(value, name, choices)


def _wavelet_name(value, name):
    if not isinstance(value, str) or value not in pywt.wavelist(kind="discrete"):
        raise ValueError(f"{name}={value!r} is not a discrete PyWavelets wavelet; e.g. 'db1', 'db2', 'sym4'")
    return value


# name -> (filter, linear?, {parameter: (default, check)}); defaults from the papers.
_DENOISERS: dict[str, tuple[Callable, bool, dict]] = {
    # paper 002: denoise_tv_chambolle(heatmap, weight=0.1); max_num_iter is scikit-image's default
    "tv": (_total_variation, False, {
        "weight": (0.1, _positive_number),
        "max_num_iter": (200, _positive_int),
    }),
    # paper 002: cv2.bilateralFilter(image, 9, 75, 75) on 8-bit images
    "bilateral": (_bilateral, False, {
        "d": (9, _positive_int),
        "sigma_color": (75.0, _positive_number),
        "sigma_space": (75.0, _positive_number),
    }),
    # paper 002: cv2.medianBlur(image, 5)
    "median": (_median, False, {
        "size": (5, _odd_int),
    }),
    # paper 002: denoise_wavelet(..., method="BayesShrink", mode="soft"); db1 is scikit-image's default
    "wavelet": (_wavelet, False, {
        "wavelet": ("db1", _wavelet_name),
        "mode": ("soft", _one_of("soft", "hard")),
        "method": ("BayesShrink", _one_of("BayesShrink", "VisuShrink")),
        "wavelet_levels": (None, _optional(_positive_int)),
    }),
    # paper 002: non-local means with 7x7 patches in a 21x21 search window, h from the noise estimate
    "nlm": (_non_local_means, False, {
        "patch_size": (7, _odd_int),
        "search_window": (21, _odd_int),
        "h": (None, _optional(_positive_number)),
    }),
    # paper 003: Gaussian smoothing with standard deviation 1.0 pixel; truncate is SciPy's default
    "gaussian": (_gaussian, True, {
        "sigma": (1.0, _positive_number),
        "truncate": (4.0, _positive_number),
    }),
}


def methods() -> tuple[str, ...]:
    """Names of the denoisers ``denoise`` accepts."""
    return tuple(_DENOISERS)


def defaults(method: str) -> dict:
    """Default parameters of ``method`` (from the papers), as a new dict."""
    check_choice(method, "method", methods())
    return {name: default for name, (default, _) in _DENOISERS[method][2].items()}


def _resolve_params(method: str, params: dict) -> dict:
    spec = _DENOISERS[method][2]
    unknown = sorted(set(params) - set(spec))
    if unknown:
        raise TypeError(f"denoiser {method!r} got unknown parameter(s) {', '.join(unknown)}; "
                        f"it accepts: {', '.join(spec)}")
    resolved = {}
    for name, (default, check) in spec.items():
        value = params.get(name, default)
        resolved[name] = check(value, name) if name in params else value
    return resolved


# Parameters that are a window side in pixels and must fit in the maps: a larger one makes the
# filter a silent no-op (scikit-image's non-local means returns the input unchanged).
_WINDOW_PARAMS = {"nlm": ("patch_size",)}


def _check_fits(method: str, params: dict, size: tuple) -> None:
    height, width = (int(side) for side in size)
    for name in _WINDOW_PARAMS.get(method, ()):
        if params[name] > min(height, width):
            raise ValueError(f"{name}={params[name]} is larger than the maps ({height} x {width}); {method} "
                             f"needs {name} <= {min(height, width)} (a larger window leaves the maps unchanged)")


# ---------------------------------------------------------------------------------------------
# Value representation (see the module docstring) and the batch runner
# ---------------------------------------------------------------------------------------------


def _denoise_map(item: np.ndarray, denoiser: Callable, linear: bool, params: dict) -> np.ndarray:
    """Denoise one (H, W) map of any sign and scale through the [0, 1] working scale."""
    if linear:
        return denoiser(item, **params)
    low, high = float(item.min()), float(item.max())
    if low >= 0.0:
        if high == 0.0:
            return item.copy()
        if high == 1.0:  # already on the working scale: no arithmetic, so results match the library bit for bit
            return denoiser(item, **params)
        scale = np.float32(high)
        return denoiser(item / scale, **params) * scale
    scale = np.float32(max(-low, high))
    half = np.float32(0.5)
    working = (item / scale + np.float32(1.0)) * half
    return (denoiser(working, **params) - half) * (np.float32(2.0) * scale)


def _denoise_image(item: np.ndarray, denoiser: Callable, params: dict) -> np.ndarray:
    """Denoise one (H, W, C) image in [0, 1] as it is."""
    if item.shape[-1] == 1:
        return denoiser(item[..., 0], **params)[..., None]
    return denoiser(item, **params)


def _as_maps_or_images(maps) -> np.ndarray:
    array = as_float_array(maps, "maps")
    if array.ndim == 4:  # an image batch: NHWC in [0, 1]
        check_finite(array, "maps")
        if array.size and (array.min() < 0.0 or array.max() > 1.0):
            raise ValueError("maps with 4 dimensions are images (N, H, W, C) and must lie in [0, 1]; got range "
                             f"[{array.min():.4g}, {array.max():.4g}] (divide 8-bit images by 255)")
        return check_images(array, "maps")
    if array.ndim not in (2, 3):
        raise ValueError("maps must be one map (H, W), a batch of maps (N, H, W) or a batch of images "
                         f"(N, H, W, C); got shape {array.shape}")
    if array.size == 0:
        raise ValueError(f"maps is empty (shape {array.shape}); expected at least one map")
    return check_finite(array, "maps")


def denoise(maps, method: str, *, workers: int | None = None, verbose: int = 1, **params) -> np.ndarray:
    """Denoise saliency maps or images with one of six filters; same shape, float32.

    Paper 002 cleans Grad-CAM heatmaps with total-variation denoising and trains the same network
    on data sets denoised with five filters; paper 003 smooths every map with a Gaussian (sigma
    1.0) before scoring it. ``denoise.methods()`` lists the method names and
    ``denoise.defaults(method)`` returns a method's default parameters.

    Parameters
    ----------
    maps : array-like, shape (H, W), (N, H, W) or (N, H, W, C)
        One map ``(H, W)``, maps ``(N, H, W)`` of any sign and scale, or images ``(N, H, W, C)``
        in [0, 1] (paper 002 denoises whole data sets before training). Finite values. NumPy
        arrays, tf.Tensors and nested lists are accepted. Three dimensions always mean maps
        ``(N, H, W)``: pass a single image as ``(1, H, W, C)``. How signed and scaled maps are
        handled: see Notes (signed maps keep their sign, results are scale-equivariant).
    method : {"tv", "bilateral", "median", "wavelet", "nlm", "gaussian"}
        One of ``denoise.methods()``, with its parameters and their defaults:

        - ``"tv"``: total variation, Chambolle (scikit-image). ``weight=0.1`` (paper 002),
          ``max_num_iter=200`` (scikit-image's default).
        - ``"bilateral"``: OpenCV bilateral filter. ``d=9`` (neighbourhood diameter, px),
          ``sigma_color=75.0`` (on the 8-bit scale, i.e. 75/255 of the [0, 1] range),
          ``sigma_space=75.0`` (px) (paper 002).
        - ``"median"``: ``size=5`` (odd window side, px; paper 002's 5x5).
        - ``"wavelet"``: scikit-image wavelet shrinkage, ``method="BayesShrink"``, ``mode="soft"``
          (paper 002), ``wavelet="db1"``, ``wavelet_levels=None`` (scikit-image's choice).
        - ``"nlm"``: non-local means (scikit-image, fast mode), ``patch_size=7``,
          ``search_window=21`` (odd side in px; paper 002), ``h=None``: 0.8 x the noise sigma
          from ``skimage.restoration.estimate_sigma`` of each map (on the [0, 1] working scale).
        - ``"gaussian"``: ``sigma=1.0`` px (paper 003), ``truncate=4.0`` (SciPy's default),
          reflecting borders, exactly ``scipy.ndimage.gaussian_filter``.

    workers : int or None, optional
        Threads denoising images of the batch in parallel (the filters release the GIL); default
        None = ``os.cpu_count()``; 1 runs serially. The result does not depend on it.
    verbose : int, optional
        Progress bar: 0 none, 1 (default) a bar on a terminal, 2 always.
    **params
        The method's parameters listed under ``method``; unknown names raise TypeError, bad values
        ValueError.

    Returns
    -------
    numpy.ndarray, float32
        The denoised maps or images, of ``maps``'s shape, inside the input's value range.

    Raises
    ------
    ValueError
        If ``method`` is unknown, a parameter value is invalid (such as an even window side, or an
        nlm ``patch_size`` larger than the maps), ``maps`` does not have 2, 3 or 4 dimensions, is
        empty or holds NaN/Inf, or 4-D images lie outside [0, 1].
    TypeError
        If a parameter name is unknown to the method, a parameter or ``workers`` has the wrong
        type, or ``maps`` is not numeric.

    Notes
    -----
    Libraries (used as they are): scikit-image for total variation (Chambolle), wavelet
    (BayesShrink) and non-local means; OpenCV for bilateral and median (C++, on float32, so maps
    are not quantised to 8 bits); SciPy for the Gaussian.

    The filters' strengths are defined on a [0, 1] intensity scale (the 8-bit scale for
    bilateral), so every input is brought onto it first:

    - Images ``(N, H, W, C)`` must lie in [0, 1] and are denoised as they are, so every image of a
      data set gets the same filter strength (paper 002's data-set experiment).
    - Maps ``(H, W)`` or ``(N, H, W)`` are mapped one by one onto [0, 1] by an affine map, denoised
      and mapped back. A non-negative map is divided by its maximum (a map normalised to maximum
      1, as paper 002's heatmaps are, is passed to the library unchanged: ``denoise(m, "tv")``
      equals ``denoise_tv_chambolle(m, weight=0.1)``). A signed map ``m`` with ``s = max|m|``
      becomes ``(m / s + 1) / 2``, so zero sits at 0.5; all six filters treat bright and dark
      alike, hence ``denoise(-m) == -denoise(m)``. An all-zero map is returned as it is.
    - The result is scale-equivariant, ``denoise(c * m) == c * denoise(m)`` for ``c > 0``, so raw
      gradients (values near 1e-3) and normalised heatmaps are smoothed alike. The Gaussian is
      linear and is applied to the raw values directly.

    Output lies in the input's value range: a map or image in [0, 1] stays in [0, 1], a
    non-negative map stays non-negative, and a signed map stays in ``[-s, s]``.

    Examples
    --------
    >>> clean = xai_tf.denoise(maps, "tv")  # doctest: +SKIP
    >>> xai_tf.denoise.methods()  # doctest: +SKIP
    ('tv', 'bilateral', 'median', 'wavelet', 'nlm', 'gaussian')
    """
    check_choice(method, "method", methods())
    denoiser, linear, _ = _DENOISERS[method]
    params = _resolve_params(method, params)
    if workers is not None:
        workers = _positive_int(workers, "workers")
    array = _as_maps_or_images(maps)
    _check_fits(method, params, array.shape[-3:-1] if array.ndim == 4 else array.shape[-2:])

    batch = array[None] if array.ndim == 2 else array
    if batch.ndim == 4:
        def work(item):
            return _denoise_image(item, denoiser, params)
    else:
        def work(item):
            return _denoise_map(item, denoiser, linear, params)

    workers = worker_count(workers, len(batch))
    out = np.empty_like(batch)
    if workers == 1:
        results = map(work, batch)
        for index, result in enumerate(progress(results, total=len(batch), desc=f"denoise {method}",
                                                verbose=verbose)):
            out[index] = result
    else:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="xai_tf-denoise") as pool:
            results = pool.map(work, batch)  # ordered; the pool works ahead of the loop
            for index, result in enumerate(progress(results, total=len(batch), desc=f"denoise {method}",
                                                    verbose=verbose)):
                out[index] = result
    return out[0] if array.ndim == 2 else out


denoise.methods = methods
denoise.defaults = defaults
