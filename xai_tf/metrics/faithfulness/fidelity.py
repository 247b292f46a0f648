"""Xplique's fidelity metrics: Deletion, Insertion, MuFidelity, Average Drop / Increase / Gain.

Each is written from its paper and Xplique's documented behaviour (``xplique.metrics.fidelity``,
read, not installed), batched through :mod:`xai_tf.metrics.perturbation` (one compiled forward
pass for all perturbations of a chunk, ``batch_size`` copies at a time).

- **Deletion / Insertion** (Petsiuk et al. 2018, RISE): remove (deletion: image -> baseline) or add
  (insertion: baseline -> image) the pixels in decreasing order of the map, ``steps`` times; the
  curve is the target-class probability after each step and the score is the area under it, the
  mean of the trapezoids (Xplique: ``mean(s[:-1] + s[1:]) / 2``). Lower is better for Deletion,
  higher for Insertion. Defaults as Xplique: ``steps=10``, ``max_percentage_perturbed=1.0``,
  baseline ``0.0``; step ``k`` perturbs ``floor(k * max_pixels / steps)`` pixels
  (``np.linspace(..., dtype=int32)``); all channels of a pixel go together. Ties: Xplique ranks
  with ``np.argsort(map)[::-1]`` (not stable, its order of equal values depends on NumPy's sort and
  the CPU); here the option ``ties`` (``xai_tf.metrics.ties``) decides: ``"block"`` (default) a
  step inside a tied group is interpolated between the states before and after the whole group
  (the expectation over tie orders for a linear score), ``"reference"`` row-major order. Maps
  without ties give Xplique's values exactly under both.
- **MuFidelity** (Bhatt et al. 2020, def. 3): for ``nb_samples`` random subsets (each of the
  ``grid_size x grid_size`` cells of the image is set to the baseline with probability
  ``subset_percent``), the Spearman correlation between the drop of the target probability and the
  sum of the map over the subset; 0 when either is constant (Xplique). Defaults as Xplique:
  ``grid_size=9``, ``subset_percent=0.2``, baseline 0, ``nb_samples=200``. The cells are resized to
  the image with ``tf.image.resize(..., "nearest")`` as Xplique. Xplique draws one set of subsets per
  batch from TensorFlow's global stream; here each image's come from ``rng_for(seed, image index)``.
- **Average Drop / Increase / Gain** (Chattopadhay et al. 2018, Grad-CAM++; Xplique's
  ``AverageDropMetric`` ...): the image multiplied by its map (``|map|`` min-max scaled per image,
  ``(m - min) / (max - min + 1e-8)``); with ``base`` and ``after`` the target probabilities,
  Drop ``= relu(base - after) / (base + 1e-8)`` (lower is better), Increase ``= 1[after > base]``
  (higher), Gain ``= relu(after - base) / (1 - base + 1e-8)`` (higher).

Scores: Xplique scores the model's output for the target (``f(x)[y]``, the probability for a softmax
model); here always the target *probability* through the model head (a single sigmoid unit: ``p``
for class 1 and ``1 - p`` for class 0; a linear head: its softmax), so every model is scored alike.
"""
from __future__ import annotations

from typing import ClassVar

import numpy as np
from scipy import stats

from xai_tf._checks import check_choice
from xai_tf._docstrings import fill_doc
from xai_tf._random import rng_for
from xai_tf.metrics._docs import MODEL_IMAGES
from xai_tf.metrics.chunk import Chunk
from xai_tf.metrics.curve_metric import CurveMetric
from xai_tf.metrics.options import OPTIONS_NOTE, Option, count, fraction
from xai_tf.metrics.perturbation import (
    check_baseline,
    checked_inputs,
    fill_values,
    importance_ranks,
    parse_baseline,
    perturbed_scores,
    target_scores,
)
from xai_tf.metrics.protocol import MapsMetric
from xai_tf.metrics.ties import TIES, TIES_PARAMETER, plan_curve, tie_rule

EPSILON = 1e-8


