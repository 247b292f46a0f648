"""IROF, Iterative Removal Of Features (Rieger & Hansen 2020), as Quantus computes it
(``quantus.metrics.faithfulness.irof``, read, not installed).

The image is cut into superpixels (default: scikit-image's SLIC with its defaults and
``start_label=0``, as Quantus; or given ``segments``); segments are ranked by the mean of the map over
them (Quantus' defaults ``abs=False, normalise=True``; ties by segment number, not the pixel rule of
``xai_tf.metrics.ties``: each segment's fill depends on the segments removed before it) and removed one after
another, cumulatively, each filled with the mean of the image as it is at that step (Quantus'
``"mean"`` baseline, recomputed on the perturbed array at every step). The curve is the target
probability after each removal divided by the probability of the original image; the score is the
area *over* it with unit spacing, ``n_segments - trapz(curve, dx=1)`` (Quantus' "aoc"): higher = the
first segments removed carried the evidence.

Quantus computes the mean over its whole batch (all images of the call, channels included), so its
per-image value depends on the batch; here it is each image's own mean (Quantus with one image per
call), so a value never depends on chunking. Curves have one point per segment, so they differ in
length between images: they are stored NaN-padded with ``x`` = segments removed.
"""
from __future__ import annotations

from typing import ClassVar

import numpy as np

from xai_tf._docstrings import fill_doc
from xai_tf.metrics.chunk import Chunk
from xai_tf.metrics.curve_metric import CurveMetric
from xai_tf.metrics.options import OPTIONS_NOTE, Option, choice
from xai_tf.metrics.perturbation import checked_inputs, perturbed_scores, target_scores
from xai_tf.metrics.robustness.sensitivity import normalise_by_max

SEGMENTATIONS = ("slic", "felzenszwalb")


def superpixels(image: np.ndarray, method: str = "slic") -> np.ndarray:
    """``(H, W)`` int segment labels from 0 of one ``(H, W, C)`` image (scikit-image defaults, as Quantus)."""
    from skimage.segmentation import felzenszwalb, slic

    if image.shape[0] * image.shape[1] < 2:
        raise ValueError(f"segmentation needs images of at least 2 pixels; got {image.shape[:2]}")
    if method == "slic":
        return slic(image.astype(np.float64), start_label=0, channel_axis=-1)
    return felzenszwalb(image.astype(np.float64), channel_axis=-1)


