"""Shapley-value estimators: KernelSHAP (on segments) and GradientSHAP (on pixels).

Our own batched implementations of Lundberg & Lee (2017), "A Unified Approach to Interpreting
Model Predictions":

- KernelSHAP: the players are grid cells (default) or LIME's superpixels; a coalition keeps its
  segments and puts ``baseline`` elsewhere; the value of a coalition is the target score. The
  Shapley values solve the Shapley-kernel weighted regression under the efficiency constraint
  ``sum(phi) = f(x) - f(baseline)`` (the paper's Theorem 2, as the ``shap`` package does). When
  all ``2^M - 2`` proper coalitions fit in ``n_samples``, they are all evaluated with their kernel
  weights and the result is the exact Shapley values; otherwise coalitions are sampled as Captum
  and Xplique do (a size ``k`` with probability proportional to ``(M - 1) / (k (M - k))``, then
  ``k`` players uniformly; every sample weight 1), in complementary pairs (each coalition and its
  complement, which halves the variance; Covert & Lee 2021). Xplique's ``KernelShap`` fits an
  unconstrained linear regression with an intercept instead, so its values do not add up to
  ``f(x) - f(baseline)``. All coalitions of all images go through one compiled forward function
  (``xai_tf.explainers.masking``).
- GradientSHAP (Captum's ``GradientShap``; SHAP's expected gradients): per sample, a random
  baseline ``b``, a point ``alpha ~ U(0, 1)`` on the path, optional input noise ``eps``:
  ``phi = mean[(x + eps - b) * grad f(b + alpha (x + eps - b))]`` on the target logit; in
  expectation the Integrated Gradients averaged over the baseline distribution.
"""
from __future__ import annotations

from math import comb

import numpy as np

from xai_tf._checks import check_choice, check_images, check_number, check_positive
from xai_tf._docstrings import fill_doc
from xai_tf._random import rng_for
from xai_tf.explainers.base import Request, image_step_chunks, reduce_channels
from xai_tf.explainers.docblocks import CHANNEL_REDUCTION_PATH, MAPS, REQUEST_SEEDED
from xai_tf.explainers.masking import (
    SCORE,
    check_grid_size,
    check_score,
    grid_cells,
    segment_scores,
)
from xai_tf.explainers.perturbation import SEGMENTATIONS, check_superpixels, superpixels

KERNEL_SHAP_SEGMENTATIONS = ("grid", *SEGMENTATIONS)


def shapley_kernel_weights(coalitions: np.ndarray) -> np.ndarray:
    """Shapley kernel ``(M - 1) / (C(M, |z|) |z| (M - |z|))`` of proper coalitions ``(S, M)``."""
    n_players = coalitions.shape[1]
    sizes = coalitions.sum(axis=1).astype(int)
    return np.array([(n_players - 1) / (comb(n_players, k) * k * (n_players - k)) for k in sizes], np.float64)


def all_coalitions(n_players: int) -> np.ndarray:
    """Every proper coalition (neither empty nor full) of ``n_players``, ``(2^M - 2, M)`` float32."""
    codes = np.arange(1, 2 ** n_players - 1)
    return ((codes[:, None] >> np.arange(n_players)) & 1).astype(np.float32)


