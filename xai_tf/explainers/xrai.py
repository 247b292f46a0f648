"""XRAI and Fast XRAI (Kapishnikov et al. 2019) as in paper 000, with PAIR's output and a fraction of its time.

The maps are those of PAIR ``saliency`` 0.2.1 ``XRAI.GetMask`` (``algorithm="full"`` or ``"fast"``)
given the same base attribution, element for element (``tests/test_xrai.py`` compares them, on
given and on computed segments). The base attribution is PAIR's: the mean of Integrated Gradients
from a black and a white baseline (the image's min and max value), ``steps`` points each (PAIR's
default 100), batched over images and steps by :func:`xai_tf.explainers.integrated.integrated_attributions`.

Where we replace PAIR's code, and why (speed: PAIR spends ~0.5 s of CPU per 64x64 image after the
attribution, one image at a time; ``benchmarks/bench_evaluation.py`` prints the ratio):

- Segmentation (Felzenszwalb at six scales, resized, dilated): :mod:`xai_tf.explainers.segmentation`,
  with several images in parallel threads and the regions of an image cached, so XRAI and Fast XRAI
  of the same images segment them once; ``segments=`` takes regions computed elsewhere.
- Full XRAI's greedy selection: PAIR loops in Python over every remaining region at every step,
  computing its gain (mean attribution over the pixels it would add) with boolean masks. Here the
  regions are a sparse matrix and each region's count and sum of not-yet-covered attribution are kept
  up to date: adding a region subtracts, with one ``bincount``, the attribution of its new pixels from
  every region that covers them, so a step costs one array operation over all candidates plus work
  proportional to the pixels it adds. Gains are compared in float64; where candidates lie within
  PAIR's float32 rounding of the best one, their gains are recomputed exactly as PAIR computes them
  (``attr[mask].mean()``) so that ties and near-ties resolve as in PAIR.
- Fast XRAI: region gains in one ``bincount`` (near-ties recomputed the same way), then PAIR's pass in
  rank order with the uncovered-pixel counts kept by ``bincount``.
"""
from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from xai_tf._checks import check_finite, check_positive
from xai_tf._docstrings import fill_doc
from xai_tf.explainers.base import Request
from xai_tf.explainers.docblocks import REQUEST
from xai_tf.explainers.integrated import integrated_attributions
from xai_tf.explainers.segmentation import Regions, image_regions, regions_from_masks

ALGORITHMS = ("full", "fast")
MIN_PIXEL_DIFF = 50  # PAIR's XRAIParameters.experimental_params["min_pixel_diff"]
#: The docstring blocks XRAI and Fast XRAI share (``xai_tf._docstrings.fill_doc``).
_XRAI = {"request": REQUEST, "steps": """
steps : int, optional
    Integrated Gradients points per baseline (default 100, PAIR's); ``2 * steps`` backward
    passes per image.
""", "reference": """
A. Kapishnikov, T. Bolukbasi, F. Viegas and M. Terry, "XRAI: Better Attributions Through
Regions", ICCV, 2019.
"""}


def xrai_base_attributions(request: Request, steps: int) -> np.ndarray:
    """Mean IG from min- and max-valued baselines, ``(N, H, W, C)``, both baselines in one batch."""
    images = request.images
    low = np.broadcast_to(images.min(axis=(1, 2, 3), keepdims=True), images.shape)
    high = np.broadcast_to(images.max(axis=(1, 2, 3), keepdims=True), images.shape)
    both = integrated_attributions(request, np.concatenate([images, images]), np.concatenate([low, high]),
                                   np.concatenate([request.targets, request.targets]), steps, desc="xrai IG")
    return 0.5 * (both[:len(images)] + both[len(images):])


def _slack(values: np.ndarray, dtype) -> float:
    """Relative bound on how far NumPy's pairwise float mean of ``values`` may be from the exact one."""
    return 4.0 * (32 + math.log2(max(values.size, 2))) * float(np.finfo(dtype).eps)


