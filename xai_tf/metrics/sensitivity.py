"""Max-Sensitivity (Yeh et al. 2019) of a saliency method, batched: ``max_sensitivity(model, images, method)``.

The stability metric of paper 001 (Su et al., equation 4, computed there with Captum's
``sensitivity_max``): draw ``n_samples`` copies ``x'`` of each image with uniform noise in the
L-infinity ball of ``radius`` around ``x``, explain them, and report the largest relative change
``max ||map(x') - map(x)|| / ||map(x)||``. Lower is more stable.

All perturbed copies of all images go through ``xai_tf.explain`` in one call (it batches them by
``batch_size``), not one explanation per copy as Captum and Quantus do.

Agreement with the reference implementations (both read, neither installed):

- Captum ``sensitivity_max`` (paper 001's): defaults ``radius=0.02``, ``n_samples=10``, Frobenius
  norm, denominator the norm of the original map: our defaults with ``normalise=False``.
- Quantus ``MaxSensitivity``: the same max over samples of ``norm(a - a') / norm(denominator)``,
  with maps first divided by their largest absolute value (``normalise_by_max``, our
  ``normalise=True``) but with the *input's* norm as denominator (``denominator="input"``) and noise
  ``lower_bound=0.2`` (``radius=0.2``). So ``max_sensitivity(..., radius=0.2, normalise=True,
  denominator="input")`` is Quantus' definition.

Differences, deliberate: perturbed images are clipped to [0, 1] (the toolkit's image range; the
ball is intersected with the valid images), the noise comes from ``numpy.random.default_rng((seed,
i))`` per image ``i`` (same seed, same noise), and the target of every copy is the class explained
on the original image (``targets`` or the original prediction), as in Captum and Quantus.
"""
from __future__ import annotations

from typing import ClassVar

import numpy as np

from xai_tf._checks import check_choice, check_images, check_positive
from xai_tf._random import rng_for
from xai_tf.metrics.protocol import Chunk, Metric, Option, flag, number, parse_bool

NORMS = ("fro", "l1", "inf")
DENOMINATORS = ("map", "input")


def _norm(values: np.ndarray, norm: str) -> np.ndarray:
    """Per-row norm of ``(..., P)`` arrays."""
    if norm == "fro":
        return np.sqrt(np.sum(np.square(values, dtype=np.float64), axis=-1))
    if norm == "l1":
        return np.sum(np.abs(values), axis=-1, dtype=np.float64)
    return np.max(np.abs(values), axis=-1).astype(np.float64)


def normalise_by_max(maps: np.ndarray) -> np.ndarray:
    """Each map divided by its largest absolute value (all-zero maps stay zero); Quantus' ``normalise_by_max``."""
    maps = np.asarray(maps, dtype=np.float64)
    scale = np.max(np.abs(maps.reshape(len(maps), -1)), axis=1)
    scale = np.where(scale > 0, scale, 1.0)
    return maps / scale.reshape((-1,) + (1,) * (maps.ndim - 1))


def perturb(images: np.ndarray, radius: float, n_samples: int, seed: int, indices=None) -> np.ndarray:
    """``(N, n_samples, H, W, C)`` copies of ``images`` plus uniform noise in ``[-radius, radius]``, clipped to [0, 1].

    indices: the images' positions in the data set (default ``0..N-1``), so that an image gets the
        same noise whichever batch or shard it is evaluated in.
    """
    indices = np.arange(len(images)) if indices is None else np.asarray(indices)
    noise = np.stack([rng_for(seed, index).uniform(
        -radius, radius, size=(n_samples,) + images.shape[1:]) for index in indices])
    return np.clip(images[:, None] + noise, 0.0, 1.0).astype(np.float32)


