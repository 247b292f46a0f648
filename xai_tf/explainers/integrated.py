"""Path methods: Integrated Gradients, SmoothGrad-IG, Guided IG, Blur IG, Smooth Blur IG.

Our own batched implementations of PAIR ``saliency`` 0.2.1 (``IntegratedGradients``, ``GuidedIG``,
``BlurIG`` and ``GetSmoothedMask``) with PAIR's definitions and defaults; the tests compare against
PAIR. Why not PAIR itself: it evaluates one image at a time with a Python loop over steps
(``benchmarks/bench_explain.py`` measures the difference), its ``GuidedIG`` crashes under NumPy 2
(``np.quantile(..., interpolation=)``), and its Blur IG blurs with SciPy once per step on the host.
Here every gradient of a chunk of images x steps (x noise samples) is one compiled call; Blur IG
blurs on the device with separable Gaussian matrices equal to SciPy's ``gaussian_filter``
(``mode="constant"``, ``truncate=4``).
"""
from __future__ import annotations

import functools
import math

import numpy as np
import tensorflow as tf

from xai_tf._checks import check_positive
from xai_tf.explainers.base import (
    Request,
    chunks,
    image_step_chunks,
    input_gradients,
    path_integral,
    reduce_channels,
)
from xai_tf.explainers.gradients import check_smoothing, noise_samples


def make_baseline(request: Request, baseline, images: np.ndarray | None = None) -> np.ndarray:
    """Baseline images ``(N, H, W, C)``: "black" (zeros, default), "white" (ones), a number in
    [0, 1], or an array of shape ``(H, W, C)`` or ``(N, H, W, C)``."""
    images = request.images if images is None else images
    if isinstance(baseline, str):
        if baseline not in ("black", "white"):
            raise ValueError(f"baseline={baseline!r} is not valid; expected 'black', 'white', a number or an array")
        return np.full_like(images, 0.0 if baseline == "black" else 1.0)
    array = np.asarray(baseline, dtype=np.float32)
    if array.ndim == 0:
        return np.full_like(images, float(array))
    if array.shape == images.shape[1:]:
        return np.broadcast_to(array, images.shape).copy()
    if array.shape == images.shape:
        return array
    raise ValueError(f"baseline must be 'black', 'white', a number or an array of shape {images.shape[1:]} or "
                     f"{images.shape}; got shape {array.shape}")


def integrated_attributions(request: Request, images: np.ndarray, baselines: np.ndarray, targets: np.ndarray,
                            steps: int, desc: str | None = None) -> np.ndarray:
    """IG attributions ``(M, H, W, C)`` exactly as PAIR: ``alpha = linspace(0, 1, steps)`` (both ends
    included) and ``attr = (x - baseline) * sum_alpha grad / steps``."""
    direction = images - baselines
    alphas = np.linspace(0.0, 1.0, steps)
    return path_integral(request, baselines, direction, alphas, targets, desc=desc) * direction / steps


