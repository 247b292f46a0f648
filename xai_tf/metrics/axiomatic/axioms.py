"""Quantus' axiomatic metrics of a map: Completeness and Non-Sensitivity (``quantus.metrics.axiomatic``,
read, not installed), batched through :mod:`xai_tf.metrics.perturbation`.

- **Completeness** (Sundararajan et al. 2017): do the map's values sum to the change of the target's
  logit between the image and the baseline image (every pixel black: the image's minimum)? Quantus
  returns ``sum(a) == f(x) - f(x')`` *exactly* (float equality) on maps divided by their largest
  ``|value|`` (its ``normalise=True`` default), which is essentially never true; the column
  ``completeness`` is that 0/1, and ``completeness_gap`` = ``|sum(a) - (f(x) - f(x'))| / |f(x) - f(x')|``
  says how far off a map is (lower = better; set ``completeness_normalise`` to false to test
  Integrated Gradients' axiom on raw maps). Scores are logits (Quantus' ``softmax=False``).
- **Non-Sensitivity** (Nguyen & Martinez 2020): pixels with ``|a| < eps`` (``eps=1e-5`` after dividing by
  the largest ``|value|``, Quantus) should be those whose removal (set to black, ``features_in_step``
  pixels at a time in index order, each group alone) leaves the target probability within ``eps``; the
  score counts the pixels where the two disagree (lower = better). One perturbation per group of
  pixels: ``H * W`` forward passes per image at the default, batched.
"""
from __future__ import annotations

from typing import ClassVar

import numpy as np

from xai_tf._docstrings import fill_doc
from xai_tf.metrics.chunk import Chunk
from xai_tf.metrics.options import OPTIONS_NOTE, Option, count, flag, number, parse_bool
from xai_tf.metrics.perturbation import (
    check_baseline,
    checked_inputs,
    fill_values,
    parse_baseline,
    perturbed_scores,
    target_scores,
)
from xai_tf.metrics.protocol import MapsMetric
from xai_tf.metrics.robustness.sensitivity import normalise_by_max


