"""How much of a map lies on the object: Relevance Mass / Rank Accuracy (Arras et al. 2022, CLEVR-XAI)
and Top-k Intersection (Theiner et al. 2021), as Quantus computes them (``quantus.metrics.localisation``,
read, not installed).

With ``a`` the map (Quantus' defaults ``abs=False, normalise=True``: ``a / max|a|``, which changes
neither ratio below) and ``s`` the ground-truth mask (``K`` = its pixel count):

- **Relevance Mass Accuracy** = ``sum(a[s]) / sum(a)`` (signed maps can leave [0, 1]).
- **Relevance Rank Accuracy** = the fraction of the ``K`` highest-ranked pixels that lie in ``s``.
- **Top-k Intersection** = the fraction of the ``k`` highest-ranked pixels in ``s`` (default
  ``k=1000``, Quantus; ``k`` may not exceed the pixels of an image).

All three: higher = better; NaN for an empty mask (Quantus). Ties: Quantus ranks with
``np.argsort(-a)`` (not stable, its order of equal values depends on the CPU). Here the option
``ties`` (``xai_tf.metrics.ties``) decides: ``"block"`` (default) gives the expected value over
random orders of the tied pixels, exactly (the group ``[a, b)`` straddling the cut ``K`` counts each
of its pixels with weight ``(K - a) / (b - a)``); ``"reference"`` takes them in row-major order (a
stable sort). Both equal Quantus on maps without ties. Boxes ``(y0, x0, y1, x1)`` (end-exclusive)
count as the mask of their union.
"""
from __future__ import annotations

from typing import ClassVar

import numpy as np

from xai_tf._checks import check_maps
from xai_tf._docstrings import fill_doc
from xai_tf.metrics.chunk import Chunk
from xai_tf.metrics.options import OPTIONS_NOTE, Option, count
from xai_tf.metrics.perturbation import importance_ranks
from xai_tf.metrics.protocol import MapsMetric
from xai_tf.metrics.ties import TIES, tie_rule, top_weights


def boxes_to_masks(boxes, shape) -> np.ndarray:
    """``(N, H, W)`` bool masks, True inside any of each image's boxes ``(y0, x0, y1, x1)`` (end-exclusive)."""
    n, height, width = shape
    if len(boxes) != n:
        raise ValueError(f"boxes must hold one list of boxes per map ({n}); got {len(boxes)}")
    masks = np.zeros(shape, dtype=bool)
    for i, image_boxes in enumerate(boxes):
        for box in image_boxes:
            y0, x0, y1, x1 = (int(v) for v in box)
            if not (0 <= y0 < y1 <= height and 0 <= x0 < x1 <= width):
                raise ValueError(f"boxes[{i}] has {tuple(box)}; expected (y0, x0, y1, x1) end-exclusive inside "
                                 f"({height}, {width})")
            masks[i, y0:y1, x0:x1] = True
    return masks


def _checked(maps, masks):
    maps = check_maps(maps, "maps").astype(np.float64)
    masks = np.asarray(masks)
    if masks.shape != maps.shape:
        raise ValueError(f"masks must have the maps' shape {maps.shape}; got {masks.shape}")
    if masks.dtype != bool:
        raise TypeError(f"masks must be bool; got {masks.dtype}")
    n = len(maps)
    return maps.reshape(n, -1), masks.reshape(n, -1)


def _ranked_in_mask(maps: np.ndarray, masks: np.ndarray) -> np.ndarray:
    order = np.argsort(-maps, axis=1, kind="stable")
    return np.take_along_axis(masks, order, axis=1)


def relevance_mass_accuracy(maps, masks) -> np.ndarray:
    """``sum(map on the mask) / sum(map)`` per image: ``(N,)`` float64 (NaN for an empty mask)."""
    maps, masks = _checked(maps, masks)
    with np.errstate(invalid="ignore", divide="ignore"):
        values = np.sum(maps * masks, axis=1) / np.sum(maps, axis=1)
    return np.where(masks.any(axis=1), values, np.nan)


def _top_on_mask(maps, masks, sizes, ties) -> np.ndarray:
    """``(N,)`` expected count of mask pixels among each map's ``sizes`` first, ties by the block rule."""
    weights = top_weights(maps, sizes, ranks=importance_ranks(maps), ties=TIES.check(ties))
    return np.sum(weights * masks, axis=1)


