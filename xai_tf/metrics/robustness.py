"""Quantus' robustness metrics that re-run the method: Avg-Sensitivity and the Local Lipschitz Estimate.

Both explain ``nr_samples`` noisy copies of each image (all copies of a chunk in one
``xai_tf.explain`` call, batched by ``batch_size``; Quantus explains one batch per sample) for the
class explained on the original image, and compare the maps (``quantus.metrics.robustness``, read,
not installed):

- **Avg-Sensitivity** (Yeh et al. 2019): the mean over samples of ``||a - a'||_F / ||a||_F`` with
  uniform noise in ``[-lower_bound, lower_bound]`` (Quantus' defaults: ``nr_samples=200``,
  ``lower_bound=0.2``, maps not normalised; lower = more stable).
- **Local Lipschitz Estimate** (Alvarez-Melis & Jaakkola 2018): the largest over samples of
  ``||a - a'||_2 / (||x - x'||_2 + 1e-10)`` with Gaussian noise ``N(0, 0.1**2)`` (Quantus' defaults:
  ``nr_samples=200``, ``perturb_std=0.1``, maps divided by their largest ``|value|``; lower = more stable).

Differences, deliberate: noisy copies are clipped to [0, 1] (the toolkit's image range; Quantus does not
clip), Quantus divides maps by the largest of the whole batch and here by each map's own, and image
``i``'s noise comes from ``rng_for(seed, i)`` (Quantus: ``np.random``). Stochastic methods are
re-run with the chunk's seed.
"""
from __future__ import annotations

import warnings
from typing import ClassVar

import numpy as np

from xai_tf._checks import check_images, check_positive
from xai_tf._random import rng_for
from xai_tf.metrics.protocol import Chunk, MethodMetric, Option, count, number
from xai_tf.metrics.sensitivity import normalise_by_max


def noisy_copies(images: np.ndarray, n_samples: int, seed: int, indices, noise: str, scale: float) -> np.ndarray:
    """``(N, S, H, W, C)`` noisy copies clipped to [0, 1]: ``"uniform"`` in ``[-scale, scale]`` or ``"gaussian"``."""
    copies = []
    for image, index in zip(images, indices):
        rng = rng_for(seed, int(index))
        size = (n_samples,) + image.shape
        draw = rng.uniform(-scale, scale, size) if noise == "uniform" else rng.normal(0.0, scale, size)
        copies.append(np.clip(image[None] + draw, 0.0, 1.0))
    return np.stack(copies).astype(np.float32)


def _explained_copies(model, images, method, targets, n_samples, seed, indices, noise, scale, batch_size,
                      method_params, method_seed):
    from xai_tf.explainers import explain
    from xai_tf.models.binding import bind

    images = check_images(images, "images")
    n = len(images)
    indices = np.arange(n) if indices is None else np.asarray(indices)
    if len(indices) != n:
        raise ValueError(f"indices must have one entry per image ({n}); got {len(indices)}")
    binding, images, keys = bind(model, images, targets, batch_size=batch_size)
    targets = binding.freeze(keys)
    method_seed = seed if method_seed is None else method_seed
    original = explain(model, images, method, targets, batch_size=batch_size, verbose=0, seed=method_seed,
                       **method_params)
    copies = noisy_copies(images, n_samples, seed, indices, noise, scale)
    flat = copies.reshape((n * n_samples,) + images.shape[1:])
    perturbed = explain(model, flat, method, binding.freeze(np.repeat(keys, n_samples)), batch_size=batch_size,
                        verbose=0, seed=method_seed, **method_params)
    return images, copies, np.asarray(original, np.float64), np.asarray(perturbed, np.float64).reshape(
        (n, n_samples) + images.shape[1:3])


