"""Blurred images for Performance Information Curves: fill the pixels a mask hides from the pixels it keeps.

Two interpolators, both working on 8-bit images (``uint8`` values, as PAIR's PIC does):

- ``blur_exact``: PAIR's ``saliency.metrics.pic.create_blurred_image`` (linear interpolation over the
  Delaunay triangulation of the kept pixels, corners always kept, mean colour outside the hull,
  rounded to 8 bits) reproduced value for value. PAIR calls ``scipy.interpolate.griddata`` once per
  channel, which triangulates the same points once per channel; here one ``scipy.spatial.Delaunay``
  serves all channels (``LinearNDInterpolator`` with vector values does the same arithmetic per
  channel), and many masks are filled in parallel threads (Qhull releases the GIL).
- ``blur_fast``: an XLA-compiled masked push-pull pyramid (Gortler et al. 1996, "The Lumigraph",
  section 3.2; a normalised-convolution pyramid: 2x2 box pull, bilinear push, clamped weights):
  kept pixels stay exact, hidden pixels get a smooth fill from coarser levels. It fills a batch of
  masks per compiled call, on the GPU when there is one. It approximates the Delaunay fill (same
  kept pixels, smooth in between), so PIC curves agree with ``blur_exact`` closely but not bit for
  bit; see ``benchmarks/bench_pic.py`` and the measurements above ``CHUNK``.
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import tensorflow as tf
from scipy.spatial import Delaunay


def with_corners(masks: np.ndarray) -> np.ndarray:
    """Return a copy of boolean ``masks`` ``(..., H, W)`` with the four corner pixels set (PAIR always keeps them)."""
    masks = np.array(masks, dtype=bool, copy=True)
    masks[..., 0, 0] = masks[..., 0, -1] = masks[..., -1, 0] = masks[..., -1, -1] = True
    return masks


def blur_exact_one(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Fill the hidden pixels of one image by PAIR's Delaunay-linear rule.

    image: ``(H, W, C)`` uint8. mask: ``(H, W)`` bool, True = pixel kept (corners are added).
    Returns ``(H, W, C)`` uint8, equal to ``create_blurred_image(image, mask)`` of PAIR's saliency 0.2.1.
    """
    mask = with_corners(mask)
    if mask.all():
        return image.copy()
    # Same points in the same (row-major) order as PAIR's np.argwhere, so Qhull builds the same
    # triangulation (grids are full of co-circular points: the input order decides the diagonals).
    known = np.argwhere(mask)
    triangles = Delaunay(known.astype(np.float64)).simplices
    rows, cols, vertices, weights, area = _rasterise(known, triangles, mask)
    # Linear interpolation in exact integer arithmetic (vertices and pixels are on the integer grid),
    # one division per value: griddata's floating barycentric coordinates agree to ~1e-13, far
    # below the float32 rounding that follows, and a pixel on a shared edge gets the same value
    # from either triangle, so which triangle claims it does not matter.
    values = image[known[:, 0], known[:, 1]].astype(np.int64)               # (K, C)
    numerator = np.einsum("pv,pvc->pc", weights, values[vertices])
    filled = numerator / area[:, None]
    # PAIR writes into a float32 image, rounds half to even and casts back to uint8.
    result = image.astype(np.float32) * mask[..., None].astype(np.float32)
    # Outside the hull griddata uses the mean colour; with the corners kept every pixel is inside,
    # so this only guards degenerate masks.
    result[~mask] = image.mean(axis=(0, 1)).astype(np.float32)
    result[rows, cols] = filled.astype(np.float32)
    return np.round(result).astype(np.uint8)


