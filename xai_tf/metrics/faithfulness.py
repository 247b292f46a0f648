"""Quantus' faithfulness family: Pixel-Flipping, Monotonicity, Faithfulness Correlation, Infidelity, Sufficiency.

Written from the papers and Quantus' behaviour (``quantus.metrics.faithfulness``, commit 85bc29d,
read, not installed: its TensorFlow extra pins ``keras<3``), batched through
:mod:`xai_tf.metrics.perturbation`: all perturbations of a chunk go through one compiled forward
function, ``batch_size`` copies at a time, where Quantus calls ``model.predict`` once per step.

Common rules, as Quantus: maps are divided by their largest ``|value|`` (``normalise=True``;
Quantus divides by the largest of the whole batch it is given, here of each map, which only matters
for Infidelity, whose default is ``normalise=False`` anyway); ``"black"`` is each image's minimum
(Quantus' ``"black"`` is ``arr.min()``, not 0); a feature is a pixel with all its channels (Quantus
flattens channels into separate features with the map repeated over them, so it equals this on
single-channel images). Ties in a map's order (Quantus' ``np.argsort`` is not stable) follow the
option ``ties`` (``xai_tf.metrics.ties``; Faithfulness Correlation has no order, see below).
Scores are the target probability where Quantus' default is ``softmax=True`` (Pixel-Flipping,
Monotonicity) and the target logit where it is ``softmax=False`` (Faithfulness Correlation,
Infidelity); for a single sigmoid unit the probability is ``p`` / ``1 - p`` and the logit
``+z`` / ``-z``.

- **Pixel-Flipping** (Bach et al. 2015): remove ``features_in_step`` pixels at a time (default 1) in
  decreasing order of the map (``abs=False``); the curve is the probability after each step (no point
  for the unperturbed image, as Quantus) and the score its area with unit spacing
  (``np.trapz(curve, dx=1)``, Quantus' ``calculate_auc``), lower = better.
- **Monotonicity** (Arya et al. 2019): from the all-baseline image, add ``features_in_step`` pixels
  at a time in *increasing* order of ``|map|`` (``abs=True``); 1 when the probability never decreases,
  else 0. Quantus' current code writes the baseline value into the baseline image (its
  ``perturb_func`` replaces with the baseline of the array it is given), so its curve is flat and it
  always returns True; this is the paper's definition, which Quantus' docstring states.
- **Faithfulness Correlation** (Bhatt et al. 2020): ``nr_runs`` (100) random subsets of ``subset_size``
  (224) pixels; Pearson correlation between the subset's map sum and the logit drop when the subset is
  set to black. The subsets of image ``i`` come from ``rng_for(seed, i)`` (Quantus: ``np.random``).
  It ranks nothing: a subset is drawn by position and scored by sums, so tied values need no rule.
- **Infidelity** (Yeh et al. 2019, Quantus' form): square patches of ``patch_size`` (4) pixels are set
  to black one after another in raster order, *cumulatively*; at each step the squared difference
  between the logit drop and ``sum(map * (x - x'))`` over channels; the score is its mean, averaged over
  patch sizes (lower = better). Quantus repeats this ``n_perturb_samples`` times with nothing random in
  it (identical repeats), so it is computed once. Quantus needs sizes divisible by the patch; here the
  last row and column of patches are cut at the border.
- **Sufficiency** (Dasgupta et al. 2022): images of one chunk whose maps lie within ``threshold``
  (0.6) of each other (standardised Euclidean distance, scaled by its largest value in the chunk) should
  share the predicted class; the score is the fraction of an image's close neighbours that do (0 with
  none). It depends on the other images of the chunk, as Quantus' on its batch.
"""
from __future__ import annotations

import math
from typing import ClassVar

import numpy as np
from scipy import stats
from scipy.spatial.distance import cdist

