"""XRAI's candidate regions: PAIR's Felzenszwalb segments at six scales, dilated, as a sparse matrix.

The regions are exactly those of PAIR ``saliency`` 0.2.1 (``saliency.core.xrai._get_segments_felzenszwalb``):
the image is rescaled to [-1, 1] and resized to 224x224 (bicubic, scikit-image ``resize``), segmented
with Felzenszwalb & Huttenlocher's algorithm (scikit-image's definition: Gaussian smoothing sigma 0.8,
8-connected edge costs, ``min_size=150``) at scales 50, 100, 150, 250, 500 and 1200, each label
image resized back (nearest), and every label's mask dilated by a disk of radius 5. The tests compare
our regions with PAIR's masks and our labels with ``skimage.segmentation.felzenszwalb``.

Where we replace library code, and why (speed: PAIR's segmentation takes ~0.45 s of CPU per 64x64
image, ours ~0.07 s; ``benchmarks/bench_evaluation.py`` measures both side by side):

- Felzenszwalb: scikit-image's ``felzenszwalb`` smooths the image, computes and sorts its ~200,000
  edges again for every scale, and walks its union-find trees without path compression. The six
  scales share the image, so we smooth and sort once and run the six merge passes in one compiled
  (Numba, ``nogil``) function with the same merge rule, bit for bit: the same edge order (the same
  ``np.argsort`` of the same costs), the same float32 rounding of the internal differences, the same
  small-segment pass and labels numbered in raster order of their first pixel. Without Numba
  installed, scikit-image's function is called per scale (same labels, slower).
- Resizing to 224x224: scikit-image's ``resize`` zooms the ``(H, W, C)`` array with a 3-D cubic
  spline; zooming each channel in 2-D (``scipy.ndimage.zoom``, then the same clip) gives the same
  values bit for bit at a fifth of the cost (tested). The way back (nearest) is an index lookup
  taken from ``resize`` itself.
- Dilation and unpacking: PAIR builds one boolean mask per label and dilates each with scikit-image
  (~170 calls per image). We gather, for every pixel, the labels within the disk in one array
  operation per scale and keep the regions as a sparse boolean matrix (:class:`Regions`) in both
  row (region -> pixels) and column (pixel -> regions) order, which XRAI's greedy ranking updates
  with ``bincount``.
- Several images are segmented in parallel threads (the compiled passes release the GIL), and
  :func:`image_regions` keeps a small cache keyed by the image's bytes, so XRAI and Fast XRAI (and
  any method asked again) of the same image segment it once.
"""
from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import ndimage

#: PAIR's segmentation settings (``saliency/core/xrai.py``).
FELZENSZWALB_SCALES = (50, 100, 150, 250, 500, 1200)
FELZENSZWALB_SIGMA = 0.8
FELZENSZWALB_MIN_SIZE = 150
SEGMENTATION_SIZE = (224, 224)
DILATION_RADIUS = 5
_CACHE_BYTES = 64 << 20  # regions of ~130 images of 64x64 (about 0.5 MB each)


@dataclass(frozen=True)
class Regions:
    """Candidate regions of one ``(H, W)`` image as a sparse boolean ``(M, H*W)`` matrix.

    ``mask_pixels[mask_starts[m]:mask_starts[m + 1]]``: the flat pixel indices of region ``m``,
    ascending (row-major, as ``mask[m].ravel()`` would list them); ``pixel_masks[pixel_starts[p]:
    pixel_starts[p + 1]]``: the regions covering pixel ``p``, ascending. Region order is PAIR's
    (scale by scale, labels ascending); regions may be empty (labels lost when resizing back).
    """

    shape: tuple[int, int]
    mask_starts: np.ndarray
    mask_pixels: np.ndarray
    pixel_starts: np.ndarray
    pixel_masks: np.ndarray

    @property
    def n_masks(self) -> int:
        return len(self.mask_starts) - 1

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in (self.mask_starts, self.mask_pixels, self.pixel_starts, self.pixel_masks))

    def sizes(self) -> np.ndarray:
        """Pixels per region ``(M,)`` int64."""
        return np.diff(self.mask_starts)

    def pixels(self, mask: int) -> np.ndarray:
        """Flat pixel indices of region ``mask``, ascending."""
        return self.mask_pixels[self.mask_starts[mask]:self.mask_starts[mask + 1]]

    def to_masks(self) -> np.ndarray:
        """Dense boolean masks ``(M, H, W)`` (PAIR's ``segments`` format)."""
        dense = np.zeros((self.n_masks, self.shape[0] * self.shape[1]), bool)
        dense[np.repeat(np.arange(self.n_masks), self.sizes()), self.mask_pixels] = True
        return dense.reshape(self.n_masks, *self.shape)