@fill_doc(model_images=MODEL_IMAGES, ties=TIES_PARAMETER)
def causal_curves(model, images, maps, targets=None, *, mode: str = "deletion", steps: int = 10,
                  max_fraction: float = 1.0, baseline=0.0, batch_size: int = 64,
                  ties: str = "block") -> tuple[np.ndarray, np.ndarray]:
    """Deletion or Insertion curves: the target probability as pixels are removed or added by importance.

    Parameters
    ----------
    {model_images}
    maps : ndarray
        ``(N, H, W)`` maps, larger = more important.
    targets : None or ints
        ``None`` = the predicted class (the model head's rule), else ``(N,)`` classes.
    mode : str
        ``"deletion"`` (image -> baseline) or ``"insertion"`` (baseline -> image).
    steps : int
        Steps between start and end, >= 1, or -1 for one pixel per step (default 10, Xplique).
    max_fraction : float
        Largest fraction of pixels perturbed, in (0, 1] (default 1.0, Xplique's
        ``max_percentage_perturbed``).
    baseline : float or str
        Value of removed pixels (default 0.0, Xplique), see :func:`~xai_tf.metrics.perturbation.fill_values`.
    batch_size : int
        Perturbed copies per forward pass (default 64).
    {ties}

    Returns
    -------
    tuple
        ``x`` ``(steps + 1,)`` fractions of the pixels perturbed, and ``curves`` ``(N, steps + 1)``
        float64 target probabilities (``curves[:, 0]`` the unperturbed image for deletion, the
        baseline image for insertion).
    """
    check_choice(mode, "mode", ("deletion", "insertion"))
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or (steps < 1 and steps != -1):
        raise ValueError(f"steps must be an integer >= 1 (or -1: one pixel per step); got {steps!r}")
    max_fraction = fraction("max_fraction")(max_fraction)
    baseline = check_baseline(baseline, "baseline")
    ties = TIES.check(ties)
    model, images, maps, targets = checked_inputs(model, images, maps, targets, batch_size)
    n, height, width = maps.shape
    pixels = height * width
    largest = int(np.floor(pixels * max_fraction))
    steps = largest if steps == -1 else int(steps)
    counts = np.linspace(0, largest, steps + 1, dtype=np.int32)
    ranks = importance_ranks(maps)
    fills = fill_values(images, baseline)
    start, end = (images, fills) if mode == "deletion" else (fills, images)
    # a map without a cut inside a tied group evaluates exactly `counts` (the reference's copies)
    plan = plan_curve(maps, counts, ties=ties)
    image_ids = plan.image_ids
    scores = perturbed_scores(model, start, end, image_ids, plan.counts, lambda a, b: ranks[image_ids[a:b]],
                              targets, batch_size=batch_size)
    return counts / pixels, plan.curves(scores)


def mean_trapezoid(curves: np.ndarray) -> np.ndarray:
    """Xplique's area of evenly spaced curves ``(N, T)``: the mean of the trapezoids, ``(N,)``."""
    curves = np.asarray(curves, dtype=np.float64)
    return np.mean(curves[:, :-1] + curves[:, 1:], axis=1) * 0.5


def _steps_check(name):
    def check(value):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):  # a wrong type: TypeError
            raise TypeError(f"{name} must be an integer >= 1, or -1 for one pixel per step; got {value!r}")
        if value < 1 and value != -1:
            raise ValueError(f"{name} must be an integer >= 1, or -1 for one pixel per step; got {value!r}")
        return int(value)
    return check


def _causal_options(mode: str):
    return (
        Option(f"{mode}_steps", 10, _steps_check(f"{mode}_steps"), f"{mode.capitalize()} steps, >= 1 or -1 for one "
               "pixel per step (default 10, Xplique)", parse=int),
        Option(f"{mode}_max_fraction", 1.0, fraction(f"{mode}_max_fraction"), f"{mode.capitalize()}: largest fraction "
               "of pixels perturbed, in (0, 1] (default 1.0, Xplique)", parse=float),
        Option(f"{mode}_baseline", 0.0, lambda value: check_baseline(value, f"{mode}_baseline"),
               f"{mode.capitalize()}: value of removed pixels, a number in [0, 1] or black/white/mean "
               "(default 0.0, Xplique)", parse=parse_baseline),
    )


