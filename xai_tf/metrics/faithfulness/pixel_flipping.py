"""Pixel-Flipping and Monotonicity (Quantus' ``PixelFlipping``, ``Monotonicity``): curves over the
pixels of a map's order, removed from the image or added to the baseline.

- **Pixel-Flipping** (Bach et al. 2015): remove ``features_in_step`` pixels at a time (default 1) in
  decreasing order of the map (``abs=False``); the curve is the probability after each step (no point
  for the unperturbed image, as Quantus) and the score its area with unit spacing
  (``np.trapz(curve, dx=1)``, Quantus' ``calculate_auc``), lower = better.
- **Monotonicity** (Arya et al. 2019): from the all-baseline image, add ``features_in_step`` pixels
  at a time in *increasing* order of ``|map|`` (``abs=True``); 1 when the probability never decreases,
  else 0. Quantus' current code writes the baseline value into the baseline image (its
  ``perturb_func`` replaces with the baseline of the array it is given), so its curve is flat and it
  always returns True; this is the paper's definition, which Quantus' docstring states.

Common rules of the family (normalisation, ``"black"``, features, ties, scores): :mod:`xai_tf.metrics.faithfulness`.
"""
from __future__ import annotations

import math
from typing import ClassVar

import numpy as np

from xai_tf._docstrings import fill_doc
from xai_tf.metrics.chunk import Chunk
from xai_tf.metrics.curve_metric import CurveMetric
from xai_tf.metrics.options import OPTIONS_NOTE, Option, count
from xai_tf.metrics.perturbation import (
    baseline_option,
    check_baseline,
    checked_inputs,
    fill_values,
    importance_ranks,
    perturbed_scores,
)
from xai_tf.metrics.protocol import MapsMetric
from xai_tf.metrics.robustness.sensitivity import normalise_by_max
from xai_tf.metrics.ties import TIES, TIES_PARAMETER, plan_curve, tie_rule


def _step_counts(pixels: int, features_in_step: int) -> np.ndarray:
    steps = math.ceil(pixels / features_in_step)
    return np.minimum(np.arange(1, steps + 1) * features_in_step, pixels)


def _check_step(features_in_step, pixels, name="features_in_step"):
    if isinstance(features_in_step, bool) or not isinstance(features_in_step, (int, np.integer)) \
            or not 1 <= features_in_step <= pixels:
        raise ValueError(f"{name} must be an integer in [1, {pixels}] (pixels of an image); got {features_in_step!r}")


@fill_doc(ties=TIES_PARAMETER)
def ordered_curves(model, images, maps, targets=None, *, features_in_step: int = 1, baseline="black",
                   insert: bool = False, output: str = "probability", batch_size: int = 64, ties: str = "block"):
    """Pixel-Flipping (``insert=False``) or Monotonicity (``insert=True``) curves.

    Parameters
    ----------
    model, images, maps, targets, batch_size
        As :func:`xai_tf.metrics.faithfulness.fidelity.causal_curves`.
    features_in_step : int
        Pixels per step, in ``[1, H * W]`` (default 1, Quantus).
    baseline : float or str
        Value of the baseline pixels (default ``"black"``: each image's minimum, Quantus).
    insert : bool
        False: remove pixels from the image, largest map value first (Pixel-Flipping). True: add the
        image's pixels to the baseline image, smallest ``|map|`` first (Monotonicity).
    output : str
        ``"probability"`` (default, Quantus' ``softmax=True``) or ``"logit"``.
    {ties}

    Returns
    -------
    tuple
        ``x`` ``(T,)`` fractions of pixels perturbed after each step and ``curves`` ``(N, T)``,
        ``T = ceil(H * W / features_in_step)``.
    """
    model, images, maps, targets = checked_inputs(model, images, maps, targets, batch_size)
    n, height, width = maps.shape
    _check_step(features_in_step, height * width)
    baseline = check_baseline(baseline, "baseline")
    ties = TIES.check(ties)
    maps = normalise_by_max(maps)
    values = np.abs(maps) if insert else maps  # the ranking quantity: |map| ascending, or the map descending
    ranks = importance_ranks(values, descending=not insert)
    fills = fill_values(images, baseline)
    start, end = (fills, images) if insert else (images, fills)
    counts = _step_counts(height * width, features_in_step)
    plan = plan_curve(values, counts, descending=not insert, ties=ties)
    image_ids = plan.image_ids
    scores = perturbed_scores(model, start, end, image_ids, plan.counts, lambda a, b: ranks[image_ids[a:b]],
                              targets, output=output, batch_size=batch_size)
    return counts / (height * width), plan.curves(scores)


def _features_option(name):
    return Option(f"{name}_features_in_step", 1, count(f"{name}_features_in_step"),
                  f"{name.replace('_', ' ').capitalize()}: pixels per step (default 1, Quantus)", parse=int)


