"""Plain gradient maps: Vanilla Gradient, SmoothGrad, Input x Gradient, VarGrad, SquareGrad.

Our own batched implementation of PAIR ``saliency`` (``GradientSaliency`` and
``CoreSaliency.GetSmoothedMask``): PAIR evaluates one gradient per call and loops over noise samples
in Python; here all images x samples go through one compiled function in ``batch_size`` chunks.
Definitions and defaults are PAIR's (the papers used PAIR); the tests compare against it.
VarGrad and SquareGrad are the gradient statistics of Xplique (``VarGrad``, ``SquareGrad``): the
same noisy copies, reduced to a variance or a mean square (defaults from Xplique: 50 samples,
sigma 0.2, channel mean); the tests compare them with the same arithmetic on the same noise and
with their analytic expectation on a quadratic model.
"""
from __future__ import annotations

import numpy as np

from xai_tf._checks import check_positive
from xai_tf._random import rng_for
from xai_tf.explainers.base import (
    Request,
    image_step_chunks,
    input_gradients,
    reduce_channels,
)


def vanilla_gradient(request: Request, *, channel_reduction: str = "sum") -> np.ndarray:
    """Vanilla Gradient (Simonyan et al. 2014): the gradient of the target logit with respect to the pixels.

    The map is ``d logit_target / d x`` at the image itself, one backward pass per image (batched),
    reduced over the colour channels. The definition is PAIR ``saliency``'s ``GradientSaliency``
    (module docstring).

    Parameters
    ----------
    request : xai_tf.explainers.base.Request
        The sanitised call built by :func:`xai_tf.explain`: images ``(N, H, W, C)`` float32 in
        [0, 1] and targets ``(N,)`` int64 (the class explained per image), with ``batch_size``.
    channel_reduction : {"sum", "abs_sum", "l2", "mean"}, optional
        How the per-channel gradients of a pixel become one value: "sum" (default; keeps the
        sign), "abs_sum" (sum of absolute values, PAIR's ``VisualizeImageGrayscale`` before
        clipping), "l2" (Euclidean norm) or "mean" (Xplique's default ``reducer``).

    Returns
    -------
    numpy.ndarray, shape (N, H, W)
        float32 (float64 with ``channel_reduction="l2"``; :func:`xai_tf.explain` returns float32).
        With "sum" or "mean" the map is signed: positive where raising the pixel value raises the
        target logit, negative where it lowers it; a larger magnitude means more influence.
        "abs_sum" and "l2" give magnitudes only (>= 0).

    Raises
    ------
    ValueError
        If ``channel_reduction`` is not one of the four names.

    References
    ----------
    K. Simonyan, A. Vedaldi and A. Zisserman, "Deep Inside Convolutional Networks: Visualising Image
    Classification Models and Saliency Maps", ICLR Workshop, 2014.
    """
    return reduce_channels(input_gradients(request), channel_reduction)


def input_x_gradient(request: Request, *, channel_reduction: str = "sum") -> np.ndarray:
    """Input x Gradient (Shrikumar et al. 2016): each pixel value times its gradient.

    As in paper 001: the attribution of a pixel channel is ``x * d logit_target / d x``, reduced
    over the colour channels.

    Parameters
    ----------
    request : xai_tf.explainers.base.Request
        The sanitised call built by :func:`xai_tf.explain`: images ``(N, H, W, C)`` float32 in
        [0, 1] and targets ``(N,)`` int64 (the class explained per image), with ``batch_size``.
    channel_reduction : {"sum", "abs_sum", "l2", "mean"}, optional
        How the per-channel attributions of a pixel become one value: "sum" (default; keeps the
        sign), "abs_sum" (sum of absolute values, PAIR's ``VisualizeImageGrayscale`` before
        clipping), "l2" (Euclidean norm) or "mean" (Xplique's default ``reducer``).

    Returns
    -------
    numpy.ndarray, shape (N, H, W)
        float32 (float64 with ``channel_reduction="l2"``; :func:`xai_tf.explain` returns float32).
        With "sum" or "mean" the map is signed: positive where the pixel, to first order, raises the
        target logit, negative where it lowers it; black pixels (value 0) get 0. "abs_sum" and "l2"
        give magnitudes only (>= 0).

    Raises
    ------
    ValueError
        If ``channel_reduction`` is not one of the four names.

    References
    ----------
    A. Shrikumar, P. Greenside, A. Shcherbina and A. Kundaje, "Not Just a Black Box: Learning
    Important Features Through Propagating Activation Differences", arXiv:1605.01713, 2016.
    """
    return reduce_channels(request.images * input_gradients(request), channel_reduction)


