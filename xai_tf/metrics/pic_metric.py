"""AIC and SIC in the evaluation runner: the metric protocol (``xai_tf.metrics.protocol``) for PIC.

The runner's ``pic_*`` options map onto :class:`~xai_tf.metrics.pic.PICOptions`; each chunk is
scored by :func:`~xai_tf.metrics.pic.pic` with the run's seed and the images' indices, so each image's
random mask is ``rng_for(seed, image index)``'s (the same whichever chunk or shard scores the image,
for every method, and in ``PICCallback``); the chunk's ``PicResult`` is stored with its maps, and the summary is the AUC of
the curve aggregated over every stored chunk (PAIR's median), not a mean of per-image AUCs.
"""
from __future__ import annotations

import json
import warnings

import numpy as np

from xai_tf._checks import check_choice
from xai_tf.metrics.pic import (
    BLURS,
    ENTROPIES,
    KINDS,
    PICOptions,
    PicResult,
    check_thresholds,
    pic,
)
from xai_tf.metrics.protocol import Chunk, CurveMetric, Option, choice, number


def _thresholds_option(value):
    return None if value is None else [float(t) for t in check_thresholds(value)]


def _parse_thresholds(text: str):
    return [float(part) for part in text.split(",")]


#: The runner's PIC options (shared by SIC and AIC), mapped onto :class:`PICOptions`.
PIC_RUNNER_OPTIONS = (
    Option("pic_entropy", "webp", choice("pic_entropy", ENTROPIES), "PIC information estimate: webp (PAIR) or "
           "shannon (paper 004)"),
    Option("pic_blur", "fast", choice("pic_blur", BLURS), "PIC fill of the blurred images: fast or exact (PAIR's)"),
    Option("pic_thresholds", None, _thresholds_option, "comma-separated increasing fractions in (0, 1) of "
           "pixels revealed (default: PAIR's 13)", parse=_parse_thresholds),
    Option("pic_min_pred_value", 0.8, number("pic_min_pred_value", 0.0, 1.0), "PIC excludes images scored below "
           "this, in [0, 1] (default 0.8, PAIR)", parse=float, flag="--pic-min-pred"),
    Option("pic_random_mask_fraction", 0.01, number("pic_random_mask_fraction", 0.0, 0.999999),
           "fraction of pixels kept in the fully blurred image (default 0.01, PAIR)", parse=float),
)


def pic_options(options: dict) -> PICOptions:
    """The :class:`PICOptions` of the runner's option dict (``pic_*`` keys)."""
    thresholds = options["pic_thresholds"]
    return PICOptions(entropy=options["pic_entropy"], blur=options["pic_blur"],
                      thresholds=None if thresholds is None else tuple(thresholds),
                      min_pred_value=options["pic_min_pred_value"],
                      random_mask_fraction=options["pic_random_mask_fraction"]).checked()


class PICMetric(CurveMetric):
    """SIC or AIC of the method's maps on each image; the summary is the AUC of the aggregated curve.

    A :class:`~xai_tf.metrics.protocol.CurveMetric` whose curves are PIC's (x: normalised
    information revealed; y: normalised softmax score for SIC, accuracy for AIC). It keeps its own
    storage (the chunk's ``PicResult`` as JSON under ``pic_<kind>``) and summary (the AUC of PAIR's
    median curve, detail under ``summary["pic"]``); :meth:`aggregate_curves` gives that curve.
    """

    scores = "maps"
    options = PIC_RUNNER_OPTIONS
    details_key = "pic"
    direction = "higher"
    label = "normalised information revealed (PIC)"
    reference = "Kapishnikov et al. 2021 (PAIR saliency), paper 004"

    def __init__(self, kind: str):
        self.name = check_choice(kind, "kind", KINDS)
        self.ylabel = "normalised softmax score" if kind == "sic" else "normalised accuracy"
        self.notes = {kind: f"{kind.upper()} AUC (higher = better)"}

    def columns(self, options: dict) -> list[str]:
        return [self.name]

    def score(self, chunk: Chunk, options: dict):
        settings = pic_options(options)
        with warnings.catch_warnings():  # excluded images are recorded per row, not warned about per chunk
            warnings.simplefilter("ignore", RuntimeWarning)
            result = pic(chunk.model, chunk.images, chunk.maps, kind=self.name, targets=chunk.targets,
                         thresholds=settings.thresholds, entropy=settings.entropy, blur=settings.blur,
                         min_pred_value=settings.min_pred_value, random_mask_fraction=settings.random_mask_fraction,
                         batch_size=chunk.batch_size, verbose=0, seed=chunk.seed, indices=chunk.indices)
        stored = result.to_dict()
        stored["timings"] = {}  # wall-clock times would make identical runs differ
        columns = {self.name: list(result.aucs), f"{self.name}_excluded": list(result.excluded)}
        return columns, {f"pic_{self.name}": np.array(json.dumps(stored))}

    def results(self, stored) -> PicResult | None:
        """The method's chunk results merged in image order (None when none was stored)."""
        key = f"pic_{self.name}"
        parts = [(first, PicResult.from_dict(json.loads(str(arrays[key]))))
                 for first, arrays in stored() if key in arrays]
        if not parts:
            return None
        return PicResult.merge([part for _, part in sorted(parts, key=lambda item: item[0])])

    def aggregate_curves(self, stored):
        """``(x, PAIR's aggregated curve, images)`` of the merged chunks (None when none was stored)."""
        merged = self.results(stored)
        if merged is None:
            return None
        x, curve = np.asarray(merged.curve_x, dtype=np.float64), np.asarray(merged.curve, dtype=np.float64)
        return x, curve, len(merged.aucs)

    def summarize(self, column: str, values: np.ndarray, stored):
        merged = self.results(stored)
        if merged is None:
            return {}, None
        auc = float(merged.auc) if np.isfinite(merged.auc) else None
        detail = {"auc": auc, "included": merged.num_included, "images": len(merged.aucs),
                  "curve": [None if not np.isfinite(v) else float(v) for v in merged.curve[::10]]}
        return {column: auc}, detail


SIC = PICMetric("sic")
AIC = PICMetric("aic")
