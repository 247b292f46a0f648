"""AIC and SIC in the evaluation runner: the metric protocol (``xai_tf.metrics.protocol``) for PIC.

The runner's ``pic_*`` options map onto
:class:`~xai_tf.metrics.information_curves.pic_options.PICOptions`; each chunk is scored by
:func:`~xai_tf.metrics.information_curves.pic.pic` with the run's seed and the images' indices, so each image's
random mask is ``rng_for(seed, image index)``'s (the same whichever chunk or shard scores the image,
for every method, and in ``PICCallback``); the chunk's ``PicResult`` is stored with its maps, and the
summary is the AUC of the curve aggregated over every stored chunk (PAIR's median), not a mean of
per-image AUCs. Tied map values need no rule here: PAIR's masks threshold the values
(``map >= quantile``), so a tied group is always kept or blurred whole, whatever its order.
"""
from __future__ import annotations

import json
import warnings

import numpy as np

from xai_tf._checks import check_choice
from xai_tf.metrics.chunk import Chunk
from xai_tf.metrics.curve_metric import CurveMetric
from xai_tf.metrics.information_curves.curves import PicResult
from xai_tf.metrics.information_curves.pic import pic
from xai_tf.metrics.information_curves.pic_options import BLURS, ENTROPIES, KINDS, PICOptions, check_thresholds
from xai_tf.metrics.options import Option, choice, number


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

    A :class:`~xai_tf.metrics.CurveMetric` whose curves are PIC's (x: normalised information
    revealed; y: normalised softmax score for SIC, accuracy for AIC), computed by
    :func:`xai_tf.metrics.pic` (Kapishnikov et al. 2021, PAIR saliency; paper 004) with the run's
    seed and the images' indices, so an image gets the same random mask in every chunk, shard and
    method. Per image, with :math:`e` the information estimate and :math:`s` the model score of the
    fully blurred image (:math:`e_0, s_0`), of each threshold's image and of the original
    (:math:`e_1, s_1`), the curve's points are :math:`((e - e_0) / (e_1 - e_0), (s - s_0) / (s_1 -
    s_0))` clipped to [0, 1]; the row's value is the area under that curve (higher = better).

    It keeps its own storage (the chunk's ``PicResult`` as JSON under ``pic_<kind>``) and summary
    (the AUC of PAIR's median curve, detail under ``summary["pic"]``);
    :meth:`~xai_tf.metrics.CurveMetric.aggregate_curves` gives that curve.

    Parameters
    ----------
    kind : {"sic", "aic"}
        The metric's name and column: ``"sic"`` scores with the target class probability,
        ``"aic"`` with the accuracy (1 if the predicted class is the target).

    Raises
    ------
    ValueError
        If ``kind`` is not ``"sic"`` or ``"aic"``.

    Notes
    -----
    Columns: ``<kind>``, the image's AUC (NaN, stored as ``null``, when the image is excluded), and
    ``<kind>_excluded``, None or the reason PIC left the image out. The summary's table entry is
    the AUC of the curve aggregated (median) over every included image of every stored chunk, not
    a mean of the per-image AUCs (no ``_std``/``_n`` entries); ``summary["pic"][kind][method]``
    holds ``{"auc", "included", "images", "curve"}`` (every 10th point of the curve).

    Options, shared by SIC and AIC (``evaluate(options={...})``; ``xai-tf evaluate`` flag):

    - ``pic_entropy`` (``--pic-entropy``): information estimate, ``"webp"`` (default, PAIR) or
      ``"shannon"`` (paper 004);
    - ``pic_blur`` (``--pic-blur``): fill of the blurred images, ``"fast"`` (default) or
      ``"exact"`` (PAIR's);
    - ``pic_thresholds`` (``--pic-thresholds``, comma-separated): increasing fractions in (0, 1) of
      the pixels revealed; default None, PAIR's 13 thresholds;
    - ``pic_min_pred_value`` (``--pic-min-pred``): images scored below this on the original are
      excluded, in [0, 1] (default 0.8, PAIR);
    - ``pic_random_mask_fraction`` (``--pic-random-mask-fraction``): fraction of the pixels kept in
      the fully blurred image (default 0.01, PAIR).
    """

    targets = ("classes",)

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
        """Merge the method's stored chunk results, in image order, into one result.

        Parameters
        ----------
        stored : callable
            ``stored()`` returns the method's saved chunk arrays ``[(first image index, {array name:
            numpy.ndarray})]`` (see :meth:`xai_tf.metrics.Metric.summarize`); the chunks' results
            are read from ``pic_<kind>``.

        Returns
        -------
        PicResult or None
            :meth:`xai_tf.metrics.PicResult.merge` of the chunks' results sorted by their first image, or None when
            no chunk stored one.
        """
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
