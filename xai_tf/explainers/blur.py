"""Blur IG and Smooth Blur IG: integrated gradients along a path of Gaussian blurs (Xu et al. 2020).

Our own batched implementation of PAIR ``saliency`` 0.2.1's ``BlurIG`` (``GetMask`` and
``GetSmoothedMask``) with PAIR's definitions and defaults; the tests compare against PAIR. PAIR
blurs with SciPy once per step on the host; here every gradient of a chunk of images x steps is one
compiled call, and the blur runs on the device as separable Gaussian matrices equal to SciPy's
``gaussian_filter`` (``mode="constant"``, ``truncate=4``). Smooth Blur IG is
:func:`xai_tf.explainers.smoothing.smooth` over Blur IG. (Moved from ``integrated.py``, which
re-exports both methods.)
"""
from __future__ import annotations

import functools

import numpy as np
import tensorflow as tf

from xai_tf._checks import check_positive
from xai_tf._docstrings import fill_doc
from xai_tf.explainers.base import Request, image_step_chunks, reduce_channels
from xai_tf.explainers.docblocks import CHANNEL_REDUCTION_PATH, MAPS_RETURNS, REQUEST, REQUEST_SEEDED, section
from xai_tf.explainers.smoothing import PAIR_NOISE, SMOOTHED_MAPS, check_smoothing, noise_option, smooth

# -- Blur IG's docstring blocks (``xai_tf._docstrings.fill_doc``) -----------------------------------
#: The blur path's parameters, PAIR's ``BlurIG`` defaults.
_BLUR_PATH = """
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
"""
_XU_2020 = section("References",
                   'S. Xu, S. Venugopalan and M. Sundararajan, "Attribution in Scale and Space", CVPR, 2020.')


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


@fill_doc(parameters=section("Parameters", REQUEST, _BLUR_PATH, CHANNEL_REDUCTION_PATH), returns=MAPS_RETURNS,
          references=_XU_2020)
def blur_ig(request: Request, *, max_sigma: float = 50.0, steps: int = 100, grad_step: float = 0.01,
            sqrt: bool = False, channel_reduction: str = "sum") -> np.ndarray:
    """Blur Integrated Gradients (Xu et al. 2020): integrate along a path of Gaussian blurs.

    The path runs from the image blurred with ``max_sigma`` back to the image itself; the
    attribution is ``-sum_s (sigma_(s+1) - sigma_s) * d blur / d sigma * grad`` at each blur level,
    exactly PAIR's ``BlurIG.GetMask``, batched. The blur is SciPy's ``gaussian_filter``
    (``mode="constant"``, ``truncate=4``) over rows and columns, applied on the device as separable
    matrices. Defaults are PAIR's: max_sigma 50 px, 100 steps, finite-difference grad_step 0.01,
    linear sigmas.

    {parameters}

    {returns}
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

    {references}
    """
    _check_blur(max_sigma, steps, grad_step)
    attributions = blur_attributions(request, request.images, request.targets, max_sigma, steps, grad_step, sqrt)
    return reduce_channels(attributions, channel_reduction)


@fill_doc(parameters=section("Parameters", REQUEST_SEEDED, _BLUR_PATH, PAIR_NOISE, CHANNEL_REDUCTION_PATH),
          returns=section("Returns", SMOOTHED_MAPS), references=_XU_2020)
def smooth_blur_ig(request: Request, *, max_sigma: float = 50.0, steps: int = 100, grad_step: float = 0.01,
                   sqrt: bool = False, n_samples: int = 25, stdev_spread: float = 0.15, noise: float | None = None,
                   magnitude: bool = True, channel_reduction: str = "sum") -> np.ndarray:
    """SmoothGrad over Blur IG (PAIR ``BlurIG.GetSmoothedMask``; defaults are PAIR's).

    Each image gets ``n_samples`` noisy copies ``x + N(0, sigma^2)`` with ``sigma = stdev_spread *
    (max(x) - min(x))``; the Blur IG attributions of the copies
    (:func:`~xai_tf.explainers.blur.blur_ig`) are averaged, squared first when
    ``magnitude``. Seeded by ``seed`` (:func:`xai_tf.explain`): the noise of
    image ``i`` is drawn from ``(seed, i)``, so maps do not depend on ``batch_size``.

    {parameters}

    {returns}
        :func:`~xai_tf.explainers.blur.blur_ig`'s.

    Raises
    ------
    TypeError
        If ``steps`` or ``n_samples`` is not an integer, or ``max_sigma``, ``grad_step``,
        ``stdev_spread`` or ``noise`` not a number.
    ValueError
        If ``max_sigma <= 0``, ``steps < 1``, ``grad_step <= 0``, ``n_samples < 1``,
        ``stdev_spread < 0``, ``noise < 0``, ``noise`` with a non-default ``stdev_spread``, or
        ``channel_reduction`` is not one of the four names.

    {references}
    """
    _check_blur(max_sigma, steps, grad_step)
    check_smoothing(n_samples, stdev_spread)

    def attribute(noisy, targets, indices):
        return blur_attributions(request, noisy, targets, max_sigma, steps, grad_step, sqrt)

    smoothed = smooth(request, attribute, n_samples=n_samples, statistic="mean_square" if magnitude else "mean",
                      whole_images=True, **noise_option(smooth_blur_ig, stdev_spread, noise))
    return reduce_channels(smoothed, channel_reduction)
