"""Infidelity (Yeh et al. 2019), in Quantus' form (``Infidelity``).

**Infidelity** (Yeh et al. 2019, Quantus' form): square patches of ``patch_size`` (4) pixels are set
to black one after another in raster order, *cumulatively*; at each step the squared difference
between the logit drop and ``sum(map * (x - x'))`` over channels; the score is its mean, averaged over
patch sizes (lower = better). Quantus repeats this ``n_perturb_samples`` times with nothing random in
it (identical repeats), so it is computed once. Quantus needs sizes divisible by the patch; here the
last row and column of patches are cut at the border.

Common rules of the family (normalisation, ``"black"``, features, ties, scores): :mod:`xai_tf.metrics.faithfulness`.
"""
from __future__ import annotations

import math
from typing import ClassVar

import numpy as np

from xai_tf._docstrings import fill_doc
from xai_tf.metrics.chunk import Chunk
from xai_tf.metrics.options import OPTIONS_NOTE, Option, count, parse_list
from xai_tf.metrics.perturbation import baseline_option, checked_inputs, fill_values, perturbed_scores, target_scores
from xai_tf.metrics.protocol import MapsMetric
from xai_tf.metrics.robustness.sensitivity import normalise_by_max


def patch_keys(height: int, width: int, patch_size: int) -> np.ndarray:
    """``(H, W)`` int32: the raster number of the ``patch_size`` square each pixel lies in."""
    rows = np.arange(height) // patch_size
    cols = np.arange(width) // patch_size
    return (rows[:, None] * math.ceil(width / patch_size) + cols[None]).astype(np.int32)


def infidelity(model, images, maps, targets=None, *, patch_sizes=(4,), baseline="black", normalise: bool = False,
               batch_size: int = 64) -> np.ndarray:
    """Infidelity (Quantus' form, see the module docstring) of each map: ``(N,)`` >= 0, lower = better.

    patch_sizes: square patch sides in pixels (default ``(4,)``, Quantus); baseline: default ``"black"``;
    normalise: divide each map by its largest ``|value|`` first (default False, Quantus). Scores: logits.
    """
    model, images, maps, targets = checked_inputs(model, images, maps, targets, batch_size)
    n, height, width = maps.shape
    maps = normalise_by_max(maps) if normalise else maps.astype(np.float64)
    fills = fill_values(images, baseline)
    base = target_scores(model, images, targets, output="logit", batch_size=batch_size)
    # sum over channels of map * (x - baseline), per pixel: a patch's contribution to sum(map * (x - x'))
    contribution = maps * np.sum(images.astype(np.float64) - fills, axis=3)
    losses = []
    for size in patch_sizes:
        keys = patch_keys(height, width, int(size))
        patches = int(keys.max()) + 1
        steps = np.arange(1, patches + 1)
        image_ids = np.repeat(np.arange(n), patches)
        after = perturbed_scores(model, images, fills, image_ids, np.tile(steps, n),
                                 lambda a, b, keys=keys: np.broadcast_to(keys, (b - a, height, width)), targets,
                                 output="logit", batch_size=batch_size).reshape(n, patches)
        per_patch = np.stack([np.bincount(keys.ravel(), weights=c.ravel(), minlength=patches) for c in contribution])
        sums = np.cumsum(per_patch, axis=1)
        losses.append(np.mean((base[:, None] - after - sums) ** 2, axis=1))
    return np.mean(np.stack(losses, axis=1), axis=1)


def _sizes_option(value):
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, (list, tuple)) or not value:
        raise ValueError(f"infidelity_patch_sizes must be a non-empty list of integers >= 1; got {value!r}")
    return [count("infidelity_patch_sizes")(v) for v in value]


@fill_doc(options_note=OPTIONS_NOTE)
class InfidelityMetric(MapsMetric):
    """Infidelity in the evaluation runner: how well the map's mass predicts the logit drop of removed patches.

    Yeh et al. 2019, in Quantus' form: square patches of side ``s`` are set to the baseline one after
    another in raster order, cumulatively (the last row and column of patches cut at the border); at
    each step, the squared difference between the drop of the target logit and
    ``sum(map * (x - x'))`` over the removed pixels and channels. The column ``infidelity`` is the mean
    over steps, averaged over the patch sizes (>= 0, lower = better); the maps are not normalised
    (Quantus' default). Quantus repeats this ``n_perturb_samples`` times with nothing random in it, so
    it is computed once.

    Notes
    -----
    {options_note}

    - ``infidelity_patch_sizes`` (comma-separated): patch sides in pixels, each >= 1 (default
      ``[4]``, Quantus);
    - ``infidelity_baseline``: value of removed pixels, a number in [0, 1] or ``black`` (each image's
      minimum), ``white`` or ``mean`` (default ``black``, Quantus).
    """

    name = "infidelity"
    reference = "Yeh et al. 2019 (Quantus Infidelity)"
    direction = "lower"
    options = (
        Option("infidelity_patch_sizes", [4], _sizes_option, "Infidelity: comma-separated patch sides in pixels "
               "(default 4, Quantus)", parse=lambda text: [int(v) for v in parse_list(text)]),
        baseline_option("infidelity"),
    )
    notes: ClassVar[dict[str, str]] = {"infidelity": "Infidelity, mean squared gap between logit drop and map "
                                       "mass removed (lower = better)"}

    def score(self, chunk: Chunk, options: dict):
        values = infidelity(chunk.model, chunk.images, chunk.maps, chunk.targets,
                            patch_sizes=options["infidelity_patch_sizes"], baseline=options["infidelity_baseline"],
                            batch_size=chunk.batch_size)
        return {self.name: list(values)}, {}



INFIDELITY = InfidelityMetric()
