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
from xai_tf._docstrings import fill_doc
from xai_tf._random import rng_for
from xai_tf.metrics._docs import MODEL_IMAGES
from xai_tf.metrics.chunk import Chunk
from xai_tf.metrics.options import OPTIONS_NOTE, Option, count, number
from xai_tf.metrics.protocol import MethodMetric
from xai_tf.metrics.robustness.sensitivity import normalise_by_max


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
                      method_params, method_seed, normalise):
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
    original = np.asarray(original, np.float64)
    perturbed = np.asarray(perturbed, np.float64).reshape((n, n_samples) + images.shape[1:3])
    if normalise:
        original = normalise_by_max(original)
        perturbed = normalise_by_max(perturbed.reshape((-1,) + original.shape[1:])).reshape(perturbed.shape)
    return images, copies, original, perturbed


@fill_doc(model_images=MODEL_IMAGES)
def avg_sensitivity(model, images, method, targets=None, *, n_samples: int = 200, lower_bound: float = 0.2,
                    normalise: bool = False, seed: int = 0, indices=None, batch_size: int = 64,
                    method_seed: int | None = None, **method_params) -> np.ndarray:
    """Avg-Sensitivity of ``method`` on each image: ``(N,)`` >= 0 (NaN for an all-zero map).

    Parameters
    ----------
    {model_images}
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
                                                  "uniform", lower_bound, batch_size, method_params, method_seed,
                                                  normalise)
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
                                                            method_seed, normalise)
    n = len(original)
    numerator = np.linalg.norm(original.reshape(n, 1, -1) - perturbed.reshape(n, n_samples, -1), axis=2)
    denominator = np.linalg.norm(images.reshape(n, 1, -1).astype(np.float64)
                                 - copies.reshape(n, n_samples, -1).astype(np.float64), axis=2)
    return np.nanmax(numerator / (denominator + 1e-10), axis=1)


#: The "Notes" entry of a noisy-copies metric's ``<name>_samples`` option.
SAMPLES_NOTE = "- ``{name}_samples``: noisy copies per image, >= 1 (default 200, Quantus);"


def _noisy_options(name: str, label: str, noise_option: str, default: float, noise: str) -> tuple[Option, Option]:
    """A noisy-copies metric's options ``<name>_samples`` and ``<name>_<noise_option>`` (``noise``: the scale)."""
    scale = f"{name}_{noise_option}"
    return (Option(f"{name}_samples", 200, count(f"{name}_samples"),
                   f"{label} noisy copies per image (default 200, Quantus)", parse=int),
            Option(scale, default, number(scale, 1e-12), f"{label} {noise} (default {default}, Quantus)",
                   parse=float))


class _NoisyCopiesMetric(MethodMetric):
    """A Quantus robustness metric in the runner: ``function`` on each chunk, re-explaining noisy copies.

    Its options are ``<name>_samples`` (noisy copies per image) and ``<name>_<noise_option>`` (the
    noise's scale, the keyword ``noise_option`` of ``function``).
    """

    direction = "lower"
    noise_option: ClassVar[str] = ""

    @staticmethod
    def function(*args, **kwargs) -> np.ndarray:
        raise NotImplementedError

    def score(self, chunk: Chunk, options: dict):
        scale = {self.noise_option: options[f"{self.name}_{self.noise_option}"]}
        values = self.function(chunk.model, chunk.images, chunk.method, chunk.targets,
                               n_samples=options[f"{self.name}_samples"], **scale, seed=chunk.seed,
                               method_seed=chunk.chunk_seed,
                               indices=chunk.indices, batch_size=chunk.batch_size, **chunk.params)
        return {self.name: list(values)}, {}


@fill_doc(options_note=OPTIONS_NOTE, samples=SAMPLES_NOTE.format(name="avg_sensitivity"))
class AvgSensitivityMetric(_NoisyCopiesMetric):
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
    {options_note}

    {samples}
    - ``avg_sensitivity_lower_bound``: half-width of the uniform noise, > 0 (default 0.2, Quantus).
    """

    name = "avg_sensitivity"
    reference = "Yeh et al. 2019 (Quantus AvgSensitivity)"
    function = staticmethod(avg_sensitivity)
    noise_option = "lower_bound"
    options = _noisy_options("avg_sensitivity", "Avg-Sensitivity", "lower_bound", 0.2, "uniform noise half-width")
    notes: ClassVar[dict[str, str]] = {"avg_sensitivity": "Avg-Sensitivity, mean relative map change under noise "
                                       "(lower = more stable)"}


@fill_doc(options_note=OPTIONS_NOTE, samples=SAMPLES_NOTE.format(name="local_lipschitz"))
class LocalLipschitzMetric(_NoisyCopiesMetric):
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
    {options_note}

    {samples}
    - ``local_lipschitz_std``: standard deviation of the Gaussian noise, > 0 (default 0.1, Quantus).
    """

    name = "local_lipschitz"
    reference = "Alvarez-Melis & Jaakkola 2018 (Quantus LocalLipschitzEstimate)"
    function = staticmethod(local_lipschitz_estimate)
    noise_option = "std"
    options = _noisy_options("local_lipschitz", "Local Lipschitz", "std", 0.1, "Gaussian noise std")
    notes: ClassVar[dict[str, str]] = {"local_lipschitz": "Local Lipschitz Estimate, largest map change per input "
                                       "change (lower = more stable)"}


AVG_SENSITIVITY = AvgSensitivityMetric()
LOCAL_LIPSCHITZ = LocalLipschitzMetric()
