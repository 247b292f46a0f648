"""Blurred images for Performance Information Curves: fill the pixels a mask hides from the pixels it keeps.

Both fills work on 8-bit images (``uint8`` values, as PAIR's PIC does) and compute the same thing:
linear interpolation over the Delaunay triangulation of the kept pixels (corners always kept),
rounded to 8 bits.

- ``blur_exact``: PAIR's ``saliency.metrics.pic.create_blurred_image`` reproduced value for value
  (the reference). PAIR calls ``scipy.interpolate.griddata`` once per channel, which triangulates
  the same points once per channel; here one ``scipy.spatial.Delaunay`` (Qhull, the same points in
  the same order) serves all channels, and many masks are filled in parallel threads.
- ``blur_fast``: the same fill, cheaper in three ways. (1) Only the kept pixels that can be a
  vertex of a triangle over a hidden pixel are triangulated (``support``: the kept pixels next to
  a hidden one, plus a coarse lattice); the triangles over hidden pixels are the same. (2) They are
  triangulated by ``xai_tf.metrics.information_curves.delaunay.grid_delaunay`` (our Bowyer-Watson insertion with
  exact integer predicates, compiled with numba: ~0.7 us per point, against ~14 us for Qhull on
  pixel grids, which are full of co-circular quadruples, and ~1 us for Shewchuk's Triangle, which
  is free for non-commercial use only and so an optional extra, ``pip install
  'xai-tf[triangle]'``). Images of up to ``QHULL_PIXELS`` pixels and supports of up to
  ``QHULL_SUPPORT`` of the pixels keep Qhull: cheap there, and closer to ``blur_exact``. (3) Hidden
  pixels are rasterised triangle by triangle in a numba-compiled loop (cached on disk: a later
  process loads it, it does not compile again) with the exact fill's integer arithmetic. Where four
  or more kept pixels are co-circular, the triangulators may pick different diagonals (all are
  Delaunay triangulations), so a few percent of filled pixels differ at dense masks; PIC AUCs move by
  about as much as when the exact fill's points are merely re-ordered (measured at 64-224 px:
  per-image |dAUC| <= 0.008 with WebP; with Shannon entropy an image whose fully blurred entropy is
  ~0.03 bits below the original's moved by up to 0.24 at 224 px with ours or Triangle, 0.003 with
  Qhull on the support). The default does not depend on whether ``triangle`` is installed (same fill
  everywhere); ``triangulator=`` picks another (``benchmarks/bench_pic.py --fills`` compares them).
  Without numba the support is triangulated by Qhull and rasterised in NumPy
  (same values as Qhull's, slower).

Why not a pyramid: the previous ``blur_fast`` was a compiled push-pull pyramid (Gortler et al.
1996). On scikit-image photographs at 224x224 with a random map its fills moved the normalised
Shannon entropy of the threshold images by 0.1-0.9 of the blurred-to-original range (0.03-0.05
with WebP), because the histogram entropy of a photograph barely changes with blurring (ranges of
0.05-0.15 bits), while Triangle on the support moved it by <= 0.02 (<= 0.004 with WebP); the
pyramid also made the fully blurred image differ from PAIR's, which decides which images are
scored at all. See ``benchmarks/bench_pic.py`` and the README's PIC table.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
from scipy import ndimage
from scipy.spatial import Delaunay

from xai_tf._checks import check_choice, worker_count
from xai_tf.metrics.information_curves.delaunay import grid_delaunay


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
    return _linear_fill(image, mask, np.argwhere(mask))


def _linear_fill(image: np.ndarray, mask: np.ndarray, known: np.ndarray) -> np.ndarray:
    """Delaunay-linear fill of the hidden pixels of ``image`` from the kept pixels ``known`` ``(K, 2)``.

    ``known`` holds every kept pixel (``blur_exact_one``) or a subset that contains the vertices of
    every triangle over a hidden pixel (``blur_fast``: see ``support``). Corners must be kept.
    """
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
    workers = worker_count(workers)
    output = np.empty((len(masks),) + images.shape[1:], dtype=np.uint8)

    def fill(m):
        output[m] = blur_exact_one(images[image_index[m]], masks[m])

    _each_mask(fill, len(masks), workers)
    return output


def _each_mask(fill, count: int, workers: int) -> None:
    """``fill(m)`` for every mask ``m``, in a thread pool (Qhull and the numba kernel release the GIL)."""
    if workers == 1 or count == 1:
        for m in range(count):
            fill(m)
    else:
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(fill, range(count)))


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
# Fast fill: the same Delaunay-linear fill, from fewer points, triangulated and rasterised faster
# ----------------------------------------------------------------------------------------------
#: Spacing of the lattice of kept pixels added to the support (``support``).
LATTICE = 8

#: Images of at most this many pixels (64x64) are triangulated by Qhull, as ``blur_exact`` does:
#: their supports are small enough for Qhull to be cheap, and Qhull on the support picks the same
#: diagonals as on every kept pixel far more often than another triangulator does. Small images
#: have few pixels to average over, so a diagonal moves their entropy more (measured at 64x64 with
#: Shannon entropy: per-image |AUC fast - exact| 0.009 with Triangle, see benchmarks/bench_pic.py).
QHULL_PIXELS = 64 * 64

#: Supports of at most this fraction of the image's pixels are triangulated by Qhull whatever the
#: image size (the fully blurred image's 1% seeds and the first thresholds): cheap there, and the
#: fully blurred image anchors every curve. Measured at 224x224 with Shannon entropy: an image whose
#: fully blurred entropy is 0.027 bits below the original's moved its AUC by 0.24 when ours
#: triangulated its seed pixels (0.013 bits of fully blurred entropy), by 0.001 with this rule.
QHULL_SUPPORT = 0.1

#: ``blur_fast``'s triangulators of the support: our compiled Bowyer-Watson (``"grid"``), Qhull
#: (``"qhull"``, scipy) and Shewchuk's Triangle (``"triangle"``, the optional ``triangle`` package).
TRIANGULATORS = ("grid", "qhull", "triangle")


def support(mask: np.ndarray) -> np.ndarray:
    """Kept pixels that decide the Delaunay-linear fill of boolean ``mask`` ``(H, W)`` (True = kept).

    A triangle of the Delaunay triangulation of all kept pixels that covers a hidden pixel has an
    empty circumcircle; removing other kept points keeps it empty, so it stays a triangle of the
    triangulation of any subset that contains its vertices. Those vertices lie on a circle whose
    inside holds no kept pixel but at least one hidden pixel; a vertex's neighbour towards the
    centre lies inside the circle (radius >= 1; a smaller circle's hidden pixel is itself a
    neighbour), so it is hidden. Hence the kept pixels with a hidden pixel among their 8
    neighbours carry those triangles (argued, not proven at the image border; the tests check the
    fill against ``blur_exact``). Kept pixels on a ``LATTICE`` grid are added so that
    the triangles over large kept areas stay small (cheap to rasterise); corners are always in.
    Returns ``(K, 2)`` int
    (row, col), row-major. Fills agree with ``blur_exact_one`` except where co-circular grid points
    let Qhull choose another diagonal (both choices are Delaunay triangulations).
    """
    mask = with_corners(mask)
    near = ndimage.binary_dilation(~mask, structure=np.ones((3, 3), bool))
    chosen = mask & near
    chosen[::LATTICE, ::LATTICE] |= mask[::LATTICE, ::LATTICE]
    chosen[0, 0] = chosen[0, -1] = chosen[-1, 0] = chosen[-1, -1] = True
    return np.argwhere(chosen)


def _triangulate(points: np.ndarray, shape: tuple, triangulator: str) -> np.ndarray:
    """Delaunay triangles ``(T, 3)`` of integer ``points`` ``(K, 2)`` (corners of ``shape`` included)."""
    if triangulator == "grid":
        return grid_delaunay(points, shape[0], shape[1])
    if triangulator == "triangle":
        return triangle.triangulate({"vertices": points.astype(np.float64)}, "Q")["triangles"]
    return Delaunay(points.astype(np.float64)).simplices


def default_triangulator(height: int, width: int, support_size: int | None = None) -> str:
    """``blur_fast``'s triangulator: ``"qhull"`` for images of up to ``QHULL_PIXELS`` pixels, for
    supports of at most ``QHULL_SUPPORT`` of the pixels (``support_size``: points; None = large)
    and without numba; else ``"grid"`` (faster than Triangle, installed or not)."""
    small = support_size is not None and support_size <= QHULL_SUPPORT * height * width
    return "qhull" if height * width <= QHULL_PIXELS or small or _kernel is None else "grid"


def _fast_linear_fill(image: np.ndarray, mask: np.ndarray, known: np.ndarray, triangulator: str) -> np.ndarray:
    """``_linear_fill`` from ``_triangulate``'s triangles, rasterised by the compiled kernel when numba is there."""
    triangles = _triangulate(known, mask.shape, triangulator)
    if _kernel is None:  # NumPy rasteriser (the exact fill's)
        rows, cols, vertices, weights, area = _rasterise(known, triangles, mask)
        values = image[known[:, 0], known[:, 1]].astype(np.int64)
        filled = np.einsum("pv,pvc->pc", weights, values[vertices]) / area[:, None]
        result = image.astype(np.float32) * mask[..., None].astype(np.float32)
        result[rows, cols] = filled.astype(np.float32)
    else:
        result = image.astype(np.float32) * mask[..., None].astype(np.float32)
        _kernel(known.astype(np.int64), triangles.astype(np.int64), mask,
                image[known[:, 0], known[:, 1]].astype(np.int64), result)
    return np.round(result).astype(np.uint8)


