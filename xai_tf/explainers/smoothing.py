"""Noise averaging around any attribution: the one mechanism behind SmoothGrad and its relatives.

SmoothGrad (PAIR's ``GetSmoothedMask``), VarGrad and SquareGrad (Xplique's gradient statistics),
SmoothGrad-IG and Smooth Blur IG all draw noisy copies ``x + N(0, sigma^2)`` of each image, apply a
base attribution to every copy and reduce the copies to one statistic: the mean, the mean square
or the (unbiased) variance. :func:`smooth` is that mechanism, once (the idea of Captum's
``NoiseTunnel``, written here from the definitions); each method is a thin call to it.

The noise rule is the same for every method: ``stdev_spread`` (relative: ``sigma = stdev_spread *
(max(x) - min(x))`` of each image, PAIR's) or ``noise`` (absolute: one ``sigma`` in pixel units,
Xplique's), not both. The noise of image ``i`` is drawn from ``rng_for(seed, i)``, all
``n_samples`` copies at once, so maps do not depend on ``batch_size``.
"""
from __future__ import annotations

import inspect
from collections.abc import Callable

import numpy as np

from xai_tf._checks import check_positive
from xai_tf._random import rng_for
from xai_tf.explainers.base import Request, chunks, image_step_chunks
from xai_tf.explainers.docblocks import MAPS, join

STATISTICS = ("mean", "mean_square", "variance")

# -- the smoothing methods' shared docstring blocks (``xai_tf._docstrings.fill_doc``) ----------------
#: ``n_samples`` of a smoothing method: ``N_SAMPLES.format(least=..., default=...)``.
N_SAMPLES = """
n_samples : int, optional
    Noisy copies per image (default {default}); at least {least}.
"""
_STDEV_SPREAD = """
stdev_spread : float, optional
    Noise standard deviation as a fraction of each image's value range ``max(x) - min(x)``
    (SmoothGrad's convention), >= 0; default {default}.
"""
NOISE = """
noise : float, optional
    Absolute noise standard deviation in pixel units, the same for every image (Xplique's
    ``noise``; default None: ``stdev_spread`` applies). Give ``noise`` or a non-default
    ``stdev_spread``, not both.
"""
#: The noise options with PAIR's ``GetSmoothedMask`` defaults (SmoothGrad, SmoothGrad-IG, Smooth Blur IG).
PAIR_NOISE = join(N_SAMPLES.format(least=1, default="25, PAIR's"), _STDEV_SPREAD.format(default="0.15, PAIR's"),
                  NOISE, """
magnitude : bool, optional
    Average the squared gradients or attributions (default True, PAIR's) instead of the signed ones.
""")
#: ``stdev_spread`` and ``noise`` with Xplique's defaults (VarGrad, SquareGrad).
XPLIQUE_NOISE = join(_STDEV_SPREAD.format(default="0.2, Xplique's absolute sigma 0.2 on a full-range [0, 1] image"),
                     NOISE)
#: The Returns entry of a PAIR smoothing method; the method's docstring ends the sentence.
SMOOTHED_MAPS = MAPS + """\
    With ``magnitude=True`` (default) the map is the mean squared gradient or attribution, >= 0,
    larger = more important. With ``magnitude=False`` and "sum" or "mean" it is signed as the
    attribution it averages:
"""
#: SmoothGrad's paper (SmoothGrad, SmoothGrad-IG).
SMOOTHGRAD_REFERENCE = """
D. Smilkov, N. Thorat, B. Kim, F. Viegas and M. Wattenberg, "SmoothGrad: removing noise by
adding noise", arXiv:1706.03825, 2017.
"""


def noise_levels(request: Request, stdev_spread: float | None = None, noise: float | None = None) -> np.ndarray:
    """Noise standard deviation of every image ``(N,)`` float64 under the one noise rule.

    Parameters
    ----------
    request : Request
        Images ``(N, H, W, C)``.
    stdev_spread : float, optional
        Relative level (>= 0): ``sigma_i = stdev_spread * (max(x_i) - min(x_i))`` (PAIR's).
    noise : float, optional
        Absolute level (>= 0): ``sigma_i = noise`` for every image (Xplique's).

    Raises
    ------
    ValueError
        Both or neither given, or a negative level.
    TypeError
        A level that is not a number.
    """
    if (stdev_spread is None) == (noise is None):
        raise ValueError("give one noise level: stdev_spread (relative to each image's value range) or noise "
                         f"(absolute, in pixel units), not both; got stdev_spread={stdev_spread!r}, noise={noise!r}")
    if noise is not None:
        check_positive(noise, "noise", allow_zero=True)
        return np.full(len(request.images), float(noise), np.float64)
    check_positive(stdev_spread, "stdev_spread", allow_zero=True)
    spans = request.images.reshape(len(request.images), -1)
    return stdev_spread * (spans.max(axis=1) - spans.min(axis=1)).astype(np.float64)


def noise_option(method: Callable, stdev_spread: float, noise: float | None) -> dict:
    """The noise level a smoothing method's options ask for, as :func:`smooth`'s keywords.

    ``noise`` replaces ``stdev_spread`` when given; ``stdev_spread`` must then keep the default of
    ``method``'s signature (a changed ``stdev_spread`` together with ``noise`` is a ValueError,
    since only one of them can apply).
    """
    if noise is None:
        return {"stdev_spread": stdev_spread, "noise": None}
    default = inspect.signature(method).parameters["stdev_spread"].default
    if stdev_spread != default:
        raise ValueError(f"give stdev_spread (relative) or noise (absolute), not both; got stdev_spread="
                         f"{stdev_spread!r} and noise={noise!r}")
    return {"stdev_spread": None, "noise": noise}