from xai_tf._random import rng_for
from xai_tf.metrics.perturbation import (
    check_baseline,
    checked_inputs,
    fill_values,
    importance_ranks,
    parse_baseline,
    perturbed_scores,
    target_scores,
)
from xai_tf.metrics.protocol import (
    Chunk,
    CurveMetric,
    MapsMetric,
    Option,
    count,
    number,
    parse_list,
)
from xai_tf.metrics.sensitivity import normalise_by_max
from xai_tf.metrics.ties import TIES, plan_curve, tie_rule


def _step_counts(pixels: int, features_in_step: int) -> np.ndarray:
    steps = math.ceil(pixels / features_in_step)
    return np.minimum(np.arange(1, steps + 1) * features_in_step, pixels)


def _check_step(features_in_step, pixels, name="features_in_step"):
    if isinstance(features_in_step, bool) or not isinstance(features_in_step, (int, np.integer)) \
            or not 1 <= features_in_step <= pixels:
        raise ValueError(f"{name} must be an integer in [1, {pixels}] (pixels of an image); got {features_in_step!r}")


def ordered_curves(model, images, maps, targets=None, *, features_in_step: int = 1, baseline="black",
                   insert: bool = False, output: str = "probability", batch_size: int = 64, ties: str = "block"):
    """Pixel-Flipping (``insert=False``) or Monotonicity (``insert=True``) curves.

    Parameters
    ----------
    model, images, maps, targets, batch_size
        As :func:`xai_tf.metrics.fidelity.causal_curves`.
    features_in_step : int
        Pixels per step, in ``[1, H * W]`` (default 1, Quantus).
    baseline : float or str
        Value of the baseline pixels (default ``"black"``: each image's minimum, Quantus).
    insert : bool
        False: remove pixels from the image, largest map value first (Pixel-Flipping). True: add the
        image's pixels to the baseline image, smallest ``|map|`` first (Monotonicity).
    output : str
        ``"probability"`` (default, Quantus' ``softmax=True``) or ``"logit"``.
    ties : {"block", "reference"}
        Tied ranking values (default ``"block"``: a step inside a tied group is the linear
        interpolation between the states before and after the group; ``"reference"``: row-major
        order), see ``xai_tf.metrics.ties``.

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


def _baseline_option(name, default="black"):
    return Option(f"{name}_baseline", default, lambda value: check_baseline(value, f"{name}_baseline"),
                  f"{name.replace('_', ' ').capitalize()}: value of removed pixels, a number in [0, 1] or "
                  f"black (image minimum)/white/mean (default {default}, Quantus)", parse=parse_baseline)


class _StepCheck:
    prefix = ""

    def check_shape(self, options, shape):
        pixels = int(shape[0]) * int(shape[1])
        value = options[f"{self.prefix}_features_in_step"]
        if value > pixels:
            raise ValueError(f"{self.prefix}_features_in_step={value} exceeds the {pixels} pixels of an image")


class PixelFlippingMetric(_StepCheck, CurveMetric):
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
    Options (``evaluate(options={...})``; each is also an ``xai-tf evaluate`` flag,
    ``--`` + its name with ``-`` for ``_``):

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
    options = (_features_option("pixel_flipping"), _baseline_option("pixel_flipping"), TIES)
    notes: ClassVar[dict[str, str]] = {"pixel_flipping": "Pixel-Flipping AUC in steps, probability as the top "
                                       "pixels are removed (lower = better)"}

    def curves(self, chunk: Chunk, options: dict):
        return ordered_curves(chunk.model, chunk.images, chunk.maps, chunk.targets,
                              features_in_step=options["pixel_flipping_features_in_step"],
                              baseline=options["pixel_flipping_baseline"], batch_size=chunk.batch_size,
                              ties=tie_rule(options))

    def area(self, x, curves, options):
        return np.trapezoid(curves, dx=1.0, axis=1)


class MonotonicityMetric(_StepCheck, MapsMetric):
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
    Options (``evaluate(options={...})``; each is also an ``xai-tf evaluate`` flag,
    ``--`` + its name with ``-`` for ``_``):

    - ``monotonicity_features_in_step``: pixels added per step, >= 1 and at most an image's (default
      1, Quantus);
    - ``monotonicity_baseline``: value of the baseline pixels, a number in [0, 1] or ``black`` (each
      image's minimum), ``white`` or ``mean`` (default ``black``, Quantus);
    - ``ties`` (shared by every ranked metric): ``block`` (default) or ``reference``.
    """

    name = prefix = "monotonicity"
    reference = "Arya et al. 2019 (Quantus Monotonicity)"
    direction = "higher"
    options = (_features_option("monotonicity"), _baseline_option("monotonicity"), TIES)
    notes: ClassVar[dict[str, str]] = {"monotonicity": "Monotonicity, 1 if adding pixels by increasing |map| "
                                       "never lowers the probability (higher = better)"}

    def score(self, chunk: Chunk, options: dict):
        _, curves = ordered_curves(chunk.model, chunk.images, chunk.maps, chunk.targets, insert=True,
                                   features_in_step=options["monotonicity_features_in_step"],
                                   baseline=options["monotonicity_baseline"], batch_size=chunk.batch_size,
                                   ties=tie_rule(options))
        return {self.name: [int(v) for v in np.all(np.diff(curves, axis=1) >= 0, axis=1)]}, {}