def avg_sensitivity(model, images, method, targets=None, *, n_samples: int = 200, lower_bound: float = 0.2,
                    normalise: bool = False, seed: int = 0, indices=None, batch_size: int = 64,
                    method_seed: int | None = None, **method_params) -> np.ndarray:
    """Avg-Sensitivity of ``method`` on each image: ``(N,)`` >= 0 (NaN for an all-zero map).

    Parameters
    ----------
    model : keras.Model
        Classifier taking ``[0, 1]`` NHWC images.
    images : ndarray
        ``(N, H, W, C)`` in [0, 1].
    method : str
        A name of ``xai_tf.list_methods()``.
    targets : None or ints
        ``None`` = the predicted class of the original image, explained on every copy too.
    n_samples : int
        Noisy copies per image (default 200, Quantus).
    lower_bound : float
        Half-width of the uniform noise, > 0 (default 0.2, Quantus).
    normalise : bool
        Divide each map by its largest ``|value|`` first (default False, Quantus).
    seed, indices
        Image ``i``'s noise: ``rng_for(seed, indices[i])`` (the same whichever chunk scores it).
    method_seed : int, optional
        Seed of stochastic methods (default ``seed``; the runner passes the chunk's seed).
    batch_size, method_params
        Passed to ``xai_tf.explain``.
    """
    check_positive(n_samples, "n_samples", integer=True)
    check_positive(lower_bound, "lower_bound")
    _, _, original, perturbed = _explained_copies(model, images, method, targets, n_samples, seed, indices,
                                                  "uniform", lower_bound, batch_size, method_params, method_seed)
    if normalise:
        original = normalise_by_max(original)
        perturbed = normalise_by_max(perturbed.reshape((-1,) + original.shape[1:])).reshape(perturbed.shape)
    n = len(original)
    flat, flat_perturbed = original.reshape(n, 1, -1), perturbed.reshape(n, n_samples, -1)
    with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an all-zero map: NaN, not a warning per chunk
        ratios = np.linalg.norm(flat - flat_perturbed, axis=2) / np.linalg.norm(flat, axis=2)
        return np.nanmean(np.where(np.isfinite(ratios), ratios, np.nan), axis=1)


def local_lipschitz_estimate(model, images, method, targets=None, *, n_samples: int = 200, std: float = 0.1,
                             normalise: bool = True, seed: int = 0, indices=None, batch_size: int = 64,
                             method_seed: int | None = None, **method_params) -> np.ndarray:
    """Local Lipschitz Estimate of ``method`` on each image: ``(N,)`` >= 0.

    n_samples: noisy copies (default 200, Quantus); std: Gaussian noise standard deviation, > 0
    (default 0.1, Quantus); normalise: maps divided by their largest ``|value|`` (default True,
    Quantus); other parameters as :func:`avg_sensitivity`.
    """
    check_positive(n_samples, "n_samples", integer=True)
    check_positive(std, "std")
    images, copies, original, perturbed = _explained_copies(model, images, method, targets, n_samples, seed,
                                                            indices, "gaussian", std, batch_size, method_params,
                                                            method_seed)
    if normalise:
        original = normalise_by_max(original)
        perturbed = normalise_by_max(perturbed.reshape((-1,) + original.shape[1:])).reshape(perturbed.shape)
    n = len(original)
    numerator = np.linalg.norm(original.reshape(n, 1, -1) - perturbed.reshape(n, n_samples, -1), axis=2)
    denominator = np.linalg.norm(images.reshape(n, 1, -1).astype(np.float64)
                                 - copies.reshape(n, n_samples, -1).astype(np.float64), axis=2)
    return np.nanmax(numerator / (denominator + 1e-10), axis=1)