def integrated_gradients(request: Request, *, steps: int = 25, baseline="black",
                         channel_reduction: str = "sum") -> np.ndarray:
    """Integrated Gradients (Sundararajan et al. 2017): target-logit gradients integrated from a baseline.

    Exactly PAIR's ``IntegratedGradients``: ``alpha = linspace(0, 1, steps)`` (both ends included)
    and ``attr = (x - baseline) * sum_alpha grad(baseline + alpha (x - baseline)) / steps``, all
    images x steps batched through one compiled gradient function.

    Parameters
    ----------
    request : xai_tf.explainers.base.Request
        The sanitised call built by :func:`xai_tf.explain`: images ``(N, H, W, C)`` float32 in
        [0, 1] and targets ``(N,)`` int64 (the class explained per image), with ``batch_size``.
    steps : int, optional
        Points on the straight path from the baseline to the image (default 25, PAIR's; use
        >= 128 for completeness within ~1 %). One backward pass each.
    baseline : {"black", "white"}, float or numpy.ndarray, optional
        Start of the path: "black" (default, all zeros, as in the papers), "white" (all ones), a
        number (every pixel and channel set to it) or an array of shape ``(H, W, C)`` (the same
        for every image) or ``(N, H, W, C)`` (one per image).
    channel_reduction : {"sum", "abs_sum", "l2", "mean"}, optional
        How the per-channel attributions of a pixel become one value: "sum" (default; keeps the
        sign and completeness), "abs_sum" (sum of absolute values, PAIR's
        ``VisualizeImageGrayscale`` before clipping), "l2" (Euclidean norm) or "mean" (Xplique's
        default ``reducer``).

    Returns
    -------
    numpy.ndarray, shape (N, H, W)
        float32 (float64 with ``channel_reduction="l2"``; :func:`xai_tf.explain` returns float32).
        With "sum" the map is signed and its sum over the pixels approximates
        ``logit(x) - logit(baseline)`` of the target class (completeness): positive pixels raise
        the target logit relative to the baseline, negative ones lower it. "abs_sum" and "l2" give
        magnitudes only (>= 0).

    Raises
    ------
    TypeError
        If ``steps`` is not an integer.
    ValueError
        If ``steps < 1``, ``baseline`` is an unknown name or an array of another shape, or
        ``channel_reduction`` is not one of the four names.

    References
    ----------
    M. Sundararajan, A. Taly and Q. Yan, "Axiomatic Attribution for Deep Networks", ICML, 2017.
    """
    check_positive(steps, "steps", integer=True)
    baselines = make_baseline(request, baseline)
    attributions = integrated_attributions(request, request.images, baselines, request.targets, steps)
    return reduce_channels(attributions, channel_reduction)