def completeness(model, images, maps, targets=None, *, baseline="black", normalise: bool = True,
                 batch_size: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """``(exact (N,) bool, gap (N,) float64)`` of each map (see the module docstring).

    baseline: value of every pixel of the baseline image (default ``"black"``, the image's minimum);
    normalise: divide maps by their largest ``|value|`` first (default True, Quantus).
    """
    model, images, maps, targets = checked_inputs(model, images, maps, targets, batch_size)
    maps = normalise_by_max(maps) if normalise else maps.astype(np.float64)
    fills = fill_values(images, baseline)
    change = (target_scores(model, images, targets, output="logit", batch_size=batch_size)
              - target_scores(model, fills, targets, output="logit", batch_size=batch_size))
    total = maps.reshape(len(maps), -1).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        gap = np.abs(total - change) / np.abs(change)
    return total == change, gap


@fill_doc(options_note=OPTIONS_NOTE)
class CompletenessMetric(MapsMetric):
    """Completeness in the evaluation runner: Quantus' exact test and the relative gap.

    Sundararajan et al. 2017 (the completeness axiom of Integrated Gradients), as Quantus'
    ``Completeness``: with ``d = f(x) - f(x')`` the change of the target logit between the image and
    the baseline image (every pixel the baseline value), two columns:

    - ``completeness``: 1 if ``sum(map) == d`` exactly (float equality, as Quantus; essentially never
      true on maps divided by their largest ``|value|``), else 0 (higher = better);
    - ``completeness_gap``: ``|sum(map) - d| / |d|``, how far off the map is (lower = better).

    Notes
    -----
    {options_note}

    - ``completeness_normalise``: divide maps by their largest ``|value|`` first (default true,
      Quantus; false tests Integrated Gradients' axiom on raw maps);
    - ``completeness_baseline``: value of every pixel of the baseline image, a number in [0, 1] or
      ``black`` (each image's minimum), ``white`` or ``mean`` (default ``black``, Quantus).
    """

    name = "completeness"
    reference = "Sundararajan et al. 2017, axiom of IG (Quantus Completeness)"
    direction = "higher"
    column_directions: ClassVar[dict[str, str]] = {"completeness_gap": "lower"}
    options = (
        Option("completeness_normalise", True, flag("completeness_normalise"), "Completeness: divide maps by their "
               "max |value| first (default true, Quantus)", parse=parse_bool),
        Option("completeness_baseline", "black", lambda value: check_baseline(value, "completeness_baseline"),
               "Completeness baseline image value (default black: image minimum, Quantus)", parse=parse_baseline),
    )
    notes: ClassVar[dict[str, str]] = {
        "completeness": "Completeness, 1 if the map sums exactly to the logit change (Quantus; higher = better)",
        "completeness_gap": "Completeness gap, |sum(map) - logit change| / |logit change| (lower = better)",
    }

    def columns(self, options: dict) -> list[str]:
        return ["completeness", "completeness_gap"]

    def score(self, chunk: Chunk, options: dict):
        exact, gap = completeness(chunk.model, chunk.images, chunk.maps, chunk.targets,
                                  baseline=options["completeness_baseline"],
                                  normalise=options["completeness_normalise"], batch_size=chunk.batch_size)
        return {"completeness": [int(v) for v in exact], "completeness_gap": list(gap)}, {}


def non_sensitivity(model, images, maps, targets=None, *, eps: float = 1e-5, features_in_step: int = 1,
                    baseline="black", batch_size: int = 64) -> np.ndarray:
    """Non-Sensitivity of each map: ``(N,)`` int, pixels where "no attribution" and "no effect" disagree.

    eps: threshold on ``|a| / max|a|`` and on the probability change (default 1e-5, Quantus);
    features_in_step: pixels perturbed together (default 1, Quantus); baseline: default ``"black"``.
    """
    model, images, maps, targets = checked_inputs(model, images, maps, targets, batch_size)
    n, height, width = maps.shape
    pixels = height * width
    if isinstance(features_in_step, bool) or not isinstance(features_in_step, (int, np.integer)) \
            or not 1 <= features_in_step <= pixels:
        raise ValueError(f"features_in_step must be an integer in [1, {pixels}]; got {features_in_step!r}")
    attributions = np.abs(normalise_by_max(maps)).reshape(n, pixels)
    quiet = attributions < eps
    # groups: the quiet pixels, then the others, each in index order, features_in_step at a time
    group_of = np.empty((n, pixels), dtype=np.int64)
    groups = np.zeros(n, dtype=np.int64)
    for i in range(n):
        first = np.flatnonzero(quiet[i])
        second = np.flatnonzero(~quiet[i])
        group_of[i, first] = np.arange(len(first)) // features_in_step
        offset = -(-len(first) // features_in_step)
        group_of[i, second] = offset + np.arange(len(second)) // features_in_step
        groups[i] = offset - (-len(second) // features_in_step)
    image_ids = np.repeat(np.arange(n), groups)
    group_ids = np.concatenate([np.arange(g) for g in groups])

    def keys(start, stop):  # 0 on the group's pixels, 1 elsewhere
        rows = group_of[image_ids[start:stop]] != group_ids[start:stop, None]
        return rows.reshape(-1, height, width).astype(np.int32)

    after = perturbed_scores(model, images, fill_values(images, baseline), image_ids, np.ones(len(image_ids)), keys,
                             targets, batch_size=batch_size)
    base = target_scores(model, images, targets, batch_size=batch_size)
    out = np.empty(n, dtype=np.int64)
    start = 0
    for i in range(n):
        unchanged_group = np.abs(base[i] - after[start:start + groups[i]]) < eps
        out[i] = int(np.sum(unchanged_group[group_of[i]] ^ quiet[i]))
        start += groups[i]
    return out


@fill_doc(options_note=OPTIONS_NOTE)
class NonSensitivityMetric(MapsMetric):
    """Non-Sensitivity in the evaluation runner: pixels where "no attribution" and "no effect" disagree.

    Nguyen & Martinez 2020, as Quantus' ``NonSensitivity``: the pixels with ``|map| / max|map| <
    eps`` should be those whose removal (set to black, the image's minimum;
    ``non_sensitivity_features_in_step`` pixels at a time, the quiet pixels first, then the others,
    each in index order, each group alone) leaves the target probability within ``eps``. The column
    ``non_sensitivity`` counts the pixels where the two disagree (an integer, lower = better). One
    forward pass per group of pixels: ``H W`` per image at the default, batched.

    Notes
    -----
    {options_note}

    - ``non_sensitivity_eps``: threshold on ``|map| / max|map|`` and on the probability change, >= 0
      (default 1e-5, Quantus);
    - ``non_sensitivity_features_in_step``: pixels perturbed together, >= 1 and at most an image's
      (default 1, Quantus).
    """

    name = "non_sensitivity"
    reference = "Nguyen & Martinez 2020 (Quantus NonSensitivity)"
    direction = "lower"
    options = (
        Option("non_sensitivity_eps", 1e-5, number("non_sensitivity_eps", 0.0), "Non-Sensitivity threshold "
               "(default 1e-5, Quantus)", parse=float),
        Option("non_sensitivity_features_in_step", 1, count("non_sensitivity_features_in_step"),
               "Non-Sensitivity pixels per perturbation (default 1, Quantus)", parse=int),
    )
    notes: ClassVar[dict[str, str]] = {"non_sensitivity": "Non-Sensitivity, pixels where zero attribution and "
                                       "no effect disagree (lower = better)"}

    def check_shape(self, options, shape):
        pixels = int(shape[0]) * int(shape[1])
        if options["non_sensitivity_features_in_step"] > pixels:
            raise ValueError(f"non_sensitivity_features_in_step={options['non_sensitivity_features_in_step']} "
                             f"exceeds the {pixels} pixels of an image")

    def score(self, chunk: Chunk, options: dict):
        values = non_sensitivity(chunk.model, chunk.images, chunk.maps, chunk.targets,
                                 eps=options["non_sensitivity_eps"],
                                 features_in_step=options["non_sensitivity_features_in_step"],
                                 batch_size=chunk.batch_size)
        return {self.name: [int(v) for v in values]}, {}


COMPLETENESS = CompletenessMetric()
NON_SENSITIVITY = NonSensitivityMetric()