def max_sensitivity(model, images, method, targets=None, radius: float = 0.02, n_samples: int = 10,
                    norm: str = "fro", normalise: bool = True, seed: int = 0, *, denominator: str = "map",
                    batch_size: int = 64, indices=None, **method_params) -> np.ndarray:
    """Max-Sensitivity of ``method`` on each image: ``(N,)`` float64, >= 0 (NaN where the denominator is 0).

    model: ``keras.Model`` classifier taking ``[0, 1]`` NHWC images.
    images: ``(N, H, W, C)`` in [0, 1].
    method: a name of ``xai_tf.list_methods()`` or a callable ``f(images, targets) -> (N, H, W) maps``.
    targets: ``None`` (the class predicted on the original image) or ints ``(N,)``; the same target
        is explained on every perturbed copy.
    radius: half-width of the uniform noise, > 0 (default 0.02: Captum's ``sensitivity_max``, paper 001).
    n_samples: perturbed copies per image (default 10, Captum).
    norm: ``"fro"`` (default, Captum and Quantus), ``"l1"`` or ``"inf"``, over all pixels of a map.
    normalise: divide every map by its largest absolute value before comparing (default True, Quantus).
    seed: seed of the noise and of stochastic methods.
    denominator: ``"map"`` (default, ``||map(x)||``: the issue's and Captum's definition) or ``"input"``
        (``||x||``, Quantus).
    batch_size: most images per compiled call of the explainer (default 64).
    indices: positions of the images in their data set (default ``0..N-1``): fixes each image's noise.
    method_params: passed to ``xai_tf.explain`` (e.g. ``steps=32``).
    """
    from xai_tf.explainers import explain
    from xai_tf.models.head import head_of

    check_positive(radius, "radius")
    check_positive(n_samples, "n_samples", integer=True)
    norm = check_choice(norm, "norm", NORMS)
    denominator = check_choice(denominator, "denominator", DENOMINATORS)
    if not isinstance(normalise, (bool, np.bool_)):
        raise TypeError(f"normalise must be True or False; got {normalise!r}")
    images = check_images(images, "images")
    n = len(images)
    if indices is not None and len(indices) != n:
        raise ValueError(f"indices must have one entry per image ({n}); got {len(indices)}")

    if callable(method):
        if method_params:
            raise TypeError("method_params apply to registered methods only; bind them into the callable")

        def explain_fn(batch, batch_targets):
            return np.asarray(method(batch, batch_targets), dtype=np.float64)
    else:
        def explain_fn(batch, batch_targets):
            return explain(model, batch, method, batch_targets, batch_size=batch_size, verbose=0, seed=seed,
                           **method_params)
    targets = head_of(model).targets(images, targets, batch_size)

    original = np.asarray(explain_fn(images, targets), dtype=np.float64)
    copies = perturb(images, radius, n_samples, seed, indices)  # (N, S, H, W, C)
    perturbed = np.asarray(explain_fn(copies.reshape((n * n_samples,) + images.shape[1:]),
                                      np.repeat(targets, n_samples)), dtype=np.float64)
    if normalise:
        original, perturbed = normalise_by_max(original), normalise_by_max(perturbed)
    original = original.reshape(n, -1)
    perturbed = perturbed.reshape(n, n_samples, -1)
    numerator = _norm(perturbed - original[:, None], norm)  # (N, S)
    if denominator == "map":
        scale = _norm(original, norm)
    else:
        scale = _norm(images.reshape(n, -1).astype(np.float64), norm)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = numerator / scale[:, None]
    # A zero map compared with zero maps did not change: 0, not 0/0.
    ratios = np.where((numerator == 0) & (scale[:, None] == 0), 0.0, ratios)
    ratios = np.where(np.isinf(ratios), np.nan, ratios)
    return ratios.max(axis=1)


class MaxSensitivityMetric(Metric):
    """Max-Sensitivity in the evaluation runner: re-explains ``sensitivity_samples`` perturbed copies per image."""

    name = "max_sensitivity"
    reference = "Yeh et al. 2019, paper 001 (Captum sensitivity_max)"
    scores = "method"
    options = (
        Option("sensitivity_radius", 0.02, number("sensitivity_radius", 1e-12), "Max-Sensitivity noise half-width "
               "(default 0.02, Captum)", parse=float),
        Option("sensitivity_samples", 10, number("sensitivity_samples", 1, integer=True),
               "Max-Sensitivity perturbed copies per image (default 10, Captum)", parse=int),
        Option("sensitivity_normalise", True, flag("sensitivity_normalise"), "divide maps by their max |value| "
               "before comparing (default true, Quantus)", parse=parse_bool),
    )
    direction = "lower"
    notes: ClassVar[dict[str, str]] = {"max_sensitivity": "Max-Sensitivity (lower = more stable)"}

    def score(self, chunk: Chunk, options: dict):
        values = max_sensitivity(chunk.model, chunk.images, chunk.method, chunk.targets,
                                 radius=options["sensitivity_radius"], n_samples=options["sensitivity_samples"],
                                 normalise=options["sensitivity_normalise"], seed=chunk.chunk_seed,
                                 batch_size=chunk.batch_size, indices=chunk.indices, **chunk.params)
        return {self.name: list(values)}, {}


MAX_SENSITIVITY = MaxSensitivityMetric()