def _smoothed(request: Request, n_samples: int, stdev_spread: float, magnitude: bool, attribute) -> np.ndarray:
    """PAIR's ``GetSmoothedMask`` around any attribution function, batched over images x samples.

    attribute(noisy_images (M, H, W, C), targets (M,), image_indices) -> attributions (M, H, W, C).
    """
    n_images = len(request.images)
    total = np.zeros(request.images.shape, np.float32)
    group = max(1, request.batch_size // n_samples)
    for images in request.progress(chunks(n_images, group)):
        indices = list(range(n_images)[images])
        noisy = np.concatenate([request.images[i] + noise_samples(request, i, n_samples, stdev_spread)
                                for i in indices])
        targets = np.repeat(request.targets[images], n_samples)
        attributions = attribute(noisy, targets, np.repeat(indices, n_samples))
        attributions = attributions.reshape(len(indices), n_samples, *request.images.shape[1:])
        total[images] = (attributions * attributions if magnitude else attributions).mean(axis=1)
    return total


def smoothgrad_ig(request: Request, *, steps: int = 25, n_samples: int = 25, stdev_spread: float = 0.15,
                  magnitude: bool = True, baseline="black", channel_reduction: str = "sum") -> np.ndarray:
    """SmoothGrad over Integrated Gradients (PAIR ``IntegratedGradients.GetSmoothedMask``).

    Each image gets ``n_samples`` noisy copies ``x + N(0, sigma^2)`` with ``sigma = stdev_spread *
    (max(x) - min(x))``; Integrated Gradients of every copy (from the baseline of the original
    image) are averaged, squared first when ``magnitude``. Defaults are PAIR's: 25 IG steps, 25
    noise samples, noise 0.15 of the value range, squared attributions averaged
    (``magnitude=True``). Seeded by ``seed`` (:func:`xai_tf.explain`): the noise of image ``i`` is
    drawn from ``(seed, i)``, so maps do not depend on ``batch_size``.

    Parameters
    ----------
    request : xai_tf.explainers.base.Request
        The sanitised call built by :func:`xai_tf.explain`: images ``(N, H, W, C)`` float32 in
        [0, 1], targets ``(N,)`` int64 (the class explained per image), ``batch_size`` and
        ``seed``.
    steps : int, optional
        Points on each straight path (default 25, PAIR's); ``n_samples * steps`` backward passes
        per image.
    n_samples : int, optional
        Noisy copies per image (default 25, PAIR's). At least 1.
    stdev_spread : float, optional
        Noise standard deviation as a fraction of the image's value range ``max(x) - min(x)``
        (default 0.15, PAIR's); >= 0.
    magnitude : bool, optional
        Average the squared attributions (default True, PAIR's) instead of the signed ones.
    baseline : {"black", "white"}, float or numpy.ndarray, optional
        Start of the path: "black" (default, all zeros, as in the papers), "white" (all ones), a
        number (every pixel and channel set to it) or an array of shape ``(H, W, C)`` (the same
        for every image) or ``(N, H, W, C)`` (one per image).
    channel_reduction : {"sum", "abs_sum", "l2", "mean"}, optional
        How the per-channel attributions of a pixel become one value: "sum" (default; keeps the
        sign and completeness), "abs_sum" (sum of absolute values, PAIR's
        ``VisualizeImageGrayscale`` before clipping), "l2" (Euclidean norm) or "mean" (Xplique's
        default ``reducer``).

    Returns
    -------
    numpy.ndarray, shape (N, H, W)
        float32 (float64 with ``channel_reduction="l2"``; :func:`xai_tf.explain` returns float32).
        With ``magnitude=True`` (default) the map is the mean squared attribution, >= 0, larger =
        more important. With ``magnitude=False`` and "sum" or "mean" it is signed as in
        :func:`~xai_tf.explainers.integrated.integrated_gradients` (positive = raises the target
        logit relative to the baseline).

    Raises
    ------
    TypeError
        If ``steps`` or ``n_samples`` is not an integer or ``stdev_spread`` not a number.
    ValueError
        If ``steps < 1``, ``n_samples < 1``, ``stdev_spread < 0``, ``baseline`` is an unknown name
        or an array of another shape, or ``channel_reduction`` is not one of the four names.

    References
    ----------
    D. Smilkov, N. Thorat, B. Kim, F. Viegas and M. Wattenberg, "SmoothGrad: removing noise by
    adding noise", arXiv:1706.03825, 2017.
    """
    check_positive(steps, "steps", integer=True)
    check_smoothing(n_samples, stdev_spread)
    make_baseline(request, baseline)  # validate once

    def attribute(noisy, targets, indices):
        baselines = make_baseline(request, baseline, request.images)[indices]
        return integrated_attributions(request, noisy, baselines, targets, steps, desc="smoothgrad_ig steps")

    return reduce_channels(_smoothed(request, n_samples, stdev_spread, magnitude, attribute), channel_reduction)


# -- Guided IG ------------------------------------------------------------------------------------

def _guided_ig(request: Request, images: np.ndarray, baselines: np.ndarray, steps: int, fraction: float,
               max_dist: float) -> np.ndarray:
    """PAIR's ``guided_ig_impl`` vectorised over images (one gradient call per step for all)."""
    shape = images.shape
    x_input = images.reshape(len(images), -1).astype(np.float64)
    x_baseline = baselines.reshape(len(images), -1).astype(np.float64)
    x = x_baseline.copy()
    diff = x_input - x_baseline
    l1_total = np.abs(diff).sum(axis=1)
    attr = np.zeros_like(x_input)
    started = l1_total > 0  # an input equal to its baseline gets zero attribution
    n_features = x.shape[1]
    kth = math.floor(fraction * (n_features - 1))  # np.quantile(..., method="lower")
    with np.errstate(divide="ignore", invalid="ignore"):
        safe_alpha = np.where(diff != 0, 1.0 / diff, np.nan)
    for step in request.progress(range(steps), desc="guided_ig steps"):
        grad_actual = input_gradients(request, x.reshape(shape).astype(np.float32)).reshape(len(x), -1)
        grad_actual = grad_actual.astype(np.float64)
        grad = grad_actual.copy()
        alpha = (step + 1.0) / steps
        alpha_min, alpha_max = max(alpha - max_dist, 0.0), min(alpha + max_dist, 1.0)
        x_min = x_baseline + diff * alpha_min
        x_max = x_baseline + diff * alpha_max
        l1_target = l1_total * (1 - (step + 1) / steps)
        pending = started.copy()
        while pending.any():
            x_old = x.copy()
            x_alpha = (x - x_baseline) * safe_alpha
            x_alpha[np.isnan(x_alpha)] = alpha_max
            behind = (x_alpha < alpha_min) & pending[:, None]
            x[behind] = x_min[behind]
            l1_current = np.abs(x - x_input).sum(axis=1)
            close = np.abs(l1_target - l1_current) <= np.maximum(
                1e-9 * np.maximum(np.abs(l1_target), np.abs(l1_current)), 1e-9)
            done = pending & close
            attr[done] += (x[done] - x_old[done]) * grad_actual[done]
            pending &= ~close
            if not pending.any():
                break
            grad[x == x_max] = np.inf
            magnitude = np.abs(grad)
            threshold = np.partition(magnitude, kth, axis=1)[:, kth]
            selected = (magnitude <= threshold[:, None]) & (grad != np.inf) & pending[:, None]
            l1_s = (np.abs(x - x_max) * selected).sum(axis=1)
            with np.errstate(divide="ignore", invalid="ignore"):
                gamma = np.where(l1_s > 0, (l1_current - l1_target) / l1_s, np.inf)
            far = gamma > 1.0
            moved = np.where(far[:, None], x_max, x + (x_max - x) * np.where(far, 0.0, gamma)[:, None])
            x = np.where(selected, moved, x)
            attr[pending] += (x[pending] - x_old[pending]) * grad_actual[pending]
            pending &= far
    return attr.reshape(shape).astype(np.float32)


def guided_ig(request: Request, *, steps: int = 25, fraction: float = 0.5, max_dist: float = 1.0,
              baseline="black", channel_reduction: str = "sum") -> np.ndarray:
    """Guided Integrated Gradients (Kapishnikov et al. 2021): IG along an adaptive path, PAIR's algorithm.

    Starting from the baseline, each step moves the features (pixel channels) with the smallest
    absolute gradient towards the image first (no feature lags behind or runs ahead of the
    straight-line point by more than ``max_dist`` of the path); the attribution of a feature is the
    sum of its moves times the gradient at the start of each step. PAIR's
    ``guided_ig_impl``, vectorised over the images (one gradient call per step for all of them).
    The defaults ``steps`` 25, ``fraction`` 0.5, ``max_dist`` 1.0 are the settings of PAIR's
    example notebook (PAIR's class defaults are 200 / 0.25 / 0.02).

    Parameters
    ----------
    request : xai_tf.explainers.base.Request
        The sanitised call built by :func:`xai_tf.explain`: images ``(N, H, W, C)`` float32 in
        [0, 1] and targets ``(N,)`` int64 (the class explained per image), with ``batch_size``.
    steps : int, optional
        Steps along the path (default 25, PAIR's notebook); one backward pass each.
    fraction : float, optional
        Share of the features, those with the smallest gradient, moved at each step, in (0, 1]
        (default 0.5, PAIR's notebook).
    max_dist : float, optional
        How far (as a fraction of the path) a feature may run ahead of the straight line, in
        [0, 1] (default 1.0, PAIR's notebook; 0 = plain IG).
    baseline : {"black", "white"}, float or numpy.ndarray, optional
        Start of the path: "black" (default, all zeros, as in the papers), "white" (all ones), a
        number (every pixel and channel set to it) or an array of shape ``(H, W, C)`` (the same
        for every image) or ``(N, H, W, C)`` (one per image).
    channel_reduction : {"sum", "abs_sum", "l2", "mean"}, optional
        How the per-channel attributions of a pixel become one value: "sum" (default; keeps the
        sign and completeness), "abs_sum" (sum of absolute values, PAIR's
        ``VisualizeImageGrayscale`` before clipping), "l2" (Euclidean norm) or "mean" (Xplique's
        default ``reducer``).

    Returns
    -------
    numpy.ndarray, shape (N, H, W)
        float32 (float64 with ``channel_reduction="l2"``; :func:`xai_tf.explain` returns float32).
        With "sum" the map is signed like
        :func:`~xai_tf.explainers.integrated.integrated_gradients` (its sum over the pixels
        approximates ``logit(x) - logit(baseline)``; positive = raises the target logit); an image
        equal to its baseline gets zeros. "abs_sum" and "l2" give magnitudes only (>= 0).

    Raises
    ------
    TypeError
        If ``steps`` is not an integer.
    ValueError
        If ``steps < 1``, ``fraction`` is outside (0, 1], ``max_dist`` outside [0, 1],
        ``baseline`` is an unknown name or an array of another shape, or ``channel_reduction`` is
        not one of the four names.

    References
    ----------
    A. Kapishnikov, S. Venugopalan, B. Avci, B. Wedin, M. Terry and T. Bolukbasi, "Guided
    Integrated Gradients: An Adaptive Path Method for Removing Noise", CVPR, 2021.
    """
    check_positive(steps, "steps", integer=True)
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must lie in (0, 1]; got {fraction!r}")
    if not 0 <= max_dist <= 1:
        raise ValueError(f"max_dist must lie in [0, 1]; got {max_dist!r}")
    baselines = make_baseline(request, baseline)
    return reduce_channels(_guided_ig(request, request.images, baselines, steps, fraction, max_dist),
                           channel_reduction)


# -- Blur IG --------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=1024)
def gaussian_blur_matrix(size: int, sigma: float) -> np.ndarray:
    """``(size, size)`` matrix ``B`` with ``B @ v`` = SciPy ``gaussian_filter1d(v, sigma, mode="constant")``.

    Cached: treat the returned array as read-only.
    """
    if sigma == 0:
        return np.eye(size, dtype=np.float64)
    radius = int(4.0 * sigma + 0.5)  # SciPy's truncate=4.0
    offsets = np.arange(-radius, radius + 1)
    weights = np.exp(-0.5 / (sigma * sigma) * offsets ** 2)
    weights /= weights.sum()
    distance = np.arange(size)[None, :] - np.arange(size)[:, None]
    inside = np.abs(distance) <= radius
    return np.where(inside, weights[np.clip(distance + radius, 0, 2 * radius)], 0.0)


def blur_sigmas(max_sigma: float, steps: int, sqrt: bool) -> np.ndarray:
    """PAIR's blur schedule: ``steps + 1`` sigmas from 0 to max_sigma (linear, or sqrt-spaced)."""
    sigmas = np.arange(steps + 1, dtype=np.float64) * max_sigma / steps
    return np.sqrt(sigmas) if sqrt else sigmas


def _blur_path_function(request: Request):
    adapter = request.adapter

    def build():
        matrices = tf.TensorSpec([None, None, None], tf.float32)

        @tf.function(input_signature=[adapter.image_spec, matrices, matrices, matrices, matrices,
                                      tf.TensorSpec([None], tf.float32), tf.TensorSpec([], tf.float32),
                                      adapter.target_spec, *adapter.table_spec])
        def blur_path(images, rows, cols, rows_next, cols_next, sigma_steps, grad_step, targets, *table):
            def blur(row_matrix, col_matrix):  # (B, H, W, C) -> (B, S, H, W, C)
                out = tf.einsum("shk,bkwc->bshwc", row_matrix, images)
                return tf.einsum("bshwc,svw->bshvc", out, col_matrix)

            blurred = blur(rows, cols)
            direction = (blur(rows_next, cols_next) - blurred) / grad_step
            n_images, n_steps = tf.shape(images)[0], tf.shape(sigma_steps)[0]
            points = tf.reshape(blurred, tf.concat([[n_images * n_steps], tf.shape(images)[1:]], 0))
            with tf.GradientTape() as tape:
                tape.watch(points)
                keys = tf.repeat(targets, n_steps)
                score = adapter.scores(adapter.logits(points, keys, table)[0], keys, table)
            grads = tf.reshape(tape.gradient(score, points), tf.shape(blurred))
            weights = sigma_steps[None, :, None, None, None]
            return -tf.reduce_sum(weights * direction * grads, axis=1)
        return blur_path
    return adapter.cached("blur_path", build)


def blur_attributions(request: Request, images: np.ndarray, targets: np.ndarray, max_sigma: float, steps: int,
                      grad_step: float, sqrt: bool) -> np.ndarray:
    """Blur IG attributions ``(M, H, W, C)`` exactly as PAIR's ``BlurIG.GetMask``, batched."""
    height, width = images.shape[1:3]
    sigmas = blur_sigmas(max_sigma, steps, sqrt)
    sigma_steps = np.diff(sigmas).astype(np.float32)
    function = _blur_path_function(request)
    total = np.zeros(images.shape, np.float32)
    for batch, step_slice in request.progress(image_step_chunks(len(images), steps, request.batch_size),
                                              desc="blur_ig steps"):
        step_sigmas = sigmas[:-1][step_slice]
        rows = np.stack([gaussian_blur_matrix(height, float(s)) for s in step_sigmas]).astype(np.float32)
        cols = np.stack([gaussian_blur_matrix(width, float(s)) for s in step_sigmas]).astype(np.float32)
        rows_next = np.stack([gaussian_blur_matrix(height, float(s + grad_step))
                              for s in step_sigmas]).astype(np.float32)
        cols_next = np.stack([gaussian_blur_matrix(width, float(s + grad_step))
                              for s in step_sigmas]).astype(np.float32)
        total[batch] += function(tf.constant(images[batch]), rows, cols, rows_next, cols_next,
                                 tf.constant(sigma_steps[step_slice]), tf.constant(grad_step, tf.float32),
                                 tf.constant(targets[batch].astype(np.int32))).numpy()
    return total


def _check_blur(max_sigma, steps, grad_step):
    check_positive(max_sigma, "max_sigma")
    check_positive(steps, "steps", integer=True)
    check_positive(grad_step, "grad_step")


def blur_ig(request: Request, *, max_sigma: float = 50.0, steps: int = 100, grad_step: float = 0.01,
            sqrt: bool = False, channel_reduction: str = "sum") -> np.ndarray:
    """Blur Integrated Gradients (Xu et al. 2020): integrate along a path of Gaussian blurs.

    The path runs from the image blurred with ``max_sigma`` back to the image itself; the
    attribution is ``-sum_s (sigma_(s+1) - sigma_s) * d blur / d sigma * grad`` at each blur level,
    exactly PAIR's ``BlurIG.GetMask``, batched. The blur is SciPy's ``gaussian_filter``
    (``mode="constant"``, ``truncate=4``) over rows and columns, applied on the device as separable
    matrices. Defaults are PAIR's: max_sigma 50 px, 100 steps, finite-difference grad_step 0.01,
    linear sigmas.

    Parameters
    ----------
    request : xai_tf.explainers.base.Request
        The sanitised call built by :func:`xai_tf.explain`: images ``(N, H, W, C)`` float32 in
        [0, 1] and targets ``(N,)`` int64 (the class explained per image), with ``batch_size``.
    max_sigma : float, optional
        Standard deviation in pixels of the most blurred image, where the path starts (default 50,
        PAIR's); > 0.
    steps : int, optional
        Blur levels along the path (default 100, PAIR's); one backward pass each.
    grad_step : float, optional
        Sigma increment of the finite difference that estimates ``d blur / d sigma`` (default
        0.01, PAIR's); > 0.
    sqrt : bool, optional
        False (default, PAIR's): sigmas ``i max_sigma / steps`` for ``i = 0 .. steps`` (linear).
        True: ``sqrt(i max_sigma / steps)`` (PAIR's square-root schedule, which ends at
        ``sqrt(max_sigma)``).
    channel_reduction : {"sum", "abs_sum", "l2", "mean"}, optional
        How the per-channel attributions of a pixel become one value: "sum" (default; keeps the
        sign and completeness), "abs_sum" (sum of absolute values, PAIR's
        ``VisualizeImageGrayscale`` before clipping), "l2" (Euclidean norm) or "mean" (Xplique's
        default ``reducer``).

    Returns
    -------
    numpy.ndarray, shape (N, H, W)
        float32 (float64 with ``channel_reduction="l2"``; :func:`xai_tf.explain` returns float32).
        With "sum" the map is signed: positive where the pixel's detail (what the blur removes)
        raises the target logit, negative where it lowers it; the sum approximates
        ``logit(x) - logit(blurred x)``. "abs_sum" and "l2" give magnitudes only (>= 0).

    Raises
    ------
    TypeError
        If ``steps`` is not an integer or ``max_sigma``, ``grad_step`` not numbers.
    ValueError
        If ``max_sigma <= 0``, ``steps < 1``, ``grad_step <= 0`` or ``channel_reduction`` is not
        one of the four names.

    References
    ----------
    S. Xu, S. Venugopalan and M. Sundararajan, "Attribution in Scale and Space", CVPR, 2020.
    """
    _check_blur(max_sigma, steps, grad_step)
    attributions = blur_attributions(request, request.images, request.targets, max_sigma, steps, grad_step, sqrt)
    return reduce_channels(attributions, channel_reduction)


def smooth_blur_ig(request: Request, *, max_sigma: float = 50.0, steps: int = 100, grad_step: float = 0.01,
                   sqrt: bool = False, n_samples: int = 25, stdev_spread: float = 0.15, magnitude: bool = True,
                   channel_reduction: str = "sum") -> np.ndarray:
    """SmoothGrad over Blur IG (PAIR ``BlurIG.GetSmoothedMask``; defaults are PAIR's).

    Each image gets ``n_samples`` noisy copies ``x + N(0, sigma^2)`` with ``sigma = stdev_spread *
    (max(x) - min(x))``; the Blur IG attributions of the copies
    (:func:`~xai_tf.explainers.integrated.blur_ig`) are averaged, squared first when
    ``magnitude``. Seeded by ``seed`` (:func:`xai_tf.explain`): the noise of
    image ``i`` is drawn from ``(seed, i)``, so maps do not depend on ``batch_size``.

    Parameters
    ----------
    request : xai_tf.explainers.base.Request
        The sanitised call built by :func:`xai_tf.explain`: images ``(N, H, W, C)`` float32 in
        [0, 1], targets ``(N,)`` int64 (the class explained per image), ``batch_size`` and
        ``seed``.
    max_sigma : float, optional
        Standard deviation in pixels of the most blurred image, where the path starts (default 50,
        PAIR's); > 0.
    steps : int, optional
        Blur levels along the path (default 100, PAIR's); one backward pass each.
    grad_step : float, optional
        Sigma increment of the finite difference that estimates ``d blur / d sigma`` (default
        0.01, PAIR's); > 0.
    sqrt : bool, optional
        False (default, PAIR's): sigmas ``i max_sigma / steps`` for ``i = 0 .. steps`` (linear).
        True: ``sqrt(i max_sigma / steps)`` (PAIR's square-root schedule, which ends at
        ``sqrt(max_sigma)``).
    n_samples : int, optional
        Noisy copies per image (default 25, PAIR's). At least 1.
    stdev_spread : float, optional
        Noise standard deviation as a fraction of the image's value range ``max(x) - min(x)``
        (default 0.15, PAIR's); >= 0.
    magnitude : bool, optional
        Average the squared attributions (default True, PAIR's) instead of the signed ones.
    channel_reduction : {"sum", "abs_sum", "l2", "mean"}, optional
        How the per-channel attributions of a pixel become one value: "sum" (default; keeps the
        sign and completeness), "abs_sum" (sum of absolute values, PAIR's
        ``VisualizeImageGrayscale`` before clipping), "l2" (Euclidean norm) or "mean" (Xplique's
        default ``reducer``).

    Returns
    -------
    numpy.ndarray, shape (N, H, W)
        float32 (float64 with ``channel_reduction="l2"``; :func:`xai_tf.explain` returns float32).
        With ``magnitude=True`` (default) the map is the mean squared attribution, >= 0, larger =
        more important. With ``magnitude=False`` and "sum" or "mean" it is signed as in
        :func:`~xai_tf.explainers.integrated.blur_ig`.

    Raises
    ------
    TypeError
        If ``steps`` or ``n_samples`` is not an integer, or ``max_sigma``, ``grad_step`` or
        ``stdev_spread`` not a number.
    ValueError
        If ``max_sigma <= 0``, ``steps < 1``, ``grad_step <= 0``, ``n_samples < 1``,
        ``stdev_spread < 0`` or ``channel_reduction`` is not one of the four names.

    References
    ----------
    S. Xu, S. Venugopalan and M. Sundararajan, "Attribution in Scale and Space", CVPR, 2020.
    """
    _check_blur(max_sigma, steps, grad_step)
    check_smoothing(n_samples, stdev_spread)

    def attribute(noisy, targets, indices):
        return blur_attributions(request, noisy, targets, max_sigma, steps, grad_step, sqrt)

    return reduce_channels(_smoothed(request, n_samples, stdev_spread, magnitude, attribute), channel_reduction)
