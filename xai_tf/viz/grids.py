"""The papers' figures: images x methods grids (this module), activation grids and denoising grids.

- ``method_grid``: rows are images (labelled with true and predicted class), columns are the input
  then one per explanation method, at most ``max_columns`` (7) methods per row: more methods wrap
  into further blocks of rows, as evenly filled as possible, each with its own column titles (the
  figures of papers 000 and 004; paper 003's boxes). Ground-truth masks and boxes are outlined on
  every cell.
- ``activation_grid`` (``xai_tf.viz.activations``): rows are layers, columns the first channels of
  each (paper 002's activation visualisation).
- ``denoise_grid`` (``xai_tf.viz.denoised``): one map, then each denoiser's result (with how much it
  changed the map); a second row superimposes them on the image (paper 002's "heatmap / denoised
  heatmap / superimposed"). Give it a noisy map (vanilla gradient, Integrated Gradients): a Grad-CAM
  is already smooth and every denoiser leaves it nearly unchanged.

All are headless; the options they share are checked and documented once in ``xai_tf.viz.grid_options``.

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

from xai_tf._checks import check_choice, check_images, check_maps
from xai_tf._docstrings import fill_doc
from xai_tf.viz.figures import save_figure
from xai_tf.viz.grid_options import (
    GRID_DOCS,
    MAX_COLUMNS,
    check_grid_options,
    line_width,
    percentile_words,
)
from xai_tf.viz.layout import GridLayout, draw_ground_truth
from xai_tf.viz.overlays import as_rgb, clip_range, overlay

# ---------------------------------------------------------------------------------------------
# Argument checks
# ---------------------------------------------------------------------------------------------


def _check_masks(masks, n: int, shape: tuple[int, int]):
    if masks is None:
        return None
    array = check_maps(masks, "masks")
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


@fill_doc(**GRID_DOCS)
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
    {path}
    {cmap}
    {alpha}
    signed : {"abs", "keep"}, optional
        ``"abs"`` (default) shows ``|map|`` (larger magnitude = more important, PAIR's figures);
        ``"keep"`` keeps the sign, scaled symmetrically around zero (use a diverging ``cmap``).
    clip_percentile : float, optional
        Each map is shown on ``[0, p]`` (``[-p, p]`` signed), p its percentile of ``|map|``, in
        (0, 100] (default 99, PAIR's for gradient maps; 100 = its maximum); values beyond
        saturate.
    max_columns : int, optional
        Methods per row at most (default 7: eight 140 px cells fill the report's column).
    {colorbar}
    {outline}
    {cell_size}
    dpi : float, optional
        Pixels per inch (default 100), so a PNG is ``(1 + methods per row) * cell_size * dpi``
        pixels wide (at most 1120 by default), plus a band for the colour bar in height.

    {grid_returns}

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
    path, colormap, outline, clip_percentile = check_grid_options(path, signed, cmap, outline, clip_percentile,
                                                                  max_columns)
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
        array = check_maps(maps, f"maps_by_method[{name!r}]")
        if array.shape[0] != n:
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
    label = (f"{shown} / {percentile_words(clip_percentile)} of |map| (each map on its own scale; "
             "higher values saturate; \"from min\": a map with an offset, from its minimum)")
    layout = GridLayout(blocks * n, 1 + per_row, cell_size, dpi, colorbar_label=label if colorbar else None,
                        titles=titles)
    stroke = line_width(layout)
    for block in range(blocks):
        chunk = list(range(block * per_row, min(len(names), (block + 1) * per_row)))
        for image_row in range(n):
            row = block * n + image_row
            truth = (None if masks is None else masks[image_row], None if boxes is None else boxes[image_row])
            axes = layout.cell(row, 0)
            axes.imshow(as_rgb(images[image_row]))
            layout.row_label(axes, _row_label(image_row, labels, predictions, class_names))
            draw_ground_truth(axes, *truth, outline, stroke)
            if image_row == 0:
                layout.title(axes, "input")
            for column, index in enumerate(chunk, start=1):
                saliency = all_maps[names[index]][image_row]
                axes = layout.cell(row, column)
                value_range, note = panel_range(saliency, clip_percentile)
                axes.imshow(overlay(images[image_row], saliency, cmap=colormap, alpha=alpha, value_range=value_range))
                draw_ground_truth(axes, *truth, outline, stroke)
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
