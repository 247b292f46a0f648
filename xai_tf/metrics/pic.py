"""Performance Information Curves (AIC and SIC) for saliency maps, batched: ``pic(model, images, maps)``.

Kapishnikov et al. 2021 ("Guided Integrated Gradients", PAIR ``saliency.metrics.pic``), as used by
paper 004 (Brima & Atemkeng 2024): start from a fully blurred image (only a random 1% of pixels and
the corners kept), re-introduce the pixels the map ranks highest at a series of thresholds, and plot
the model's score (SIC: probability of the target class; AIC: 1 if the prediction is the target)
against the image's information (entropy), both normalised between the fully blurred and the
original image. The area under that curve scores the map; curves are aggregated over images
(median by default).

Semantics are those of PAIR's ``compute_pic_metric`` + ``aggregate_individual_pic_results``
(saliency 0.2.1): the same masks (``map >= np.quantile(map, 1 - threshold)``, OR the random mask,
corners kept), the same exclusion rules, normalisation, monotone option, stable-sorted linear
interpolation to ``num_data_points`` and trapezoid AUC. It is our own code because PAIR's crashes
on NumPy 2 (``np.trapz``), blurs one channel and one threshold at a time with
``scipy.interpolate.griddata`` (about 39 s for one 224x224 image) and scores one image per model
call. Differences, all deliberate:

- Images are float ``[0, 1]`` (the toolkit's convention); PIC works on their 8-bit quantisation
  ``round(255 x)`` exactly as PAIR works on ``uint8`` arrays: blurred images are rounded to 8 bits,
  entropies are measured on the 8-bit arrays, and the model sees ``uint8 / 255`` (so for images read
  from 8-bit files, the original image is unchanged).
- The random mask comes from ``numpy.random.default_rng(seed)`` (one per image, in order), not from
  NumPy's global state: the same ``seed`` gives every method the same masks on the same images, as
  PAIR recommends for a fair comparison. ``random_masks=`` takes saved masks instead.
- Excluded images are reported (``PicResult.excluded``) instead of raising; a constant map (every
  threshold reveals the same pixels, so it ranks nothing) is excluded with its reason, where PAIR
  would score it as the diagonal.
"""
from __future__ import annotations

import time
import warnings
import weakref
from dataclasses import dataclass, field, fields

import numpy as np
import tensorflow as tf

from xai_tf._checks import (
    check_choice,
    check_images,
    check_maps,
    check_positive,
    check_targets,
)
from xai_tf._progress import progress
from xai_tf.metrics import blur as blurring
from xai_tf.metrics import information

#: Saliency thresholds (fractions of pixels revealed) of PAIR's ``pic_metrics.ipynb`` notebook and
#: of the ``compute_pic_metric`` docstring, also used by paper 004's code (XAIBiomedical).
PAIR_THRESHOLDS = (0.005, 0.01, 0.02, 0.03, 0.04, 0.05, 0.07, 0.10, 0.13, 0.21, 0.34, 0.5, 0.75)

KINDS = ("sic", "aic")
ENTROPIES = ("webp", "shannon")
BLURS = ("fast", "exact")
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


def draw_random_masks(count: int, height: int, width: int, fraction: float = 0.01, seed: int = 0) -> np.ndarray:
    """The seed pixels of the fully blurred images: ``(count, height, width)`` bool, ``int(H W fraction)`` True each.

    PAIR's ``generate_random_mask`` drawn from ``numpy.random.default_rng(seed)``, one mask per image
    in order (default fraction 0.01: Kapishnikov et al. 2021).
    """
    rng = np.random.default_rng(seed)
    pixels = height * width
    masks = np.zeros((count, pixels), dtype=bool)
    for row in masks:
        row[rng.choice(pixels, size=int(pixels * fraction), replace=False)] = True
    return masks.reshape(count, height, width)


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


