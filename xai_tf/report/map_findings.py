"""The Findings read from the maps themselves: localisation against ground-truth masks, coarse or constant maps.

Used by ``xai_tf.report.findings``; nothing here depends on which metrics were evaluated.

- ``localisation_entry``: the share of ``|map|`` inside the mask (beside a baseline method's maps,
  or, without them, the mask's area share: the expected share of a uniform random map), the mean
  saliency inside / outside (below 1: the map highlights the background), and whether the map's
  maximum lies in the mask (Wilson interval of the hit rate);
- ``coarseness_warnings``: constant maps (no pixel ranked above another) and maps with at most
  ``COARSE_LEVELS`` distinct values (LIME's few segments at a small size).
"""
from __future__ import annotations

import math

import numpy as np

from xai_tf.report.evidence import judge_mean, wilson_interval

#: At most this many distinct values in a map: too coarse to localise (LIME's segments, say).
COARSE_LEVELS = 16
#: Share of images whose mean saliency inside the mask is below that outside, from which it is a warning.
BACKGROUND_SHARE = 0.25
#: The findings computed here from maps and masks (a metric that needs ground truth is named by its label).
GROUND_TRUTH_FINDINGS = ("share of saliency inside the ground-truth mask", "mean saliency inside / outside the mask",
                         "maximum inside the mask")


def check_arrays(maps, masks, image_indices) -> tuple[dict, np.ndarray | None, dict]:
    """Checked maps, masks and the position of each image.

    Parameters
    ----------
    maps : dict of str to array (N, H, W) or None
        Finite maps per method, all of the same shape.
    masks : array (N, H, W) or None
        Ground-truth masks (> 0.5 = source).
    image_indices : array of int (N,) or None
        The rows' ``image`` of each map (default ``0 .. N-1``).

    Returns
    -------
    tuple
        ``({method: float64 maps}, bool masks or None, {image: position in the arrays})``.
    """
    shape = None
    checked = {}
    for name, array in (maps or {}).items():
        array = np.asarray(array, dtype=np.float64)
        if array.ndim != 3 or not np.all(np.isfinite(array)):
            raise ValueError(f"maps[{name!r}] must be finite maps (N, H, W); got shape {array.shape}")
        if shape is not None and array.shape != shape:
            raise ValueError(f"maps[{name!r}] has shape {array.shape}; the other maps have {shape} (the same images)")
        shape = array.shape
        checked[str(name)] = array
    if masks is not None:
        masks = np.asarray(masks)
        if masks.ndim != 3 or (shape is not None and masks.shape != shape):
            raise ValueError(f"masks must be (N, H, W) like the maps {shape}; got {masks.shape}")
        masks = masks > 0.5
        shape = shape or masks.shape
    if shape is None:
        return checked, None, {}
    if image_indices is None:
        image_indices = np.arange(shape[0])
    image_indices = np.asarray(image_indices)
    if image_indices.shape != (shape[0],) or not np.issubdtype(image_indices.dtype, np.integer):
        raise ValueError(f"image_indices must be {shape[0]} integer image indices (the rows' 'image'), one per map; "
                         f"got {image_indices.dtype} {image_indices.shape}")
    position = {int(index): i for i, index in enumerate(image_indices)}
    return checked, masks, position



def localisation_shares(maps, masks, position, images) -> tuple[dict, dict, dict]:
    """Per image: share of ``|map|`` inside the mask, mean inside / outside, maximum inside.

    Parameters
    ----------
    maps : array (N, H, W)
        One method's maps.
    masks : bool array (N, H, W)
        Ground-truth masks.
    position : dict
        ``{image: position in maps}``.
    images : list of int
        The images to measure (those without maps, an empty or a full mask, or an all-zero map are
        left out).

    Returns
    -------
    tuple of dict
        ``({image: share}, {image: inside / outside}, {image: bool})``.
    """
    share, ratio, max_inside = {}, {}, {}
    magnitude = np.abs(maps)
    for image in images:
        if image not in position:
            continue
        i = position[image]
        inside = masks[i]
        if not inside.any() or inside.all():
            continue  # no background, or no source: nothing to compare
        total = magnitude[i].sum()
        if total > 0:
            share[image] = float(magnitude[i][inside].sum() / total)
            outside = magnitude[i][~inside].mean()
            ratio[image] = float(magnitude[i][inside].mean() / outside) if outside > 0 else math.inf
            max_inside[image] = bool(inside.flat[int(np.argmax(magnitude[i]))])
    return share, ratio, max_inside