# ---------------------------------------------------------------------------- Faithfulness Correlation
def random_subsets(pixels: int, subset_size: int, runs: int, rng: np.random.Generator) -> np.ndarray:
    """``(runs, subset_size)`` pixel indices, each row drawn without replacement (Quantus' ``np.random.choice``)."""
    return np.stack([rng.choice(pixels, subset_size, replace=False) for _ in range(runs)])


def faithfulness_correlation(model, images, maps, targets=None, *, nr_runs: int = 100, subset_size: int = 224,
                             baseline="black", seed: int = 0, indices=None, batch_size: int = 64) -> np.ndarray:
    """Faithfulness Correlation of each map: ``(N,)`` Pearson correlations (NaN when either side is constant).

    nr_runs: subsets per image (default 100, Quantus); subset_size: pixels per subset, in
    ``[1, H * W)`` (default 224, Quantus); baseline: default ``"black"`` (image minimum); seed,
    indices: image ``i``'s subsets come from ``rng_for(seed, indices[i])``. Scores: target logits.
    """
    model, images, maps, targets = checked_inputs(model, images, maps, targets, batch_size)
    n, height, width = maps.shape
    pixels = height * width
    if isinstance(subset_size, bool) or not isinstance(subset_size, (int, np.integer)) \
            or not 1 <= subset_size < pixels:
        raise ValueError(f"subset_size must be an integer in [1, {pixels - 1}] (fewer than the pixels of an "
                         f"image); got {subset_size!r}")
    indices = np.arange(n) if indices is None else np.asarray(indices)
    subsets = np.stack([random_subsets(pixels, subset_size, nr_runs, rng_for(seed, int(i))) for i in indices])
    flat_maps = normalise_by_max(maps).reshape(n, pixels)
    sums = np.take_along_axis(flat_maps[:, None, :].repeat(nr_runs, 1), subsets, axis=2).sum(axis=2)
    chosen = subsets.reshape(n * nr_runs, subset_size)
    image_ids = np.repeat(np.arange(n), nr_runs)

    def keys(start, stop):  # 0 on the subset, 1 elsewhere; built per batch, not for the whole chunk
        block = np.ones((stop - start, pixels), np.int32)
        np.put_along_axis(block, chosen[start:stop], 0, axis=1)
        return block.reshape(-1, height, width)

    base = target_scores(model, images, targets, output="logit", batch_size=batch_size)
    after = perturbed_scores(model, images, fill_values(images, baseline), image_ids, np.ones(len(image_ids)),
                             keys, targets, output="logit", batch_size=batch_size)
    drops = base[:, None] - after.reshape(n, nr_runs)
    return np.array([_pearson(a, b) for a, b in zip(sums, drops)])


