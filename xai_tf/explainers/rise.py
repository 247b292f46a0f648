"""RISE: Randomized Input Sampling for Explanation (Petsiuk, Das & Saenko 2018).

Our own batched implementation of the paper's algorithm (and of its original code's masks):

1. ``n_masks`` binary grids ``grid_size x grid_size``, each cell kept with probability ``p``;
2. each grid upsampled bilinearly to ``(grid_size + 1) * cell`` pixels per side, where
   ``cell = ceil(H / grid_size)``, and cropped to ``H x W`` at a random shift in ``[0, cell)`` per
   mask and axis (smooth masks whose cells do not line up with a fixed grid);
3. the masked image ``x * m + mask_value * (1 - m)`` scored with the target class probability;
4. ``S = sum_i f(x * m_i) m_i / (n_masks * p)`` (the paper's Monte-Carlo estimate of
   ``E[f(x * M) M] / E[M]``).

``normalization="xplique"`` divides by the per-pixel sum of the masks instead,
``sum_i f m_i / (sum_i m_i + 1e-4)`` (Xplique's ``Rise``); both estimate the same quantity and
converge to the same map (``E[M] = p`` at every pixel), the per-pixel sum removing the noise of
how often each pixel happened to be kept. That noise matters when the score barely changes between
masks: it is about ``mean(f) sd(sum_i m_i) / (n_masks p)`` per pixel. Measured on a small untrained
CNN whose probabilities move little (8,000 masks, 32 px), the paper's normalisation correlated
0.33-0.50 with Xplique's ``Rise`` and ``"xplique"`` 0.99; on a linear model both converge to the
analytic map (``tests/test_explain_estimators.py``). Two further differences from Xplique, kept
the paper's way here: Xplique's ``tf.image.random_crop`` of a whole batch of masks uses one shift
for the batch (not one per mask), and it upsamples to ``H (1 + 1/grid_size)`` rather than
``(grid_size + 1) ceil(H / grid_size)``.
The bilinear resize is TensorFlow's (half-pixel centres, edges clamped); the original code's
``skimage.transform.resize(..., mode="reflect")`` differs only within half a cell of the upsampled
border.

Speed: the masks are never built on the host. A bilinear resize is separable and linear, so a
cropped mask is ``R_rows[shift_y : shift_y + H] @ grid @ R_cols[shift_x : shift_x + W].T`` with
the interpolation matrices ``R`` of ``tf.image.resize``; one compiled function builds the masks of
a chunk from the grids and shifts, scores the masked images and returns the chunk's weighted sums.
The grids and shifts of image ``i`` are drawn from ``rng_for(seed, i)``, so maps do not depend on
``batch_size`` or on the other images.
"""
from __future__ import annotations

import numpy as np
import tensorflow as tf

from xai_tf._checks import check_choice, check_number, check_positive
from xai_tf._docstrings import fill_doc
from xai_tf._random import rng_for
from xai_tf.explainers.base import Request, image_step_chunks
from xai_tf.explainers.docblocks import REQUEST_SEEDED
from xai_tf.explainers.masking import SCORE, check_grid_size, check_score, target_scores

NORMALIZATIONS = ("paper", "xplique")
_XPLIQUE_EPSILON = 1e-4  # Xplique's Rise.EPSILON in the per-pixel normalisation


def interpolation_matrix(size: int, upsampled: int) -> np.ndarray:
    """``(upsampled, size)`` matrix ``R`` with ``tf.image.resize(v, upsampled, "bilinear") == R @ v``."""
    basis = np.eye(size, dtype=np.float32).reshape(size, size, 1, 1)  # `size` images of size x 1
    return tf.image.resize(basis, (upsampled, 1), method="bilinear").numpy()[:, :, 0, 0].T