def noise_samples(request: Request, index: int, n_samples: int, stdev_spread: float,
                  image: np.ndarray | None = None) -> np.ndarray:
    """Gaussian noise ``(n_samples, H, W, C)`` for image ``index``, PAIR's scale, seeded per image.

    The standard deviation is ``stdev_spread * (max(x) - min(x))`` of that image (PAIR's
    ``GetSmoothedMask``). The generator depends only on ``(seed, index)``, so maps do not change
    with ``batch_size``.
    """
    image = request.images[index] if image is None else image
    stdev = stdev_spread * float(image.max() - image.min())
    rng = rng_for(request.seed, index)
    return (rng.standard_normal((n_samples, *image.shape), dtype=np.float32) * stdev).astype(np.float32)


def check_smoothing(n_samples, stdev_spread):
    check_positive(n_samples, "n_samples", integer=True)
    check_positive(stdev_spread, "stdev_spread", allow_zero=True)


def smoothgrad(request: Request, *, n_samples: int = 25, stdev_spread: float = 0.15, magnitude: bool = True,
               channel_reduction: str = "sum") -> np.ndarray:
    """SmoothGrad (Smilkov et al. 2017): input gradients averaged over noisy copies of the image.

    Each image gets ``n_samples`` copies ``x + N(0, sigma^2)`` with ``sigma = stdev_spread *
    (max(x) - min(x))`` (PAIR's ``GetSmoothedMask``); the gradients of the target logit at the
    copies (squared when ``magnitude``) are averaged, then reduced over the colour channels.
    Definitions and defaults are PAIR ``saliency``'s (the paper used PAIR). Seeded by ``seed``
    (:func:`xai_tf.explain`): the noise of image ``i`` is drawn from ``(seed, i)``, so maps do not
    depend on ``batch_size``.

    Parameters
    ----------
    request : xai_tf.explainers.base.Request
        The sanitised call built by :func:`xai_tf.explain`: images ``(N, H, W, C)`` float32 in
        [0, 1], targets ``(N,)`` int64 (the class explained per image), ``batch_size`` and
        ``seed``.
    n_samples : int, optional
        Noisy copies per image (default 25, PAIR's); one backward pass each. At least 1.
    stdev_spread : float, optional
        Noise standard deviation as a fraction of the image's value range ``max(x) - min(x)``
        (default 0.15, PAIR's); 0 gives the plain gradient (squared when ``magnitude``).
    magnitude : bool, optional
        Average the squared gradients (default True, PAIR's) instead of the signed gradients.
    channel_reduction : {"sum", "abs_sum", "l2", "mean"}, optional
        How the per-channel averages of a pixel become one value: "sum" (default; keeps the sign),
        "abs_sum" (sum of absolute values, PAIR's ``VisualizeImageGrayscale`` before clipping),
        "l2" (Euclidean norm) or "mean" (Xplique's default ``reducer``).

    Returns
    -------
    numpy.ndarray, shape (N, H, W)
        float32 (float64 with ``channel_reduction="l2"``; :func:`xai_tf.explain` returns float32).
        With ``magnitude=True`` (default) the map is the mean squared gradient, >= 0, larger = more
        influence. With ``magnitude=False`` and "sum" or "mean" it is signed: positive where raising
        the pixel value raises the target logit on average over the noise.

    Raises
    ------
    TypeError
        If ``n_samples`` is not an integer or ``stdev_spread`` not a number.
    ValueError
        If ``n_samples < 1``, ``stdev_spread < 0`` or ``channel_reduction`` is not one of the four
        names.

    References
    ----------
    D. Smilkov, N. Thorat, B. Kim, F. Viegas and M. Wattenberg, "SmoothGrad: removing noise by
    adding noise", arXiv:1706.03825, 2017.
    """
    check_smoothing(n_samples, stdev_spread)
    function = request.adapter.gradient_function("plain")
    n_images = len(request.images)
    total = np.zeros(request.images.shape, np.float32)
    plan = image_step_chunks(n_images, n_samples, request.batch_size)
    for images, samples in request.progress(plan):
        indices = range(n_images)[images]
        noisy = np.concatenate([request.images[i] + noise_samples(request, i, n_samples, stdev_spread)[samples]
                                for i in indices])
        targets = np.repeat(request.targets[images], samples.stop - samples.start).astype(np.int32)
        grads = function(noisy, targets)[0].numpy()
        grads = grads.reshape(len(indices), -1, *request.images.shape[1:])
        total[images] += (grads * grads if magnitude else grads).sum(axis=1)
    return reduce_channels(total / n_samples, channel_reduction)


def _noise_stdevs(request: Request, stdev_spread: float, noise: float | None) -> np.ndarray:
    """Per-image noise standard deviation ``(N,)``: ``noise`` when given (absolute, Xplique), else
    ``stdev_spread * (max(x) - min(x))`` of each image (PAIR's SmoothGrad scale)."""
    check_positive(stdev_spread, "stdev_spread", allow_zero=True)
    if noise is not None:
        check_positive(noise, "noise", allow_zero=True)
        return np.full(len(request.images), float(noise), np.float64)
    spans = request.images.reshape(len(request.images), -1)
    return stdev_spread * (spans.max(axis=1) - spans.min(axis=1)).astype(np.float64)


