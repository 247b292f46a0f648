"""Path methods: Integrated Gradients, SmoothGrad-IG, Guided IG (Blur IG: :mod:`xai_tf.explainers.blur`).

Our own batched implementations of PAIR ``saliency`` 0.2.1 (``IntegratedGradients``, ``GuidedIG``
and ``GetSmoothedMask``) with PAIR's definitions and defaults; the tests compare against PAIR. Why
not PAIR itself: it evaluates one image at a time with a Python loop over steps
(``benchmarks/bench_explain.py`` measures the difference) and its ``GuidedIG`` crashes under NumPy 2
(``np.quantile(..., interpolation=)``). Here every gradient of a chunk of images x steps (x noise
samples) is one compiled call. Integrated Gradients averages the path gradients with PAIR's
Riemann mean (default) or Xplique's trapezoidal rule (``rule="trapezoid"``); SmoothGrad-IG is
:func:`xai_tf.explainers.smoothing.smooth` over Integrated Gradients. Blur IG and Smooth Blur IG
live in :mod:`xai_tf.explainers.blur` and are re-exported here.
"""
from __future__ import annotations

import math

import numpy as np

from xai_tf._checks import check_choice, check_positive
from xai_tf._docstrings import fill_doc
from xai_tf.explainers.base import Request, input_gradients, path_integral, reduce_channels
from xai_tf.explainers.blur import blur_ig, smooth_blur_ig  # noqa: F401  (re-exported: the registry's names)
from xai_tf.explainers.docblocks import CHANNEL_REDUCTION_PATH, MAPS_RETURNS, REQUEST, REQUEST_SEEDED, section
from xai_tf.explainers.smoothing import (
    PAIR_NOISE,
    SMOOTHED_MAPS,
    SMOOTHGRAD_REFERENCE,
    check_smoothing,
    noise_option,
    smooth,
)

#: How the gradients at the ``steps`` path points are averaged (``integrated_attributions``).
RULES = ("riemann", "trapezoid")

# -- the path methods' shared docstring blocks (``xai_tf._docstrings.fill_doc``) ----------------------
_STEPS = """
steps : int, optional
    Points on the straight path from the baseline to the image (default 25, PAIR's; use >= 128
    for completeness within ~1 %). One backward pass each.
"""
#: ``baseline`` of the straight-path methods (:func:`make_baseline`).
BASELINE = """
baseline : {"black", "white"}, float or numpy.ndarray, optional
    Start of the path: "black" (default, all zeros, as in the papers), "white" (all ones), a
    number (every pixel and channel set to it) or an array of shape ``(H, W, C)`` (the same
    for every image) or ``(N, H, W, C)`` (one per image).
"""
_RULE = """
rule : {"riemann", "trapezoid"}, optional
    How the path gradients (of each noisy copy, for SmoothGrad-IG) are averaged: "riemann"
    (default, PAIR's) the plain mean over the ``steps`` points; "trapezoid" (Xplique's) the
    trapezoidal rule, ends weighted 1/2 and divided by ``steps - 1`` intervals (``steps >= 2``;
    more accurate on smooth models).
"""


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
                            steps: int, desc: str | None = None, rule: str = "riemann") -> np.ndarray:
    """IG attributions ``(M, H, W, C)`` on the points ``alpha = linspace(0, 1, steps)`` (both ends).

    ``rule="riemann"`` (PAIR's): ``attr = (x - baseline) * sum_alpha grad / steps``.
    ``rule="trapezoid"`` (Xplique's): ``attr = (x - baseline) * sum_k (grad_k + grad_(k+1)) / 2 /
    (steps - 1)``, i.e. the interior points weighted 1 and both ends 1/2; needs ``steps >= 2``.
    """
    direction = images - baselines
    alphas = np.linspace(0.0, 1.0, steps)
    if rule == "riemann":
        return path_integral(request, baselines, direction, alphas, targets, desc=desc) * direction / steps
    ends = path_integral(request, baselines, direction, alphas[[0, -1]], targets, desc=desc)
    inner = path_integral(request, baselines, direction, alphas[1:-1], targets, desc=desc) if steps > 2 else 0.0
    return (inner + np.float32(0.5) * ends) * direction / np.float32(steps - 1)


def _check_rule(rule: str, steps: int) -> None:
    check_choice(rule, "rule", RULES)
    if rule == "trapezoid" and steps < 2:
        raise ValueError(f"steps must be >= 2 for rule='trapezoid' (it needs both ends of the path); got {steps}")


@fill_doc(parameters=section("Parameters", REQUEST, _STEPS, BASELINE, _RULE, CHANNEL_REDUCTION_PATH),
          returns=MAPS_RETURNS)