def _rasterise_kernel(points, triangles, mask, values, out):
    """Write the linear interpolant of ``values`` ``(K, C)`` into the hidden pixels of ``out`` ``(H, W, C)``.

    Same integer barycentric arithmetic as ``_rasterise``: a pixel on an edge shared by two
    triangles gets the same float64 quotient from either (equal rationals, correctly rounded).
    """
    for t in range(triangles.shape[0]):
        a, b, c = triangles[t, 0], triangles[t, 1], triangles[t, 2]
        ar, ac, br, bc, cr, cc = points[a, 0], points[a, 1], points[b, 0], points[b, 1], points[c, 0], points[c, 1]
        area = (br - ar) * (cc - ac) - (bc - ac) * (cr - ar)
        if area == 0:
            continue
        for r in range(min(ar, br, cr), max(ar, br, cr) + 1):
            for col in range(min(ac, bc, cc), max(ac, bc, cc) + 1):
                if mask[r, col]:
                    continue
                wa = (cr - br) * (col - bc) - (cc - bc) * (r - br)
                wb = (ar - cr) * (col - cc) - (ac - cc) * (r - cr)
                wc = (br - ar) * (col - ac) - (bc - ac) * (r - ar)
                if (area > 0 and wa >= 0 and wb >= 0 and wc >= 0) or (area < 0 and wa <= 0 and wb <= 0 and wc <= 0):
                    for k in range(out.shape[2]):
                        out[r, col, k] = (wa * values[a, k] + wb * values[b, k] + wc * values[c, k]) / area


