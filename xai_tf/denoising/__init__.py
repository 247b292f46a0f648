"""Denoisers for saliency maps and images, one record each: TV, bilateral, median, wavelet, NLM, Gaussian, ...

Paper 002 cleans Grad-CAM heatmaps with total-variation denoising and trains the same network on
data sets denoised with five filters; paper 003 smooths every map with a Gaussian (sigma 1.0)
before scoring it. Each is one call here, by name or by function::

    clean = xai_tf.denoise(maps, "tv")            # (N, H, W) -> (N, H, W) float32
    clean = xai_tf.denoise.tv(maps, weight=0.2)   # the same filter, with its real signature
    xai_tf.denoise.methods()                      # the registered names: ('tv', 'bilateral', ...)

The package: ``xai_tf.denoising.records`` (:class:`DenoiserRecord`, ``register``,
``unregister``, ``list_denoisers``), ``xai_tf.denoising.filters`` (the filters on the [0, 1]
working scale, libraries used as they are), ``xai_tf.denoising.convention`` (the value
convention for signed and scaled maps, input checks, the thread pool over the batch) and
``xai_tf.denoising.denoisers`` (one public function per built-in denoiser and the table of
their records). A new denoiser is one record in that table, or ``register(record)`` at run time.
"""
from __future__ import annotations

import numpy as np

from xai_tf.denoising.convention import run
from xai_tf.denoising.denoisers import BUILT_IN, bilateral, gaussian, median, nlm, tv, wavelet
from xai_tf.denoising.records import (
    DenoiserRecord,
    Parameter,
    describe_denoisers,
    list_denoisers,
    record_of,
    register,
    unregister,
)

__all__ = ["DenoiserRecord", "Parameter", "bilateral", "defaults", "denoise", "describe_denoisers", "gaussian",
           "list_denoisers", "median", "methods", "nlm", "register", "tv", "unregister", "wavelet"]


def methods() -> tuple[str, ...]:
    """Names of the denoisers ``denoise`` accepts (the registered records), in order.

    Returns
    -------
    tuple of str
        ``("tv", "bilateral", "median", "wavelet", "nlm", "gaussian")`` plus any registered since.
    """
    return list_denoisers()


def defaults(method: str) -> dict:
    """Default parameters of a denoiser (from the papers), as a new dict.

    Parameters
    ----------
    method : str
        One of :func:`methods`.

    Returns
    -------
    dict
        ``{parameter: default}``.

    Raises
    ------
    ValueError
        If ``method`` is not registered.
    """
    return record_of(method).defaults()


def denoise(maps, method: str, /, *, workers: int | None = None, verbose: int = 1, **params) -> np.ndarray:
    """Denoise saliency maps or images with a denoiser named by its record; same shape, float32.

    Paper 002 cleans Grad-CAM heatmaps with total-variation denoising and trains the same network
    on data sets denoised with five filters; paper 003 smooths every map with a Gaussian (sigma
    1.0) before scoring it. ``denoise.methods()`` lists the names, ``denoise.defaults(method)``
    returns a denoiser's default parameters, and each built-in denoiser is also a function with
    its real signature: ``denoise.tv``, ``denoise.bilateral``, ``denoise.median``,
    ``denoise.wavelet``, ``denoise.nlm``, ``denoise.gaussian`` (``denoise(maps, "tv", weight=0.2)``
    equals ``denoise.tv(maps, weight=0.2)``).

    Parameters
    ----------
    maps : array-like, shape (H, W), (N, H, W) or (N, H, W, C)
        One map ``(H, W)``, maps ``(N, H, W)`` of any sign and scale, or images ``(N, H, W, C)``
        in [0, 1] (paper 002 denoises whole data sets before training). Finite values. NumPy
        arrays, tf.Tensors and nested lists are accepted. Three dimensions always mean maps
        ``(N, H, W)``: pass a single image as ``(1, H, W, C)``. How signed and scaled maps are
        handled: see Notes (signed maps keep their sign, results are scale-equivariant).
    method : str
        One of ``denoise.methods()``; the built-in ones, their parameters and defaults are
        documented on their functions (:func:`xai_tf.denoising.tv`, ...) and in the user guide's
        table of denoisers, which is generated from the records.
    workers : int or None, optional
        Threads denoising images of the batch in parallel (the filters release the GIL); default
        None = ``os.cpu_count()``; 1 runs serially. The result does not depend on it.
    verbose : int, optional
        Progress bar: 0 none, 1 (default) a bar on a terminal, 2 always.
    **params
        The denoiser's parameters; unknown names raise TypeError, bad values ValueError. ``maps``
        and ``method`` are positional-only, so a denoiser may have a parameter called ``method``
        (the wavelet's: ``denoise(maps, "wavelet", method="VisuShrink")``).

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
      becomes ``(m / s + 1) / 2``, so zero sits at 0.5; every built-in filter treats bright and
      dark alike, hence ``denoise(-m) == -denoise(m)``. An all-zero map is returned as it is.
    - The result is scale-equivariant, ``denoise(c * m) == c * denoise(m)`` for ``c > 0``, so raw
      gradients (values near 1e-3) and normalised heatmaps are smoothed alike. A linear filter
      (the Gaussian) is applied to the raw values directly.

    Output lies in the input's value range: a map or image in [0, 1] stays in [0, 1], a
    non-negative map stays non-negative, and a signed map stays in ``[-s, s]``.

    Examples
    --------
    >>> clean = xai_tf.denoise(maps, "tv")  # doctest: +SKIP
    >>> xai_tf.denoise.methods()  # doctest: +SKIP
    ('tv', 'bilateral', 'median', 'wavelet', 'nlm', 'gaussian')
    """
    return run(record_of(method), maps, params, workers, verbose)


denoise.methods = methods
denoise.defaults = defaults
for _record, _function in BUILT_IN:
    setattr(denoise, _record.name, _function)