class CausalMetric(CurveMetric):
    r"""Deletion or Insertion in the evaluation runner: per image the area under its curve.

    Petsiuk et al. 2018 (RISE), as Xplique's ``Deletion`` / ``Insertion``. The pixels are ranked
    by decreasing map value and removed (deletion: image -> baseline) or
    added (insertion: baseline -> image) ``steps`` times, step :math:`k` perturbing
    :math:`\lfloor k P_{max} / \mathrm{steps} \rfloor` pixels (:math:`P_{max}`: ``max_fraction``
    of the pixels; all channels of a pixel together). The curve is the target-class probability
    :math:`s_k` after each step (through the model head), at x = the fraction of the pixels
    perturbed; the row's value is Xplique's area, the mean of the trapezoids
    :math:`\frac{1}{\mathrm{steps}} \sum_k (s_k + s_{k+1}) / 2`. Lower is better for Deletion
    (the probability falls fast when the important pixels go), higher for Insertion. The curves
    are stored as ``curve_<mode>`` and aggregated in the summary (see
    :class:`~xai_tf.metrics.CurveMetric`). Ties (option ``ties``, ``xai_tf.metrics.ties``):
    by default a step that falls inside a group of equal map values is the linear interpolation
    between the probabilities with the whole group kept and removed, the expectation over the
    orders of the tied pixels for a linear score; ``ties="reference"`` orders them row-major.

    Parameters
    ----------
    mode : {"deletion", "insertion"}
        The metric's name, column and option prefix.

    Notes
    -----
    Options (``evaluate(options={...})``; ``xai-tf evaluate`` flag ``--<mode>-steps`` ...), with
    ``<mode>`` the metric's name:

    - ``<mode>_steps``: steps between start and end, an integer >= 1, or -1 for one pixel per
      step (default 10, Xplique);
    - ``<mode>_max_fraction``: largest fraction of the pixels perturbed, in (0, 1] (default 1.0,
      Xplique's ``max_percentage_perturbed``);
    - ``<mode>_baseline``: value of removed pixels, a number in [0, 1] or ``black`` (each image's
      minimum), ``white`` (its maximum) or ``mean`` (default 0.0, Xplique);
    - ``ties`` (shared by every ranked metric): ``block`` (default, order-free) or ``reference``
      (row-major order, the earlier values).
    """

    label = "fraction of pixels perturbed"
    reference = "Petsiuk et al. 2018, RISE (Xplique Deletion / Insertion)"

    def __init__(self, mode: str):
        self.name = mode
        self.direction = "lower" if mode == "deletion" else "higher"
        self.options = (*_causal_options(mode), TIES)
        self.notes = {mode: f"{mode.capitalize()} AUC of the target probability ({self.direction} = better)"}

    def curves(self, chunk: Chunk, options: dict):
        return causal_curves(chunk.model, chunk.images, chunk.maps, chunk.targets, mode=self.name,
                             steps=options[f"{self.name}_steps"], max_fraction=options[f"{self.name}_max_fraction"],
                             baseline=options[f"{self.name}_baseline"], batch_size=chunk.batch_size,
                             ties=tie_rule(options))

    def area(self, x, curves, options):
        return mean_trapezoid(curves)


DELETION = CausalMetric("deletion")
INSERTION = CausalMetric("insertion")


# --------------------------------------------------------------------------------------- MuFidelity
def grid_subsets(n_samples: int, grid_size: int, subset_percent: float, height: int, width: int,
                 rng: np.random.Generator) -> np.ndarray:
    """``(n_samples, H, W)`` int32: 0 where the pixel is set to the baseline, 1 where it is kept.

    Each of the ``grid_size**2`` cells is kept when a uniform draw exceeds ``subset_percent``
    (Xplique), and the cells are resized to ``(H, W)`` with ``tf.image.resize(..., "nearest")``.
    """
    import tensorflow as tf

    kept = (rng.random((n_samples, grid_size * grid_size)) > subset_percent).astype(np.float32)
    cells = kept.reshape(n_samples, grid_size, grid_size, 1)
    resized = tf.image.resize(cells, (height, width), method="nearest").numpy()[..., 0]
    return resized.astype(np.int32)