def gradient_moments(request: Request, n_samples: int, stdevs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and mean square ``(N, H, W, C)`` float64 of the input gradients over ``n_samples``
    noisy copies ``x + N(0, stdevs[i]^2)`` of each image, batched; noise seeded per ``(seed, image)``."""
    check_positive(n_samples, "n_samples", integer=True)
    function = request.adapter.gradient_function("plain")
    n_images, shape = len(request.images), request.images.shape[1:]
    first = np.zeros(request.images.shape, np.float64)
    second = np.zeros(request.images.shape, np.float64)
    for images, samples in request.progress(image_step_chunks(n_images, n_samples, request.batch_size)):
        indices = range(n_images)[images]
        noisy = np.concatenate([
            request.images[i] + (rng_for(request.seed, i).standard_normal((n_samples, *shape), dtype=np.float32)
                                 * np.float32(stdevs[i]))[samples] for i in indices])
        targets = np.repeat(request.targets[images], samples.stop - samples.start).astype(np.int32)
        grads = function(noisy, targets)[0].numpy().reshape(len(indices), -1, *shape).astype(np.float64)
        first[images] += grads.sum(axis=1)
        second[images] += (grads * grads).sum(axis=1)
    return first / n_samples, second / n_samples


def vargrad(request: Request, *, n_samples: int = 50, stdev_spread: float = 0.2, noise: float | None = None,
            channel_reduction: str = "mean") -> np.ndarray:
    """VarGrad (Adebayo et al. 2018): the variance of the input gradients over noisy copies.

    Parameters
    ----------
    request : Request
        Sanitised images ``(N, H, W, C)`` and targets from ``explain``.
    n_samples : int
        Noisy copies per image (>= 2; Xplique's default 50).
    stdev_spread : float
        Noise standard deviation as a fraction of each image's value range ``max(x) - min(x)``
        (SmoothGrad's convention; default 0.2, Xplique's absolute sigma 0.2 on a full-range [0, 1]
        image).
    noise : float, optional
        Absolute noise standard deviation (Xplique's ``noise``); overrides ``stdev_spread``.
    channel_reduction : {"mean", "sum", "abs_sum", "l2"}
        Over colour channels after the statistic; default "mean" (Xplique's ``reducer``).

    Returns
    -------
    ndarray
        ``(N, H, W)`` non-negative maps: the unbiased variance ``n / (n - 1) (E[g^2] - E[g]^2)``
        of the target logit's gradients (Xplique's ``VarGrad`` arithmetic). Seeded by ``seed``.

    Raises
    ------
    ValueError
        ``n_samples < 2`` (a variance needs two samples), negative noise.
    """
    check_positive(n_samples, "n_samples", integer=True)
    if n_samples < 2:
        raise ValueError(f"n_samples must be >= 2 for a variance; got {n_samples}")
    mean, square = gradient_moments(request, n_samples, _noise_stdevs(request, stdev_spread, noise))
    variance = np.maximum(n_samples / (n_samples - 1) * (square - mean * mean), 0.0)
    return reduce_channels(variance.astype(np.float32), channel_reduction)


def squaregrad(request: Request, *, n_samples: int = 50, stdev_spread: float = 0.2, noise: float | None = None,
               channel_reduction: str = "mean") -> np.ndarray:
    """SquareGrad (SmoothGrad-squared, Hooker et al. 2019): the mean squared input gradient over noisy copies.

    Parameters
    ----------
    request : Request
        Sanitised images ``(N, H, W, C)`` and targets from ``explain``.
    n_samples : int
        Noisy copies per image (Xplique's default 50).
    stdev_spread : float
        Noise standard deviation as a fraction of each image's value range (SmoothGrad's
        convention; default 0.2, i.e. Xplique's absolute sigma 0.2 on a full-range [0, 1] image).
    noise : float, optional
        Absolute noise standard deviation (Xplique's ``noise``); overrides ``stdev_spread``.
    channel_reduction : {"mean", "sum", "abs_sum", "l2"}
        Over colour channels; default "mean" (Xplique's ``reducer``).

    Returns
    -------
    ndarray
        ``(N, H, W)`` non-negative maps ``E[g^2]`` (same as ``smoothgrad(magnitude=True)`` with the
        same noise, whose PAIR defaults differ: 25 samples, spread 0.15, channel sum). Seeded by ``seed``.
    """
    _, square = gradient_moments(request, n_samples, _noise_stdevs(request, stdev_spread, noise))
    return reduce_channels(square.astype(np.float32), channel_reduction)
