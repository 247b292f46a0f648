"""Scores of the target class on perturbed copies of images, batched through the model head.

Every perturbation metric (Deletion, Insertion, MuFidelity, Pixel-Flipping, IROF, Faithfulness
Correlation, Infidelity, ...) asks the same question many times: what does the model say about the
target class once some pixels of an image are replaced? The references answer it one perturbation
at a time (Quantus: one ``model.predict`` per step of a Python loop; Xplique: one batch per step).
Here a perturbation is described by a *key map* ``(H, W)`` of integers and a *count*: the pixels
whose key is below the count take the value of the image's *fill* (a baseline image), the others
keep the image's. The copies are built on the device inside one compiled function (traced once per
model, cached in the model head) and scored ``batch_size`` at a time, so a chunk's hundreds or
thousands of perturbations cost a few large forward passes.

- Deletion of the ``k`` most important pixels: key = the pixel's rank by importance, count ``k``.
- A random subset: key = 0 inside the subset, 1 outside, count 1.

Scores (``output``): ``"probability"`` (the target probability: softmax of the logits, sigmoid of
the signed logit for a single unit: ``p`` for class 1, ``1 - p`` for class 0), ``"logit"`` (the
target's pre-activation score: ``+logit``/``-logit`` for a single unit; Quantus' ``softmax=False``)
or ``"correct"`` (1.0 when the predicted class of the copy is the target, 0.0 else; ROAD).
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
import tensorflow as tf

from xai_tf._checks import check_choice, check_maps, check_number
from xai_tf.metrics.options import Option
from xai_tf.models.binding import ModelBinding, bind, classic

OUTPUTS = ("probability", "logit", "correct")


def _blend_function(binding: ModelBinding):
    """The compiled ``(images, fills, image_ids, keys, counts, targets) -> (probability, logit, correct)``
    (a target that is not classes has no "correct": its third output is the logit again)."""
    def build():
        spatial = tf.TensorSpec([None, None, None], tf.int32)
        vector = tf.TensorSpec([None], tf.int32)

        @tf.function(input_signature=[binding.image_spec, binding.image_spec, vector, spatial, vector, vector,
                                      *binding.table_spec])
        def blend(images, fills, image_ids, keys, counts, targets, *table):
            start = tf.gather(images, image_ids)
            end = tf.gather(fills, image_ids)
            replace = (keys < counts[:, None, None])[..., None]
            copies = tf.where(replace, end, start)
            logits = binding.logits(copies, targets, table)[0]
            scores = binding.scores(logits, targets, table)
            correct = binding.correct(logits, targets, table) if binding.kind == "classes" else scores
            return binding.probabilities(logits, targets, table), scores, correct
        return blend
    return binding.cached("metrics.perturbation.blend", build)


def perturbed_scores(model, images: np.ndarray, fills: np.ndarray, image_ids: np.ndarray, counts: np.ndarray,
                     keys: Callable[[int, int], np.ndarray] | np.ndarray, targets: np.ndarray, *,
                     output: str = "probability", batch_size: int = 64) -> np.ndarray:
    """Target scores of ``P`` perturbed copies: copy ``p`` is image ``image_ids[p]`` with its pixels
    of ``keys[p] < counts[p]`` replaced by ``fills[image_ids[p]]``.

    Parameters
    ----------
    model : keras.Model or ModelBinding
        Classifier taking ``[0, 1]`` NHWC images (single sigmoid units and nested models included),
        or a model bound to its target (:func:`checked_inputs` returns it).
    images, fills : ndarray
        ``(N, H, W, C)`` float32: the images and, per image, the values the replaced pixels take.
    image_ids : ndarray
        ``(P,)`` ints in ``[0, N)``: the image each copy is made from.
    counts : ndarray
        ``(P,)`` ints: pixels with a key below the count are replaced (0 = the image unchanged).
    keys : ndarray or callable
        ``(P, H, W)`` ints, or ``keys(start, stop)`` returning the rows ``start:stop`` (so that the
        key maps of many copies need not exist at once).
    targets : ndarray
        ``(N,)`` int keys, one per image: classes for a classifier, the binding's keys otherwise.
    output : str
        ``"probability"`` (default), ``"logit"`` or ``"correct"`` (see the module docstring).
    batch_size : int
        Copies per compiled call (default 64).

    Returns
    -------
    ndarray
        ``(P,)`` float64 scores.
    """
    check_choice(output, "output", OUTPUTS)
    binding = model if isinstance(model, ModelBinding) else classic(model)
    if output == "correct" and binding.kind != "classes":
        raise ValueError(f"output='correct' (the predicted class) needs a classes target; got {binding.kind}")
    image_ids = np.asarray(image_ids, dtype=np.int32)
    counts = np.asarray(counts, dtype=np.int32)
    total = len(image_ids)
    if len(counts) != total:
        raise ValueError(f"counts must have one entry per copy ({total}); got {len(counts)}")
    blend = _blend_function(binding)
    images_t = tf.constant(np.asarray(images, dtype=np.float32))
    fills_t = tf.constant(np.broadcast_to(np.asarray(fills, dtype=np.float32), images.shape))
    targets = np.asarray(targets, dtype=np.int32)
    position = OUTPUTS.index(output)
    out = np.empty(total, dtype=np.float64)
    for start in range(0, total, batch_size):
        stop = min(start + batch_size, total)
        block = keys(start, stop) if callable(keys) else keys[start:stop]
        ids = image_ids[start:stop]
        result = blend(images_t, fills_t, tf.constant(ids), tf.constant(np.asarray(block, dtype=np.int32)),
                       tf.constant(counts[start:stop]), tf.constant(targets[ids]))
        out[start:stop] = result[position].numpy()
    return out


def target_scores(model, images: np.ndarray, targets: np.ndarray, *, output: str = "probability",
                  batch_size: int = 64) -> np.ndarray:
    """Target scores ``(N,)`` float64 of the unperturbed ``images`` (see :func:`perturbed_scores`)."""
    n, height, width = images.shape[:3]
    zeros = np.zeros((1, height, width), np.int32)
    return perturbed_scores(model, images, images, np.arange(n), np.zeros(n), lambda a, b: np.repeat(zeros, b - a, 0),
                            targets, output=output, batch_size=batch_size)


def checked_inputs(model, images, maps, targets, batch_size: int = 64, *, explain_input=None):
    """``(binding, images, maps, keys)`` checked: the model bound to its target
    (``xai_tf.models.binding.bind``: ``targets`` are class ids, None = predicted, or a
    ``xai_tf.targets`` target), float32 images of the explained input's shape in [0, 1] (``images``
    may be a dict for a model with several inputs), finite ``(N, H, W)`` maps of the images' size."""
    maps = check_maps(maps, "maps")
    binding, images, keys = bind(model, images, targets, explain_input=explain_input, batch_size=batch_size)
    if maps.shape != images.shape[:3]:
        raise ValueError(f"maps must have shape {images.shape[:3]} (one (H, W) map per image); got {maps.shape}")
    return binding, images, maps, keys


