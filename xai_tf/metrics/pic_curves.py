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
    """AIC or SIC of one saliency method over a set of images.

    Per image (N images, T thresholds, P = ``num_data_points + 1`` curve points):
    ``targets`` ``(N,)``; ``entropies`` and ``scores`` ``(N, T + 2)``: raw information estimate and
    model score of the fully blurred image, each threshold's image, and the original (NaN where not
    computed: thresholds of excluded images); ``normalized_entropies`` and ``normalized_scores``
    ``(N, T)``: the curve's points (scores made monotone when ``keep_monotonous``); ``curves``
    ``(N, P)``: the curve interpolated at ``curve_x``; ``aucs`` ``(N,)``; ``excluded`` ``(N,)``: None
    or the reason the image was left out (NaN in the arrays above).
    For the set: ``curve`` ``(P,)`` aggregated over included images by ``aggregate`` and its ``auc``
    (NaN when no image is included). ``timings``: seconds spent blurring, estimating information and
    running the model.
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
        return int(self.included.sum())

    def __repr__(self) -> str:
        return (f"PicResult(kind={self.kind!r}, entropy={self.entropy!r}, blur={self.blur!r}, "
                f"auc={self.auc:.4f}, images={len(self.aucs)}, included={self.num_included})")

    def to_dict(self, include_masks: bool = False) -> dict:
        """JSON-ready dict (lists, NaN as None); ``from_dict`` restores it. Masks only on request."""
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
        """Inverse of ``to_dict``."""
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
        """Concatenate results over disjoint image sets (e.g. shards) and re-aggregate the curve."""
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