def pic(model, images, maps, kind: str = "sic", targets=None, thresholds=None, entropy: str = "webp",
        blur: str = "fast", random_mask_fraction: float = 0.01, min_pred_value: float = 0.8,
        keep_monotonous: bool = True, num_data_points: int = 1000, seed: int = 0, batch_size: int = 64,
        aggregate: str = "median", verbose: int = 1, random_masks=None) -> PicResult:
    """Softmax (SIC) or Accuracy (AIC) Information Curves of saliency ``maps`` for ``model`` on ``images``.

    model: ``keras.Model`` with one image input and class outputs ``(N, K)``: probabilities (softmax or
        one sigmoid unit) or logits (a linear last layer; softmax/sigmoid is applied here).
    images: ``(N, H, W, C)`` float in [0, 1] (quantised to 8 bits, see the module docstring).
    maps: ``(N, H, W)`` finite saliency maps, larger = more important (take ``abs`` first if the sign
        should not matter).
    kind: ``"sic"`` scores with the probability of the target class (a single sigmoid unit p is
        class 1 with p, class 0 with 1 - p); ``"aic"`` scores 1 if the predicted class (argmax;
        ``p >= 0.5`` for one unit) is the target, else 0.
    targets: ``None`` = the class the model predicts on each image, or ints ``(N,)`` (or one int).
    thresholds: increasing fractions in (0, 1) of the pixels to reveal; default ``PAIR_THRESHOLDS``
        (0.005 ... 0.75, 13 values, PAIR's notebook and paper 004).
    entropy: ``"webp"`` lossless WebP size (PAIR) or ``"shannon"`` 256-bin histogram entropy (paper 004).
    blur: ``"fast"`` (default) or ``"exact"``: both fill hidden pixels by PAIR's linear interpolation
        over the Delaunay triangulation of the kept pixels. ``"exact"`` is PAIR's fill value for
        value (Qhull on every kept pixel); ``"fast"`` triangulates only the kept pixels that border
        hidden ones (with Shewchuk's Triangle above 64x64) and rasterises in compiled code: the
        same fill except where co-circular pixels allow another diagonal; per image 1.5-14x faster
        than exact and 29-700x faster than PAIR's code (README table; ``xai_tf.metrics.blur``).
    random_mask_fraction: fraction of pixels kept in the fully blurred image (default 0.01, PAIR).
    min_pred_value: images whose original score is below this are excluded (default 0.8, PAIR).
    keep_monotonous: make each curve non-decreasing (default True, as in the paper).
    num_data_points: curve samples before the final x = 1 point (default 1000, PAIR).
    seed: seed of the random masks (same seed = same masks for every method).
    batch_size: blurred images per blur call and per model call (default 64).
    aggregate: ``"median"`` (PAIR's default) or ``"mean"`` over included images.
    verbose: 0 silent, 1 progress bar on a terminal, 2 always.
    random_masks: optional ``(N, H, W)`` bool masks to use instead of drawing them from ``seed``.

    Returns a ``PicResult``.
    """
    kind = check_choice(kind, "kind", KINDS)
    entropy = check_choice(entropy, "entropy", ENTROPIES)
    blur = check_choice(blur, "blur", BLURS)
    aggregate = check_choice(aggregate, "aggregate", AGGREGATES)
    check_positive(batch_size, "batch_size", integer=True)
    check_positive(num_data_points, "num_data_points", integer=True)
    if not isinstance(keep_monotonous, (bool, np.bool_)):
        raise TypeError(f"keep_monotonous must be True or False; got {keep_monotonous!r}")
    check_positive(random_mask_fraction, "random_mask_fraction", allow_zero=True)
    if random_mask_fraction >= 1:
        raise ValueError(f"random_mask_fraction must lie in [0, 1); got {random_mask_fraction!r}")
    if isinstance(min_pred_value, bool) or not isinstance(min_pred_value, (int, float, np.integer, np.floating)):
        raise TypeError(f"min_pred_value must be a number; got {min_pred_value!r}")

    input_shape = _image_input_shape(model)
    pixels = _quantise(check_images(images, "images", shape=input_shape))
    n, height, width, channels = pixels.shape
    if entropy == "webp" and channels not in (1, 3, 4):
        raise ValueError(f"entropy='webp' encodes images with 1, 3 or 4 channels; images have {channels}; "
                         "use entropy='shannon'")
    maps = check_maps(maps, "maps")
    if maps.shape != (n, height, width):
        raise ValueError(f"maps must have shape (N, H, W) = {(n, height, width)} to match images; "
                         f"got {maps.shape}")
    thresholds = check_thresholds(thresholds)
    if random_masks is None:
        seeds = draw_random_masks(n, height, width, random_mask_fraction, seed)
    else:
        seeds = np.asarray(random_masks)
        if seeds.dtype != bool or seeds.shape != (n, height, width):
            raise ValueError(f"random_masks must be bool with shape {(n, height, width)}; "
                             f"got {seeds.dtype} {seeds.shape}")

    scorer = _Scorer(model, kind, batch_size)
    estimate = _Estimator(entropy)
    fill = blurring.blur_fast if blur == "fast" else blurring.blur_exact
    timings = {"blur": 0.0, "entropy": 0.0, "model": 0.0}
    started = time.perf_counter()

    # Stage 1: originals and fully blurred images decide which images can be scored at all.
    clock = time.perf_counter()
    fully_blurred = fill(pixels, seeds)
    timings["blur"] += time.perf_counter() - clock
    probabilities = scorer.probabilities(np.concatenate([pixels, _as_numpy_uint8(fully_blurred)]), timings)
    if targets is None:
        targets = scorer.predicted_class(probabilities[:n])
    else:
        targets = check_targets(targets, n, scorer.num_classes)
    original_score = scorer.score(probabilities[:n], targets)
    blurred_score = scorer.score(probabilities[n:], targets)
    clock = time.perf_counter()
    original_entropy = estimate(pixels)
    blurred_entropy = estimate(fully_blurred)
    timings["entropy"] += time.perf_counter() - clock

    excluded = [_exclusion_reason(maps[i], original_score[i], blurred_score[i], original_entropy[i],
                                  blurred_entropy[i], min_pred_value) for i in range(n)]
    todo = np.array([i for i in range(n) if excluded[i] is None], dtype=np.int64)

    # Stage 2: every threshold of every remaining image, in blocks of about batch_size blurred images.
    count = len(thresholds)
    entropies = np.full((n, count + 2), np.nan)
    scores = np.full((n, count + 2), np.nan)
    entropies[:, 0], entropies[:, -1] = blurred_entropy, original_entropy
    scores[:, 0], scores[:, -1] = blurred_score, original_score
    per_block = max(1, batch_size // count)
    blocks = [todo[start:start + per_block] for start in range(0, len(todo), per_block)]
    for block in progress(blocks, desc=f"{kind.upper()} ({blur} blur, {entropy})", verbose=verbose):
        masks = _threshold_masks(maps[block], seeds[block], thresholds).reshape(-1, height, width)
        clock = time.perf_counter()
        blurred = fill(pixels[block], masks, np.repeat(np.arange(len(block)), count))
        timings["blur"] += time.perf_counter() - clock
        clock = time.perf_counter()
        entropies[block, 1:-1] = estimate(blurred).reshape(len(block), count)
        timings["entropy"] += time.perf_counter() - clock
        probabilities = scorer.probabilities(blurred, timings)
        scores[block, 1:-1] = scorer.score(probabilities, np.repeat(targets[block], count)).reshape(len(block), count)

    # Stage 3: normalise, interpolate, integrate, aggregate (PAIR's arithmetic, vectorised over images).
    with np.errstate(divide="ignore", invalid="ignore"):
        normalized_entropies = np.clip((entropies[:, 1:-1] - entropies[:, :1]) / (entropies[:, -1:] - entropies[:, :1]),
                                       0.0, 1.0)
        normalized_scores = np.clip((scores[:, 1:-1] - scores[:, :1]) / (scores[:, -1:] - scores[:, :1]), 0.0, 1.0)
    if keep_monotonous:
        normalized_scores = np.maximum.accumulate(normalized_scores, axis=1)
    curve_x = np.append(np.linspace(0.0, 1.0, num=num_data_points, endpoint=False), 1.0)
    curves = np.full((n, len(curve_x)), np.nan)
    aucs = np.full(n, np.nan)
    for i in todo:
        _, curves[i], aucs[i] = pic_curve(normalized_entropies[i], normalized_scores[i], num_data_points)
    normalized_entropies[~np.isin(np.arange(n), todo)] = np.nan
    normalized_scores[~np.isin(np.arange(n), todo)] = np.nan
    curve, auc = aggregate_curves(curves[todo], curve_x, aggregate)
    if len(todo) == 0:
        warnings.warn(f"pic: all {n} images were excluded (see PicResult.excluded); the aggregated curve "
                      "is NaN", RuntimeWarning, stacklevel=2)
    timings["total"] = time.perf_counter() - started
    return PicResult(kind=kind, entropy=entropy, blur=blur, aggregate=aggregate, thresholds=thresholds,
                     targets=targets, entropies=entropies, scores=scores,
                     normalized_entropies=normalized_entropies, normalized_scores=normalized_scores,
                     curve_x=curve_x, curves=curves, aucs=aucs, excluded=excluded, curve=curve, auc=auc,
                     random_masks=seeds, timings=timings)


# ----------------------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------------------
def _image_input_shape(model):
    shape = getattr(model, "input_shape", None)
    if isinstance(shape, tuple) and len(shape) == 4:
        return shape[1:]
    raise ValueError(f"model must take one image input (N, H, W, C); its input_shape is {shape!r}")


def _quantise(images: np.ndarray) -> np.ndarray:
    """Float [0, 1] images to the 8-bit arrays PIC works on (round half to even, like np.round)."""
    return np.round(images.astype(np.float64) * 255.0).astype(np.uint8)


def _as_numpy_uint8(images) -> np.ndarray:
    if isinstance(images, np.ndarray):
        return images
    return tf.cast(images, tf.uint8).numpy()


def check_thresholds(thresholds) -> np.ndarray:
    """``thresholds`` as float64 ``(T,)``: strictly increasing, inside (0, 1); ``None`` = ``PAIR_THRESHOLDS``.

    Raises ``TypeError``/``ValueError`` naming ``thresholds`` otherwise (also used by ``PICCallback``).
    """
    if thresholds is None:
        return np.array(PAIR_THRESHOLDS, dtype=np.float64)
    if hasattr(thresholds, "numpy"):
        thresholds = thresholds.numpy()
    try:
        values = np.asarray(thresholds, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise TypeError(f"thresholds must be a sequence of numbers; got {thresholds!r}") from error
    if values.ndim != 1 or values.size == 0:
        raise ValueError(f"thresholds must be a non-empty 1-D sequence; got shape {values.shape}")
    if not np.all(np.isfinite(values)) or values.min() <= 0 or values.max() >= 1:
        raise ValueError(f"thresholds must lie strictly inside (0, 1); got {values.tolist()}")
    if np.any(np.diff(values) <= 0):
        raise ValueError(f"thresholds must be strictly increasing; got {values.tolist()}")
    return values


def _threshold_masks(maps: np.ndarray, seeds: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """``(B, T, H, W)``: pixels with ``map >= quantile(map, 1 - t)``, OR the random seed mask (PAIR)."""
    flat = maps.reshape(len(maps), -1).astype(np.float32)
    quantiles = np.quantile(flat, 1.0 - thresholds, axis=1).T            # (B, T)
    masks = maps[:, None, :, :] >= quantiles[:, :, None, None]
    return masks | seeds[:, None, :, :]


def _exclusion_reason(saliency, original_score, blurred_score, original_entropy, blurred_entropy,
                      min_pred_value):
    """PAIR's three exclusion rules, in PAIR's order, after the constant-map check."""
    if np.ptp(saliency) == 0:
        return "constant map: every threshold reveals the same pixels, so it ranks nothing"
    if original_score < min_pred_value:
        return f"score on the original image {original_score:.4g} is below min_pred_value={min_pred_value:g}"
    if blurred_entropy >= original_entropy:
        return (f"entropy of the fully blurred image ({blurred_entropy:.6g}) is not below the original's "
                f"({original_entropy:.6g})")
    if blurred_score >= original_score:
        return (f"score on the fully blurred image ({blurred_score:.4g}) is not below the original's "
                f"({original_score:.4g})")
    return None


class _Estimator:
    """Information of a batch of 8-bit images; WebP sizes are cached so no image is encoded twice."""

    def __init__(self, entropy: str):
        self.entropy = entropy
        self.cache: dict = {}

    def __call__(self, images) -> np.ndarray:
        if self.entropy == "shannon":
            return information.shannon_entropy(images)
        return information.webp_sizes(_as_numpy_uint8(images), cache=self.cache)


_FORWARD_FUNCTIONS = weakref.WeakKeyDictionary()


def _forward_function(model):
    """``model(images, training=False)`` compiled once per model with a free batch dimension.

    ``predict_on_batch`` retraces for every new batch size (the last, partial batch of each call).
    """
    if model not in _FORWARD_FUNCTIONS:
        spec = tf.TensorSpec([None, *model.input_shape[1:]], tf.float32)
        _FORWARD_FUNCTIONS[model] = tf.function(lambda images: model(images, training=False), input_signature=[spec])
    return _FORWARD_FUNCTIONS[model]


class _Scorer:
    """Class probabilities of a Keras model in batches, and the SIC/AIC score of a target class."""

    def __init__(self, model, kind: str, batch_size: int):
        self.model, self.kind, self.batch_size = model, kind, batch_size
        units = model.output_shape[-1] if isinstance(model.output_shape, tuple) else None
        if not isinstance(units, int) or len(model.output_shape) != 2:
            raise ValueError(f"model must output class scores (N, K); its output_shape is {model.output_shape!r}")
        self.units = units
        self.num_classes = max(2, units)
        self.activation = _last_activation(model)

    def probabilities(self, images, timings) -> np.ndarray:
        """``(N, units)`` probabilities of 8-bit ``images`` (uint8 array or integer-valued float tensor)."""
        clock = time.perf_counter()
        images = tf.cast(tf.convert_to_tensor(images), tf.float32) / 255.0
        forward = _forward_function(self.model)
        outputs = [np.asarray(forward(images[start:start + self.batch_size]))
                   for start in range(0, int(images.shape[0]), self.batch_size)]
        outputs = np.concatenate(outputs).astype(np.float64)
        timings["model"] += time.perf_counter() - clock
        if self.activation is None:  # unknown last layer: logits unless the outputs already look like probabilities
            looks_like = (outputs.min() >= 0 and outputs.max() <= 1
                          and (self.units == 1 or np.allclose(outputs.sum(axis=1), 1.0, atol=1e-3)))
            self.activation = "probabilities" if looks_like else "logits"
        if self.activation == "logits":
            if self.units == 1:
                outputs = 1.0 / (1.0 + np.exp(-outputs))
            else:
                shifted = np.exp(outputs - outputs.max(axis=1, keepdims=True))
                outputs = shifted / shifted.sum(axis=1, keepdims=True)
        return outputs

    def predicted_class(self, probabilities) -> np.ndarray:
        if self.units == 1:
            return (probabilities[:, 0] >= 0.5).astype(np.int64)
        return np.argmax(probabilities, axis=1).astype(np.int64)

    def score(self, probabilities, targets) -> np.ndarray:
        if self.kind == "aic":
            return (self.predicted_class(probabilities) == targets).astype(np.float64)
        if self.units == 1:
            return np.where(targets == 1, probabilities[:, 0], 1.0 - probabilities[:, 0])
        return probabilities[np.arange(len(targets)), targets]


def _last_activation(model):
    """'probabilities' when the model ends in softmax/sigmoid, 'logits' when linear, None when unknown."""
    from xai_tf.models.graph import final_layer

    activation = getattr(final_layer(model), "activation", None)
    name = getattr(activation, "__name__", None)
    if name in ("softmax", "sigmoid"):
        return "probabilities"
    if name == "linear":
        return "logits"
    return None