try:  # the compiled rasteriser; cached on disk, so a later process loads it instead of compiling
    import numba

    _kernel = numba.njit(cache=True, nogil=True)(_rasterise_kernel)
except ImportError:  # pragma: no cover - numba is a dependency; this keeps the module importable without it
    _kernel = None

try:  # optional (pip install 'xai-tf[triangle]'): Shewchuk's Triangle is free for non-commercial use only
    import triangle
except ImportError:
    triangle = None


def blur_fast(images, masks, image_index=None, workers: int | None = None,
              triangulator: str | None = None) -> np.ndarray:
    """Fill many masks with the Delaunay-linear fill of each mask's ``support`` (see the module docstring).

    Parameters
    ----------
    images : ndarray
        ``(N, H, W, C)`` uint8.
    masks : ndarray
        ``(M, H, W)`` bool, True = kept (corners are added, as PAIR does).
    image_index : array_like, optional
        ``(M,)`` which image each mask applies to (default ``arange(M)``).
    workers : int, optional
        Threads (default: CPU count).
    triangulator : {"grid", "qhull", "triangle"}, optional
        Triangulator of the support (``TRIANGULATORS``); default ``default_triangulator(H, W, K)``
        per mask (K: support points): Qhull up to 64x64 pixels or up to ``QHULL_SUPPORT`` (10%) of
        the pixels in the support, our compiled ``"grid"`` for larger supports, whether
        ``triangle`` is installed or not. ``"triangle"`` needs ``pip install 'xai-tf[triangle]'``
        (non-commercial licence).

    Returns
    -------
    ndarray
        ``(M, H, W, C)`` uint8, equal to ``blur_exact`` except where co-circular kept pixels let the
        triangulations choose different diagonals.
    """
    images, masks, image_index = _check_blur_args(images, masks, image_index)
    if triangulator is not None:
        check_choice(triangulator, "triangulator", TRIANGULATORS)
    if triangulator == "triangle" and triangle is None:
        raise ValueError("triangulator='triangle' needs the triangle package: pip install 'xai-tf[triangle]' "
                         "(Shewchuk's Triangle: free for non-commercial use only)")
    if triangulator == "grid" and min(masks.shape[1:]) < 2:
        triangulator = "qhull"  # a one-pixel-wide image has no 2-D triangulation; Qhull raises its own error
    masks = with_corners(masks)
    output = np.empty((len(masks),) + images.shape[1:], dtype=np.uint8)

    def fill(m):
        image = images[image_index[m]]
        if masks[m].all():
            output[m] = image
            return
        points = support(masks[m])
        chosen = triangulator or default_triangulator(masks.shape[1], masks.shape[2], len(points))
        output[m] = _fast_linear_fill(image, masks[m], points, chosen)

    _each_mask(fill, len(masks), worker_count(workers))
    return output
