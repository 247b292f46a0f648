"""The papers' figures: images x methods grids, activation grids and denoising grids (headless).

- ``method_grid``: rows are images (labelled with true and predicted class), columns are the input
  then one per explanation method, at most ``max_columns`` (7) methods per row: more methods wrap
  into further blocks of rows, as evenly filled as possible, each with its own column titles (the
  figures of papers 000 and 004; paper 003's boxes). Ground-truth masks and boxes are outlined on
  every cell.
- ``activation_grid``: rows are layers, columns the first channels of each (paper 002's activation
  visualisation).
- ``denoise_grid``: one map, then each denoiser's result (with how much it changed the map); a
  second row superimposes them on the image (paper 002's "heatmap / denoised heatmap /
  superimposed"). Give it a noisy map (vanilla gradient, Integrated Gradients): a Grad-CAM is
  already smooth and every denoiser leaves it nearly unchanged.

Every function returns a ``matplotlib.figure.Figure`` (see ``xai_tf.viz.figures``) and saves it
when ``path`` is given: ``.png`` or ``.pdf`` by the suffix (``write_figures`` writes several into a
folder).

Reading the colours: every map is clipped at its ``clip_percentile``-th percentile (default 99,
PAIR's for gradient maps, see ``overlays.clip_range``); one colour bar under the figure gives the
scale (one bar per scale: the method grid scales each map on its own, so its bar reads as a
fraction of each map's percentile; the denoising grid puts every panel on the original's scale, so
its bar is in the map's units). Ground truth is outlined in ``overlays.outline_colour(cmap)``, a
colour the colour map does not contain (magenta for jet).

Layout (so that sizes are predictable): every cell is a square of ``cell_size`` inches; a PNG is
``columns * cell_size * dpi`` pixels wide and ``rows * cell_size * dpi`` high, plus a band for the
colour bar. Text is ``max(0.08 * cell, 10 px)`` high, and grows with figures wider than the report's
column so that it stays at least 10 px when the report shows the figure at its width
(``figure.MIN_TEXT_PX``, ``figure.REPORT_WIDTH_PX``). In each cell the picture's axes leave room
on the left for a two-line row label and on top for a two-line column title; titles are wrapped at
underscores and spaces to the cell's width (a longer one is cut with an ellipsis).
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure

from xai_tf._checks import (
    as_float_array,
    check_choice,
    check_finite,
    check_images,
    check_positive,
)
from xai_tf.viz.figures import check_path, save_figure
from xai_tf.viz.layout import GridLayout, draw_ground_truth
from xai_tf.viz.overlays import (
    as_rgb,
    check_map_2d,
    clip_range,
    get_colormap,
    normalise_map,
    outline_colour,
    overlay,
)

#: Methods per row of ``method_grid`` (and panels per row of ``denoise_grid``) at most.
MAX_COLUMNS = 7


def _check_outline(outline, colormap):
    if outline is None:
        return outline_colour(colormap)
    array = np.asarray(outline, dtype=float) if not isinstance(outline, str) else None
    if array is None or array.shape != (3,) or not np.all((array >= 0) & (array <= 1)):
        raise ValueError(f"outline must be None (a colour absent from cmap) or (r, g, b) in [0, 1]; got {outline!r}")
    return tuple(float(v) for v in array)


def _check_percentile(value, name: str = "clip_percentile") -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not 0.0 < float(value) <= 100.0:
        raise ValueError(f"{name} must be a number in (0, 100] (100 = no clipping); got {value!r}")
    return float(value)


def _percentile_words(percentile: float) -> str:
    return "its maximum" if percentile == 100.0 else f"its {percentile:g}th percentile"


# ---------------------------------------------------------------------------------------------
# Argument checks
# ---------------------------------------------------------------------------------------------


def _check_masks(masks, n: int, shape: tuple[int, int]):
    if masks is None:
        return None
    array = check_finite(as_float_array(masks, "masks"), "masks")
    if array.shape != (n, *shape):
        raise ValueError(f"masks must have shape {(n, *shape)} (one mask per image, at image size); "
                         f"got {array.shape}")
    return array > 0.5


def _check_boxes(boxes, n: int, shape: tuple[int, int]):
    if boxes is None:
        return None
    if len(boxes) != n:
        raise ValueError(f"boxes must hold one list of (y0, x0, y1, x1) boxes per image ({n}); got {len(boxes)}")
    checked = []
    for index, image_boxes in enumerate(boxes):
        rows = []
        for box in image_boxes:
            if len(box) != 4:
                raise ValueError(f"boxes[{index}] must hold (y0, x0, y1, x1) boxes; got {box!r}")
            y0, x0, y1, x1 = (float(v) for v in box)
            if not (0 <= y0 < y1 <= shape[0] and 0 <= x0 < x1 <= shape[1]):
                raise ValueError(f"boxes[{index}] has box {tuple(box)} outside the {shape} image or empty; "
                                 "expected 0 <= y0 < y1 <= H and 0 <= x0 < x1 <= W (end exclusive)")
            rows.append((y0, x0, y1, x1))
        checked.append(rows)
    return checked


def _check_classes(values, n: int, name: str):
    if values is None:
        return None
    array = np.asarray(values)
    if array.shape != (n,) or not np.issubdtype(array.dtype, np.integer):
        raise ValueError(f"{name} must be {n} integer class indices, one per image; got {array.dtype} {array.shape}")
    return array


def _class_name(index: int, class_names) -> str:
    if class_names is None:
        return str(int(index))
    if not 0 <= index < len(class_names):
        raise ValueError(f"class index {index} has no entry in class_names ({len(class_names)} names)")
    return str(class_names[index])


def _row_label(row: int, labels, predictions, class_names) -> str:
    parts = []
    if labels is not None:
        parts.append(f"true: {_class_name(int(labels[row]), class_names)}")
    if predictions is not None:
        parts.append(f"pred: {_class_name(int(predictions[row]), class_names)}")
    return "\n".join(parts)


# ---------------------------------------------------------------------------------------------
# Public figures
# ---------------------------------------------------------------------------------------------


#: A non-negative map whose minimum exceeds this share of its clipping percentile has an offset
#: (RISE's maps: every pixel is a mean over masks): from zero, the whole frame would be one colour.
OFFSET_SHARE = 0.25


def panel_range(saliency: np.ndarray, percentile: float) -> tuple[tuple[float, float] | None, str]:
    """Colour scale of one map panel and the word the panel shows about it.

    ``clip_range``'s scale, except: a constant map says "all zero" or "constant" (nothing to see, and
    no colour would tell), and a non-negative map with an offset (its minimum above
    ``OFFSET_SHARE`` of its percentile) is shown from its minimum, labelled "from min".
    """
    low, high = float(saliency.min()), float(saliency.max())
    if low == high:
        return clip_range(saliency, percentile), "all zero" if high == 0.0 else "constant"
    value_range = clip_range(saliency, percentile)
    if value_range is not None and low >= 0.0 and low > OFFSET_SHARE * value_range[1]:
        top = value_range[1] if value_range[1] > low else high
        return (low, top), "from min"
    return value_range, ""


def method_grid(images, maps_by_method: Mapping, titles: Sequence[str] | None = None, masks=None, boxes=None,
                denoise: str | None = None, labels=None, predictions=None, class_names=None, path=None, *,
                cmap="jet", alpha: float = 0.6, signed: str = "abs", clip_percentile: float = 99.0,
                max_columns: int = MAX_COLUMNS, colorbar: bool = True, outline=None, cell_size: float = 1.4,
                dpi: float = 100) -> Figure:
    """Draw a grid of images x explanation methods with the ground truth outlined; returns the Figure.

    Rows are images (labelled with true and predicted class), columns the input then one per
    method (the figures of papers 000 and 004; paper 003's boxes). Every map is clipped at its
    ``clip_percentile``-th percentile and scaled on its own, so the colour bar under the figure
    reads as a fraction of each map's percentile. Ground truth is outlined in a colour the colour
    map does not contain.

    Parameters
    ----------
    images : array-like, shape (N, H, W, C)
        float32 in [0, 1], C = 1 (shown in gray) or 3. One row each.
    maps_by_method : dict of str to array-like, shape (N, H, W)
        ``{method name: maps (N, H, W)}``, one column each in dict order after the input column
        (``dict(np.load("maps.npz"))`` works); more than ``max_columns`` methods wrap into further
        blocks of N rows (spread evenly: 8 methods make two blocks of 4), each starting with the
        input column again. Maps may be coarser than the image (resized bilinearly, see
        :func:`~xai_tf.viz.overlay`).
    titles : sequence of str, optional
        Column titles for the methods, one per method (default: the dict's keys); the first
        column is "input".
    masks : array-like, shape (N, H, W), optional
        Ground-truth masks (nonzero = inside); their contour is drawn on every cell of the row in
        ``outline``.
    boxes : list of list of tuple of int, optional
        Per image a list of ``(y0, x0, y1, x1)`` pixel boxes, end exclusive (the convention of
        ``xai_tf.data``); outlined on every cell.
    denoise : str, optional
        Denoiser name (see ``xai_tf.denoise.methods()``) applied with its paper defaults to every
        map before display; titles then say so. Default None: maps shown as they are.
    labels : array-like of int, shape (N,), optional
        True class indices; the row label reads ``"true: ..."``.
    predictions : array-like of int, shape (N,), optional
        Predicted class indices; the row label adds ``"pred: ..."`` on a second line.
    class_names : sequence of str, optional
        Names for the class indices of ``labels`` and ``predictions`` (default: the indices).
    path : str or pathlib.Path, optional
        ``.png`` or ``.pdf`` file to save to (parent folders are created). Default None: not saved.
    cmap : str or matplotlib.colors.Colormap, optional
        Heatmap colormap (default ``"jet"``, as in paper 002; see :func:`~xai_tf.viz.overlay`).
    alpha : float, optional
        Heatmap opacity over the image in [0, 1] (default 0.6, as in paper 002).
    signed : {"abs", "keep"}, optional
        ``"abs"`` (default) shows ``|map|`` (larger magnitude = more important, PAIR's figures);
        ``"keep"`` keeps the sign, scaled symmetrically around zero (use a diverging ``cmap``).
    clip_percentile : float, optional
        Each map is shown on ``[0, p]`` (``[-p, p]`` signed), p its percentile of ``|map|``, in
        (0, 100] (default 99, PAIR's for gradient maps; 100 = its maximum); values beyond
        saturate.
    max_columns : int, optional
        Methods per row at most (default 7: eight 140 px cells fill the report's column).
    colorbar : bool, optional
        Draw the colour bar under the grid (default True).
    outline : tuple of (float, float, float), optional
        Ground-truth colour (r, g, b) in [0, 1]; default None: ``outline_colour(cmap)``, one absent
        from the colour map (magenta for jet).
    cell_size : float, optional
        Side of each (square) cell in inches (default 1.4).
    dpi : float, optional
        Pixels per inch (default 100), so a PNG is ``(1 + methods per row) * cell_size * dpi``
        pixels wide (at most 1120 by default), plus a band for the colour bar in height.

    Returns
    -------
    matplotlib.figure.Figure
        The grid (Agg canvas, headless), also saved to ``path`` when given.

    Raises
    ------
    ValueError
        If ``path`` does not end in ``.png`` or ``.pdf``, ``signed``, ``cmap`` or ``denoise`` is
        not valid, ``outline`` is not (r, g, b) in [0, 1], ``clip_percentile`` is not in (0, 100],
        ``max_columns`` < 1, ``images`` is not NHWC in [0, 1] with 1 or 3 channels, ``titles``
        does not hold one title per method, a map set is not ``(N, H, W)`` or holds NaN/Inf, or
        ``masks``, ``boxes``, ``labels``, ``predictions`` or ``class_names`` do not fit the images.
    TypeError
        If ``maps_by_method`` is not a non-empty dict, ``max_columns`` is not an integer, or an
        array is not numeric.
    """
    path = check_path(path)
    check_choice(signed, "signed", ("abs", "keep"))
    colormap = get_colormap(cmap)
    outline = _check_outline(outline, colormap)
    clip_percentile = _check_percentile(clip_percentile)
    check_positive(max_columns, "max_columns", integer=True)
    images = check_images(images, "images")
    n, height, width, channels = images.shape
    if channels not in (1, 3):
        raise ValueError(f"images must have 1 or 3 channels to be shown; got {channels}")
    if not isinstance(maps_by_method, Mapping) or not maps_by_method:
        raise TypeError("maps_by_method must be a non-empty dict {method name: maps (N, H, W)}; "
                        f"got {type(maps_by_method).__name__}")
    names = [str(name) for name in maps_by_method]
    if titles is None:
        titles = list(names)
    elif isinstance(titles, str) or len(titles) != len(names):
        raise ValueError(f"titles must be a list of {len(names)} column titles, one per method; got {titles!r}")
    if denoise is not None:
        from xai_tf.denoising import denoise as denoise_maps

        check_choice(denoise, "denoise", denoise_maps.methods())
    all_maps = {}
    for name, maps in maps_by_method.items():
        array = check_finite(as_float_array(maps, f"maps_by_method[{name!r}]"), f"maps_by_method[{name!r}]")
        if array.ndim != 3 or array.shape[0] != n:
            raise ValueError(f"maps_by_method[{name!r}] must have shape ({n}, H, W), one map per image; "
                             f"got {array.shape}")
        if denoise is not None:
            array = denoise_maps(array, denoise, verbose=0)
        all_maps[str(name)] = np.abs(array) if signed == "abs" else array
    if denoise is not None:
        titles = [f"{title} ({denoise})" for title in titles]
    masks = _check_masks(masks, n, (height, width))
    boxes = _check_boxes(boxes, n, (height, width))
    labels = _check_classes(labels, n, "labels")
    predictions = _check_classes(predictions, n, "predictions")

    # as few blocks as max_columns allows, the methods spread evenly over them (8 methods: 4 + 4, not 7 + 1)
    blocks = math.ceil(len(names) / int(max_columns))
    per_row = math.ceil(len(names) / blocks)
    shown = "|map|" if signed == "abs" else "map"
    label = (f"{shown} / {_percentile_words(clip_percentile)} of |map| (each map on its own scale; "
             "higher values saturate; \"from min\": a map with an offset, from its minimum)")
    layout = GridLayout(blocks * n, 1 + per_row, cell_size, dpi, colorbar_label=label if colorbar else None,
                        titles=titles)
    line_width = 0.01 * layout.cell_px * 72 / layout.dpi  # 1.4 px in a 140 px cell
    for block in range(blocks):
        chunk = list(range(block * per_row, min(len(names), (block + 1) * per_row)))
        for image_row in range(n):
            row = block * n + image_row
            truth = (None if masks is None else masks[image_row], None if boxes is None else boxes[image_row])
            axes = layout.cell(row, 0)
            axes.imshow(as_rgb(images[image_row]))
            layout.row_label(axes, _row_label(image_row, labels, predictions, class_names))
            draw_ground_truth(axes, *truth, outline, line_width)
            if image_row == 0:
                layout.title(axes, "input")
            for column, index in enumerate(chunk, start=1):
                saliency = all_maps[names[index]][image_row]
                axes = layout.cell(row, column)
                value_range, note = panel_range(saliency, clip_percentile)
                axes.imshow(overlay(images[image_row], saliency, cmap=colormap, alpha=alpha, value_range=value_range))
                draw_ground_truth(axes, *truth, outline, line_width)
                if note:
                    layout.note(axes, note)
                if image_row == 0:
                    layout.title(axes, titles[index])
    if colorbar:
        low = 0.0 if signed == "abs" else -1.0
        layout.colorbar(colormap, low, 1.0)
    if path is not None:
        save_figure(layout.figure, path)
    return layout.figure


def activation_grid(activations: Mapping, path=None, max_channels: int = 16, *, cmap="viridis",
                    cell_size: float = 1.0, dpi: float = 100) -> Figure:
    """Draw feature maps of several layers for one image: rows = layers (dict order), columns = channels.

    Paper 002's activation visualisation.

    Parameters
    ----------
    activations : dict of str to array-like, shape (H, W, C) or (1, H, W, C)
        ``{layer name: feature maps}``, as returned by ``xai_tf.explain.activations`` for one
        image. Each layer shows its first ``min(C, max_channels)`` channels, each scaled from its
        own min to max (a constant channel shows as the colormap's bottom colour; with one scale per
        channel there is no colour bar).
    path : str or pathlib.Path, optional
        ``.png`` or ``.pdf`` file to save to. Default None: not saved.
    max_channels : int, optional
        Channels shown per layer (default 16, a positive int).
    cmap : str or matplotlib.colors.Colormap, optional
        Colormap (default ``"viridis"``, paper 002's choice).
    cell_size : float, optional
        Cell side in inches (default 1.0).
    dpi : float, optional
        Pixels per inch (default 100): a PNG is ``layers * cell_size * dpi`` pixels high and
        ``min(max C, max_channels) * cell_size * dpi`` wide.

    Returns
    -------
    matplotlib.figure.Figure
        The grid (Agg canvas, headless), also saved to ``path`` when given.

    Raises
    ------
    TypeError
        If ``activations`` is not a non-empty dict, ``max_channels`` is not an integer, or an
        array is not numeric.
    ValueError
        If ``path`` does not end in ``.png`` or ``.pdf``, ``max_channels`` < 1, ``cmap`` is not a
        colormap, or a layer's value is not one image's feature maps ``(H, W, C)`` (dense layers
        have no spatial maps to show) or holds NaN/Inf.
    """
    path = check_path(path)
    check_positive(max_channels, "max_channels", integer=True)
    colormap = get_colormap(cmap)
    if not isinstance(activations, Mapping) or not activations:
        raise TypeError("activations must be a non-empty dict {layer name: (H, W, C) array}; "
                        f"got {type(activations).__name__}")
    layers = {}
    for name, value in activations.items():
        array = check_finite(as_float_array(value, f"activations[{name!r}]"), f"activations[{name!r}]")
        if array.ndim == 4 and array.shape[0] == 1:
            array = array[0]
        if array.ndim != 3:
            raise ValueError(f"activations[{name!r}] must be one image's feature maps (H, W, C) or (1, H, W, C); "
                             f"got shape {array.shape} (dense layers have no spatial maps to show)")
        layers[str(name)] = array[..., :max_channels]
    columns = max(array.shape[-1] for array in layers.values())
    layout = GridLayout(len(layers), columns, cell_size, dpi)
    for row, (name, array) in enumerate(layers.items()):
        for channel in range(columns):
            axes = layout.cell(row, channel)
            if channel >= array.shape[-1]:
                axes.set_axis_off()
                continue
            plane = array[..., channel]
            low, high = float(plane.min()), float(plane.max())
            scaled = np.zeros_like(plane) if high == low else (plane - low) / (high - low)
            axes.imshow(colormap(scaled)[..., :3])
            if channel == 0:
                layout.row_label(axes, name)
            if row == 0:
                layout.title(axes, f"channel {channel}")
    if path is not None:
        save_figure(layout.figure, path)
    return layout.figure


def _relative_change(before: np.ndarray, after: np.ndarray) -> float:
    norm = float(np.linalg.norm(before))
    return float(np.linalg.norm(after - before)) / norm if norm > 0 else 0.0


def _format_change(change: float) -> str:
    return f"change {100 * change:.0f}%" if change >= 0.01 else f"change {change:.1e}"


def denoise_grid(saliency_map, methods=None, image=None, path=None, *, mask=None, label: str = "original",
                 signed: str = "abs", clip_percentile: float = 99.0, max_columns: int = MAX_COLUMNS,
                 colorbar: bool = True, outline=None, cmap="jet", alpha: float = 0.6, cell_size: float = 1.4,
                 dpi: float = 100) -> Figure:
    """Draw one map, then each denoiser's result; with ``image``, a second row superimposes each on it.

    Paper 002's "heatmap / denoised heatmap / superimposed" figure. Each denoiser's title gives its
    relative change ``||denoised - map|| / ||map||``. The PNG is ``min(panels, max_columns) *
    cell_size * dpi`` pixels wide; rows = 2 per block with an image, 1 without.

    Parameters
    ----------
    saliency_map : array-like, shape (H, W)
        One map of any sign and scale. Show a noisy one (vanilla gradient, Integrated Gradients):
        that is what denoising is for (paper 002); a Grad-CAM is already smooth and every denoiser
        leaves it nearly unchanged.
    methods : None, str, sequence of str or dict, optional
        Denoiser names (default None: all of ``xai_tf.denoise.methods()``), or a dict
        ``{name: {parameter: value}}`` to override the papers' defaults.
    image : array-like, shape (H, W), (H, W, 1) or (H, W, 3), optional
        The image in [0, 1] (the map is resized to it if coarser, see :func:`~xai_tf.viz.overlay`). Default
        None: no superimposed row.
    path : str or pathlib.Path, optional
        ``.png`` or ``.pdf`` file to save to. Default None: not saved.
    mask : array-like, shape (H, W), optional
        Ground-truth mask of the image (nonzero = inside; the map's shape without an image),
        outlined on every panel.
    label : str, optional
        Title of the first panel (default "original"; e.g. the method's name).
    signed : {"abs", "keep"}, optional
        ``"abs"`` (default) denoises and shows ``|map|`` (what the figures show: a gradient's sign
        flips from pixel to pixel, and smoothing the signed values would cancel them); ``"keep"``
        denoises the signed map and shows it symmetrically around zero.
    clip_percentile : float, optional
        Every panel shares the original's colour scale, 0 (or ``-p``) to ``p``, its percentile of
        ``|map|``, in (0, 100] (default 99, PAIR's), so the loss of peak height that smoothing
        causes shows; one colour bar gives that scale in the map's units.
    max_columns : int, optional
        Panels per row at most (default 7: the original and the six denoisers).
    colorbar : bool, optional
        Draw the colour bar under the grid (default True).
    outline : tuple of (float, float, float), optional
        Ground-truth colour (r, g, b) in [0, 1]; default None: a colour absent from the colour map.
    cmap : str or matplotlib.colors.Colormap, optional
        Heatmap colormap (default ``"jet"``, paper 002).
    alpha : float, optional
        Heatmap opacity over the image in [0, 1] (default 0.6, paper 002).
    cell_size : float, optional
        Side of each (square) cell in inches (default 1.4).
    dpi : float, optional
        Pixels per inch (default 100).

    Returns
    -------
    matplotlib.figure.Figure
        The grid (Agg canvas, headless), also saved to ``path`` when given.

    Raises
    ------
    ValueError
        If ``path`` does not end in ``.png`` or ``.pdf``, ``signed`` or ``cmap`` is not valid,
        ``outline`` is not (r, g, b) in [0, 1], ``clip_percentile`` is not in (0, 100],
        ``max_columns`` < 1, ``saliency_map`` is not one finite 2-D map, ``methods`` is empty or
        names an unknown denoiser or a bad parameter value, ``image`` is not one image in [0, 1],
        or ``mask`` does not have the image's (or the map's) shape.
    TypeError
        If ``max_columns`` is not an integer, a denoiser parameter name is unknown, or an array is
        not numeric.
    """
    from xai_tf.denoising import denoise

    path = check_path(path)
    check_choice(signed, "signed", ("abs", "keep"))
    colormap = get_colormap(cmap)
    outline = _check_outline(outline, colormap)
    clip_percentile = _check_percentile(clip_percentile)
    check_positive(max_columns, "max_columns", integer=True)
    original = check_map_2d(saliency_map)
    if signed == "abs":
        original = np.abs(original)
    if methods is None:
        methods = {name: {} for name in denoise.methods()}
    elif isinstance(methods, str):
        methods = {methods: {}}
    elif not isinstance(methods, Mapping):
        methods = {name: {} for name in methods}
    if not methods:
        raise ValueError("methods must name at least one denoiser; valid: " + ", ".join(denoise.methods()))
    panels = {str(label): (original, None)}
    for name, params in methods.items():
        result = denoise(original, name, verbose=0, **dict(params or {}))
        panels[str(name)] = (result, _relative_change(original, result))
    if image is not None:
        shape = as_rgb(image).shape[:2]  # check it before drawing anything
    else:
        shape = original.shape
    if mask is not None:
        mask = check_finite(as_float_array(mask, "mask"), "mask")
        if mask.shape != tuple(shape):
            raise ValueError(f"mask must have shape {tuple(shape)} (the image's, or the map's without an image); "
                             f"got {mask.shape}")
        mask = mask > 0.5
    value_range = clip_range(original, clip_percentile)

    per_row = min(len(panels), int(max_columns))
    blocks = math.ceil(len(panels) / per_row)
    rows_per_block = 2 if image is not None else 1
    shown = "|map|" if signed == "abs" else "map"
    layout = GridLayout(blocks * rows_per_block, per_row, cell_size, dpi,
                     colorbar_label=(f"{shown}, one scale for every panel: 0 to the {label} map's "
                                     f"{_percentile_words(clip_percentile)[4:]} (higher values saturate)")
                     if colorbar else None)
    line_width = 0.01 * layout.cell_px * 72 / layout.dpi
    for position, (name, (panel, change)) in enumerate(panels.items()):
        block, column = divmod(position, per_row)
        row = block * rows_per_block
        axes = layout.cell(row, column)
        heat = colormap(normalise_map(panel, value_range))[..., :3]
        axes.imshow(heat)
        if mask is not None and mask.shape == panel.shape:
            draw_ground_truth(axes, mask, None, outline, line_width)
        layout.title(axes, name if change is None else f"{name}\n{_format_change(change)}")
        if column == 0:
            layout.row_label(axes, "map")
        if image is not None:
            axes = layout.cell(row + 1, column)
            axes.imshow(overlay(image, panel, cmap=colormap, alpha=alpha, value_range=value_range))
            if mask is not None:
                draw_ground_truth(axes, mask, None, outline, line_width)
            if column == 0:
                layout.row_label(axes, "superimposed")
    if colorbar:
        low, high = value_range if value_range is not None else (0.0, 1.0)
        layout.colorbar(colormap, low, high)
    if path is not None:
        save_figure(layout.figure, path)
    return layout.figure