def mask_geometry(height: int, width: int, grid_size: int):
    """``(cell_h, cell_w), R_rows, R_cols`` of the paper's upsampling (cell = ceil(size / grid_size))."""
    cells = (-(-height // grid_size), -(-width // grid_size))
    rows = interpolation_matrix(grid_size, (grid_size + 1) * cells[0])
    cols = interpolation_matrix(grid_size, (grid_size + 1) * cells[1])
    return cells, rows, cols


def draw_masks(seed: int, index: int, n_masks: int, grid_size: int, keep_probability: float, cells):
    """Grids ``(n_masks, g, g)`` float32 in {0, 1} and shifts ``(n_masks, 2)`` int32 of image ``index``."""
    rng = rng_for(seed, index)
    grids = (rng.random((n_masks, grid_size, grid_size)) < keep_probability).astype(np.float32)
    shifts = np.stack([rng.integers(0, cells[0], n_masks), rng.integers(0, cells[1], n_masks)], axis=1)
    return grids, shifts.astype(np.int32)


def build_masks(grids, shifts, rows, cols, height: int, width: int):
    """Smooth masks ``(..., H, W)`` from grids ``(..., g, g)``, shifts ``(..., 2)`` and the interpolation matrices."""
    row_weights = tf.gather(rows, shifts[..., 0:1] + tf.range(height))  # (..., H, g)
    col_weights = tf.gather(cols, shifts[..., 1:2] + tf.range(width))  # (..., W, g)
    return tf.einsum("...hg,...gk,...wk->...hw", row_weights, grids, col_weights)


def _rise_function(adapter, score: str):
    def build():
        matrix = tf.TensorSpec([None, None], tf.float32)

        @tf.function(input_signature=[adapter.image_spec, tf.TensorSpec([None, None, None, None], tf.float32),
                                      tf.TensorSpec([None, None, 2], tf.int32), matrix, matrix,
                                      tf.TensorSpec([], tf.float32), adapter.target_spec, *adapter.table_spec])
        def rise_sums(images, grids, shifts, rows, cols, mask_value, targets, *table):
            height, width = tf.shape(images)[1], tf.shape(images)[2]
            masks = build_masks(grids, shifts, rows, cols, height, width)  # (I, S, H, W)
            expanded = masks[..., None]
            perturbed = images[:, None] * expanded + mask_value * (1.0 - expanded)
            n_images, n_masks = tf.shape(grids)[0], tf.shape(grids)[1]
            perturbed = tf.reshape(perturbed, tf.concat([[n_images * n_masks], tf.shape(images)[1:]], 0))
            keys = tf.repeat(targets, n_masks)
            scores = target_scores(adapter, adapter.logits(perturbed, keys, table)[0], keys, score, table)
            scores = tf.reshape(scores, [n_images, n_masks])
            return tf.einsum("is,ishw->ihw", scores, masks), tf.reduce_sum(masks, axis=1)
        return rise_sums
    return adapter.cached(("rise", score), build)


@fill_doc(request=REQUEST_SEEDED, score=SCORE)
def rise(request: Request, *, n_masks: int = 4000, grid_size: int = 7, keep_probability: float = 0.5,
         mask_value: float = 0.0, normalization: str = "paper", score: str = "probability") -> np.ndarray:
    """RISE (Petsiuk et al. 2018): the score-weighted average of random smooth masks.

    Parameters
    ----------
    {request}
    n_masks : int
        Masks per image (default 4,000, the paper's for ResNet-50 and Xplique's); one forward
        pass each.
    grid_size : int
        Cells per side of the binary grid (default 7, the paper's and Xplique's); at most ``min(H, W)``.
    keep_probability : float
        Probability ``p`` that a cell is kept, in (0, 1] (default 0.5, the paper's and Xplique's).
    mask_value : float
        Value of masked pixels (default 0 = black, the paper's ``I * M`` and Xplique's default).
    normalization : {"paper", "xplique"}
        Divide by ``n_masks * p`` (default, the paper) or by the per-pixel sum of the masks
        (Xplique; less noisy when the score varies little between masks); see the module docstring.
    {score}

    Returns
    -------
    ndarray
        ``(N, H, W)`` maps, in the score's units. Seeded by ``seed`` (grids and shifts per image).

    Raises
    ------
    ValueError
        ``n_masks < 1``, ``grid_size`` larger than the image, ``keep_probability`` outside (0, 1],
        an unknown ``normalization`` or ``score``.
    """
    height, width = request.images.shape[1:3]
    check_positive(n_masks, "n_masks", integer=True)
    grid_size = check_grid_size(grid_size, height, width)
    keep_probability = check_number(keep_probability, "keep_probability", 0.0, 1.0)
    if keep_probability == 0.0:
        raise ValueError("keep_probability must lie in (0, 1]; got 0 (every mask would remove the whole image)")
    mask_value = check_number(mask_value, "mask_value")
    check_choice(normalization, "normalization", NORMALIZATIONS)
    check_score(score)
    cells, rows, cols = mask_geometry(height, width, grid_size)
    function = _rise_function(request.adapter, score)
    n_images = len(request.images)
    weighted = np.zeros((n_images, height, width), np.float64)
    mask_sums = np.zeros((n_images, height, width), np.float64)
    targets = request.targets.astype(np.int32)
    last_index, last_draw = -1, None  # an image's draws, kept while its masks are spread over calls
    for images, masks in request.progress(image_step_chunks(n_images, n_masks, request.batch_size)):
        draws = []
        for i in range(n_images)[images]:
            if i != last_index:
                last_index, last_draw = i, draw_masks(request.seed, i, n_masks, grid_size, keep_probability, cells)
            draws.append(last_draw)
        grids = np.stack([draw[0][masks] for draw in draws])
        shifts = np.stack([draw[1][masks] for draw in draws])
        sums, counts = function(tf.constant(request.images[images]), tf.constant(grids), tf.constant(shifts),
                                tf.constant(rows), tf.constant(cols), tf.constant(mask_value, tf.float32),
                                tf.constant(targets[images]))
        weighted[images] += sums.numpy()
        mask_sums[images] += counts.numpy()
    if normalization == "paper":
        return (weighted / (n_masks * keep_probability)).astype(np.float32)
    return (weighted / (mask_sums + _XPLIQUE_EPSILON)).astype(np.float32)