def _rasterise(points: np.ndarray, triangles: np.ndarray, mask: np.ndarray):
    """Hidden grid pixels inside each triangle, with integer barycentric weights.

    points: ``(K, 2)`` int (row, col); triangles: ``(T, 3)`` vertex indices; mask: ``(H, W)`` kept.
    Returns rows, cols ``(P,)`` of hidden pixels (each once), vertices ``(P, 3)``, weights ``(P, 3)``
    int64 (twice the sub-triangle areas) and area ``(P,)`` (twice the triangle area) so that the
    linear interpolant is ``sum(weights * values[vertices]) / area``.
    """
    corners = points[triangles].astype(np.int64)                            # (T, 3, 2)
    low, high = corners.min(axis=1), corners.max(axis=1)
    extent = high - low + 1
    counts = extent[:, 0] * extent[:, 1]
    owner = np.repeat(np.arange(len(triangles)), counts)                    # candidate pixel -> triangle
    offset = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    rows = low[owner, 0] + offset // extent[owner, 1]
    cols = low[owner, 1] + offset % extent[owner, 1]
    keep = ~mask[rows, cols]
    owner, rows, cols = owner[keep], rows[keep], cols[keep]
    a, b, c = (corners[owner, k] for k in range(3))

    def cross(p, q, r_row, r_col):  # twice the signed area of (p, q, r)
        return (q[:, 0] - p[:, 0]) * (r_col - p[:, 1]) - (q[:, 1] - p[:, 1]) * (r_row - p[:, 0])

    weights = np.stack([cross(b, c, rows, cols), cross(c, a, rows, cols), cross(a, b, rows, cols)], axis=1)
    area = weights.sum(axis=1)
    # Orientation-free inside test (edges included): all weights share the sign of the area.
    inside = np.all(weights * np.sign(area)[:, None] >= 0, axis=1) & (area != 0)
    owner, rows, cols, weights, area = owner[inside], rows[inside], cols[inside], weights[inside], area[inside]
    # Pixels on shared edges appear more than once; keep one (the interpolated value is the same).
    _, first = np.unique(rows * mask.shape[1] + cols, return_index=True)
    return rows[first], cols[first], triangles[owner[first]], weights[first], area[first]


def blur_exact(images: np.ndarray, masks: np.ndarray, image_index=None, workers: int | None = None) -> np.ndarray:
    """Fill many masks with ``blur_exact_one`` in a thread pool.

    images: ``(N, H, W, C)`` uint8. masks: ``(M, H, W)`` bool. image_index: ``(M,)`` ints, which image
    each mask applies to (default ``arange(M)``, i.e. ``M == N``). workers: threads (default: CPU count).
    Returns ``(M, H, W, C)`` uint8.
    """
    images, masks, image_index = _check_blur_args(images, masks, image_index)
    workers = workers or os.cpu_count() or 1
    output = np.empty((len(masks),) + images.shape[1:], dtype=np.uint8)

    def fill(m):
        output[m] = blur_exact_one(images[image_index[m]], masks[m])

    if workers == 1 or len(masks) == 1:
        for m in range(len(masks)):
            fill(m)
    else:
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(fill, range(len(masks))))
    return output


def _check_blur_args(images, masks, image_index):
    images = np.asarray(images)
    masks = np.asarray(masks, dtype=bool)
    if images.dtype != np.uint8 or images.ndim != 4:
        raise ValueError(f"images must be uint8 (N, H, W, C); got {images.dtype} {images.shape}")
    if masks.ndim != 3 or masks.shape[1:] != images.shape[1:3]:
        raise ValueError(f"masks must be (M, H, W) with H, W = {images.shape[1:3]}; got {masks.shape}")
    if image_index is None:
        if len(masks) != len(images):
            raise ValueError("image_index is required when masks and images differ in number")
        image_index = np.arange(len(masks))
    image_index = np.asarray(image_index, dtype=np.int64)
    if image_index.shape != (len(masks),) or image_index.min() < 0 or image_index.max() >= len(images):
        raise ValueError(f"image_index must be ({len(masks)},) indices into images")
    return images, masks, image_index


