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
- The random mask of each image comes from ``xai_tf._random.rng_for(seed, index)`` (``index``: the
  image's position in its data set, ``indices=``, default ``0..N-1``), not from NumPy's global
  state: the same ``seed`` gives every method the same masks on the same images, as PAIR
  recommends for a fair comparison, and the evaluation runner, the studies and ``PICCallback`` draw
  the same mask for the same image whatever chunk or batch it is in. ``random_masks=`` takes saved
  masks instead.
- Excluded images are reported (``PicResult.excluded``) instead of raising; a constant map (every
  threshold reveals the same pixels, so it ranks nothing) is excluded with its reason, where PAIR
  would score it as the diagonal.
"""
from __future__ import annotations

import time
import warnings

import numpy as np
import tensorflow as tf

from xai_tf._checks import check_choice, check_maps, check_positive
from xai_tf._progress import progress
from xai_tf.metrics.information_curves import blur as blurring
from xai_tf.metrics.information_curves import information
from xai_tf.metrics.information_curves.curves import PicResult, aggregate_curves, pic_curve
from xai_tf.metrics.information_curves.pic_options import KINDS, PICOptions, check_thresholds, draw_random_masks
from xai_tf.models.head import head_of
from xai_tf.targets import as_target


def pic(model, images, maps, kind: str = "sic", targets=None, thresholds=None, entropy: str = "webp",
        blur: str = "fast", random_mask_fraction: float = 0.01, min_pred_value: float = 0.8,
        keep_monotonous: bool = True, num_data_points: int = 1000, seed: int = 0, batch_size: int = 64,
        aggregate: str = "median", verbose: int = 1, random_masks=None, indices=None) -> PicResult:
    """Compute the Softmax (SIC) or Accuracy (AIC) Information Curves of saliency ``maps`` on ``images``.

    Starting from a fully blurred copy of each image, the pixels the map ranks highest are
    re-introduced at each threshold; the model's score (SIC: probability of the target class; AIC:
    1 if the prediction is the target) is plotted against the image's information, both normalised
    between the fully blurred and the original image, and the area under that curve scores the map
    (Kapishnikov et al. 2021, PAIR ``saliency.metrics.pic``; paper 004). The per-image curves are
    aggregated point by point (median by default) into one curve and its AUC. The options are
    the fields of ``PICOptions`` (``xai_tf.metrics.information_curves.pic_options``) and are
    checked there; the module ``xai_tf.metrics.information_curves.pic`` lists the deliberate
    differences from PAIR's code.

    Parameters
    ----------
    model : keras.Model
        Classifier with one image input and class outputs ``(N, K)``: probabilities (softmax or one
        sigmoid unit) or logits (a linear last layer; softmax/sigmoid is applied here).
    images : numpy.ndarray, shape (N, H, W, C)
        float in [0, 1], quantised to 8 bits (``round(255 x)``) as PAIR works on ``uint8`` images;
        the model sees ``uint8 / 255``. With ``entropy="webp"``, C must be 1, 3 or 4.
    maps : numpy.ndarray, shape (N, H, W)
        Finite saliency maps, larger = more important (take ``abs`` first if the sign should not
        matter).
    kind : {"sic", "aic"}, optional
        ``"sic"`` (default) scores with the probability of the target class (a single sigmoid unit
        p is class 1 with p, class 0 with 1 - p); ``"aic"`` scores 1 if the predicted class (the
        model head's rule: argmax, ``p >= 0.5`` for one unit) is the target, else 0.
    targets : None, int or array-like of int, shape (N,), optional
        Class scored per image. None (default) uses the class the model predicts on each (float)
        image.
    thresholds : sequence of float, optional
        Strictly increasing fractions in (0, 1) of the pixels to reveal; default ``PAIR_THRESHOLDS``
        (0.005 ... 0.75, 13 values, PAIR's notebook and paper 004).
    entropy : {"webp", "shannon"}, optional
        Information estimate: ``"webp"`` (default) the lossless WebP size (PAIR) or ``"shannon"``
        the 256-bin histogram entropy (paper 004).
    blur : {"fast", "exact"}, optional
        Fill of the blurred images. Both fill hidden pixels by PAIR's linear interpolation over the
        Delaunay triangulation of the kept pixels. ``"exact"`` is PAIR's fill value for value
        (Qhull on every kept pixel); ``"fast"`` (default) triangulates only the kept pixels that
        border hidden ones (Qhull for images up to 64x64 and for supports of up to 10% of the
        pixels, our compiled triangulator above; no Triangle needed) and rasterises in compiled
        code: the same fill except where co-circular pixels allow another diagonal; per image
        1.5-14x faster than exact and 29-700x faster than PAIR's code (README table;
        ``xai_tf.metrics.information_curves.blur``).
    random_mask_fraction : float, optional
        Fraction of pixels kept in the fully blurred image, in [0, 1) (default 0.01, PAIR).
    min_pred_value : float, optional
        Images whose score on the original image is below this are excluded; in [0, 1] (default
        0.8, PAIR).
    keep_monotonous : bool, optional
        Make each curve non-decreasing (default True, as in the paper).
    num_data_points : int, optional
        Curve samples before the final x = 1 point (default 1000, PAIR).
    seed : int, optional
        Seed of the random masks (default 0); the same seed gives every method the same masks
        (``draw_random_masks``).
    batch_size : int, optional
        Blurred images per blur call and per model call (default 64).
    aggregate : {"median", "mean"}, optional
        Aggregation of the included images' curves (default ``"median"``, PAIR).
    verbose : {0, 1, 2}, optional
        0 silent, 1 progress bar on a terminal (default), 2 always.
    random_masks : numpy.ndarray, shape (N, H, W), bool, optional
        Masks to use instead of drawing them from ``seed``.
    indices : array-like of int, shape (N,), optional
        Positions of the images in their data set (default ``0..N-1``): fixes each image's random
        mask, whichever batch or chunk it is scored in.

    Returns
    -------
    PicResult
        Per-image curves, AUCs and exclusion reasons, and the aggregated curve and AUC.

    Raises
    ------
    ValueError
        If ``maps`` does not have shape ``(N, H, W)`` matching ``images``, ``random_masks`` is not
        bool of that shape, ``entropy="webp"`` meets images whose channels are not 1, 3 or 4, or an
        option is out of range (unknown ``kind``/``entropy``/``blur``/``aggregate``, bad
        ``thresholds``), or ``targets`` is a target other than class ids (AIC/SIC are
        classification-only); each message names the argument.
    TypeError
        If an option has the wrong type (e.g. a non-integer ``batch_size`` or ``num_data_points``).

    Warns
    -----
    RuntimeWarning
        When every image is excluded (the aggregated curve and AUC are NaN).

    Notes
    -----
    An image is excluded (its reason in ``PicResult.excluded``, NaN in its arrays) when its map is
    constant (every threshold reveals the same pixels, so it ranks nothing; PAIR would score it as
    the diagonal), or, by PAIR's rules in PAIR's order, when its score on the original image is
    below ``min_pred_value``, when the fully blurred image's information is not below the
    original's, or when the fully blurred image's score is not below the original's.
    """
    kind = check_choice(kind, "kind", KINDS)
    if as_target(targets) is not None:
        raise ValueError(f"targets: {kind.upper()} is defined on a classifier's softmax and accuracy; it takes "
                         "class ids (or None), not a regression, segmentation, detection or callable target")
    check_positive(batch_size, "batch_size", integer=True)
    options = PICOptions(entropy, blur, thresholds, min_pred_value, random_mask_fraction, keep_monotonous,
                         num_data_points, aggregate).checked()
    entropy, blur, aggregate = options.entropy, options.blur, options.aggregate
    min_pred_value, num_data_points = options.min_pred_value, options.num_data_points

    head = head_of(model)
    images = head.check_images(images, "images")
    # The class is decided on the float images, as explain decides it, before quantising: an image
    # whose 8-bit copy flips the prediction is still scored for the class its map explains.
    targets = head.targets(images, targets, batch_size)
    pixels = _quantise(images)
    n, height, width, _ = pixels.shape
    options.check_images(pixels)
    maps = check_maps(maps, "maps")
    if maps.shape != (n, height, width):
        raise ValueError(f"maps must have shape (N, H, W) = {(n, height, width)} to match images; "
                         f"got {maps.shape}")
    thresholds = check_thresholds(options.thresholds)
    if random_masks is None:
        seeds = draw_random_masks(n, height, width, random_mask_fraction, seed, indices)
    else:
        seeds = np.asarray(random_masks)
        if seeds.dtype != bool or seeds.shape != (n, height, width):
            raise ValueError(f"random_masks must be bool with shape {(n, height, width)}; "
                             f"got {seeds.dtype} {seeds.shape}")

    scorer = _Scorer(head, kind, batch_size)
    estimate = _Estimator(entropy)
    fill = blurring.blur_fast if blur == "fast" else blurring.blur_exact
    timings = {"blur": 0.0, "entropy": 0.0, "model": 0.0}
    started = time.perf_counter()

    # Stage 1: originals and fully blurred images decide which images can be scored at all.
    clock = time.perf_counter()
    fully_blurred = fill(pixels, seeds)
    timings["blur"] += time.perf_counter() - clock
    probabilities = scorer.probabilities(np.concatenate([pixels, _as_numpy_uint8(fully_blurred)]), timings)
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
    if options.keep_monotonous:
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
def _quantise(images: np.ndarray) -> np.ndarray:
    """Float [0, 1] images to the 8-bit arrays PIC works on (round half to even, like np.round)."""
    return np.round(images.astype(np.float64) * 255.0).astype(np.uint8)


def _as_numpy_uint8(images) -> np.ndarray:
    if isinstance(images, np.ndarray):
        return images
    return tf.cast(images, tf.uint8).numpy()


def _threshold_masks(maps: np.ndarray, seeds: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """``(B, T, H, W)``: pixels with ``map >= quantile(map, 1 - t)``, OR the random seed mask (PAIR).

    Order-free on ties: a mask is a threshold on the values, so a group of equal values is kept or
    blurred as a whole (the kept share may exceed ``t``); no order of the tied pixels enters, so SIC
    and AIC need no ``ties`` option (``xai_tf.metrics.ties``).
    """
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


#: WebP sizes by image digest, shared by every call: SIC and AIC of the same maps blur the same images,
#: and every method's call starts from the same originals and fully blurred images.
_WEBP_SIZES: dict = {}
_WEBP_CACHE_ENTRIES = 1_000_000  # ~100 MB at most; then it starts afresh


class _Estimator:
    """Information of a batch of 8-bit images; WebP sizes are cached so no image is encoded twice."""

    def __init__(self, entropy: str):
        self.entropy = entropy
        if len(_WEBP_SIZES) > _WEBP_CACHE_ENTRIES:
            _WEBP_SIZES.clear()
        self.cache = _WEBP_SIZES

    def __call__(self, images) -> np.ndarray:
        if self.entropy == "shannon":
            return information.shannon_entropy(images)
        return information.webp_sizes(_as_numpy_uint8(images), cache=self.cache)


class _Scorer:
    """SIC/AIC scores of 8-bit images in batches, through the model's head (probabilities, one class rule)."""

    def __init__(self, head, kind: str, batch_size: int):
        self.head, self.kind, self.batch_size = head, kind, batch_size

    def probabilities(self, images, timings) -> np.ndarray:
        """``(N, units)`` probabilities of 8-bit ``images`` (uint8 array or integer-valued float tensor)."""
        clock = time.perf_counter()
        outputs = self.head.outputs(tf.cast(tf.convert_to_tensor(images), tf.float32) / 255.0, self.batch_size)
        timings["model"] += time.perf_counter() - clock
        return self.head.probabilities_from_outputs(outputs)

    def predicted_class(self, probabilities) -> np.ndarray:
        return self.head.classes_from_probabilities(probabilities)

    def score(self, probabilities, targets) -> np.ndarray:
        if self.kind == "aic":
            return (self.predicted_class(probabilities) == targets).astype(np.float64)
        return self.head.class_probability(probabilities, targets)