def noisy_copies(request: Request, index: int, n_samples: int, stdev: float) -> np.ndarray:
    """The noise ``(n_samples, H, W, C)`` float32 added to image ``index``: ``N(0, stdev^2)`` from
    ``rng_for(seed, index)`` (drawn whole, so a slice of it does not depend on the batching)."""
    shape = request.images.shape[1:]
    return rng_for(request.seed, index).standard_normal((n_samples, *shape), dtype=np.float32) * np.float32(stdev)


def _accumulate(total: np.ndarray, rows: slice, part: np.ndarray, whole: bool) -> None:
    """Add ``part`` into ``total[rows]``; with every copy of the rows at once (``whole``), store it as
    is (the sum over all copies; keeps a -0.0 that adding to 0.0 would turn into 0.0)."""
    if whole:
        total[rows] = part
    else:
        total[rows] += part


def smooth(request: Request, attribute: Callable, *, n_samples: int, stdev_spread: float | None = None,
           noise: float | None = None, statistic: str = "mean", whole_images: bool = False,
           precision=np.float32) -> np.ndarray:
    """A statistic of ``attribute`` over ``n_samples`` noisy copies of every image, batched.

    Parameters
    ----------
    request : Request
        Images ``(N, H, W, C)`` float32, targets ``(N,)``, ``batch_size`` and ``seed``.
    attribute : callable
        ``attribute(noisy (M, H, W, C) float32, targets (M,) int64, image_indices (M,)) -> (M, H, W, C)``:
        the base method on the noisy copies (a gradient, Integrated Gradients, Blur IG...).
    n_samples : int
        Noisy copies per image, >= 1 (>= 2 for ``statistic="variance"``).
    stdev_spread, noise : float, optional
        The noise level, exactly one of them (:func:`noise_levels`).
    statistic : {"mean", "mean_square", "variance"}, optional
        ``E[a]`` (default), ``E[a^2]`` or the unbiased variance ``n / (n - 1) (E[a^2] - E[a]^2)``
        (clipped at 0) of the attributions ``a`` over the copies.
    whole_images : bool, optional
        False (default): one model evaluation per copy, so the images x copies are split into
        calls of at most ``batch_size`` copies (several images per call, or part of one image's
        copies). True: ``attribute`` batches its own model calls (path methods), and gets every copy
        of ``max(1, batch_size // n_samples)`` images per call.
    precision : numpy dtype, optional
        The sums over the copies are kept in this type: float32 (default; PAIR's arithmetic) or
        float64 (Xplique's VarGrad and SquareGrad).

    Returns
    -------
    numpy.ndarray, shape (N, H, W, C), float32
        The statistic per pixel channel (reduce the channels afterwards).

    Raises
    ------
    ValueError
        ``n_samples`` out of range, an unknown ``statistic``, or a bad noise level.
    TypeError
        ``n_samples`` not an integer or a noise level not a number.
    """
    if statistic not in STATISTICS:
        raise ValueError(f"statistic={statistic!r} is not valid; expected one of: {', '.join(STATISTICS)}")
    check_positive(n_samples, "n_samples", integer=True)
    if statistic == "variance" and n_samples < 2:
        raise ValueError(f"n_samples must be >= 2 for a variance; got {n_samples}")
    stdevs = noise_levels(request, stdev_spread, noise)
    n_images = len(request.images)
    if whole_images:
        plan = [(images, slice(0, n_samples)) for images in chunks(n_images, max(1, request.batch_size // n_samples))]
    else:
        plan = image_step_chunks(n_images, n_samples, request.batch_size)
    first = np.zeros(request.images.shape, precision)
    second = np.zeros(request.images.shape, precision) if statistic != "mean" else None
    for images, samples in request.progress(plan):
        indices = range(n_images)[images]
        noisy = np.concatenate([request.images[i] + noisy_copies(request, i, n_samples, stdevs[i])[samples]
                                for i in indices])
        count = samples.stop - samples.start
        values = attribute(noisy, np.repeat(request.targets[images], count), np.repeat(list(indices), count))
        values = np.asarray(values).reshape(len(indices), count, *request.images.shape[1:]).astype(precision)
        if statistic != "mean_square":
            _accumulate(first, images, values.sum(axis=1), whole_images)
        if second is not None:
            _accumulate(second, images, (values * values).sum(axis=1), whole_images)
    if statistic == "mean":
        return (first / n_samples).astype(np.float32)
    if statistic == "mean_square":
        return (second / n_samples).astype(np.float32)
    mean, square = first / n_samples, second / n_samples
    return np.maximum(n_samples / (n_samples - 1) * (square - mean * mean), 0.0).astype(np.float32)


def check_smoothing(n_samples, stdev_spread):
    """Range checks of the options shared by the smoothing methods (before any model call)."""
    check_positive(n_samples, "n_samples", integer=True)
    if stdev_spread is not None:
        check_positive(stdev_spread, "stdev_spread", allow_zero=True)