def irof_curves(model, images, maps, targets=None, *, segments=None, segmentation: str = "slic",
                batch_size: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """IROF curves: ``x`` = segments removed ``(T,)`` and ``curves`` ``(N, T)`` probability ratios, NaN-padded.

    Parameters
    ----------
    model, images, maps, targets, batch_size
        As :func:`xai_tf.metrics.faithfulness.fidelity.causal_curves`.
    segments : ndarray, optional
        ``(N, H, W)`` int labels ``0..S_i - 1`` of each image's segments (each image needs at least 2);
        default: :func:`superpixels` of each image, where an image left in one segment (a flat or pure
        noise image can be) gets a NaN curve and score instead of an error.
    segmentation : str
        ``"slic"`` (default, Quantus) or ``"felzenszwalb"`` when ``segments`` is not given.
    """
    segmentation = choice("segmentation", SEGMENTATIONS)(segmentation)
    model, images, maps, targets = checked_inputs(model, images, maps, targets, batch_size)
    n = len(maps)
    given = segments is not None
    if not given:
        segments = np.stack([superpixels(image, segmentation) for image in images])
    segments = np.asarray(segments)
    if segments.shape != maps.shape or not np.issubdtype(segments.dtype, np.integer):
        raise ValueError(f"segments must be ints of the maps' shape {maps.shape}; got {segments.dtype} "
                         f"{segments.shape}")
    maps = normalise_by_max(maps)
    ranks, fills, counts = [], [], []
    for image, saliency, labels in zip(images, maps, segments):
        number = int(labels.max()) + 1
        if labels.min() < 0 or len(np.unique(labels)) != number or (given and number < 2):
            raise ValueError(f"segments must label each image 0..S-1 with S >= 2 segments; got labels "
                             f"{np.unique(labels)[:10].tolist()}")
        sizes = np.bincount(labels.ravel(), minlength=number)
        means = np.bincount(labels.ravel(), weights=saliency.ravel(), minlength=number) / sizes
        order = np.argsort(-means, kind="stable")
        segment_rank = np.empty(number, dtype=np.int32)
        segment_rank[order] = np.arange(number, dtype=np.int32)
        ranks.append(segment_rank[labels])
        # the fill of the k-th removed segment: the mean of the image after the first k - 1 removals
        channels = image.shape[-1]
        total = float(np.sum(image, dtype=np.float64))
        sums = np.bincount(labels.ravel(), weights=image.sum(axis=-1, dtype=np.float64).ravel(), minlength=number)
        fill_of_rank = np.empty(number)
        for k, segment in enumerate(order):
            fill_of_rank[k] = total / image.size
            total += fill_of_rank[k] * sizes[segment] * channels - sums[segment]
        fills.append(np.broadcast_to(fill_of_rank[segment_rank[labels]][..., None], image.shape))
        counts.append(np.arange(1, number + 1))
    ranks = np.stack(ranks)
    image_ids = np.concatenate([np.full(len(c), i) for i, c in enumerate(counts)])
    scores = perturbed_scores(model, images, np.stack(fills).astype(np.float32), image_ids, np.concatenate(counts),
                              lambda a, b: ranks[image_ids[a:b]], targets, batch_size=batch_size)
    base = target_scores(model, images, targets, batch_size=batch_size)
    longest = max(len(c) for c in counts)
    curves = np.full((n, longest), np.nan)
    start = 0
    for i, c in enumerate(counts):
        if len(c) >= 2:  # an image the segmentation left in one piece has no curve (NaN), not an error
            curves[i, :len(c)] = scores[start:start + len(c)] / base[i]
        start += len(c)
    return np.arange(1, longest + 1, dtype=np.float64), curves


def area_over_curves(curves: np.ndarray) -> np.ndarray:
    """Quantus' IROF score of NaN-padded curves ``(N, T)``: ``n_segments - trapz(curve, dx=1)``, ``(N,)``."""
    out = np.full(len(curves), np.nan)
    for i, curve in enumerate(curves):
        finite = curve[np.isfinite(curve)]
        if len(finite):
            out[i] = len(finite) - np.trapezoid(finite, dx=1.0)
    return out


@fill_doc(options_note=OPTIONS_NOTE)
class IrofMetric(CurveMetric):
    """IROF in the evaluation runner (superpixels from SLIC, or felzenszwalb).

    Rieger & Hansen 2020 (Iterative Removal Of Features), as Quantus' ``IROF``: each image is cut into
    superpixels (scikit-image's SLIC with its defaults, or Felzenszwalb's method); the segments are
    ranked by the mean of the map over them (divided by its largest ``|value|``; ties by segment
    number) and removed one after another, cumulatively, each filled with the mean of the image as it
    is at that step. The curve is the target probability after each removal divided by the original
    image's, at x = the number of segments removed; the column ``irof`` is the area *over* it with unit
    spacing, ``n_segments - trapz(curve, dx=1)``: higher = the first segments removed carried the
    evidence. Curves differ in length between images (NaN-padded); an image the segmentation leaves in
    one piece gets NaN. Images need at least 2 pixels (checked before anything is written).

    Notes
    -----
    {options_note}

    - ``irof_segmentation``: ``slic`` (default, Quantus) or ``felzenszwalb``.
    """

    name = "irof"
    reference = "Rieger & Hansen 2020 (Quantus IROF)"
    direction = "higher"
    label = "segments removed"
    ylabel = "target probability / original probability"
    options = (Option("irof_segmentation", "slic", choice("irof_segmentation", SEGMENTATIONS),
                      "IROF superpixels: slic (default, Quantus) or felzenszwalb"),)
    notes: ClassVar[dict[str, str]] = {"irof": "IROF, area over the probability-ratio curve as superpixels are "
                                       "removed, in segments (higher = better)"}

    def check_shape(self, options, shape):
        if int(shape[0]) * int(shape[1]) < 2:
            raise ValueError(f"irof_segmentation={options['irof_segmentation']!r} cannot segment images of "
                             f"{shape[0]}x{shape[1]} pixel: IROF needs at least 2 segments")

    def curves(self, chunk: Chunk, options: dict):
        self.check_shape(options, chunk.images.shape[1:])
        return irof_curves(chunk.model, chunk.images, chunk.maps, chunk.targets,
                           segmentation=options["irof_segmentation"], batch_size=chunk.batch_size)

    def area(self, x, curves, options):
        return area_over_curves(curves)


IROF = IrofMetric()
