"""Masked copies of images scored in batches: the machinery KernelSHAP, Sobol and HSIC share.

A perturbation is described by a per-image *segment map* ``(H, W)`` of integer segment ids (grid
cells, or superpixels) and, per perturbed copy, a value in [0, 1] per segment (a coalition or a
design). The copy is ``x * m + baseline * (1 - m)`` with ``m = values[segments]``, built on the
device inside one compiled function with a fixed input signature (traced once per model and
score), so only the small ``(copies, segments)`` arrays cross from the host, never the masks.

Scores are the target-class probability by default (``score="probability"``: softmax, or sigmoid
of the signed logit for one unit; what RISE, Sobol and HSIC are defined on in their papers and
what Xplique's default operator ``f(x)[y]`` gives on a softmax model), or the target logit
(``score="logit"``, for models whose probabilities saturate).
"""
from __future__ import annotations

import numpy as np
import tensorflow as tf

from xai_tf._checks import check_choice, check_positive
from xai_tf.explainers.base import Request, image_step_chunks, upsample

SCORES = ("probability", "logit")
#: The numpydoc entry of the ``score`` option of the methods that score masked copies.
SCORE = """
score : {"probability", "logit"}, optional
    What is scored: the target class probability (default; what the papers score and what
    Xplique's default operator ``f(x)[y]`` gives on a softmax model; a sigmoid unit scores ``p``
    or ``1 - p``) or the target logit (for models whose probabilities saturate).
"""


def check_score(score: str) -> str:
    """``score`` when it is one of :data:`SCORES`; else ValueError."""
    return check_choice(score, "score", SCORES)


def target_scores(adapter, logits, targets, score: str, table=()):
    """Symbolic target score ``(B,)``: the class probability or the logit (see the module docstring)."""
    if score == "probability":
        return adapter.probabilities(logits, targets, table)
    return adapter.scores(logits, targets, table)


def check_grid_size(grid_size, height: int, width: int, name: str = "grid_size") -> int:
    """A grid of ``grid_size x grid_size`` cells must fit the image: ``1 <= grid_size <= min(H, W)``."""
    check_positive(grid_size, name, integer=True)
    if grid_size > min(height, width):
        raise ValueError(f"{name}={grid_size} is larger than the images ({height} x {width}): every grid cell "
                         "must cover at least one pixel")
    return int(grid_size)


def grid_cells(height: int, width: int, grid_size: int) -> np.ndarray:
    """Cell id ``(H, W)`` int32 of every pixel of a ``grid_size x grid_size`` grid, row-major.

    Nearest-neighbour upsampling (``tf.image.resize(..., "nearest")``, half-pixel centres) of the
    cell-id grid, so ``values[grid_cells(...)]`` equals Xplique's nearest upsampling of
    ``(grid, grid)`` masks exactly, for any image size.
    """
    ids = np.arange(grid_size * grid_size, dtype=np.float32).reshape(1, grid_size, grid_size, 1)
    cells = tf.image.resize(ids, (height, width), method="nearest").numpy()[0, ..., 0]
    return cells.astype(np.int32)


def _segment_score_function(adapter, score: str):
    def build():
        @tf.function(input_signature=[adapter.image_spec, tf.TensorSpec([None, None, None], tf.int32),
                                      tf.TensorSpec([None, None, None], tf.float32),
                                      tf.TensorSpec([], tf.float32), adapter.target_spec, *adapter.table_spec])
        def segment_scores(images, segments, values, baseline, targets, *table):
            # masks[i, s, h, w] = values[i, s, segments[i, h, w]]
            masks = tf.gather(values, segments, axis=2, batch_dims=1)[..., None]
            perturbed = images[:, None] * masks + baseline * (1.0 - masks)
            n_images, n_copies = tf.shape(values)[0], tf.shape(values)[1]
            perturbed = tf.reshape(perturbed, tf.concat([[n_images * n_copies], tf.shape(images)[1:]], 0))
            keys = tf.repeat(targets, n_copies)
            logits = adapter.logits(perturbed, keys, table)[0]
            return tf.reshape(target_scores(adapter, logits, keys, score, table),
                              [n_images, n_copies])
        return segment_scores
    return adapter.cached(("segment_scores", score), build)


def segment_scores(request: Request, segments: np.ndarray, values: np.ndarray, *, baseline: float = 0.0,
                   score: str = "probability", desc: str | None = None) -> np.ndarray:
    """Target scores of masked copies of every image, ``(N, S)`` float64, batched.

    Parameters
    ----------
    request : Request
        Images ``(N, H, W, C)``, targets and ``batch_size`` (most copies per compiled call).
    segments : ndarray
        ``(N, H, W)`` or ``(H, W)`` (shared) int segment id of every pixel.
    values : ndarray
        ``(N, S, M)`` or ``(S, M)`` (shared) value in [0, 1] of each of ``M`` segments in each of
        ``S`` copies (1 keeps the pixel, 0 puts ``baseline``).
    baseline : float
        Value of removed pixels (default 0 = black, Xplique's "inpainting").
    score : {"probability", "logit"}
        What is scored (module docstring).
    """
    n_images = len(request.images)
    segments = np.broadcast_to(np.asarray(segments, np.int32), (n_images, *request.images.shape[1:3]))
    values = np.asarray(values, np.float32)
    if values.ndim == 2:
        values = np.broadcast_to(values, (n_images, *values.shape))
    function = _segment_score_function(request.adapter, score)
    targets = request.targets.astype(np.int32)
    out = np.empty(values.shape[:2], np.float64)
    baseline = tf.constant(float(baseline), tf.float32)
    for images, copies in request.progress(image_step_chunks(n_images, values.shape[1], request.batch_size),
                                           desc=desc):
        out[images, copies] = function(tf.constant(request.images[images]), tf.constant(segments[images]),
                                       tf.constant(values[images, copies]), baseline,
                                       tf.constant(targets[images])).numpy()
    return out


def resize_cells(maps: np.ndarray, height: int, width: int, method: str = "bicubic") -> np.ndarray:
    """Grid-resolution maps ``(N, g, g)`` to ``(N, H, W)``, bicubic by default (Xplique's GSA resize;
    :func:`xai_tf.explainers.base.upsample`)."""
    return upsample(np.asarray(maps, np.float32), (height, width), method).numpy()