def sample_coalitions(rng: np.random.Generator, n_players: int, n_samples: int) -> np.ndarray:
    """``n_samples`` proper coalitions ``(S, M)`` from the Shapley kernel, in complementary pairs."""
    sizes = np.arange(1, n_players)
    probabilities = 1.0 / (sizes * (n_players - sizes))
    half = -(-n_samples // 2)
    drawn = rng.choice(sizes, size=half, p=probabilities / probabilities.sum())
    order = np.argsort(rng.random((half, n_players)), axis=1)
    coalitions = (np.argsort(order, axis=1) < drawn[:, None]).astype(np.float32)  # `k` random players
    return np.concatenate([coalitions, 1.0 - coalitions])[:n_samples]


def constrained_shapley_fit(coalitions: np.ndarray, values: np.ndarray, weights: np.ndarray,
                            empty: float, full: float) -> np.ndarray:
    """Weighted least squares ``values ~ empty + coalitions @ phi`` with ``sum(phi) = full - empty``, ``(M,)``."""
    n_players = coalitions.shape[1]
    total = full - empty
    if n_players == 1:
        return np.array([total])
    z = coalitions.astype(np.float64)
    # phi_M = total - sum(phi_<M): substitute and solve for the other M - 1 values
    design = z[:, :-1] - z[:, -1:]
    response = values - empty - z[:, -1] * total
    root = np.sqrt(weights)[:, None]
    phi, *_ = np.linalg.lstsq(design * root, response * root[:, 0], rcond=None)
    return np.append(phi, total - phi.sum())


@fill_doc(request=REQUEST_SEEDED, score=SCORE)
def kernel_shap(request: Request, *, n_samples: int = 800, segmentation: str = "grid", grid_size: int = 8,
                segmentation_params: dict | None = None, baseline: float = 0.0,
                score: str = "probability") -> np.ndarray:
    """KernelSHAP (Lundberg & Lee 2017): Shapley values of image segments for the target score.

    Parameters
    ----------
    {request}
    n_samples : int
        Coalitions per image (default 800, Xplique's). With ``M`` segments and
        ``2^M - 2 <= n_samples`` every coalition is evaluated once and the values are exact.
    segmentation : {"grid", "quickshift", "slic"}
        Players: a ``grid_size x grid_size`` grid (default: the same cells for every image and
        model, the cells Sobol and HSIC use) or LIME's superpixels (``xai_tf.explainers.perturbation``).
    grid_size : int
        Cells per side for ``segmentation="grid"`` (default 8 = 64 players, as Sobol/HSIC); at most ``min(H, W)``.
    segmentation_params : dict, optional
        Overrides of LIME's superpixel parameters.
    baseline : float
        Value of the pixels of absent segments (default 0 = black, as occlusion and lime here).
    {score}

    Returns
    -------
    ndarray
        ``(N, H, W)``: each pixel holds its segment's Shapley value (signed; they add up to
        ``f(x) - f(baseline image)``). Seeded by ``seed`` (sampled coalitions, superpixels).

    Raises
    ------
    ValueError
        ``n_samples < 1``; a grid larger than the image; unknown segmentation or score.
    """
    height, width = request.images.shape[1:3]
    check_positive(n_samples, "n_samples", integer=True)
    check_choice(segmentation, "segmentation", KERNEL_SHAP_SEGMENTATIONS)
    check_score(score)
    baseline = check_number(baseline, "baseline")
    n_images = len(request.images)
    if segmentation == "grid":
        grid_size = check_grid_size(grid_size, height, width)
        segments = np.broadcast_to(grid_cells(height, width, grid_size), (n_images, height, width))
    else:
        check_superpixels(request, segmentation)
        segments = np.stack([superpixels(image, segmentation, segmentation_params,
                                         (int(request.seed) + index) % 2 ** 32)
                             for index, image in enumerate(request.images)])
    players = [int(segments[i].max()) + 1 for i in range(n_images)]
    plans = []
    for index, n_players in enumerate(players):
        if 2 ** n_players - 2 <= n_samples:  # (2 ** M stays small here: M <= log2(n_samples + 2))
            coalitions = all_coalitions(n_players)
            plans.append((coalitions, shapley_kernel_weights(coalitions)))
        else:
            coalitions = sample_coalitions(rng_for(request.seed, index), n_players, int(n_samples))
            plans.append((coalitions, np.ones(len(coalitions))))
    rows = max(len(plan[0]) for plan in plans) + 2
    values = np.zeros((n_images, rows, max(players)), np.float32)
    values[:, 1] = 1.0  # row 0: the empty coalition (baseline image), row 1: the full one (the image)
    for index, (coalitions, _) in enumerate(plans):
        values[index, 2:2 + len(coalitions), :coalitions.shape[1]] = coalitions
    scores = segment_scores(request, segments, values, baseline=baseline, score=score)
    maps = np.empty((n_images, height, width), np.float32)
    for index, (coalitions, weights) in enumerate(plans):
        phi = constrained_shapley_fit(coalitions, scores[index, 2:2 + len(coalitions)], weights,
                                      scores[index, 0], scores[index, 1])
        maps[index] = phi[segments[index]]
    return maps


BASELINES = ("uniform", "black")


def _baselines(baselines, image_shape) -> np.ndarray | str:
    if isinstance(baselines, str):
        return check_choice(baselines, "baselines", BASELINES)
    array = np.asarray(baselines)
    if array.ndim == 3:
        array = array[None]
    return check_images(array, "baselines", shape=image_shape)


@fill_doc(request=REQUEST_SEEDED, channel_reduction=CHANNEL_REDUCTION_PATH, maps=MAPS)
def gradient_shap(request: Request, *, n_samples: int = 50, baselines="uniform", stdev_spread: float = 0.0,
                  channel_reduction: str = "sum") -> np.ndarray:
    """GradientSHAP (Lundberg & Lee 2017; Captum's ``GradientShap``): expected gradients x (input - baseline).

    Parameters
    ----------
    {request}
    n_samples : int
        Random (baseline, path point, noise) draws per image (default 50; Captum's default is 5,
        SHAP's ``GradientExplainer`` 200). One gradient each.
    baselines : {"uniform", "black"} or array
        The baseline distribution: "uniform" (default) draws each baseline pixel from U(0, 1);
        "black" is the all-zero image (then the method is Integrated Gradients with random path
        points); an array ``(B, H, W, C)`` in [0, 1] (e.g. training images, SHAP's background
        data) is sampled uniformly.
    stdev_spread : float
        Gaussian input noise as a fraction of the image's value range (Captum's ``stdevs``,
        default 0 = none).
    {channel_reduction}

    Returns
    -------
    {maps}
        Signed maps on the target logit (with "sum", ``sum(phi) ~ E[f(x) - f(b)]``). Seeded by
        ``seed`` (per image: baselines, then noise, then path points from ``rng_for(seed, image)``).

    Raises
    ------
    ValueError
        ``n_samples < 1``, unknown baselines, baseline images of another shape or outside [0, 1].
    """
    check_positive(n_samples, "n_samples", integer=True)
    check_positive(stdev_spread, "stdev_spread", allow_zero=True)
    shape = request.images.shape[1:]
    background = _baselines(baselines, shape)
    function = request.adapter.gradient_function("plain")
    n_images = len(request.images)
    total = np.zeros(request.images.shape, np.float64)

    def draws(index):
        rng = rng_for(request.seed, index)
        if isinstance(background, str):
            starts = (rng.random((n_samples, *shape), dtype=np.float32) if background == "uniform"
                      else np.zeros((n_samples, *shape), np.float32))
        else:
            starts = background[rng.integers(0, len(background), n_samples)]
        image = request.images[index]
        stdev = np.float32(stdev_spread * float(image.max() - image.min()))
        noisy = image[None] + rng.standard_normal((n_samples, *shape), dtype=np.float32) * stdev
        alphas = rng.random(n_samples, dtype=np.float32)[:, None, None, None]
        return noisy - starts, starts + alphas * (noisy - starts)

    for images, samples in request.progress(image_step_chunks(n_images, n_samples, request.batch_size)):
        indices = range(n_images)[images]
        pairs = [draws(i) for i in indices]
        points = np.concatenate([pair[1][samples] for pair in pairs])
        deltas = np.concatenate([pair[0][samples] for pair in pairs]).astype(np.float64)
        targets = np.repeat(request.targets[images], samples.stop - samples.start).astype(np.int32)
        grads = function(points, targets)[0].numpy().astype(np.float64)
        products = (grads * deltas).reshape(len(indices), -1, *shape)
        total[images] += products.sum(axis=1)
    return reduce_channels((total / n_samples).astype(np.float32), channel_reduction)
