"""Turn saliency maps into pictures: a colour heatmap blended over the image, and PAIR's grayscale view.

``overlay`` is paper 002's "superimposed heatmap" (colormap, alpha 0.6); ``to_grayscale`` is PAIR
``saliency``'s ``VisualizeImageGrayscale`` (used for the figures of paper 000), rewritten here in a
few lines so that viz does not import the saliency package and a constant map gives zeros rather
than NaN (PAIR divides by zero there).

``clip_range`` is the colour scale the figures use: a map is clipped at its 99th percentile by
default, PAIR's choice for gradient maps (``VisualizeImageGrayscale(..., percentile=99)``): a few
extreme pixels, common in vanilla gradients and Integrated Gradients, would otherwise take the
whole top of the colour map and leave the rest of the map almost black. ``outline_colour`` picks a
ground-truth colour that the colour map does not contain, so an outline is never mistaken for a
hot spot (pure red on ``jet`` was).
"""
from __future__ import annotations

import cv2
import matplotlib
import numpy as np

from xai_tf._checks import as_float_array, check_finite


def get_colormap(cmap):
    """A matplotlib ``Colormap`` from a colormap or its name; ``ValueError`` naming ``cmap`` otherwise."""
    if isinstance(cmap, matplotlib.colors.Colormap):
        return cmap
    if not isinstance(cmap, str) or cmap not in matplotlib.colormaps:
        raise ValueError(f"cmap={cmap!r} is not a matplotlib colormap; expected a name such as 'jet', "
                         "'viridis', 'inferno', 'gray' or 'bwr' (see matplotlib.colormaps)")
    return matplotlib.colormaps[cmap]


#: Outline colours tried in order by ``outline_colour`` (magenta first: absent from jet, viridis, gray, bwr).
OUTLINE_CANDIDATES = ((1.0, 0.0, 1.0), (0.0, 1.0, 0.0), (1.0, 1.0, 1.0), (0.0, 1.0, 1.0), (1.0, 0.0, 0.0),
                      (0.0, 0.0, 0.0))
#: Smallest RGB distance (Euclidean, channels in [0, 1]) from every colour of the colour map that an
#: outline colour must keep to count as "absent" from it.
OUTLINE_MIN_DISTANCE = 0.5


def colormap_distance(colour, cmap) -> float:
    """Smallest Euclidean RGB distance from ``colour`` (r, g, b in [0, 1]) to the 256 colours of ``cmap``."""
    table = get_colormap(cmap)(np.linspace(0.0, 1.0, 256))[:, :3]
    return float(np.min(np.linalg.norm(table - np.asarray(colour, float)[None, :3], axis=1)))


def outline_colour(cmap) -> tuple[float, float, float]:
    """Pick a ground-truth outline colour absent from the colour map ``cmap``.

    The outline is then never mistaken for a hot spot (pure red on ``jet`` was). The candidates are
    tried in order: magenta, green, white, cyan, red, black (``OUTLINE_CANDIDATES``; magenta is
    absent from jet, viridis, gray and bwr).

    Parameters
    ----------
    cmap : str or matplotlib.colors.Colormap
        The colour map the saliency is shown with (a name such as ``"jet"`` or a colormap object).

    Returns
    -------
    tuple of (float, float, float)
        RGB in [0, 1]: the first candidate at least ``OUTLINE_MIN_DISTANCE`` (0.5, Euclidean RGB
        distance) from every one of the map's 256 colours, else the candidate farthest from it.

    Raises
    ------
    ValueError
        If ``cmap`` is not a matplotlib colormap or the name of one.
    """
    distances = [colormap_distance(colour, cmap) for colour in OUTLINE_CANDIDATES]
    for colour, distance in zip(OUTLINE_CANDIDATES, distances):
        if distance >= OUTLINE_MIN_DISTANCE:
            return colour
    return OUTLINE_CANDIDATES[int(np.argmax(distances))]


