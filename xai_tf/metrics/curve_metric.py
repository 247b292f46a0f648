"""Curve metrics: :class:`CurveMetric`, a maps metric measured as one curve per image (a model score
against how much of the image was perturbed) and reported as an area under it (SIC/AIC, Deletion,
Insertion, Pixel-Flipping, ROAD, IROF), and the area rule they share (``trapezoid_rows``).

A curve metric stores each chunk's curves beside the maps and aggregates them in the summary
(``summary["curves"][column][method]``), from which ``table.csv``'s figures, the report and the
studies draw the curves.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from xai_tf.metrics.chunk import Chunk
from xai_tf.metrics.protocol import MapsMetric

#: Most points of an aggregated curve kept in the summary (evenly spaced; the chunks' arrays keep all).
MAX_SUMMARY_POINTS = 1001


class CurveMetric(MapsMetric):
    """A maps metric measured as one curve per image and reported as the area under it.

    Subclasses set ``name``, ``direction`` (``"higher"``: a larger area is better, as Insertion;
    ``"lower"``, as Deletion), ``label`` (what the curve's x axis is, for figures) and
    ``options``, and implement :meth:`curves`. The default :meth:`~Metric.score` writes the per-image
    area (:meth:`area`) in the column ``name`` and stores the curves in the chunk's arrays as
    ``curve_<name>`` ``(B, T)`` float64 (NaN-padded where images have fewer points) and
    ``curve_<name>_x`` ``(T,)``; :meth:`~Metric.summarize` returns the mean, standard deviation and count
    of the areas. The evaluation summary stores every curve metric's aggregated curve under
    ``summary["curves"][column][method]`` (:meth:`curve_detail`: the curve of
    :meth:`aggregate_curves`, by default the mean over images at each x, NaN ignored, at most
    ``MAX_SUMMARY_POINTS`` evenly spaced points, with ``direction``, ``label`` and ``ylabel``), from
    which ``table.csv``'s figures, the report and the studies draw the curves.
    """

    direction: str = "higher"
    label: str = "fraction of the image perturbed"
    ylabel: str = "target class probability"

    def curves(self, chunk: Chunk, options: dict) -> tuple[np.ndarray, np.ndarray]:
        """Measure the curve of every image of one chunk: the method a curve metric implements.

        Parameters
        ----------
        chunk : Chunk
            The chunk's images, maps, targets and seeds (see :meth:`Metric.score`).
        options : dict
            ``{option name: checked value}`` of every registered option.

        Returns
        -------
        x : numpy.ndarray, shape (T,)
            The increasing points the curves are measured at (e.g. the fraction of the image
            perturbed).
        curves : numpy.ndarray, shape (B, T)
            One curve per image (e.g. the target class probability at each ``x``), NaN-padded at
            the end where an image has fewer points.

        Raises
        ------
        NotImplementedError
            Always, in the base class: a subclass implements it.
        """
        raise NotImplementedError

    def area(self, x: np.ndarray, curves: np.ndarray, options: dict) -> np.ndarray:
        """Compute the area under each image's curve, the value :meth:`~Metric.score` writes per image.

        Default: the trapezoidal rule over ``x`` with NaN points (padding) dropped; Deletion and
        Insertion override it with Xplique's mean of the trapezoids.

        Parameters
        ----------
        x : numpy.ndarray, shape (T,)
            float64, the points of :meth:`curves`.
        curves : numpy.ndarray, shape (B, T)
            float64, one curve per image.
        options : dict
            ``{option name: checked value}`` of every registered option (unused by the default).

        Returns
        -------
        numpy.ndarray, shape (B,), float64
            The area under each curve; NaN for a curve with fewer than two finite points.
        """
        return trapezoid_rows(x, curves)

    def score(self, chunk: Chunk, options: dict):
        x, curves = self.curves(chunk, options)
        curves = np.asarray(curves, dtype=np.float64)
        areas = self.area(np.asarray(x, dtype=np.float64), curves, options)
        return ({self.name: [float(value) for value in areas]},
                {f"curve_{self.name}": curves, f"curve_{self.name}_x": np.asarray(x, dtype=np.float64)})

    def aggregate_curves(self, stored: Callable[[], list]) -> tuple[np.ndarray, np.ndarray, int] | None:
        """Aggregate one method's curves over every stored chunk into one curve.

        Chunks whose curves have different lengths (e.g. IROF's segment counts) are NaN-padded to the
        longest; each point is the mean over the images that have it.

        Parameters
        ----------
        stored : callable
            ``stored()`` returns the method's saved chunk arrays ``[(first image index, {array name:
            numpy.ndarray})]`` (see :meth:`Metric.summarize`); the curves are read from
            ``curve_<name>`` and ``curve_<name>_x``.

        Returns
        -------
        tuple of (numpy.ndarray, numpy.ndarray, int) or None
            ``(x, curve, images)``: ``x`` ``(T,)`` float64, the points of the longest curve;
            ``curve`` ``(T,)`` float64, the mean over images at each point (NaN where no image has
            a finite value); ``images``, the number of images aggregated. None when no chunk
            stored this metric's curves.
        """
        key = f"curve_{self.name}"
        parts = [(first, arrays[key], arrays[f"{key}_x"]) for first, arrays in stored() if key in arrays]
        if not parts:
            return None
        length = max(curves.shape[1] for _, curves, _ in parts)
        x = max((xs for _, _, xs in parts), key=len)
        padded = np.full((sum(len(curves) for _, curves, _ in parts), length), np.nan)
        row = 0
        for _, curves, _ in sorted(parts, key=lambda part: part[0]):
            padded[row:row + len(curves), :curves.shape[1]] = curves
            row += len(curves)
        counts = np.sum(np.isfinite(padded), axis=0)
        with np.errstate(invalid="ignore"):
            mean = np.where(counts > 0, np.nansum(padded, axis=0) / np.maximum(counts, 1), np.nan)
        return np.asarray(x, dtype=np.float64), mean, len(padded)

    def curve_detail(self, stored: Callable[[], list]) -> dict | None:
        """Give the aggregated curve of one method for the summary (``summary["curves"][column][method]``).

        The summary stores it for every curve metric, so figures and reports read curves alike.

        Parameters
        ----------
        stored : callable
            ``stored()`` returns the method's saved chunk arrays (see :meth:`aggregate_curves`).

        Returns
        -------
        dict or None
            JSON-ready ``{"x", "curve", "images", "direction", "label", "ylabel"}``: the curve of
            :meth:`aggregate_curves` as lists of floats (non-finite points as None), thinned to at
            most ``MAX_SUMMARY_POINTS`` (1001) evenly spaced points, with the number of images,
            ``direction`` and the axis labels. None when nothing was stored.
        """
        aggregated = self.aggregate_curves(stored)
        if aggregated is None:
            return None
        x, curve, images = aggregated
        if len(x) > MAX_SUMMARY_POINTS:  # one point per pixel (Pixel-Flipping at 224 px): keep the summary small
            keep = np.unique(np.round(np.linspace(0, len(x) - 1, MAX_SUMMARY_POINTS)).astype(int))
            x, curve = x[keep], curve[keep]
        return {"x": [float(v) for v in x], "curve": [None if not np.isfinite(v) else float(v) for v in curve],
                "images": images, "direction": self.direction, "label": self.label, "ylabel": self.ylabel}


def trapezoid_rows(x: np.ndarray, curves: np.ndarray) -> np.ndarray:
    """Trapezoidal area of each row of ``curves`` ``(B, T)`` over ``x`` ``(T,)``; NaN points (padding) dropped.

    A row with fewer than two finite points has area NaN (nothing to integrate).
    """
    x = np.asarray(x, dtype=np.float64)
    curves = np.atleast_2d(np.asarray(curves, dtype=np.float64))
    finite = np.isfinite(curves)
    if finite.all():
        return np.sum((curves[:, 1:] + curves[:, :-1]) * np.diff(x) / 2.0, axis=1)
    areas = np.full(len(curves), np.nan)
    for i, (row, keep) in enumerate(zip(curves, finite)):
        if keep.sum() >= 2:
            areas[i] = float(np.sum((row[keep][1:] + row[keep][:-1]) * np.diff(x[keep]) / 2.0))
    return areas