# ----------------------------------------------------------------------------------------------
# Fast push-pull fill
# ----------------------------------------------------------------------------------------------
# Pull = 2x2 box mean of the known pixels; push = bilinear 2x upsampling; clamped weights.
# Measured with benchmarks/bench_pic.py's model, images and maps (Shannon entropy, 224x224, 13
# thresholds, 16 images; per-image mean |AUC fast - AUC exact| on random / smooth maps): this box
# pull 0.10 / 0.045 at ~1.3 ms per fill; Gortler's binomial [1, 3, 3, 1] pull (the previous
# version) 0.12 / 0.086 at ~3 ms (XLA) or ~6 ms (depthwise_conv2d + tf.image.resize); box pull
# with [1, 2, 1] smoothing of the coarse levels 0.13-0.18 / 0.09-0.13; on 8 images, one or two
# residual passes (the pyramid run again on what the fill misses at kept pixels) 0.18-0.20 /
# 0.015-0.02 at 2-3x the cost. Earlier: Laplace relaxation (a harmonic fill) lowers Shannon entropy
# (cusps at isolated kept pixels); unclamped weights and bicubic push are worse. For scale: the
# exact fill's own per-image AUCs move by 0.125 / 0.083 when only the seed masks change, and
# re-ordering the Delaunay input points (other diagonals on co-circular points) moves them by
# 0.001: a Delaunay-linear fill agrees to 0.03 per image under this entropy, no pyramid tried does.
# Every step is a reshape, slice or add (no convolution, no tf.image.resize), which XLA fuses.

#: Masks filled per compiled call. Fixed so that XLA compiles once per image size (a new batch size
#: would recompile, ~1.5 s); 8-16 masks of 224x224 is also the fastest per fill on a 2-core CPU.
CHUNK = 16