def _pearson(a, b) -> float:
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")
    return float(stats.pearsonr(a, b)[0])


class FaithfulnessCorrelationMetric(MapsMetric):
    """Faithfulness Correlation in the evaluation runner: map mass against logit drop over random subsets.

    Bhatt et al. 2020, as Quantus' ``FaithfulnessCorrelation``: for
    ``faithfulness_correlation_runs`` random subsets of ``faithfulness_correlation_subset_size``
    pixels per image (drawn without replacement from ``rng_for(seed, image index)``), the Pearson
    correlation between the sum of the map (divided by its largest ``|value|``) over the subset and the
    drop of the target logit when the subset is set to the baseline. Column
    ``faithfulness_correlation``, in [-1, 1] (NaN when either side is constant): higher = better.
    Order-free as it is: the subsets are drawn by position and the map enters through sums, so tied
    values need no rule (no ``ties`` option).

    Notes
    -----
    Options (``evaluate(options={...})``; each is also an ``xai-tf evaluate`` flag,
    ``--`` + its name with ``-`` for ``_``):

    - ``faithfulness_correlation_runs``: random subsets per image, >= 2 (default 100, Quantus);
    - ``faithfulness_correlation_subset_size``: pixels per subset, >= 1 and fewer than an image's
      (default 224, Quantus; larger values are refused before anything is written);
    - ``faithfulness_correlation_baseline``: value of removed pixels, a number in [0, 1] or ``black``
      (each image's minimum), ``white`` or ``mean`` (default ``black``, Quantus).
    """

    name = "faithfulness_correlation"
    reference = "Bhatt et al. 2020 (Quantus FaithfulnessCorrelation)"
    direction = "higher"
    options = (
        Option("faithfulness_correlation_runs", 100, count("faithfulness_correlation_runs", 2),
               "Faithfulness Correlation: random subsets per image (default 100, Quantus)", parse=int),
        Option("faithfulness_correlation_subset_size", 224, count("faithfulness_correlation_subset_size"),
               "Faithfulness Correlation: pixels per subset, fewer than an image's (default 224, Quantus)", parse=int),
        _baseline_option("faithfulness_correlation"),
    )
    notes: ClassVar[dict[str, str]] = {"faithfulness_correlation": "Faithfulness Correlation, Pearson of map sum "
                                       "vs logit drop over random subsets (higher = better)"}

    def check_shape(self, options, shape):
        pixels = int(shape[0]) * int(shape[1])
        if options["faithfulness_correlation_subset_size"] >= pixels:
            raise ValueError(f"faithfulness_correlation_subset_size={options['faithfulness_correlation_subset_size']}"
                             f" must be below the {pixels} pixels of an image")

    def score(self, chunk: Chunk, options: dict):
        self.check_shape(options, chunk.images.shape[1:])
        values = faithfulness_correlation(chunk.model, chunk.images, chunk.maps, chunk.targets,
                                          nr_runs=options["faithfulness_correlation_runs"],
                                          subset_size=options["faithfulness_correlation_subset_size"],
                                          baseline=options["faithfulness_correlation_baseline"], seed=chunk.seed,
                                          indices=chunk.indices, batch_size=chunk.batch_size)
        return {self.name: list(values)}, {}