def importance_ranks(maps: np.ndarray, descending: bool = True) -> np.ndarray:
    """Rank of every pixel by its map value: ``(N, H, W)`` int32, 0 = first perturbed.

    ``descending`` (default): the largest value first. Ties keep row-major order (a stable sort),
    the same on every machine (NumPy's default ``argsort`` is not stable and its order of ties
    depends on the CPU's SIMD sort); the ranked metrics' ``ties="block"`` rule
    (``xai_tf.metrics.ties``) only evaluates cuts that keep tied groups whole, so this order
    matters only under ``ties="reference"``.
    """
    n = len(maps)
    flat = np.asarray(maps, dtype=np.float64).reshape(n, -1)
    order = np.argsort(-flat if descending else flat, axis=1, kind="stable")
    ranks = np.empty_like(order, dtype=np.int32)
    np.put_along_axis(ranks, order, np.arange(flat.shape[1], dtype=np.int32)[None].repeat(n, 0), axis=1)
    return ranks.reshape(maps.shape)


def fill_values(images: np.ndarray, baseline) -> np.ndarray:
    """Fill images ``(N, H, W, C)`` float32 of a baseline.

    baseline: a number (every pixel takes it; Xplique's ``baseline_mode=0.0``), ``"black"`` (each
    image's minimum; Quantus' ``"black"``), ``"white"`` (each image's maximum) or ``"mean"`` (each
    image's mean over pixels and channels; Quantus' ``"mean"`` over one image).
    """
    images = np.asarray(images, dtype=np.float32)
    axes = tuple(range(1, images.ndim))
    if isinstance(baseline, str):
        value = {"black": images.min(axis=axes), "white": images.max(axis=axes),
                 "mean": images.mean(axis=axes)}[baseline]
        return np.broadcast_to(value.reshape(-1, 1, 1, 1), images.shape).astype(np.float32)
    return np.full(images.shape, float(baseline), dtype=np.float32)


BASELINES = ("black", "white", "mean")


def check_baseline(value, name: str):
    """A baseline option: a number in [0, 1] or one of ``BASELINES``."""
    if isinstance(value, str):
        if value not in BASELINES:
            raise ValueError(f"{name}={value!r} is not valid; expected a number in [0, 1] or one of: "
                             f"{', '.join(BASELINES)}")
        return value
    return check_number(value, name, 0.0, 1.0)


def parse_baseline(text: str):
    """CLI string -> a baseline (a number, or a name)."""
    try:
        return float(text)
    except ValueError:
        return text


def baseline_option(name: str, default="black") -> Option:
    """The option ``<name>_baseline`` of a Quantus metric: the value of removed pixels.

    Checked by ``check_baseline``, read from the command line by ``parse_baseline``; ``default`` is
    ``"black"`` (each image's minimum, Quantus).
    """
    return Option(f"{name}_baseline", default, lambda value: check_baseline(value, f"{name}_baseline"),
                  f"{name.replace('_', ' ').capitalize()}: value of removed pixels, a number in [0, 1] or "
                  f"black (image minimum)/white/mean (default {default}, Quantus)", parse=parse_baseline)