def mu_fidelity(model, images, maps, targets=None, *, grid_size: int = 9, subset_percent: float = 0.2,
                baseline=0.0, n_samples: int = 200, seed: int = 0, indices=None, batch_size: int = 64) -> np.ndarray:
    """MuFidelity of each map: ``(N,)`` Spearman correlations in [-1, 1] (higher = more faithful).

    Parameters
    ----------
    model, images, maps, targets, baseline, batch_size
        As :func:`causal_curves` (baseline default 0.0, Xplique).
    grid_size : int
        Cells per side of the subsets (default 9, Xplique; ``H`` for pixel-wise subsets).
    subset_percent : float
        Probability of a cell being set to the baseline, in (0, 1] (default 0.2, Xplique).
    n_samples : int
        Subsets per image (default 200, Xplique's ``nb_samples``).
    seed : int
        Seed of the subsets; image ``i`` draws from ``rng_for(seed, indices[i])``.
    indices : ndarray, optional
        The images' positions in their data set (default ``0..N-1``).
    """
    model, images, maps, targets = checked_inputs(model, images, maps, targets, batch_size)
    n, height, width = maps.shape
    indices = np.arange(n) if indices is None else np.asarray(indices)
    # one (S, H, W) uint8 stack per image: a chunk of 224 px images at S = 200 stays ~10 MB per image
    subsets = [grid_subsets(n_samples, grid_size, subset_percent, height, width, rng_for(seed, int(i)))
               .astype(np.uint8) for i in indices]
    base = target_scores(model, images, targets, batch_size=batch_size)
    image_ids = np.repeat(np.arange(n), n_samples)

    def keys(start, stop):
        return np.stack([subsets[p // n_samples][p % n_samples] for p in range(start, stop)])

    after = perturbed_scores(model, images, fill_values(images, baseline), image_ids, np.ones(len(image_ids)),
                             keys, targets, batch_size=batch_size).reshape(n, n_samples)
    drops = base[:, None] - after
    flat_maps = maps.reshape(n, -1).astype(np.float64)
    attributions = np.stack([(1 - subset.reshape(n_samples, -1)) @ saliency
                             for subset, saliency in zip(subsets, flat_maps)])
    return np.array([_spearman_or_zero(d, a) for d, a in zip(drops, attributions)])


def _spearman_or_zero(a, b) -> float:
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return 0.0  # Xplique: a NaN correlation (no variation) counts 0
    value = stats.spearmanr(a, b).statistic
    return 0.0 if np.isnan(value) else float(value)


@fill_doc(options_note=OPTIONS_NOTE)
class MuFidelityMetric(MapsMetric):
    """MuFidelity in the evaluation runner: does the map's mass predict the probability drop of random subsets?

    Bhatt et al. 2020 (definition 3), as Xplique's ``MuFidelity``: for ``mufidelity_samples`` random
    subsets of each image (each cell of a ``mufidelity_grid_size`` x ``mufidelity_grid_size`` grid set
    to the baseline with probability ``mufidelity_subset_percent``, the cells resized to the image by
    nearest neighbour), the Spearman correlation between the drop of the target probability and the
    sum of the map over the removed pixels; 0 when either is constant (Xplique). Image ``i``'s subsets
    come from ``rng_for(seed, i)`` (Xplique: TensorFlow's global stream). Column ``mufidelity``, in
    [-1, 1]: higher = more faithful.

    Notes
    -----
    {options_note}

    - ``mufidelity_grid_size``: cells per side, >= 1 (default 9, Xplique);
    - ``mufidelity_subset_percent``: probability of a cell being removed, in (0, 1] (default 0.2,
      Xplique);
    - ``mufidelity_samples``: subsets per image, >= 1 (default 200, Xplique);
    - ``mufidelity_baseline``: value of removed pixels, a number in [0, 1] or ``black`` (each image's
      minimum), ``white`` (its maximum) or ``mean`` (default 0.0, Xplique).
    """

    name = "mufidelity"
    reference = "Bhatt et al. 2020 (Xplique MuFidelity)"
    direction = "higher"
    options = (
        Option("mufidelity_grid_size", 9, count("mufidelity_grid_size"), "MuFidelity cells per side (default 9, "
               "Xplique)", parse=int),
        Option("mufidelity_subset_percent", 0.2, fraction("mufidelity_subset_percent"), "MuFidelity: probability "
               "of a cell being removed, in (0, 1] (default 0.2, Xplique)", parse=float),
        Option("mufidelity_samples", 200, count("mufidelity_samples"), "MuFidelity subsets per image (default 200, "
               "Xplique)", parse=int),
        Option("mufidelity_baseline", 0.0, lambda value: check_baseline(value, "mufidelity_baseline"),
               "MuFidelity: value of removed pixels (default 0.0, Xplique)", parse=parse_baseline),
    )
    notes: ClassVar[dict[str, str]] = {"mufidelity": "MuFidelity, Spearman of drop vs map mass (higher = better)"}

    def score(self, chunk: Chunk, options: dict):
        values = mu_fidelity(chunk.model, chunk.images, chunk.maps, chunk.targets,
                             grid_size=options["mufidelity_grid_size"],
                             subset_percent=options["mufidelity_subset_percent"],
                             baseline=options["mufidelity_baseline"], n_samples=options["mufidelity_samples"],
                             seed=chunk.seed, indices=chunk.indices, batch_size=chunk.batch_size)
        return {self.name: list(values)}, {}


MUFIDELITY = MuFidelityMetric()


# ------------------------------------------------------------------------ Average Drop / Increase / Gain
def masked_by_map(images: np.ndarray, maps: np.ndarray) -> np.ndarray:
    """``images * mask`` with mask = ``|map|`` min-max scaled per image (``+1e-8`` below; Xplique)."""
    mask = np.abs(np.asarray(maps, dtype=np.float32))
    low = mask.min(axis=(1, 2), keepdims=True)
    high = mask.max(axis=(1, 2), keepdims=True)
    mask = (mask - low) / (high - low + np.float32(EPSILON))
    return (images * mask[..., None]).astype(np.float32)


def average_drop_increase_gain(model, images, maps, targets=None, *, batch_size: int = 64) -> dict[str, np.ndarray]:
    """Per-image Average Drop, Increase and Gain: ``{"average_drop", "average_increase", "average_gain"}`` ``(N,)``.

    See the module docstring; ``model, images, maps, targets, batch_size`` as :func:`causal_curves`.
    """
    model, images, maps, targets = checked_inputs(model, images, maps, targets, batch_size)
    base = target_scores(model, images, targets, batch_size=batch_size)
    after = target_scores(model, masked_by_map(images, maps), targets, batch_size=batch_size)
    return {"average_drop": np.maximum(base - after, 0.0) / (base + EPSILON),
            "average_increase": (after > base).astype(np.float64),
            "average_gain": np.maximum(after - base, 0.0) / (1.0 - base + EPSILON)}


class AverageMetric(MapsMetric):
    r"""Average Drop, Increase or Gain in the evaluation runner (the image multiplied by its map).

    Chattopadhay et al. 2018 (Grad-CAM++), as Xplique's ``AverageDropMetric``,
    ``AverageIncreaseMetric`` and ``AverageGainMetric``. Each image is multiplied by its map
    scaled to [0, 1] (:math:`m = (|a| - \min|a|) / (\max|a| - \min|a| + 10^{-8})`, per image);
    with :math:`b` the target probability on the image and :math:`o` on the masked image
    (through the model head):

    - Drop :math:`= \max(b - o, 0) / (b + 10^{-8})` (lower = better);
    - Increase :math:`= 1` if :math:`o > b`, else 0 (higher = better);
    - Gain :math:`= \max(o - b, 0) / (1 - b + 10^{-8})` (higher = better).

    The three registered instances are ``average_drop``, ``average_increase`` and
    ``average_gain``; none has options.

    Parameters
    ----------
    name : {"average_drop", "average_increase", "average_gain"}
        Which of the three it computes: its name and column.
    direction : {"higher", "lower"}
        Which values are better (``"lower"`` for Drop, ``"higher"`` for Increase and Gain).
    note : str
        How to read the column; the report's header is ``<note> (<direction> = better)``.
    """

    reference = "Chattopadhay et al. 2018, Grad-CAM++ (Xplique AverageDrop / Increase / Gain)"

    def __init__(self, name: str, direction: str, note: str):
        self.name, self.direction = name, direction
        self.notes = {name: f"{note} ({direction} = better)"}

    def score(self, chunk: Chunk, options: dict):
        values = average_drop_increase_gain(chunk.model, chunk.images, chunk.maps, chunk.targets,
                                            batch_size=chunk.batch_size)[self.name]
        return {self.name: list(values)}, {}


AVERAGE_DROP = AverageMetric("average_drop", "lower", "Average Drop, relative loss of probability on the masked image")
AVERAGE_INCREASE = AverageMetric("average_increase", "higher", "Average Increase, 1 if the masked image scores higher")
AVERAGE_GAIN = AverageMetric("average_gain", "higher", "Average Gain, relative gain of probability on the masked image")