# ---------------------------------------------------------------------------------------- Infidelity
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
    Options (``evaluate(options={...})``; each is also an ``xai-tf evaluate`` flag,
    ``--`` + its name with ``-`` for ``_``):

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
        _baseline_option("infidelity"),
    )
    notes: ClassVar[dict[str, str]] = {"infidelity": "Infidelity, mean squared gap between logit drop and map "
                                       "mass removed (lower = better)"}

    def score(self, chunk: Chunk, options: dict):
        values = infidelity(chunk.model, chunk.images, chunk.maps, chunk.targets,
                            patch_sizes=options["infidelity_patch_sizes"], baseline=options["infidelity_baseline"],
                            batch_size=chunk.batch_size)
        return {self.name: list(values)}, {}


# --------------------------------------------------------------------------------------- Sufficiency
def sufficiency(maps, predicted, threshold: float = 0.6) -> np.ndarray:
    """Sufficiency of each map among the others given: ``(N,)`` in [0, 1] (see the module docstring).

    maps: ``(N, H, W)``; predicted: ``(N,)`` predicted classes; threshold: in [0, 1] (default 0.6, Quantus).
    """
    maps = np.abs(np.asarray(maps, dtype=np.float64))
    scale = np.max(maps)
    flat = (maps / scale if scale > 0 else maps).reshape(len(maps), -1)
    with np.errstate(invalid="ignore", divide="ignore"):
        distances = cdist(flat, flat, "seuclidean", V=None)
        # Quantus' normalise_by_max of the matrix: a pixel constant over all maps gives NaN distances
        # (zero variance), NaN propagates and no two maps are alike (documented, as the reference)
        largest = np.max(np.abs(distances))
        distances = distances / largest if largest != 0 else distances
    similar = (distances <= threshold) & ~np.eye(len(maps), dtype=bool)
    same = np.asarray(predicted)[None] == np.asarray(predicted)[:, None]
    neighbours = similar.sum(axis=1)
    return np.where(neighbours > 0, (similar & same).sum(axis=1) / np.maximum(neighbours, 1), 0.0)


class SufficiencyMetric(MapsMetric):
    """Sufficiency in the evaluation runner (over the images of each chunk, as Quantus over a batch).

    Dasgupta et al. 2022, as Quantus' ``Sufficiency``: the maps of one chunk (``|map|`` divided by the
    chunk's largest value) are compared by their standardised Euclidean distance, scaled by its
    largest value in the chunk; two images are alike when their distance is at most
    ``sufficiency_threshold``. The column ``sufficiency`` is the fraction of an image's alike
    neighbours that share its predicted class (0 with none), in [0, 1]: higher = better. It depends on
    the other images of the chunk (so on ``chunk_size``), as Quantus' on its batch.

    Notes
    -----
    Options (``evaluate(options={...})``; each is also an ``xai-tf evaluate`` flag,
    ``--`` + its name with ``-`` for ``_``):

    - ``sufficiency_threshold``: distance under which two maps are alike, in [0, 1] (default 0.6,
      Quantus).
    """

    targets = ("classes",)

    name = "sufficiency"
    reference = "Dasgupta et al. 2022 (Quantus Sufficiency)"
    direction = "higher"
    options = (Option("sufficiency_threshold", 0.6, number("sufficiency_threshold", 0.0, 1.0), "Sufficiency: "
                      "distance under which two maps are alike, in [0, 1] (default 0.6, Quantus)", parse=float),)
    notes: ClassVar[dict[str, str]] = {"sufficiency": "Sufficiency, alike maps share the predicted class, within "
                                       "a chunk (higher = better)"}

    def score(self, chunk: Chunk, options: dict):
        from xai_tf.models.head import head_of

        predicted = head_of(chunk.model).predicted_classes(chunk.images, chunk.batch_size)
        values = sufficiency(chunk.maps, predicted, options["sufficiency_threshold"])
        return {self.name: [float(v) for v in values]}, {}


PIXEL_FLIPPING = PixelFlippingMetric()
MONOTONICITY = MonotonicityMetric()
FAITHFULNESS_CORRELATION = FaithfulnessCorrelationMetric()
INFIDELITY = InfidelityMetric()
SUFFICIENCY = SufficiencyMetric()