def _regions(table: np.ndarray) -> Regions:
    """Regions from a boolean ``(H, W, M)`` pixel-by-region table."""
    height, width, n_masks = table.shape
    flat = table.reshape(height * width, n_masks)
    pixel_counts, mask_counts = flat.sum(axis=1), flat.sum(axis=0)
    pixel_starts = np.zeros(height * width + 1, np.int64)
    np.cumsum(pixel_counts, out=pixel_starts[1:])
    mask_starts = np.zeros(n_masks + 1, np.int64)
    np.cumsum(mask_counts, out=mask_starts[1:])
    # flatnonzero walks the table in C order: by pixel then region, and (transposed) by region then pixel.
    pixel_masks = (np.flatnonzero(flat) % n_masks).astype(np.int32)
    mask_pixels = (np.flatnonzero(np.ascontiguousarray(flat.T)) % (height * width)).astype(np.int32)
    return Regions((height, width), mask_starts, mask_pixels, pixel_starts, pixel_masks)


def regions_from_masks(masks) -> Regions:
    """Regions from boolean masks ``(M, H, W)`` (or a list of ``(H, W)`` masks, PAIR's format), used as given."""
    array = np.asarray(masks)
    if array.ndim != 3 or array.dtype != bool:
        raise ValueError(f"segments must be boolean masks of shape (M, H, W) (or a list of (H, W) masks); got "
                         f"dtype {array.dtype} and shape {array.shape}")
    return _regions(np.moveaxis(array, 0, -1))


@lru_cache(maxsize=16)
def _disk_offsets(radius: int) -> tuple[np.ndarray, np.ndarray]:
    """Row and column indices into a ``(2r+1, 2r+1)`` window of skimage's ``disk(radius)``."""
    rows, cols = np.nonzero(np.add.outer(np.arange(-radius, radius + 1) ** 2,
                                         np.arange(-radius, radius + 1) ** 2) <= radius * radius)
    return rows, cols


def regions_from_labels(labels, radius: int = DILATION_RADIUS) -> Regions:
    """PAIR's regions from label images ``(S, H, W)``: for each scale, one mask per label value from
    the smallest to the largest (PAIR's ``range(seg.min(), seg.max() + 1)``), dilated by a disk.

    A pixel belongs to the dilated mask of label ``l`` when a pixel within ``radius`` of it (inside
    the image) has label ``l``; that is scikit-image's ``dilation(mask, disk(radius))``, whose
    reflected border adds nothing for a disk.
    """
    labels = np.asarray(labels)
    n_scales, height, width = labels.shape
    lows = labels.reshape(n_scales, -1).min(axis=1).astype(np.int64)
    counts = labels.reshape(n_scales, -1).max(axis=1) - lows + 1
    bases = np.concatenate([[0], np.cumsum(counts)[:-1]])
    n_masks = int(counts.sum())
    width_of_table = n_masks + 1  # a last column for "outside the image"
    dtype = np.int32 if height * width * width_of_table < 2 ** 31 else np.int64
    padded = np.full((n_scales, height + 2 * radius, width + 2 * radius), n_masks, dtype)
    padded[:, radius:radius + height, radius:radius + width] = labels - (lows - bases)[:, None, None]
    rows, cols = _disk_offsets(radius)
    pixel = np.arange(height * width, dtype=dtype).reshape(height, width) * width_of_table
    codes = np.empty((len(rows), n_scales, height, width), dtype)  # every region within the disk
    for k, (row, col) in enumerate(zip(rows, cols)):
        np.add(padded[:, row:row + height, col:col + width], pixel, out=codes[k])
    # One boolean (pixel, region) table removes the duplicates and sorts.
    seen = np.zeros((height, width, width_of_table), bool)
    seen.reshape(-1)[codes.ravel()] = True
    return _regions(seen[:, :, :n_masks])


# -- Felzenszwalb ---------------------------------------------------------------------------------