def integrated_gradients(request: Request, *, steps: int = 25, baseline="black", rule: str = "riemann",
                         channel_reduction: str = "sum") -> np.ndarray:
    """Integrated Gradients (Sundararajan et al. 2017): target-logit gradients integrated from a baseline.

    Exactly PAIR's ``IntegratedGradients``: ``alpha = linspace(0, 1, steps)`` (both ends included)
    and ``attr = (x - baseline) * sum_alpha grad(baseline + alpha (x - baseline)) / steps``, all
    images x steps batched through one compiled gradient function.

    {parameters}

    {returns}
        With "sum" the map is signed and its sum over the pixels approximates
        ``logit(x) - logit(baseline)`` of the target class (completeness): positive pixels raise
        the target logit relative to the baseline, negative ones lower it. "abs_sum" and "l2" give
        magnitudes only (>= 0).

    Raises
    ------
    TypeError
        If ``steps`` is not an integer.
    ValueError
        If ``steps < 1`` (``< 2`` with "trapezoid"), ``rule`` is not one of the two names,
        ``baseline`` is an unknown name or an array of another shape, or ``channel_reduction`` is
        not one of the four names.

    References
    ----------
    M. Sundararajan, A. Taly and Q. Yan, "Axiomatic Attribution for Deep Networks", ICML, 2017.
    """
    check_positive(steps, "steps", integer=True)
    _check_rule(rule, steps)
    baselines = make_baseline(request, baseline)
    attributions = integrated_attributions(request, request.images, baselines, request.targets, steps, rule=rule)
    return reduce_channels(attributions, channel_reduction)


@fill_doc(parameters=section("Parameters", REQUEST_SEEDED, _STEPS, PAIR_NOISE, BASELINE, _RULE, CHANNEL_REDUCTION_PATH),
          returns=section("Returns", SMOOTHED_MAPS), references=section("References", SMOOTHGRAD_REFERENCE))
def smoothgrad_ig(request: Request, *, steps: int = 25, n_samples: int = 25, stdev_spread: float = 0.15,
                  noise: float | None = None, magnitude: bool = True, baseline="black", rule: str = "riemann",
                  channel_reduction: str = "sum") -> np.ndarray:
    """SmoothGrad over Integrated Gradients (PAIR ``IntegratedGradients.GetSmoothedMask``).

    Each image gets ``n_samples`` noisy copies ``x + N(0, sigma^2)`` with ``sigma = stdev_spread *
    (max(x) - min(x))``; Integrated Gradients of every copy (from the baseline of the original
    image) are averaged, squared first when ``magnitude``. Defaults are PAIR's: 25 IG steps, 25
    noise samples, noise 0.15 of the value range, squared attributions averaged
    (``magnitude=True``). Seeded by ``seed`` (:func:`xai_tf.explain`): the noise of image ``i`` is
    drawn from ``(seed, i)``, so maps do not depend on ``batch_size``. Each noisy copy has its own
    path: ``n_samples * steps`` backward passes per image.

    {parameters}

    {returns}
        :func:`~xai_tf.explainers.integrated.integrated_gradients`'s (positive = raises the target
        logit relative to the baseline).

    Raises
    ------
    TypeError
        If ``steps`` or ``n_samples`` is not an integer or ``stdev_spread``, ``noise`` not numbers.
    ValueError
        If ``steps < 1`` (``< 2`` with "trapezoid"), ``n_samples < 1``, ``stdev_spread < 0``,
        ``noise < 0``, ``noise`` with a non-default ``stdev_spread``, ``rule`` is not one of the
        two names, ``baseline`` is an unknown name or an array of another shape, or
        ``channel_reduction`` is not one of the four names.

    {references}
    """
    check_positive(steps, "steps", integer=True)
    check_smoothing(n_samples, stdev_spread)
    _check_rule(rule, steps)
    make_baseline(request, baseline)  # validate once

    def attribute(noisy, targets, indices):
        baselines = make_baseline(request, baseline, request.images)[indices]
        return integrated_attributions(request, noisy, baselines, targets, steps, desc="smoothgrad_ig steps",
                                       rule=rule)

    smoothed = smooth(request, attribute, n_samples=n_samples, statistic="mean_square" if magnitude else "mean",
                      whole_images=True, **noise_option(smoothgrad_ig, stdev_spread, noise))
    return reduce_channels(smoothed, channel_reduction)


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


@fill_doc(request=REQUEST, baseline=BASELINE, channel_reduction=CHANNEL_REDUCTION_PATH, returns=MAPS_RETURNS)
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
    {request}
    steps : int, optional
        Steps along the path (default 25, PAIR's notebook); one backward pass each.
    fraction : float, optional
        Share of the features, those with the smallest gradient, moved at each step, in (0, 1]
        (default 0.5, PAIR's notebook).
    max_dist : float, optional
        How far (as a fraction of the path) a feature may run ahead of the straight line, in
        [0, 1] (default 1.0, PAIR's notebook; 0 = plain IG).
    {baseline}
    {channel_reduction}

    {returns}
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