def check_percentile(value, name: str = "percentile", note: str = "") -> float:
    """A clipping percentile in (0, 100] -> float; ValueError naming ``name`` (``note`` added) otherwise.

    ValueError for a non-number too (not TypeError): the figures have always said it so.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not 0.0 < float(value) <= 100.0:
        raise ValueError(f"{name} must be a number in (0, 100]{note}; got {value!r}")
    return float(value)


def clip_range(saliency_map, percentile: float = 99.0):
    """Colour scale ``(vmin, vmax)`` of a map clipped at the ``percentile``-th percentile of ``|map|``.

    A non-negative map is shown on ``[0, p]``, a signed one on ``[-p, p]`` (zero in the middle), with
    ``p = percentile(|map|, percentile)``; values beyond saturate. PAIR's ``VisualizeImageGrayscale``
    clips at the same percentile (default 99) but starts the scale at the map's minimum; zero stays at
    the bottom here so that equal colours mean equal saliency relative to the top of every map. When
    ``p`` is 0 (a map zero on more than that share of pixels) the map's maximum is used instead;
    an all-zero map gives ``None`` (``normalise_map`` then shows it as zeros).
    percentile: in (0, 100], default 99; 100 = the map's maximum (no clipping).
    """
    check_percentile(percentile)
    array = check_finite(as_float_array(saliency_map, "saliency_map"), "saliency_map")
    magnitude = np.abs(array)
    if magnitude.size == 0:
        raise ValueError("saliency_map is empty")
    top = float(np.percentile(magnitude, float(percentile)))
    if top <= 0.0:
        top = float(magnitude.max())
    if top <= 0.0:
        return None
    return (0.0, top) if float(array.min()) >= 0.0 else (-top, top)


def as_rgb(image, name: str = "image") -> np.ndarray:
    """Check one image in [0, 1] (``(H, W)``, ``(H, W, 1)`` or ``(H, W, 3)``); return float32 ``(H, W, 3)``.

    Grayscale images are repeated over three channels so that they show in gray.
    """
    array = check_finite(as_float_array(image, name), name)
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim == 2:
        array = np.repeat(array[..., None], 3, axis=-1)
    if array.ndim != 3 or array.shape[-1] != 3:
        raise ValueError(f"{name} must be one image (H, W), (H, W, 1) or (H, W, 3); got shape {np.shape(image)}")
    if array.size == 0:
        raise ValueError(f"{name} is empty (shape {np.shape(image)})")
    if array.min() < 0.0 or array.max() > 1.0:
        raise ValueError(f"{name} must lie in [0, 1] (raw pixels); got range [{array.min():.4g}, {array.max():.4g}]")
    return array


def check_map_2d(saliency_map, name: str = "saliency_map") -> np.ndarray:
    """Check one 2-D map (``(H, W)``, or ``(H, W, 1)``); return float32 ``(H, W)``."""
    array = check_finite(as_float_array(saliency_map, name), name)
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim != 2 or array.size == 0:
        raise ValueError(f"{name} must be one map (H, W); got shape {np.shape(saliency_map)} "
                         "(for a signed (H, W, C) mask use to_grayscale first)")
    return array


def resize_map(saliency_map: np.ndarray, shape: tuple[int, int], name: str = "saliency_map") -> np.ndarray:
    """Resize a 2-D map to ``shape`` (H, W) bilinearly, if it differs.

    Coarse maps (Grad-CAM at the last conv layer's 7x7) are stretched to the image; a map whose
    aspect ratio differs from the image's by more than one map pixel is a mismatch, not a coarse
    map, and raises ValueError.
    """
    height, width = saliency_map.shape
    if (height, width) == tuple(shape):
        return saliency_map
    if abs(height * shape[1] / width - shape[0]) > shape[0] / height + 1e-6:
        raise ValueError(f"{name} has shape {saliency_map.shape}, whose aspect ratio does not match the image's "
                         f"{tuple(shape)}; expected a map of the image's size or a uniformly coarser one")
    # cv2.resize takes (width, height); INTER_LINEAR is bilinear with half-pixel centres
    return cv2.resize(saliency_map, (int(shape[1]), int(shape[0])), interpolation=cv2.INTER_LINEAR)


def normalise_map(saliency_map: np.ndarray, value_range=None) -> np.ndarray:
    """Scale a map to [0, 1] for a colormap.

    value_range: ``None`` (default): a non-negative map is divided by its maximum (0 stays at the
        bottom of the colormap); a signed map is scaled symmetrically, ``[-s, s]`` -> [0, 1] with
        ``s = max|map|``, so zero sits in the middle (pair it with a diverging colormap such as
        ``"bwr"``, or pass ``abs(map)``); an all-zero map gives zeros. A pair ``(vmin, vmax)``
        with ``vmin < vmax`` maps that interval to [0, 1]; values outside it saturate at the
        colormap's ends (you asked for that interval).
    """
    if value_range is None:
        low, high = float(saliency_map.min()), float(saliency_map.max())
        if low >= 0.0:
            low = 0.0
        else:
            high = max(-low, high)
            low = -high
        if high == low:
            return np.zeros_like(saliency_map, dtype=np.float32)
    else:
        if np.ndim(value_range) != 1 or len(value_range) != 2 or not value_range[0] < value_range[1]:
            raise ValueError(f"value_range must be None or (vmin, vmax) with vmin < vmax; got {value_range!r}")
        low, high = float(value_range[0]), float(value_range[1])
    return np.clip((saliency_map - low) / (high - low), 0.0, 1.0).astype(np.float32)


def check_alpha(alpha) -> float:
    """A heatmap opacity in [0, 1] -> float; ValueError naming ``alpha`` otherwise (a non-number too)."""
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float, np.integer, np.floating)) \
            or not 0.0 <= float(alpha) <= 1.0:
        raise ValueError(f"alpha must be a number in [0, 1] (heatmap opacity); got {alpha!r}")
    return float(alpha)


def overlay(image, saliency_map, cmap="jet", alpha: float = 0.6, value_range=None) -> np.ndarray:
    """Blend a colour heatmap of ``saliency_map`` over ``image``; RGB uint8 ``(H, W, 3)``.

    This is paper 002's "superimposed heatmap" (colormap, alpha 0.6).

    Parameters
    ----------
    image : array-like, shape (H, W), (H, W, 1) or (H, W, 3)
        One image, float in [0, 1]; grayscale is shown in gray, ``(H, W, 3)`` as RGB.
    saliency_map : array-like, shape (h, w) or (h, w, 1)
        One map, finite; resized bilinearly to ``(H, W)`` when smaller or larger (same aspect
        ratio, e.g. a 7x7 Grad-CAM over a 224x224 image), else ValueError.
    cmap : str or matplotlib.colors.Colormap, optional
        Matplotlib colormap name or object; default ``"jet"`` (paper 002's first figures; its
        improved figures use ``"viridis"``).
    alpha : float, optional
        Weight of the heatmap in [0, 1], default 0.6 (paper 002):
        ``out = (1 - alpha) * image + alpha * colormap(map)``, rounded to 8 bits.
    value_range : None or tuple of (float, float), optional
        How the map is scaled to the colormap. Default ``None``: a non-negative map is divided by
        its maximum (0 stays at the bottom of the colormap); a signed map is scaled symmetrically,
        ``[-s, s]`` -> [0, 1] with ``s = max|map|``, so zero sits in the middle (pair it with a
        diverging colormap such as ``"bwr"``, or pass ``abs(map)``); an all-zero map gives zeros.
        A pair ``(vmin, vmax)`` with ``vmin < vmax`` maps that interval to [0, 1]; values outside it
        saturate at the colormap's ends.

    Returns
    -------
    numpy.ndarray, shape (H, W, 3), uint8
        The blended RGB picture.

    Raises
    ------
    ValueError
        If ``alpha`` is not a number in [0, 1], ``cmap`` is not a colormap, ``image`` is not one
        image in [0, 1], ``saliency_map`` is not one 2-D map or its aspect ratio differs from the
        image's, values are NaN/Inf, or ``value_range`` is not None or ``(vmin, vmax)`` with
        vmin < vmax.
    TypeError
        If ``image`` or ``saliency_map`` is not numeric.
    """
    alpha = check_alpha(alpha)
    colormap = get_colormap(cmap)
    rgb = as_rgb(image)
    resized = resize_map(check_map_2d(saliency_map), rgb.shape[:2])
    heat = colormap(normalise_map(resized, value_range))[..., :3].astype(np.float32)
    blended = (1.0 - float(alpha)) * rgb + float(alpha) * heat
    return np.clip(np.round(blended * 255.0), 0, 255).astype(np.uint8)


def to_grayscale(saliency_map, percentile: float = 99) -> np.ndarray:
    """Show a (signed) mask in PAIR's grayscale view: float32 ``(H, W)`` in [0, 1].

    Absolute values are summed over channels, values above the ``percentile``-th percentile are
    clipped to it, and the result is scaled from its minimum to that percentile onto [0, 1],
    exactly as PAIR ``saliency``'s ``saliency.core.VisualizeImageGrayscale`` (used for the figures
    of paper 000). It is rewritten here so that viz does not import the saliency package, and a
    constant map gives zeros rather than NaN (PAIR divides by zero there).

    Parameters
    ----------
    saliency_map : array-like, shape (H, W, C) or (H, W)
        Per-channel attributions (e.g. Integrated Gradients on an RGB image), or one channel;
        finite values.
    percentile : float, optional
        Clipping percentile in (0, 100], default 99 (PAIR's default; 100 = no clipping).

    Returns
    -------
    numpy.ndarray, shape (H, W), float32
        The grayscale view in [0, 1]; zeros for a constant map.

    Raises
    ------
    ValueError
        If ``percentile`` is not a number in (0, 100], or ``saliency_map`` is not one mask
        ``(H, W, C)`` or ``(H, W)``, is empty or holds NaN/Inf.
    TypeError
        If ``saliency_map`` is not numeric.
    """
    check_percentile(percentile)
    array = check_finite(as_float_array(saliency_map, "saliency_map"), "saliency_map")
    if array.ndim == 2:
        array = array[..., None]
    if array.ndim != 3 or array.size == 0:
        raise ValueError("saliency_map must be one mask (H, W, C) or (H, W); got shape "
                         f"{np.shape(saliency_map)} (for a batch, call to_grayscale per map)")
    magnitude = np.sum(np.abs(array.astype(np.float64)), axis=2)
    vmax = np.percentile(magnitude, percentile)
    vmin = np.min(magnitude)
    if vmax <= vmin:
        return np.zeros(magnitude.shape, np.float32)
    return np.clip((magnitude - vmin) / (vmax - vmin), 0.0, 1.0).astype(np.float32)