def _merge_passes(order, costs, height, width, scales, min_size, out):  # pragma: no cover - Numba compiles it
    """Felzenszwalb's merge and small-segment passes for each scale over the same sorted edges.

    order: ``np.argsort`` of the edge costs, edges numbered as scikit-image stacks them (right,
    down, down-right, up-right neighbours). Union by smaller root index, so a component's root is its
    first pixel (as scikit-image); paths are compressed, which changes no root and so no decision.
    """
    n_pixels = height * width
    n_right, n_down, n_diagonal = height * (width - 1), (height - 1) * width, (height - 1) * (width - 1)
    first = np.empty(len(order), np.int64)
    second = np.empty(len(order), np.int64)
    sorted_costs = np.empty(len(order), np.float64)
    for e in range(len(order)):
        k = order[e]
        sorted_costs[e] = costs[k]
        if k < n_right:
            i, j = k // (width - 1), k % (width - 1)
            first[e], second[e] = i * width + j + 1, i * width + j
            continue
        k -= n_right
        if k < n_down:
            first[e], second[e] = k + width, k
            continue
        k -= n_down
        i, j = k // (width - 1), k % (width - 1)
        if k < n_diagonal:
            first[e], second[e] = (i + 1) * width + j + 1, i * width + j
        else:
            i -= height - 1
            first[e], second[e] = i * width + j + 1, (i + 1) * width + j
    forest = np.empty(n_pixels, np.int64)
    size = np.empty(n_pixels, np.int64)
    internal = np.empty(n_pixels, np.float64)
    for s in range(len(scales)):
        scale = scales[s]
        for i in range(n_pixels):
            forest[i] = i
            size[i] = 1
            internal[i] = 0.0
        for step in range(2):
            for e in range(len(order)):
                a = first[e]
                while forest[a] != a:
                    forest[a] = forest[forest[a]]
                    a = forest[a]
                b = second[e]
                while forest[b] != b:
                    forest[b] = forest[forest[b]]
                    b = forest[b]
                if a == b:
                    continue
                if step == 0:
                    # scikit-image keeps the internal differences in C floats: round as it does.
                    inner_a = np.float32(internal[a] + scale / size[a])
                    inner_b = np.float32(internal[b] + scale / size[b])
                    if not sorted_costs[e] < min(inner_a, inner_b):
                        continue
                elif size[a] >= min_size and size[b] >= min_size:
                    continue
                root, other = min(a, b), max(a, b)
                forest[other] = root
                size[root] = size[a] + size[b]
                if step == 0:
                    internal[root] = sorted_costs[e]
        count = 0
        for i in range(n_pixels):
            root = i
            while forest[root] != root:
                root = forest[root]
            if root == i:
                out[s, i] = count
                count += 1
            else:
                out[s, i] = out[s, root]


_COMPILE_LOCK = threading.Lock()
_compiled = None


def _compiled_merge_passes():
    """The Numba-compiled merge passes (cached on disk), or None when Numba is not installed."""
    global _compiled
    with _COMPILE_LOCK:
        if _compiled is None:
            try:
                import numba
            except ImportError:
                _compiled = False
            else:
                # An explicit signature compiles (or loads from the disk cache) here, once, under the lock.
                signature = "void(intp[::1], float64[::1], intp, intp, float64[::1], intp, int32[:, ::1])"
                _compiled = numba.njit(signature, nogil=True, cache=True)(_merge_passes)
        return _compiled or None


