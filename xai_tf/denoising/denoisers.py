"""The six built-in denoisers: one public function each, with its real signature, and their records.

Each function denoises one map, a batch of maps or a batch of images under the value convention
(:mod:`xai_tf.denoising.convention`) and is reachable as ``xai_tf.denoise.<name>``;
``xai_tf.denoise(maps, name, **params)`` reaches the same record by name. A new denoiser is its
filter (``filters.py``, or anywhere) and one :class:`~xai_tf.denoising.records.DenoiserRecord` in
the table at the bottom of this file (``register`` does the same at run time); a public function
here is optional.
"""
from __future__ import annotations

import numpy as np

from xai_tf.denoising import filters
from xai_tf.denoising.convention import run
from xai_tf.denoising.records import (
    DenoiserRecord,
    Parameter,
    odd_int,
    one_of,
    optional,
    positive_int,
    positive_number,
    register,
)

_COMMON = """maps : array-like, shape (H, W), (N, H, W) or (N, H, W, C)
        One map, maps of any sign and scale, or images in [0, 1]; finite values (see
        :func:`xai_tf.denoise` for how signed and scaled maps are handled)."""
_RUNNER = """workers : int or None, optional
        Threads denoising the batch in parallel; default None = ``os.cpu_count()``. The result
        does not depend on it.
    verbose : int, optional
        Progress bar: 0 none, 1 (default) a bar on a terminal, 2 always.

    Returns
    -------
    numpy.ndarray, float32
        The denoised maps or images, of ``maps``'s shape.

    Raises
    ------
    ValueError
        If a parameter value is invalid, or ``maps`` has the wrong shape, is empty, holds NaN/Inf,
        or 4-D images lie outside [0, 1].
    TypeError
        If a parameter or ``workers`` has the wrong type, or ``maps`` is not numeric."""


def _documented(function):
    function.__doc__ = function.__doc__.replace("{common}", _COMMON).replace("{runner}", _RUNNER)
    return function


@_documented
def tv(maps, weight: float = 0.1, max_num_iter: int = 200, *, workers: int | None = None,
       verbose: int = 1) -> np.ndarray:
    """Total-variation denoising (Chambolle, scikit-image's ``denoise_tv_chambolle``).

    Parameters
    ----------
    {common}
    weight : float, optional
        Denoising weight on the [0, 1] working scale; larger smooths more (default 0.1, paper 002).
    max_num_iter : int, optional
        Iterations at most (default 200, scikit-image's).
    {runner}
    """
    return run(TV, maps, {"weight": weight, "max_num_iter": max_num_iter}, workers, verbose)


@_documented
def bilateral(maps, d: int = 9, sigma_color: float = 75.0, sigma_space: float = 75.0, *,
              workers: int | None = None, verbose: int = 1) -> np.ndarray:
    """Bilateral filter (OpenCV's ``bilateralFilter`` on float32, so maps are not quantised).

    Parameters
    ----------
    {common}
    d : int, optional
        Neighbourhood diameter in pixels (default 9, paper 002).
    sigma_color : float, optional
        Range sigma on the 8-bit scale, i.e. 75/255 of the [0, 1] range by default (paper 002).
    sigma_space : float, optional
        Spatial sigma in pixels (default 75.0, paper 002).
    {runner}
    """
    return run(BILATERAL, maps, {"d": d, "sigma_color": sigma_color, "sigma_space": sigma_space}, workers,
               verbose)


@_documented
def median(maps, size: int = 5, *, workers: int | None = None, verbose: int = 1) -> np.ndarray:
    """Median filter with a replicated border (OpenCV for 3x3 and 5x5, SciPy for other sizes).

    Parameters
    ----------
    {common}
    size : int, optional
        Odd window side in pixels (default 5, paper 002's 5x5).
    {runner}
    """
    return run(MEDIAN, maps, {"size": size}, workers, verbose)


@_documented
def wavelet(maps, wavelet: str = "db1", mode: str = "soft", method: str = "BayesShrink",
            wavelet_levels: int | None = None, *, workers: int | None = None, verbose: int = 1) -> np.ndarray:
    """Wavelet shrinkage (scikit-image's ``denoise_wavelet``), each channel with its own noise estimate.

    Parameters
    ----------
    {common}
    wavelet : str, optional
        A discrete PyWavelets wavelet (default ``"db1"``, scikit-image's).
    mode : {"soft", "hard"}, optional
        Thresholding (default ``"soft"``, paper 002).
    method : {"BayesShrink", "VisuShrink"}, optional
        Threshold rule (default ``"BayesShrink"``, paper 002).
    wavelet_levels : int or None, optional
        Decomposition levels (default None: scikit-image's choice).
    {runner}
    """
    return run(WAVELET, maps, {"wavelet": wavelet, "mode": mode, "method": method,
                               "wavelet_levels": wavelet_levels}, workers, verbose)


