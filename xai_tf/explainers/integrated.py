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
    """Integrated Gradients (Sundararajan et al. 2017) on the target logit.

    steps: points on the straight path (PAIR default 25; use >= 128 for completeness within ~1 %).
    baseline: "black" (default, as in the papers), "white", a number or an array.
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

    Defaults are PAIR's: 25 IG steps, 25 noise samples, noise 0.15 of the value range, squared
    attributions averaged (magnitude=True). Seeded by ``seed``.
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
    """Guided Integrated Gradients (Kapishnikov et al. 2021), PAIR's algorithm.

    steps 25, fraction 0.5, max_dist 1.0: the settings of PAIR's example notebook (PAIR's class
    defaults are 200 / 0.25 / 0.02). fraction: share of features with the smallest gradient moved at
    each step; max_dist: how far (as a fraction of the path) a feature may run ahead of the straight
    line (0 = plain IG). baseline: "black" default.
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
                                      adapter.target_spec])
        def blur_path(images, rows, cols, rows_next, cols_next, sigma_steps, grad_step, targets):
            def blur(row_matrix, col_matrix):  # (B, H, W, C) -> (B, S, H, W, C)
                out = tf.einsum("shk,bkwc->bshwc", row_matrix, images)
                return tf.einsum("bshwc,svw->bshvc", out, col_matrix)

            blurred = blur(rows, cols)
            direction = (blur(rows_next, cols_next) - blurred) / grad_step
            n_images, n_steps = tf.shape(images)[0], tf.shape(sigma_steps)[0]
            points = tf.reshape(blurred, tf.concat([[n_images * n_steps], tf.shape(images)[1:]], 0))
            with tf.GradientTape() as tape:
                tape.watch(points)
                score = adapter.scores(adapter.logits(points)[0], tf.repeat(targets, n_steps))
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
        rows_next = np.stack([gaussian_blur_matrix(height, float(s + grad_step)) for s in step_sigmas]).astype(np.float32)
        cols_next = np.stack([gaussian_blur_matrix(width, float(s + grad_step)) for s in step_sigmas]).astype(np.float32)
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

    Defaults are PAIR's: max_sigma 50 px, 100 steps, finite-difference grad_step 0.01, linear sigmas.
    """
    _check_blur(max_sigma, steps, grad_step)
    attributions = blur_attributions(request, request.images, request.targets, max_sigma, steps, grad_step, sqrt)
    return reduce_channels(attributions, channel_reduction)


def smooth_blur_ig(request: Request, *, max_sigma: float = 50.0, steps: int = 100, grad_step: float = 0.01,
                   sqrt: bool = False, n_samples: int = 25, stdev_spread: float = 0.15, magnitude: bool = True,
                   channel_reduction: str = "sum") -> np.ndarray:
    """SmoothGrad over Blur IG (PAIR ``BlurIG.GetSmoothedMask``; defaults are PAIR's). Seeded."""
    _check_blur(max_sigma, steps, grad_step)
    check_smoothing(n_samples, stdev_spread)

    def attribute(noisy, targets, indices):
        return blur_attributions(request, noisy, targets, max_sigma, steps, grad_step, sqrt)

    return reduce_channels(_smoothed(request, n_samples, stdev_spread, magnitude, attribute), channel_reduction)