def _edge_order(image: np.ndarray, sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """scikit-image's 8-connected edge costs of the smoothed image, in its order, and their argsort."""
    image = ndimage.gaussian_filter(image, sigma=[sigma, sigma, 0], mode="reflect")
    height, width = image.shape[:2]

    def cost(a, b):
        return np.sqrt(np.sum((a - b) * (a - b), axis=-1)).ravel()

    costs = np.hstack([cost(image[:, 1:], image[:, :width - 1]), cost(image[1:], image[:height - 1]),
                       cost(image[1:, 1:], image[:height - 1, :width - 1]),
                       cost(image[1:, :width - 1], image[:height - 1, 1:])]).astype(float)
    return np.argsort(costs), costs  # the same call on the same array: the same order, ties included


def felzenszwalb_labels(image, scales=FELZENSZWALB_SCALES, sigma: float = FELZENSZWALB_SIGMA,
                        min_size: int = FELZENSZWALB_MIN_SIZE) -> np.ndarray:
    """``skimage.segmentation.felzenszwalb(image, scale, sigma, min_size)`` for several scales at once.

    image: ``(H, W)`` or ``(H, W, C)`` float. Returns int32 labels ``(len(scales), H, W)``, each equal
    to scikit-image's for that scale.
    """
    image = np.atleast_3d(np.asarray(image, np.float64))
    height, width = image.shape[:2]
    passes = _compiled_merge_passes()
    if passes is None:
        from skimage.segmentation import felzenszwalb

        return np.stack([felzenszwalb(image, scale=s, sigma=sigma, min_size=min_size) for s in scales]
                        ).astype(np.int32)
    order, costs = _edge_order(image, sigma)
    out = np.empty((len(scales), height * width), np.int32)
    passes(order.astype(np.intp, copy=False), np.ascontiguousarray(costs), height, width,
           np.asarray(scales, np.float64) / 255.0, int(min_size), out)
    return out.reshape(len(scales), height, width)


@lru_cache(maxsize=32)
def _nearest_index(source: tuple[int, int], target: tuple[int, int]) -> np.ndarray:
    """Flat source index of every target pixel under PAIR's nearest resize (skimage ``resize``,
    ``order=0``): resizing a map of indices picks exactly the pixels it picks for labels."""
    from skimage.transform import resize

    index = np.arange(source[0] * source[1], dtype=np.float64).reshape(source)
    picked = resize(index, target, order=0, preserve_range=True, mode="constant", anti_aliasing=False)
    return picked.astype(np.int64).ravel()


def _resized(image: np.ndarray) -> np.ndarray:
    """PAIR's ``_normalize_image(image, [-1, 1], (224, 224))``, equal to scikit-image's ``resize`` bit for bit.

    ``resize`` (bicubic, ``mode="constant"``, ``anti_aliasing=True``, which is a no-op when
    enlarging) is ``ndimage.zoom`` over (H, W, C) and a clip to the input's range; zooming each
    channel in 2-D gives the same values at a fraction of the cost (tested). Images larger than
    224x224 go through ``resize`` itself.
    """
    image = np.asarray(image)
    low, high = np.min(image), np.max(image)
    scaled = (image - low) / (high - low)  # operation for operation as PAIR
    scaled = scaled * 2.0 + -1.0
    zoom = np.divide(SEGMENTATION_SIZE, image.shape[:2])
    if np.any(zoom < 1) or scaled.dtype not in (np.float32, np.float64):
        # Shrinking smooths first: leave it to scikit-image.
        from skimage.transform import resize

        return resize(scaled, SEGMENTATION_SIZE, order=3, mode="constant", preserve_range=True, anti_aliasing=True)
    out = np.stack([ndimage.zoom(scaled[..., c], zoom, order=3, mode="grid-constant", grid_mode=True)
                    for c in range(scaled.shape[2])], axis=-1)
    return np.clip(out, np.min(scaled), np.max(scaled), out=out)


def segment_labels(image) -> np.ndarray:
    """PAIR's six Felzenszwalb label images of one ``(H, W, C)`` image, at its size, int32 ``(6, H, W)``."""
    labels = felzenszwalb_labels(_resized(image))
    index = _nearest_index(SEGMENTATION_SIZE, tuple(image.shape[:2]))
    return labels.reshape(len(labels), -1)[:, index].reshape(len(labels), *image.shape[:2])


def segment(image) -> Regions:
    """PAIR's XRAI regions of one ``(H, W, C)`` image (see the module docstring)."""
    return regions_from_labels(segment_labels(image))


_cache: OrderedDict[bytes, Regions] = OrderedDict()
_cache_lock = threading.Lock()


def _key(image: np.ndarray) -> bytes:
    digest = hashlib.blake2b(np.ascontiguousarray(image).tobytes(), digest_size=16)
    digest.update(repr((image.shape, image.dtype.str)).encode())
    return digest.digest()


def _remember(key: bytes, regions: Regions) -> None:
    with _cache_lock:
        _cache[key] = regions
        _cache.move_to_end(key)
        total = sum(r.nbytes for r in _cache.values())
        while total > _CACHE_BYTES and len(_cache) > 1:
            total -= _cache.popitem(last=False)[1].nbytes


def clear_cache() -> None:
    """Forget the cached regions of every image."""
    with _cache_lock:
        _cache.clear()


def image_regions(images, workers: int | None = None) -> list[Regions]:
    """PAIR's XRAI regions of each image ``(N, H, W, C)``, segmented in parallel threads, cached.

    workers: threads (default: the CPUs this process may use, at most N). Images seen recently (same
    bytes, shape and dtype) reuse their regions from a cache of at most 64 MB.
    """
    images = np.asarray(images)
    if images.ndim != 4:
        raise ValueError(f"images must be NHWC (N, H, W, C); got shape {images.shape}")
    keys = [_key(image) for image in images]
    with _cache_lock:
        found = {key: _cache[key] for key in keys if key in _cache}
    first = {}
    for i, key in enumerate(keys):
        if key not in found:
            first.setdefault(key, i)  # each distinct image once
    missing = list(first.values())
    if workers is None:
        workers = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a positive integer or None; got {workers!r}")
    workers = min(workers, len(missing))
    if workers > 1:
        _compiled_merge_passes()  # compile (or load) once, before the threads call it
        with ThreadPoolExecutor(workers) as pool:
            computed = list(pool.map(lambda i: segment(images[i]), missing))
    else:
        computed = [segment(images[i]) for i in missing]
    for i, regions in zip(missing, computed):
        found[keys[i]] = regions
        _remember(keys[i], regions)
    return [found[key] for key in keys]