def _entries(regions: Regions, pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Regions covering each of ``pixels`` (concatenated) and how many cover each pixel."""
    starts = regions.pixel_starts[pixels]
    lengths = regions.pixel_starts[pixels + 1] - starts
    offsets = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(lengths.sum())
    return regions.pixel_masks[offsets], lengths


def _new_pixels(regions: Regions, mask: int, covered: np.ndarray) -> np.ndarray:
    pixels = regions.pixels(mask)
    return pixels[~covered[pixels]]


def _full(flat: np.ndarray, regions: Regions, area_threshold: float, min_pixel_diff: int) -> np.ndarray:
    """PAIR's ``XRAI._xrai`` (greedy by gain density over the not-yet-covered pixels)."""
    n_masks, n_pixels = regions.n_masks, flat.size
    sizes = regions.sizes()
    owner = np.repeat(np.arange(n_masks), sizes)
    values = flat[regions.mask_pixels].astype(np.float64)
    sums = np.bincount(owner, weights=values, minlength=n_masks)
    counts = sizes.copy()
    with np.errstate(divide="ignore", invalid="ignore"):
        # Upper bound on the rounding of PAIR's float mean of any part of each region.
        slack = _slack(flat, flat.dtype) * np.bincount(owner, weights=np.abs(values), minlength=n_masks)
    alive = np.ones(n_masks, bool)
    covered = np.zeros(n_pixels, bool)
    out = np.full(n_pixels, -np.inf)
    n_covered = 0
    while n_covered / n_pixels <= area_threshold:
        alive &= counts >= min_pixel_diff
        candidates = np.flatnonzero(alive)
        if not len(candidates):
            break
        gains = sums[candidates] / counts[candidates]
        margins = slack[candidates] / counts[candidates]
        top = int(np.argmax(gains))
        near = candidates[gains + margins >= gains[top] - margins[top]]
        # PAIR keeps the first region (in its order) with the largest float gain.
        new_pixels = [_new_pixels(regions, mask, covered) for mask in near]
        exact = [flat[pixels].mean() for pixels in new_pixels]
        pick = int(np.argmax(exact))
        best, new, gain = near[pick], new_pixels[pick], exact[pick]
        out[new] = gain
        covered[new] = True
        n_covered += len(new)
        alive[best] = False
        touched, lengths = _entries(regions, new)
        counts -= np.bincount(touched, minlength=n_masks)
        sums -= np.bincount(touched, weights=np.repeat(flat[new].astype(np.float64), lengths), minlength=n_masks)
    return _fill_uncomputed(out, flat)


def _fast(flat: np.ndarray, regions: Regions, min_pixel_diff: int) -> np.ndarray:
    """PAIR's ``XRAI._xrai_fast`` (regions ranked once by their own gain density)."""
    n_masks = regions.n_masks
    sizes = regions.sizes()
    owner = np.repeat(np.arange(n_masks), sizes)
    values = flat[regions.mask_pixels].astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        gains = np.where(sizes > 0, np.bincount(owner, weights=values, minlength=n_masks) / sizes, -np.inf)
    order = np.argsort(-gains, kind="stable")
    # Runs of regions whose gains lie within rounding of each other (one margin for all, so that
    # regions in different runs are ordered alike by any rounding): order them by PAIR's float
    # gains, stably, as PAIR's sorted().
    margin = _slack(flat, flat.dtype) * float(np.abs(flat).max(initial=0.0))
    ranked = gains[order]
    with np.errstate(invalid="ignore"):
        linked = np.concatenate([[False], ranked[:-1] - ranked[1:] <= 2 * margin])
    run_starts = np.flatnonzero(~linked)
    run_ends = np.append(run_starts[1:], n_masks)
    for start, end in zip(run_starts, run_ends):
        if end - start > 1:
            members = order[start:end]
            exact = np.array([flat[regions.pixels(m)].mean() for m in members], np.float64)
            order[start:end] = members[np.lexsort((members, -exact))]
    counts = sizes.copy()
    covered = np.zeros(flat.size, bool)
    out = np.full(flat.size, -np.inf)
    for mask in order:
        if counts[mask] < min_pixel_diff:
            continue
        new = _new_pixels(regions, mask, covered)
        out[new] = flat[new].mean()
        covered[new] = True
        touched, _ = _entries(regions, new)
        counts -= np.bincount(touched, minlength=n_masks)
    return _fill_uncomputed(out, flat)


def _fill_uncomputed(out: np.ndarray, flat: np.ndarray) -> np.ndarray:
    uncomputed = out == -np.inf
    if uncomputed.any():  # PAIR: the mean attribution of what no region reached
        out[uncomputed] = flat[uncomputed].mean()
    return out


def _as_regions(segments, n_images: int, shape) -> list[Regions]:
    if (isinstance(segments, Regions) or (isinstance(segments, np.ndarray) and segments.ndim != 4)
            or not hasattr(segments, "__len__") or len(segments) != n_images):
        raise ValueError(f"segments must hold one entry per image ({n_images}): boolean masks (M, H, W), a list of "
                         "(H, W) masks (PAIR's format) or Regions")
    regions = [item if isinstance(item, Regions) else regions_from_masks(item) for item in segments]
    for index, item in enumerate(regions):
        if item.shape != tuple(shape):
            raise ValueError(f"segments[{index}] covers images of shape {item.shape}; expected {tuple(shape)}")
    return regions


def xrai_maps(images, attributions, *, algorithm: str = "full", area_threshold: float = 1.0, segments=None,
              min_pixel_diff: int = MIN_PIXEL_DIFF, workers: int | None = None) -> np.ndarray:
    """XRAI maps from given attributions: ``XRAI().GetMask(image, ..., base_attribution=attr)`` of PAIR.

    images: ``(N, H, W, C)``, segmented as PAIR segments them (unless ``segments`` is given).
    attributions: ``(N, H, W, C)`` or ``(N, H, W)`` finite base attributions (channels reduced by
        their maximum, as PAIR). algorithm: "full" (default) or "fast". area_threshold: fraction of
        the image full XRAI ranks (default 1.0; PAIR's ``area_threshold``); fast ignores it.
    segments: None (computed, cached), or per image boolean masks ``(M, H, W)`` / a list of ``(H, W)``
        masks (PAIR's ``segments``) / :class:`~xai_tf.explainers.segmentation.Regions`.
    min_pixel_diff: regions adding fewer new pixels are dropped (PAIR's default 50; at least 1).
    workers: segmentation threads (default: all CPUs this process may use).
    Returns float64 ``(N, H, W)``.
    """
    if algorithm not in ALGORITHMS:
        raise ValueError(f"algorithm={algorithm!r} is not valid; expected one of: {', '.join(ALGORITHMS)}")
    if not 0 < area_threshold <= 1:
        raise ValueError(f"area_threshold must lie in (0, 1]; got {area_threshold!r}")
    check_positive(min_pixel_diff, "min_pixel_diff", integer=True)
    attributions = np.asarray(attributions)
    images = np.asarray(images)
    if images.ndim != 4 or attributions.shape[:3] != images.shape[:3] or attributions.ndim not in (3, 4):
        raise ValueError(f"attributions must have shape (N, H, W[, C]) matching images {images.shape}; got "
                         f"{attributions.shape}")
    check_finite(attributions, "attributions")
    if not np.issubdtype(attributions.dtype, np.floating):
        attributions = attributions.astype(np.float64)  # NumPy's mean of integers, as PAIR's
    regions = (image_regions(images, workers) if segments is None
               else _as_regions(segments, len(images), images.shape[1:3]))
    return _rank(attributions, regions, algorithm, area_threshold, min_pixel_diff)


def _rank(attributions, regions, algorithm, area_threshold, min_pixel_diff) -> np.ndarray:
    if attributions.ndim == 4:
        attributions = attributions.max(axis=-1)  # PAIR's _attr_aggregation_max
    maps = np.empty(attributions.shape, np.float64)
    for index, (attr, item) in enumerate(zip(attributions, regions)):
        flat = np.ascontiguousarray(attr).ravel()
        ranked = (_full(flat, item, area_threshold, min_pixel_diff) if algorithm == "full"
                  else _fast(flat, item, min_pixel_diff))
        maps[index] = ranked.reshape(attr.shape)
    return maps


def _run_xrai(request: Request, steps: int, algorithm: str, area_threshold: float, segments) -> np.ndarray:
    check_positive(steps, "steps", integer=True)
    images = request.images
    if segments is not None:
        regions = _as_regions(segments, len(images), images.shape[1:3])
        attributions = xrai_base_attributions(request, steps)
    else:
        # Segment (CPU threads) while the model computes the attributions.
        with ThreadPoolExecutor(1) as pool:
            pending = pool.submit(image_regions, images)
            attributions = xrai_base_attributions(request, steps)
            regions = pending.result()
    return _rank(attributions, regions, algorithm, area_threshold, MIN_PIXEL_DIFF).astype(np.float32)


@fill_doc(**_XRAI)
def xrai(request: Request, *, steps: int = 100, area_threshold: float = 1.0, segments=None) -> np.ndarray:
    """Full XRAI (Kapishnikov et al. 2019): regions added greedily by attribution density.

    PAIR's ``XRAI.GetMask`` with ``algorithm="full"``, as in paper 000. The base attribution is
    PAIR's: the mean of Integrated Gradients from a black and a white baseline (the image's min and
    max value), reduced over channels by their maximum. Regions are then added one at a time, each
    time the one whose not-yet-covered pixels have the highest mean attribution (the gain); regions
    that would add fewer than 50 new pixels are skipped (PAIR's ``min_pixel_diff``).

    Parameters
    ----------
    {request}
    {steps}
    area_threshold : float, optional
        Fraction of the image to rank, in (0, 1] (1.0 = all, PAIR's default; lower is faster and
        leaves the rest at one value, the mean attribution of the pixels left).
    segments : None or sequence, optional
        None (default): PAIR's Felzenszwalb regions at six scales, computed and cached per image.
        Otherwise one entry per image: boolean masks ``(M, H, W)``, a list of ``(H, W)`` boolean
        masks (PAIR's ``segments``) or a ``xai_tf.explainers.segmentation.Regions``.

    Returns
    -------
    numpy.ndarray, shape (N, H, W), float32
        One map per image: each pixel holds the gain of the region that first covered it (the
        mean attribution of the pixels that region added), larger = more important. Values are in
        the units of the base attribution (target logit) and may be negative.

    Raises
    ------
    TypeError
        If ``steps`` is not an integer.
    ValueError
        If ``area_threshold`` is outside (0, 1], ``steps < 1``, or ``segments`` does not hold one
        entry of boolean masks of the image size per image.

    References
    ----------
    {reference}
    """
    if not 0 < area_threshold <= 1:
        raise ValueError(f"area_threshold must lie in (0, 1]; got {area_threshold!r}")
    return _run_xrai(request, steps, "full", area_threshold, segments)


@fill_doc(**_XRAI)
def fast_xrai(request: Request, *, steps: int = 100, top_fraction: float | None = 0.3, segments=None) -> np.ndarray:
    """Fast XRAI (PAIR's ``algorithm="fast"``: segments ranked once, overlaps ignored).

    Kapishnikov et al. 2019, as in paper 000. The base attribution and regions are those of
    :func:`~xai_tf.explainers.xrai.xrai`; the regions are ranked once by the mean attribution of
    their own pixels, then, in that order, each region sets its not-yet-covered pixels to their
    mean attribution (regions adding fewer than 50 new pixels are skipped, PAIR's
    ``min_pixel_diff``).

    Parameters
    ----------
    {request}
    {steps}
    top_fraction : float or None, optional
        Keep the most important fraction of pixels, in (0, 1], as paper 000's "Fast XRAI 30%"
        (default 0.3): pixels at or above the ``1 - top_fraction`` quantile keep their value (as
        PAIR's notebook, ``map >= percentile(map, 70)``; whole regions are kept, so ties can keep
        a little more), the others are set to the map's minimum (least important). ``None`` or
        1.0 returns the whole fast-XRAI map.
    segments : None or sequence, optional
        As in :func:`~xai_tf.explainers.xrai.xrai`: None (default) computes and caches PAIR's
        regions; otherwise one entry of regions per image.

    Returns
    -------
    numpy.ndarray, shape (N, H, W), float32
        One map per image, constant on the part of each region it painted (larger = more
        important), in the units of the base attribution (target logit); may be negative. With
        ``top_fraction`` the pixels outside the top fraction share the map's minimum.

    Raises
    ------
    TypeError
        If ``steps`` is not an integer.
    ValueError
        If ``top_fraction`` is neither None nor in (0, 1], ``steps < 1``, or ``segments`` does not
        hold one entry of boolean masks of the image size per image.

    References
    ----------
    {reference}
    """
    if top_fraction is not None and not 0 < top_fraction <= 1:
        raise ValueError(f"top_fraction must lie in (0, 1] or be None; got {top_fraction!r}")
    maps = _run_xrai(request, steps, "fast", 1.0, segments)
    if top_fraction is None or top_fraction == 1:
        return maps
    flat = maps.reshape(len(maps), -1)
    thresholds = np.quantile(flat, 1.0 - top_fraction, axis=1)
    minima = flat.min(axis=1)
    kept = maps >= thresholds[:, None, None]
    return np.where(kept, maps, minima[:, None, None]).astype(np.float32)
