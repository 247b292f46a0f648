"""Pointing Game (Zhang et al. 2018) as paper 003 uses it: does the map's maximum fall on the object?

A map scores a hit when the pixel of its maximum lies within ``tolerance`` pixels (Euclidean
distance, default 15: paper 003) of the ground truth, given as masks or as boxes; accuracy is
hits / images. The maximum is the first one in row-major order when several pixels tie.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from scipy import ndimage

from xai_tf._checks import check_maps, check_positive
from xai_tf.metrics.chunk import Chunk
from xai_tf.metrics.options import Option, number
from xai_tf.metrics.protocol import Metric


@dataclass
class PointingGameResult:
    """``hits`` ``(N,)`` bool; ``points`` ``(N, 2)`` (row, column) of each map's maximum;
    ``distances`` ``(N,)`` pixels from that point to the ground truth (0 inside); ``accuracy`` = mean of hits."""

    hits: np.ndarray
    points: np.ndarray
    distances: np.ndarray
    accuracy: float
    tolerance: float


def _box_distance(row: int, col: int, box) -> float:
    y0, x0, y1, x1 = box
    # boxes are end-exclusive: the last covered pixel is (y1 - 1, x1 - 1)
    dy = max(y0 - row, 0, row - (y1 - 1))
    dx = max(x0 - col, 0, col - (x1 - 1))
    return float(np.hypot(dy, dx))


def _check_boxes(boxes, n: int, height: int, width: int) -> list:
    if len(boxes) != n:
        raise ValueError(f"boxes must hold one list of boxes per map ({n}); got {len(boxes)}")
    checked = []
    for i, image_boxes in enumerate(boxes):
        image_boxes = [tuple(int(v) for v in box) for box in image_boxes]
        if not image_boxes:
            raise ValueError(f"boxes[{i}] is empty; every image needs ground truth for the Pointing Game")
        for box in image_boxes:
            y0, x0, y1, x1 = box if len(box) == 4 else (None,) * 4
            if y0 is None or not (0 <= y0 < y1 <= height and 0 <= x0 < x1 <= width):
                raise ValueError(f"boxes[{i}] has {box}; expected (y0, x0, y1, x1) end-exclusive with "
                                 f"0 <= y0 < y1 <= {height} and 0 <= x0 < x1 <= {width}")
        checked.append(image_boxes)
    return checked


def pointing_game(maps, masks=None, boxes=None, tolerance: float = 15) -> PointingGameResult:
    """Score the Pointing Game of saliency ``maps``: does each map's maximum fall on the object?

    Zhang et al. 2018, as paper 003 uses it: a map scores a hit when the pixel of its maximum (the
    first in row-major order when several tie) lies within ``tolerance`` pixels (Euclidean
    distance) of the ground truth; the accuracy is hits / images. Give exactly one of ``masks`` and
    ``boxes``.

    Parameters
    ----------
    maps : numpy.ndarray, shape (N, H, W)
        Finite saliency maps, larger = more important.
    masks : numpy.ndarray, shape (N, H, W), bool, optional
        True on the object; each image needs at least one True pixel.
    boxes : list of list of tuple of int, optional
        Per image a non-empty list of ``(y0, x0, y1, x1)`` boxes, end-exclusive
        (``image[y0:y1, x0:x1]``), as ``LabelledImages.boxes``.
    tolerance : float, optional
        Largest distance in pixels from the object that still counts as a hit, >= 0 (default 15:
        paper 003 and Zhang et al.).

    Returns
    -------
    PointingGameResult
        ``hits`` ``(N,)`` bool; ``points`` ``(N, 2)`` (row, column) of each map's maximum;
        ``distances`` ``(N,)`` float64, pixels from that point to the nearest object pixel or box
        (0 inside); ``accuracy``, the mean of ``hits`` (NaN for no image); ``tolerance``.

    Raises
    ------
    ValueError
        If neither or both of ``masks`` and ``boxes`` are given, ``masks`` does not have the maps'
        shape or an image's mask is empty, ``boxes`` does not hold one non-empty list of valid
        boxes per map, ``maps`` is not 3-D or not finite, or ``tolerance`` is negative.
    TypeError
        If ``masks`` is not bool or ``tolerance`` is not a number.
    """
    maps = check_maps(maps, "maps")
    check_positive(tolerance, "tolerance", allow_zero=True)
    n, height, width = maps.shape
    if (masks is None) == (boxes is None):
        raise ValueError("pointing_game needs ground truth: give exactly one of masks=(N, H, W) bool or "
                         "boxes=[[(y0, x0, y1, x1), ...] per image]")
    flat = maps.reshape(n, -1).argmax(axis=1)
    points = np.stack([flat // width, flat % width], axis=1)
    distances = np.empty(n, dtype=np.float64)
    if masks is not None:
        masks = np.asarray(masks)
        if masks.shape != maps.shape:
            raise ValueError(f"masks must have the maps' shape {maps.shape}; got {masks.shape}")
        if masks.dtype != bool:
            raise TypeError(f"masks must be bool; got {masks.dtype}")
        empty = np.flatnonzero(~masks.reshape(n, -1).any(axis=1))
        if len(empty):
            raise ValueError(f"masks of images {empty.tolist()} are empty; every image needs ground truth")
        for i in range(n):
            # distance from every pixel to the nearest object pixel (0 on the object)
            distances[i] = ndimage.distance_transform_edt(~masks[i])[points[i, 0], points[i, 1]]
    else:
        boxes = _check_boxes(boxes, n, height, width)
        for i in range(n):
            distances[i] = min(_box_distance(points[i, 0], points[i, 1], box) for box in boxes[i])
    hits = distances <= tolerance
    return PointingGameResult(hits=hits, points=points, distances=distances,
                              accuracy=float(hits.mean()) if n else float("nan"), tolerance=float(tolerance))


class PointingGameMetric(Metric):
    """Pointing Game in the evaluation runner: 1 hit / 0 miss per image (needs masks or boxes).

    Zhang et al. 2018, as paper 003 uses it, computed by :func:`xai_tf.metrics.pointing_game`: a map
    scores a hit (1) when the pixel of its maximum (the first in row-major order on ties: a point, not
    a ranking, so the ranked metrics' ``ties`` option does not apply) lies within
    ``pointing_tolerance`` pixels (Euclidean distance) of the ground-truth mask, or of one of the
    image's boxes, else a miss (0); masks are used when the data has both. Column ``pointing_game``:
    its mean is the hit rate (higher = better); the report's Findings judge it as hits (Wilson interval
    of the hit rate, exact McNemar test against a baseline method).

    Notes
    -----
    Options (``evaluate(options={...})``):

    - ``pointing_tolerance`` (flag ``--tolerance``): pixels, >= 0 (default 15, paper 003).
    """

    name = "pointing_game"
    reference = "Zhang et al. 2018, as paper 003 uses it"
    ground_truth = "masks or boxes"
    options = (Option("pointing_tolerance", 15, number("pointing_tolerance", 0.0), "Pointing Game tolerance in "
                      "pixels (default 15, paper 003)", parse=float, flag="--tolerance"),)
    direction = "higher"
    evidence = "hits"
    notes: ClassVar[dict[str, str]] = {"pointing_game": "Pointing Game (hit rate, higher = better)"}

    def score(self, chunk: Chunk, options: dict):
        if chunk.masks is not None:
            game = pointing_game(chunk.maps, masks=chunk.masks, tolerance=options["pointing_tolerance"])
        else:
            game = pointing_game(chunk.maps, boxes=chunk.boxes, tolerance=options["pointing_tolerance"])
        return {self.name: [int(hit) for hit in game.hits]}, {}


POINTING_GAME = PointingGameMetric()