@_documented
def nlm(maps, patch_size: int = 7, search_window: int = 21, h: float | None = None, *,
        workers: int | None = None, verbose: int = 1) -> np.ndarray:
    """Non-local means, fast mode (scikit-image's ``denoise_nl_means``).

    Parameters
    ----------
    {common}
    patch_size : int, optional
        Odd patch side in pixels, at most the maps' smaller side (default 7, paper 002).
    search_window : int, optional
        Odd side of the search window in pixels (default 21, paper 002).
    h : float or None, optional
        Cut-off on the [0, 1] working scale; default None: 0.8 x the noise sigma that
        ``skimage.restoration.estimate_sigma`` finds in each map.
    {runner}
    """
    return run(NLM, maps, {"patch_size": patch_size, "search_window": search_window, "h": h}, workers, verbose)


@_documented
def gaussian(maps, sigma: float = 1.0, truncate: float = 4.0, *, workers: int | None = None,
             verbose: int = 1) -> np.ndarray:
    """Gaussian smoothing with reflecting borders: exactly ``scipy.ndimage.gaussian_filter`` (linear).

    Parameters
    ----------
    {common}
    sigma : float, optional
        Standard deviation in pixels (default 1.0, paper 003).
    truncate : float, optional
        Kernel radius in sigmas (default 4.0, SciPy's).
    {runner}
    """
    return run(GAUSSIAN, maps, {"sigma": sigma, "truncate": truncate}, workers, verbose)


# ---------------------------------------------------------------------------------------------
# The built-in records, in the order listed. A new denoiser is one more record here.
# ---------------------------------------------------------------------------------------------

TV = DenoiserRecord(
    "tv", filters.total_variation, {
        "weight": Parameter(0.1, positive_number),
        "max_num_iter": Parameter(200, positive_int, "scikit-image's default"),
    }, source="paper 002", library="total variation, Chambolle (scikit-image)",
    description="total-variation denoising: flattens noise, keeps edges")
BILATERAL = DenoiserRecord(
    "bilateral", filters.bilateral, {
        "d": Parameter(9, positive_int, "px"),
        "sigma_color": Parameter(75.0, positive_number, "8-bit scale: 75/255 of the range"),
        "sigma_space": Parameter(75.0, positive_number, "px"),
    }, source="paper 002", library="bilateral filter (OpenCV, on float32)",
    description="edge-preserving average of pixels alike in place and value")
MEDIAN = DenoiserRecord(
    "median", filters.median, {
        "size": Parameter(5, odd_int, "odd window side, px"),
    }, source="paper 002", library="median filter (OpenCV, SciPy for other sizes)",
    description="median of each window: removes speckle")
WAVELET = DenoiserRecord(
    "wavelet", filters.wavelet_shrinkage, {
        "wavelet": Parameter("db1", filters.wavelet_name, "scikit-image's default"),
        "mode": Parameter("soft", one_of("soft", "hard")),
        "method": Parameter("BayesShrink", one_of("BayesShrink", "VisuShrink")),
        "wavelet_levels": Parameter(None, optional(positive_int), "scikit-image's choice"),
    }, source="paper 002", library="wavelet shrinkage (scikit-image)",
    description="shrinks small wavelet coefficients (BayesShrink)")
NLM = DenoiserRecord(
    "nlm", filters.non_local_means, {
        "patch_size": Parameter(7, odd_int, "odd side, px"),
        "search_window": Parameter(21, odd_int, "odd side, px"),
        "h": Parameter(None, optional(positive_number), "0.8 x the estimated noise sigma"),
    }, source="paper 002", library="non-local means, fast mode (scikit-image)",
    description="averages similar patches found nearby", window_parameters=("patch_size",))
GAUSSIAN = DenoiserRecord(
    "gaussian", filters.gaussian, {
        "sigma": Parameter(1.0, positive_number, "px"),
        "truncate": Parameter(4.0, positive_number, "SciPy's default"),
    }, source="paper 003", library="Gaussian filter (SciPy), reflecting borders",
    description="Gaussian smoothing (linear, on the raw values)", linear=True)

#: The built-in records with their public functions, in the order ``denoise.methods()`` lists them.
BUILT_IN = ((TV, tv), (BILATERAL, bilateral), (MEDIAN, median), (WAVELET, wavelet), (NLM, nlm),
            (GAUSSIAN, gaussian))

for _record, _function in BUILT_IN:
    register(_record)