def localisation_entry(method, maps, masks, position, images, base_loc, against, confidence, judged, warn) -> dict:
    """One method's localisation findings, with its warnings.

    Parameters
    ----------
    method : str
        The method (named in warnings).
    maps, masks, position, images
        As :func:`localisation_shares`.
    base_loc : tuple or None
        :func:`localisation_shares` of the baseline method (None: the masks' area share is the reference).
    against : str
        What the share is compared with, in warnings ("random" or the baseline's name).
    confidence : float
        Of the intervals.
    judged : bool
        False for the baseline itself (no warnings).
    warn : callable
        Receives each warning.

    Returns
    -------
    dict
        ``{"mass_inside": judged mean with "better", "inside_outside": {median, below_one, n, min, max},
        "max_inside": Wilson interval}``.
    """
    share, ratio, max_inside = localisation_shares(maps, masks, position, images)
    area = [float(masks[position[i]].mean()) for i in share]
    reference = float(np.mean(area)) if area and base_loc is None else None
    entry = {"mass_inside": judge_mean(share, None if base_loc is None else base_loc[0], "higher", confidence,
                                       reference=reference)}
    below = sum(1 for value in ratio.values() if value < 1)
    entry["inside_outside"] = {"median": float(np.median(list(ratio.values()))) if ratio else None,
                               "below_one": below, "n": len(ratio), "min": min(ratio.values()) if ratio else None,
                               "max": max(ratio.values()) if ratio else None}
    hits = sum(max_inside.values())
    entry["max_inside"] = wilson_interval(hits, len(max_inside), confidence)
    if judged and ratio and below / len(ratio) >= BACKGROUND_SHARE:
        warn(f"{method}: highlights the background on {below} of {len(ratio)} images (mean saliency inside "
             "the mask below that outside)")
    if judged and len(max_inside) >= 5 and hits == 0:
        warn(f"{method}: its maximum is never inside the source (0 of {len(max_inside)} images)")
    if judged and entry["mass_inside"]["better"] is False:
        warn(f"{method}: its share of saliency inside the mask is not better than {against}")
    return entry



def coarseness_warnings(method, maps, images, position, method_params, warn) -> None:
    """Warn about constant maps and maps too coarse to localise (naming LIME's ``num_segments``).

    Parameters
    ----------
    method : str
        The method.
    maps : array (N, H, W)
        Its maps.
    images : list of int
        Its images; position: ``{image: position in maps}``.
    method_params : dict
        ``{method: {parameter: value}}`` the methods ran with.
    warn : callable
        Receives each warning.
    """
    levels = [len(np.unique(maps[position[i]])) for i in images if i in position]
    constant = sum(1 for count in levels if count == 1)
    if levels and constant:
        warn(f"{method}: {constant} of {len(levels)} maps are constant (no pixel ranked above another)")
    informative = [count for count in levels if count > 1]
    if informative and max(informative) <= COARSE_LEVELS:
        size = "x".join(str(v) for v in maps.shape[1:])
        low, high = min(informative), max(informative)
        counts = f"{low}" if low == high else f"{low}-{high}"
        if method.startswith("lime"):
            segments = method_params.get(method, {}).get("num_segments")
            asked = f" (num_segments={segments})" if segments is not None else ""
            warn(f"{method}: {counts} segments per image at {size}{asked}; raise num_segments")
        else:
            warn(f"{method}: {counts} distinct values per map at {size}: too coarse to localise")