def _halves(x: tf.Tensor, axis: int) -> tuple[tf.Tensor, tf.Tensor]:
    """Even and odd entries of ``x`` ``(B, H, W, C)`` along ``axis`` 1 or 2 (even length), by a free reshape."""
    _, height, width, channels = x.shape
    if axis == 1:
        pairs = tf.reshape(x, [-1, height // 2, 2 * width, channels])   # row 2i then row 2i + 1
        return pairs[:, :, :width], pairs[:, :, width:]
    pairs = tf.reshape(x, [-1, height, width // 2, 2 * channels])        # column 2j then 2j + 1
    return pairs[..., :channels], pairs[..., channels:]


def _interleave(even: tf.Tensor, odd: tf.Tensor, axis: int) -> tf.Tensor:
    """Inverse of ``_halves``: entries ``even[i], odd[i]`` alternate along ``axis``."""
    _, height, width, channels = even.shape
    if axis == 1:
        return tf.reshape(tf.concat([even, odd], axis=2), [-1, 2 * height, width, channels])
    return tf.reshape(tf.concat([even, odd], axis=3), [-1, height, 2 * width, channels])


def _pull(stacked: tf.Tensor) -> tf.Tensor:
    """One pyramid level down: 2x2 box mean of ``[v * w, w]`` channels (H and W even)."""
    for axis in (1, 2):
        even, odd = _halves(stacked, axis)
        stacked = (even + odd) * 0.5
    return stacked


def _upsample(x: tf.Tensor, height: int, width: int) -> tf.Tensor:
    """Bilinear 2x upsampling with half-pixel centres and clamped edges (``tf.image.resize``'s
    bilinear for an exact factor 2: weights 3/4 and 1/4), cropped to ``height`` x ``width``."""
    def part(tensor, axis, start, stop):
        index = [slice(None)] * 4
        index[axis] = slice(start, stop)
        return tensor[tuple(index)]

    for axis, length in ((1, height), (2, width)):
        before = tf.concat([part(x, axis, 0, 1), part(x, axis, None, -1)], axis=axis)  # x[i - 1], edge repeated
        after = tf.concat([part(x, axis, 1, None), part(x, axis, -1, None)], axis=axis)  # x[i + 1], edge repeated
        x = part(_interleave(0.75 * x + 0.25 * before, 0.75 * x + 0.25 * after, axis), axis, 0, length)
    return x


def _push_pull(images: tf.Tensor, masks: tf.Tensor) -> tf.Tensor:
    """Fill hidden pixels of ``images`` ``(B, H, W, C)`` float32 where ``masks`` ``(B, H, W)`` is False.

    H and W must be static (the pyramid depth is unrolled at trace time). Returns the fill for every
    pixel (kept pixels get their own value).
    """
    weight = tf.cast(masks, tf.float32)[..., None]
    levels = [tf.concat([images * weight, weight], axis=-1)]  # [weighted values, known fraction], finest first
    while levels[-1].shape[1] > 1 or levels[-1].shape[2] > 1:
        level = levels[-1]
        # Odd sizes get one more row/column of zero weight, so 2x down/up sampling stays aligned.
        level = tf.pad(level, [[0, 0], [0, level.shape[1] % 2], [0, level.shape[2] % 2], [0, 0]])
        levels.append(_pull(level))
    top = levels[-1]
    estimate = top[..., :-1] / tf.maximum(top[..., -1:], 1e-12)  # coarsest: mean of all known pixels
    for level in reversed(levels[:-1]):
        numerator, weight = level[..., :-1], level[..., -1:]
        up = _upsample(estimate, level.shape[1], level.shape[2])
        # Any known pixel under a cell makes the cell's own mean win (Gortler's clamped weights,
        # clamped at the first sample): the fill follows the nearest known pixels instead of a
        # wide average. At level 0 the weight is 0 or 1, so kept pixels keep their value.
        estimate = tf.where(weight > 0, numerator / tf.maximum(weight, 1e-12), up)
    return estimate


_FILLERS: dict = {}


def _filler(height: int, width: int, channels: int):
    """One XLA-compiled fill per image size, for batches of exactly ``CHUNK`` masks."""
    key = (height, width, channels)
    if key not in _FILLERS:
        # Every input has a fixed shape: XLA compiles once per concrete shape.
        @tf.function(jit_compile=True, input_signature=[
            tf.TensorSpec([CHUNK, height, width, channels], tf.uint8),
            tf.TensorSpec([CHUNK, height, width], tf.bool)])
        def fill(images, masks):
            # _push_pull already returns kept pixels unchanged (value * 1 / 1 at level 0), and they
            # are whole numbers, so rounding leaves them as they are.
            return tf.round(_push_pull(tf.cast(images, tf.float32), masks))
        _FILLERS[key] = fill
    return _FILLERS[key]


def blur_fast(images, masks, image_index=None) -> tf.Tensor:
    """Fill many masks with the compiled push-pull pyramid, ``CHUNK`` masks per call.

    images: ``(N, H, W, C)`` uint8. masks: ``(M, H, W)`` bool, True = kept (corners are added, as
    PAIR does). image_index: ``(M,)`` which image each mask applies to (default ``arange(M)``).
    Returns a float32 ``tf.Tensor`` ``(M, H, W, C)`` holding 8-bit values (rounded half to even
    like ``blur_exact``); kept pixels equal the image exactly.
    """
    images, masks, image_index = _check_blur_args(images, masks, image_index)
    count = len(masks)
    padding = -count % CHUNK  # the last call is padded with copies of the first mask, then cropped
    masks = with_corners(np.concatenate([masks, np.repeat(masks[:1], padding, axis=0)]))
    image_index = np.concatenate([image_index, np.repeat(image_index[:1], padding)])
    fill = _filler(*images.shape[1:])
    parts = [fill(tf.constant(images[image_index[start:start + CHUNK]]), tf.constant(masks[start:start + CHUNK]))
             for start in range(0, len(masks), CHUNK)]
    return tf.concat(parts, axis=0)[:count]