def relevance_rank_accuracy(maps, masks, ties: str = "block") -> np.ndarray:
    """Fraction of the ``K = |mask|`` top-ranked pixels inside the mask: ``(N,)`` in [0, 1] (NaN for an empty mask).

    ties: ``"block"`` (default: the expectation over random orders of tied pixels) or ``"reference"``
    (row-major order), see the module docstring.
    """
    maps, masks = _checked(maps, masks)
    sizes = masks.sum(axis=1)
    if TIES.check(ties) == "block":
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(sizes > 0, _top_on_mask(maps, masks, sizes, ties) / sizes, np.nan)
    ranked = _ranked_in_mask(maps, masks)
    top = np.arange(maps.shape[1])[None] < sizes[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(sizes > 0, np.sum(ranked & top, axis=1) / sizes, np.nan)


def top_k_intersection(maps, masks, k: int = 1000, concept_influence: bool = False,
                       ties: str = "block") -> np.ndarray:
    """Fraction of the ``k`` top-ranked pixels inside the mask: ``(N,)`` (NaN for an empty mask).

    k: pixels, 1 <= k <= H * W (default 1000, Quantus). concept_influence: multiply by
    ``H * W / |mask|`` (Quantus' option, default False). ties: ``"block"`` (default: the expectation
    over random orders of tied pixels) or ``"reference"`` (row-major order).
    """
    maps, masks = _checked(maps, masks)
    pixels = maps.shape[1]
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= pixels:
        raise ValueError(f"k must be an integer in [1, {pixels}] (the pixels of an image); got {k!r}")
    sizes = masks.sum(axis=1)
    if TIES.check(ties) == "block":
        values = _top_on_mask(maps, masks, np.full(len(maps), k), ties) / k
    else:
        values = _ranked_in_mask(maps, masks)[:, :k].mean(axis=1)
    if concept_influence:
        with np.errstate(divide="ignore"):
            values = values * pixels / sizes
    return np.where(sizes > 0, values, np.nan)


def chunk_masks(chunk: Chunk) -> np.ndarray:
    """The chunk's ground truth as ``(B, H, W)`` bool masks (boxes become the mask of their union)."""
    if chunk.masks is not None:
        return np.asarray(chunk.masks, dtype=bool)
    if chunk.boxes is None:
        raise ValueError("this metric needs ground truth: the data has neither masks nor boxes")
    return boxes_to_masks(chunk.boxes, chunk.maps.shape)


class _GroundTruthMetric(MapsMetric):
    ground_truth = "masks or boxes"
    direction = "higher"

    def values(self, maps, masks, options):
        raise NotImplementedError

    def score(self, chunk: Chunk, options: dict):
        return {self.name: [float(v) for v in self.values(chunk.maps, chunk_masks(chunk), options)]}, {}


class RelevanceMassAccuracyMetric(_GroundTruthMetric):
    """Relevance Mass Accuracy in the evaluation runner (needs masks or boxes).

    Arras et al. 2022 (CLEVR-XAI), as Quantus' ``RelevanceMassAccuracy``: ``sum(map on the object) /
    sum(map)``, with the object the ground-truth mask (or the union of the image's boxes). Column
    ``relevance_mass_accuracy``: higher = better; signed maps can leave [0, 1]; NaN for an empty mask.
    It has no options.
    """

    name = "relevance_mass_accuracy"
    reference = "Arras et al. 2022 (Quantus RelevanceMassAccuracy)"
    notes: ClassVar[dict[str, str]] = {
        "relevance_mass_accuracy": "Relevance Mass Accuracy, share of the map on the object (higher = better)"}

    def values(self, maps, masks, options):
        return relevance_mass_accuracy(maps, masks)


class RelevanceRankAccuracyMetric(_GroundTruthMetric):
    """Relevance Rank Accuracy in the evaluation runner (needs masks or boxes).

    Arras et al. 2022 (CLEVR-XAI), as Quantus' ``RelevanceRankAccuracy``: with ``K`` the number of
    object pixels (the ground-truth mask, or the union of the image's boxes), the fraction of the ``K``
    highest-ranked pixels of the map that lie on the object. Column ``relevance_rank_accuracy``, in
    [0, 1]: higher = better; NaN for an empty mask. Its one option is the shared ``ties``: ``block``
    (default: a tied group straddling the cut counts each of its pixels by the share of the group
    that fits, the expectation over random tie orders) or ``reference`` (row-major order).
    """

    name = "relevance_rank_accuracy"
    reference = "Arras et al. 2022 (Quantus RelevanceRankAccuracy)"
    options = (TIES,)
    notes: ClassVar[dict[str, str]] = {
        "relevance_rank_accuracy": "Relevance Rank Accuracy, top-|object| pixels on the object (higher = better)"}

    def values(self, maps, masks, options):
        return relevance_rank_accuracy(maps, masks, tie_rule(options))


@fill_doc(options_note=OPTIONS_NOTE)
class TopKIntersectionMetric(_GroundTruthMetric):
    """Top-k Intersection in the evaluation runner (needs masks or boxes).

    Theiner et al. 2022, as Quantus' ``TopKIntersection``: the fraction of the ``top_k_intersection_k``
    highest-ranked pixels of the map that lie on the object (the ground-truth mask, or the union of
    the image's boxes). Column ``top_k_intersection``, in [0, 1]: higher = better; NaN for an empty
    mask. Ties (option ``ties``): by default the expectation over random orders of the tied pixels
    (a group straddling the cut counts each pixel by the share of the group that fits).

    Notes
    -----
    {options_note}

    - ``top_k_intersection_k``: pixels ranked, >= 1 and at most an image's (default 1000, Quantus; a
      larger ``k`` is refused before anything is written);
    - ``ties`` (shared by every ranked metric): ``block`` (default, order-free) or ``reference``
      (row-major order, the earlier values).
    """

    name = "top_k_intersection"
    reference = "Theiner et al. 2022 (Quantus TopKIntersection)"
    options = (Option("top_k_intersection_k", 1000, count("top_k_intersection_k"), "Top-k Intersection: pixels "
                      "ranked, at most an image's (default 1000, Quantus)", parse=int), TIES)
    notes: ClassVar[dict[str, str]] = {
        "top_k_intersection": "Top-k Intersection, top-k pixels on the object (higher = better)"}

    def check_shape(self, options, shape):
        pixels = int(shape[0]) * int(shape[1])
        if options["top_k_intersection_k"] > pixels:
            raise ValueError(f"top_k_intersection_k={options['top_k_intersection_k']} exceeds the {pixels} pixels "
                             f"of the {shape[0]}x{shape[1]} images")

    def values(self, maps, masks, options):
        self.check_shape(options, maps.shape[1:])
        return top_k_intersection(maps, masks, options["top_k_intersection_k"], ties=tie_rule(options))


RELEVANCE_MASS_ACCURACY = RelevanceMassAccuracyMetric()
RELEVANCE_RANK_ACCURACY = RelevanceRankAccuracyMetric()
TOP_K_INTERSECTION = TopKIntersectionMetric()
