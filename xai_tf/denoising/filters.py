"""The built-in filters, each on one float32 array on the [0, 1] working scale, (H, W) or (H, W, C).

Libraries (used as they are; none is broken): scikit-image for total variation (Chambolle),
wavelet (BayesShrink) and non-local means; OpenCV for bilateral and median (C++, on float32, so
maps are not quantised to 8 bits); SciPy for the Gaussian. Each filter returns a float32 array of
its input's shape; the value convention and the batch are :mod:`xai_tf.denoising.convention`'s.
"""
from __future__ import annotations

import numpy as np

# The libraries are imported in the filters that use them: `xai-tf --help` lists the denoisers from
# their records without paying for OpenCV, scikit-image and SciPy's statistics (~0.8 s).


def total_variation(x: np.ndarray, *, weight: float, max_num_iter: int) -> np.ndarray:
    from skimage.restoration import denoise_tv_chambolle

    channel_axis = -1 if x.ndim == 3 else None
    return denoise_tv_chambolle(x, weight=weight, max_num_iter=max_num_iter, channel_axis=channel_axis)


def bilateral(x: np.ndarray, *, d: int, sigma_color: float, sigma_space: float) -> np.ndarray:
    import cv2

    # sigma_color is on the 8-bit scale (paper 002's OpenCV call on uint8 images); filtering the
    # 0..255 float copy keeps that meaning without rounding the map to 256 levels.
    def filter_channels(channels: np.ndarray) -> np.ndarray:
        return cv2.bilateralFilter(np.ascontiguousarray(channels) * np.float32(255.0), d, sigma_color,
                                   sigma_space) / np.float32(255.0)

    if x.ndim == 2 or x.shape[-1] in (1, 3):  # OpenCV filters 1 or 3 channels jointly
        return filter_channels(x).reshape(x.shape)
    return np.stack([filter_channels(x[..., c]) for c in range(x.shape[-1])], axis=-1)


def median(x: np.ndarray, *, size: int) -> np.ndarray:
    import cv2
    from scipy import ndimage

    channels = x[..., None] if x.ndim == 2 else x
    out = np.empty_like(channels)
    for c in range(channels.shape[-1]):
        plane = np.ascontiguousarray(channels[..., c])
        if size in (3, 5):  # OpenCV's float median handles 3x3 and 5x5 only; same replicate border as below
            out[..., c] = cv2.medianBlur(plane, size)
        else:
            out[..., c] = ndimage.median_filter(plane, size=size, mode="nearest")
    return out.reshape(x.shape)


def has_finest_detail(plane: np.ndarray, wavelet: str) -> bool:
    """Whether the finest diagonal wavelet band of a 2-D plane has a nonzero coefficient.

    scikit-image estimates the noise sigma as the median of that band's nonzero magnitudes; with
    none (a constant map, or a ramp for smooth wavelets) it takes the median of nothing and warns.
    Checking first keeps that warning out (``warnings.catch_warnings`` is not thread-safe).
    """
    import pywt

    return bool(np.any(pywt.dwtn(plane, wavelet)["dd"]))


def wavelet_shrinkage(x: np.ndarray, *, wavelet: str, mode: str, method: str, wavelet_levels: int | None) -> np.ndarray:
    from skimage.restoration import denoise_wavelet

    if x.ndim == 3:  # channel by channel, as scikit-image's channel_axis does, each with its own noise estimate
        return np.stack([wavelet_shrinkage(x[..., c], wavelet=wavelet, mode=mode, method=method,
                                        wavelet_levels=wavelet_levels) for c in range(x.shape[-1])], axis=-1)
    if not has_finest_detail(x, wavelet):
        # zero estimated noise means a zero threshold: nothing to remove
        return x.copy()
    return denoise_wavelet(x, wavelet=wavelet, mode=mode, method=method, wavelet_levels=wavelet_levels,
                           rescale_sigma=True)


def non_local_means(x: np.ndarray, *, patch_size: int, search_window: int, h: float | None) -> np.ndarray:
    from skimage.restoration import denoise_nl_means, estimate_sigma

    channel_axis = -1 if x.ndim == 3 else None
    if h is None:
        # scikit-image's recommended cut-off for the fast algorithm: 0.8 x the estimated noise sigma,
        # averaged over channels (estimate_sigma(..., average_sigmas=True)); estimate_sigma uses db2
        planes = [x] if x.ndim == 2 else [x[..., c] for c in range(x.shape[-1])]
        sigma = float(np.mean([estimate_sigma(plane) if has_finest_detail(plane, "db2") else 0.0
                               for plane in planes]))
        if sigma == 0.0:
            # no finest-scale detail (e.g. a constant map) means no measurable noise: nothing to average
            return x.copy()
        h = 0.8 * sigma
    return denoise_nl_means(x, patch_size=patch_size, patch_distance=(search_window - 1) // 2, h=h,
                            fast_mode=True, channel_axis=channel_axis)


def gaussian(x: np.ndarray, *, sigma: float, truncate: float) -> np.ndarray:
    from scipy import ndimage

    sigmas = sigma if x.ndim == 2 else (sigma, sigma, 0.0)  # images: smooth space, not across channels
    return ndimage.gaussian_filter(x, sigma=sigmas, truncate=truncate, mode="reflect")


def wavelet_name(value, name):
    """A parameter check: ``value`` names a discrete PyWavelets wavelet."""
    import pywt

    if not isinstance(value, str) or value not in pywt.wavelist(kind="discrete"):
        raise ValueError(f"{name}={value!r} is not a discrete PyWavelets wavelet; e.g. 'db1', 'db2', 'sym4'")
    return value