class AvgSensitivityMetric(MethodMetric):
    """Avg-Sensitivity in the evaluation runner (re-explains noisy copies).

    Yeh et al. 2019, as Quantus' ``AvgSensitivity``: a :class:`~xai_tf.metrics.MethodMetric` that
    explains ``avg_sensitivity_samples`` copies of each image with uniform noise in
    ``[-avg_sensitivity_lower_bound, avg_sensitivity_lower_bound]`` (clipped to [0, 1]; drawn from
    ``rng_for(seed, image index)``) for the class explained on the original image, re-running the
    method with its parameters and the chunk's seed. The column ``avg_sensitivity`` is the mean over
    copies of ``||a - a'||_F / ||a||_F`` (maps not normalised, Quantus), NaN for an all-zero map:
    lower = more stable.

    Notes
    -----
    Options (``evaluate(options={...})``; each is also an ``xai-tf evaluate`` flag,
    ``--`` + its name with ``-`` for ``_``):

    - ``avg_sensitivity_samples``: noisy copies per image, >= 1 (default 200, Quantus);
    - ``avg_sensitivity_lower_bound``: half-width of the uniform noise, > 0 (default 0.2, Quantus).
    """

    name = "avg_sensitivity"
    reference = "Yeh et al. 2019 (Quantus AvgSensitivity)"
    direction = "lower"
    options = (
        Option("avg_sensitivity_samples", 200, count("avg_sensitivity_samples"), "Avg-Sensitivity noisy copies per "
               "image (default 200, Quantus)", parse=int),
        Option("avg_sensitivity_lower_bound", 0.2, number("avg_sensitivity_lower_bound", 1e-12), "Avg-Sensitivity "
               "uniform noise half-width (default 0.2, Quantus)", parse=float),
    )
    notes: ClassVar[dict[str, str]] = {"avg_sensitivity": "Avg-Sensitivity, mean relative map change under noise "
                                       "(lower = more stable)"}

    def score(self, chunk: Chunk, options: dict):
        values = avg_sensitivity(chunk.model, chunk.images, chunk.method, chunk.targets,
                                 n_samples=options["avg_sensitivity_samples"],
                                 lower_bound=options["avg_sensitivity_lower_bound"], seed=chunk.seed,
                                 method_seed=chunk.chunk_seed,
                                 indices=chunk.indices, batch_size=chunk.batch_size, **chunk.params)
        return {self.name: list(values)}, {}


class LocalLipschitzMetric(MethodMetric):
    """Local Lipschitz Estimate in the evaluation runner (re-explains noisy copies).

    Alvarez-Melis & Jaakkola 2018, as Quantus' ``LocalLipschitzEstimate``: a
    :class:`~xai_tf.metrics.MethodMetric` that explains ``local_lipschitz_samples`` copies ``x'`` of
    each image with Gaussian noise of standard deviation ``local_lipschitz_std`` (clipped to [0, 1];
    drawn from ``rng_for(seed, image index)``) for the class explained on the original image,
    re-running the method with its parameters and the chunk's seed. The column ``local_lipschitz`` is
    the largest over copies of ``||a - a'||_2 / (||x - x'||_2 + 1e-10)``, the maps divided by their
    largest ``|value|`` (Quantus): lower = more stable.

    Notes
    -----
    Options (``evaluate(options={...})``; each is also an ``xai-tf evaluate`` flag,
    ``--`` + its name with ``-`` for ``_``):

    - ``local_lipschitz_samples``: noisy copies per image, >= 1 (default 200, Quantus);
    - ``local_lipschitz_std``: standard deviation of the Gaussian noise, > 0 (default 0.1, Quantus).
    """

    name = "local_lipschitz"
    reference = "Alvarez-Melis & Jaakkola 2018 (Quantus LocalLipschitzEstimate)"
    direction = "lower"
    options = (
        Option("local_lipschitz_samples", 200, count("local_lipschitz_samples"), "Local Lipschitz noisy copies per "
               "image (default 200, Quantus)", parse=int),
        Option("local_lipschitz_std", 0.1, number("local_lipschitz_std", 1e-12), "Local Lipschitz Gaussian noise "
               "std (default 0.1, Quantus)", parse=float),
    )
    notes: ClassVar[dict[str, str]] = {"local_lipschitz": "Local Lipschitz Estimate, largest map change per input "
                                       "change (lower = more stable)"}

    def score(self, chunk: Chunk, options: dict):
        values = local_lipschitz_estimate(chunk.model, chunk.images, chunk.method, chunk.targets,
                                          n_samples=options["local_lipschitz_samples"],
                                          std=options["local_lipschitz_std"], seed=chunk.seed,
                                          method_seed=chunk.chunk_seed,
                                          indices=chunk.indices, batch_size=chunk.batch_size, **chunk.params)
        return {self.name: list(values)}, {}


AVG_SENSITIVITY = AvgSensitivityMetric()
LOCAL_LIPSCHITZ = LocalLipschitzMetric()