class _OrderedMetric:
    """What Pixel-Flipping and Monotonicity share: ``ordered_curves`` read with the options ``<prefix>_*``."""

    prefix = ""
    insert = False  # True: add pixels to the baseline image (Monotonicity), else remove them

    def check_shape(self, options, shape):
        pixels = int(shape[0]) * int(shape[1])
        value = options[f"{self.prefix}_features_in_step"]
        if value > pixels:
            raise ValueError(f"{self.prefix}_features_in_step={value} exceeds the {pixels} pixels of an image")

    def ordered(self, chunk: Chunk, options: dict):
        return ordered_curves(chunk.model, chunk.images, chunk.maps, chunk.targets, insert=self.insert,
                              features_in_step=options[f"{self.prefix}_features_in_step"],
                              baseline=options[f"{self.prefix}_baseline"], batch_size=chunk.batch_size,
                              ties=tie_rule(options))


@fill_doc(options_note=OPTIONS_NOTE)
class PixelFlippingMetric(_OrderedMetric, CurveMetric):
    """Pixel-Flipping in the evaluation runner: the area (unit spacing) under the probability curve.

    Bach et al. 2015, as Quantus' ``PixelFlipping``: the pixels are set to the baseline
    ``pixel_flipping_features_in_step`` at a time in decreasing order of the map (signed, divided by
    its largest ``|value|``; a step inside a group of equal values is interpolated between the states
    with the whole group kept and removed, option ``ties``); the curve is the target probability after each
    step (no point for the unperturbed image, as Quantus), at x = the fraction of the pixels removed,
    ``ceil(H W / features_in_step)`` points. The column ``pixel_flipping`` is the area with unit
    spacing, ``trapz(curve, dx=1)`` (Quantus' ``calculate_auc``), so it grows with the number of
    steps: lower = better. The curves are stored and aggregated (:class:`~xai_tf.metrics.CurveMetric`).

    Notes
    -----
    {options_note}

    - ``pixel_flipping_features_in_step``: pixels removed per step, >= 1 and at most an image's
      (default 1, Quantus);
    - ``pixel_flipping_baseline``: value of removed pixels, a number in [0, 1] or ``black`` (each
      image's minimum), ``white`` or ``mean`` (default ``black``, Quantus);
    - ``ties`` (shared by every ranked metric): ``block`` (default, order-free: the expectation over
      tie orders for a linear score) or ``reference`` (row-major order, the earlier values).
    """

    name = prefix = "pixel_flipping"
    reference = "Bach et al. 2015 (Quantus PixelFlipping)"
    direction = "lower"
    label = "fraction of pixels removed"
    options = (_features_option("pixel_flipping"), baseline_option("pixel_flipping"), TIES)
    notes: ClassVar[dict[str, str]] = {"pixel_flipping": "Pixel-Flipping AUC in steps, probability as the top "
                                       "pixels are removed (lower = better)"}

    def curves(self, chunk: Chunk, options: dict):
        return self.ordered(chunk, options)

    def area(self, x, curves, options):
        return np.trapezoid(curves, dx=1.0, axis=1)


@fill_doc(options_note=OPTIONS_NOTE)
class MonotonicityMetric(_OrderedMetric, MapsMetric):
    """Monotonicity (Arya et al.) in the evaluation runner: 1 when the probability never decreases.

    Arya et al. 2019, as Quantus' ``Monotonicity`` docstring defines it: starting from the
    all-baseline image, the image's pixels are added back ``monotonicity_features_in_step`` at a time
    in increasing order of ``|map|``; the column ``monotonicity`` is 1 when
    the target probability never decreases along the way, else 0 (higher = better). Quantus' current
    code writes the baseline value into the baseline image, so its curve is flat and it always returns
    True; this is the paper's definition. Ties (option ``ties``): by default a step inside a group
    of equal ``|map|`` reads the curve interpolated between the states with the whole group absent
    and added, so the column says whether that interpolated curve never decreases (a tied group
    counts as one step); ``reference`` adds the group in row-major order.

    Notes
    -----
    {options_note}

    - ``monotonicity_features_in_step``: pixels added per step, >= 1 and at most an image's (default
      1, Quantus);
    - ``monotonicity_baseline``: value of the baseline pixels, a number in [0, 1] or ``black`` (each
      image's minimum), ``white`` or ``mean`` (default ``black``, Quantus);
    - ``ties`` (shared by every ranked metric): ``block`` (default) or ``reference``.
    """

    name = prefix = "monotonicity"
    insert = True
    reference = "Arya et al. 2019 (Quantus Monotonicity)"
    direction = "higher"
    options = (_features_option("monotonicity"), baseline_option("monotonicity"), TIES)
    notes: ClassVar[dict[str, str]] = {"monotonicity": "Monotonicity, 1 if adding pixels by increasing |map| "
                                       "never lowers the probability (higher = better)"}

    def score(self, chunk: Chunk, options: dict):
        _, curves = self.ordered(chunk, options)
        return {self.name: [int(v) for v in np.all(np.diff(curves, axis=1) >= 0, axis=1)]}, {}



PIXEL_FLIPPING = PixelFlippingMetric()
MONOTONICITY = MonotonicityMetric()
