"""PIC results and curve arithmetic: ``PicResult``, ``pic_curve``, ``aggregate_curves``.

PAIR's ``compute_pic_metric`` curve steps (saliency 0.2.1): points (0, 0) and (1, 1) added, stable
sort by information, linear interpolation to ``num_data_points`` and trapezoid AUC; and
``aggregate_individual_pic_results`` (median or mean over images). ``xai_tf.metrics.pic`` computes
the points; this module holds what a result is and how results merge across shards.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np

from xai_tf._checks import check_choice

AGGREGATES = ("median", "mean")


@dataclass
class PicResult:
    """AIC or SIC of one saliency method over a set of images, as :func:`xai_tf.metrics.pic` returns it.

    Shapes: N images, T thresholds, P = ``num_data_points + 1`` curve points. Per image, the
    arrays hold NaN where nothing was computed (the thresholds of excluded images).

    Parameters
    ----------
    kind : {"sic", "aic"}
        Softmax (SIC) or Accuracy (AIC) Information Curve.
    entropy : {"webp", "shannon"}
        The information estimate used.
    blur : {"fast", "exact"}
        The fill of the blurred images used.
    aggregate : {"median", "mean"}
        How the per-image curves were aggregated into ``curve``.
    thresholds : numpy.ndarray, shape (T,)
        float64, the fractions of pixels revealed.
    targets : numpy.ndarray, shape (N,)
        int64, the class scored on each image.
    entropies : numpy.ndarray, shape (N, T + 2)
        float64, raw information estimate of the fully blurred image, of each threshold's image
        and of the original (WebP bytes or Shannon bits).
    scores : numpy.ndarray, shape (N, T + 2)
        float64, model score (SIC: target probability; AIC: 0 or 1) of the same images.
    normalized_entropies : numpy.ndarray, shape (N, T)
        float64 in [0, 1], the curve's x points: information normalised between the fully blurred
        image (0) and the original (1).
    normalized_scores : numpy.ndarray, shape (N, T)
        float64 in [0, 1], the curve's y points, normalised likewise (made non-decreasing when
        ``keep_monotonous``).
    curve_x : numpy.ndarray, shape (P,)
        float64, the regular points in [0, 1] the curves are interpolated at.
    curves : numpy.ndarray, shape (N, P)
        float64, each image's curve interpolated at ``curve_x``.
    aucs : numpy.ndarray, shape (N,)
        float64, the area under each image's curve (NaN for excluded images).
    excluded : list of (str or None)
        Per image, None or the reason it was left out (NaN in the per-image arrays).
    curve : numpy.ndarray, shape (P,)
        float64, the curves of the included images aggregated point by point by ``aggregate``
        (NaN when no image is included).
    auc : float
        Trapezoidal area under ``curve`` (NaN when no image is included): the set's AIC or SIC.
    random_masks : numpy.ndarray, shape (N, H, W), bool, optional
        The seed pixels kept in each fully blurred image (default None: not kept).
    timings : dict of str to float, optional
        Seconds spent blurring (``"blur"``), estimating information (``"entropy"``), running the
        model (``"model"``) and in total (``"total"``); default empty.
    """

    kind: str
    entropy: str
    blur: str
    aggregate: str
    thresholds: np.ndarray
    targets: np.ndarray
    entropies: np.ndarray
    scores: np.ndarray
    normalized_entropies: np.ndarray
    normalized_scores: np.ndarray
    curve_x: np.ndarray
    curves: np.ndarray
    aucs: np.ndarray
    excluded: list
    curve: np.ndarray
    auc: float
    random_masks: np.ndarray | None = field(default=None, repr=False)
    timings: dict = field(default_factory=dict)

    @property
    def included(self) -> np.ndarray:
        """Boolean ``(N,)``: images that contribute to the aggregated curve."""
        return np.array([reason is None for reason in self.excluded], dtype=bool)

    @property
    def num_included(self) -> int:
        """Number of images that contribute to the aggregated curve (not excluded)."""
        return int(self.included.sum())

    def __repr__(self) -> str:
        return (f"PicResult(kind={self.kind!r}, entropy={self.entropy!r}, blur={self.blur!r}, "
                f"auc={self.auc:.4f}, images={len(self.aucs)}, included={self.num_included})")

    def to_dict(self, include_masks: bool = False) -> dict:
        """Convert the result to a JSON-ready dict; :meth:`from_dict` restores it.

        Parameters
        ----------
        include_masks : bool, optional
            Also write ``random_masks`` (as nested lists of 0/1) when the result holds them; default
            False leaves the key out (the masks are the largest field).

        Returns
        -------
        dict
            ``{field name: value}`` of every field: arrays as nested lists, NaN and infinities as
            None, NumPy integers as ``int``.
        """
        out = {}
        for item in fields(self):
            value = getattr(self, item.name)
            if item.name == "random_masks":
                if include_masks and value is not None:
                    out[item.name] = np.asarray(value).astype(int).tolist()
                continue
            out[item.name] = _jsonable(value)
        return out

    @classmethod
    def from_dict(cls, data: dict) -> PicResult:
        """Rebuild a result from :meth:`to_dict`'s dict (e.g. read back from JSON).

        Parameters
        ----------
        data : dict
            ``{field name: value}`` as :meth:`to_dict` writes it; ``random_masks`` may be absent.

        Returns
        -------
        PicResult
            Arrays as float64 (None back to NaN), ``targets`` int64, ``random_masks`` bool or None.
        """
        values = dict(data)
        for name in ("thresholds", "entropies", "scores", "normalized_entropies", "normalized_scores",
                     "curve_x", "curves", "aucs", "curve"):
            values[name] = np.array(_from_json(values[name]), dtype=np.float64)
        values["targets"] = np.asarray(values["targets"], dtype=np.int64)
        values["auc"] = float("nan") if values["auc"] is None else float(values["auc"])
        if values.get("random_masks") is not None:
            values["random_masks"] = np.asarray(values["random_masks"], dtype=bool)
        return cls(**values)

    @classmethod
    def merge(cls, results: list[PicResult]) -> PicResult:
        """Concatenate results over disjoint image sets (e.g. chunks or shards) and re-aggregate the curve.

        Parameters
        ----------
        results : list of PicResult
            Results of the same ``kind``, ``entropy``, ``blur``, ``aggregate``, ``thresholds`` and
            ``curve_x``, in the image order wanted.

        Returns
        -------
        PicResult
            The per-image arrays and ``excluded`` concatenated in order, ``curve`` and ``auc``
            re-aggregated over every included image (not a mean of the parts' AUCs),
            ``random_masks`` concatenated when every part holds them (else None) and the timings
            summed.

        Raises
        ------
        ValueError
            If ``results`` is empty, or the results differ in ``kind``, ``entropy``, ``blur``,
            ``aggregate``, thresholds or curve points.
        """
        if not results:
            raise ValueError("results must hold at least one PicResult")
        first = results[0]
        for other in results[1:]:
            for name in ("kind", "entropy", "blur", "aggregate"):
                if getattr(other, name) != getattr(first, name):
                    raise ValueError(f"cannot merge results with different {name}: "
                                     f"{getattr(first, name)!r} vs {getattr(other, name)!r}")
            if not (np.array_equal(other.thresholds, first.thresholds)
                    and np.array_equal(other.curve_x, first.curve_x)):
                raise ValueError("cannot merge results with different thresholds or curve points")
        stack = {name: np.concatenate([getattr(r, name) for r in results]) for name in (
            "targets", "entropies", "scores", "normalized_entropies", "normalized_scores", "curves", "aucs")}
        excluded = [reason for r in results for reason in r.excluded]
        masks = None
        if all(r.random_masks is not None for r in results):
            masks = np.concatenate([r.random_masks for r in results])
        curve, auc = aggregate_curves(stack["curves"][[e is None for e in excluded]], first.curve_x,
                                      first.aggregate)
        timings = {key: sum(r.timings.get(key, 0.0) for r in results) for key in first.timings}
        return cls(kind=first.kind, entropy=first.entropy, blur=first.blur, aggregate=first.aggregate,
                   thresholds=first.thresholds, curve_x=first.curve_x, excluded=excluded, curve=curve,
                   auc=auc, random_masks=masks, timings=timings, **stack)


def _jsonable(value):
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (float, np.floating)):
        return None if not np.isfinite(value) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    return value


def _from_json(value):
    if isinstance(value, list):
        return [_from_json(v) for v in value]
    return np.nan if value is None else value


def aggregate_curves(curves: np.ndarray, curve_x: np.ndarray, method: str = "median") -> tuple[np.ndarray, float]:
    """Aggregate per-image PIC curves ``(N, P)`` point by point (median or mean) and integrate (trapezoid).

    PAIR's ``aggregate_individual_pic_results``. Returns ``(curve (P,), auc)``; NaNs when N == 0.
    """
    check_choice(method, "aggregate", AGGREGATES)
    curves = np.asarray(curves, dtype=np.float64)
    if len(curves) == 0:
        return np.full(len(curve_x), np.nan), float("nan")
    curve = np.median(curves, axis=0) if method == "median" else np.mean(curves, axis=0)
    return curve, float(np.trapezoid(curve, curve_x))


def pic_curve(normalized_entropies: np.ndarray, normalized_scores: np.ndarray,
              num_data_points: int = 1000) -> tuple[np.ndarray, np.ndarray, float]:
    """Interpolate one image's PIC points to a regular curve and integrate it.

    normalized_entropies, normalized_scores: ``(T,)`` in [0, 1]. Points (0, 0) and (1, 1) are added,
    points are stably sorted by entropy (ties keep threshold order, as ``scipy.interpolate.interp1d``
    does), the curve is sampled at ``linspace(0, 1, num_data_points, endpoint=False)`` plus x = 1
    (y = 1). Returns ``(curve_x (P,), curve_y (P,), auc)`` with P = ``num_data_points + 1``.
    """
    x = np.concatenate([np.asarray(normalized_entropies, np.float64), [0.0, 1.0]])
    y = np.concatenate([np.asarray(normalized_scores, np.float64), [0.0, 1.0]])
    order = np.argsort(x, kind="stable")
    curve_x = np.append(np.linspace(0.0, 1.0, num=num_data_points, endpoint=False), 1.0)
    curve_y = np.append(np.interp(curve_x[:-1], x[order], y[order]), 1.0)
    return curve_x, curve_y, float(np.trapezoid(curve_y, curve_x))
