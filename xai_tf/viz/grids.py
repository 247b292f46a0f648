"""The papers' figures: images x methods grids, activation grids and denoising grids (headless).

- ``method_grid``: rows are images (labelled with true and predicted class), columns are the input
  then one per explanation method, ground-truth masks and boxes drawn in pure red on every cell
  (the figures of papers 000 and 004; paper 003's boxes).
- ``activation_grid``: rows are layers, columns the first channels of each (paper 002's activation
  visualisation).
- ``denoise_grid``: one map, then each denoiser; a second row superimposes them on the image
  (paper 002's "Grad-CAM heatmap / denoised heatmap / superimposed").

Every function returns a ``matplotlib.figure.Figure`` drawn on an Agg canvas (no pyplot, so no
global figure state, and it works without a display; notebooks show the returned figure), and
saves it when ``path`` is given: ``.png`` or ``.pdf`` by the suffix.

Layout (so that sizes are predictable): every cell is a square of ``cell_size`` inches, the figure
is ``columns x rows`` cells and a PNG is exactly ``(rows * cell_size * dpi, columns * cell_size *
dpi)`` pixels (height, width; rounded). In each cell the picture's axes take 0.82 of the width and
0.84 of the height, leaving 0.16 on the left for the row label and 0.14 on top for the column
title (square images are drawn with equal aspect, centred in those axes).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from xai_tf._checks import (
    as_float_array,
    check_choice,
    check_finite,
    check_images,
    check_positive,
)
from xai_tf.viz.figures import new_figure, save_figure
from xai_tf.viz.overlays import (
    as_rgb,
    check_map_2d,
    get_colormap,
    normalise_map,
    overlay,
)

RED = (1.0, 0.0, 0.0)  # ground truth: pure red, so it can be told from every heatmap colour and found in tests
_MARGIN_LEFT, _MARGIN_TOP, _MARGIN_RIGHT, _MARGIN_BOTTOM = 0.16, 0.14, 0.02, 0.02
_SUFFIXES = (".png", ".pdf")


# ---------------------------------------------------------------------------------------------
# Figure scaffolding
# ---------------------------------------------------------------------------------------------


def _check_layout(cell_size, dpi):
    check_positive(cell_size, "cell_size")
    check_positive(dpi, "dpi")


def _check_path(path):
    if path is None:
        return None
    path = Path(path)
    if path.suffix.lower() not in _SUFFIXES:
        raise ValueError(f"path={str(path)!r} must end in {' or '.join(_SUFFIXES)} (the figure's format)")
    return path


def _new_figure(rows: int, columns: int, cell_size: float, dpi: float) -> Figure:
    return new_figure(columns * cell_size, rows * cell_size, dpi)


def _cell(figure: Figure, row: int, column: int, rows: int, columns: int):
    """Axes for one cell, in figure fractions (see the module docstring's layout)."""
    width = (1.0 - _MARGIN_LEFT - _MARGIN_RIGHT) / columns
    height = (1.0 - _MARGIN_TOP - _MARGIN_BOTTOM) / rows
    left = (column + _MARGIN_LEFT) / columns
    bottom = (rows - 1 - row + _MARGIN_BOTTOM) / rows
    axes = figure.add_axes((left, bottom, width, height))
    axes.set_xticks([])
    axes.set_yticks([])
    return axes


def _font_size(cell_size: float) -> float:
    return max(5.0, 4.0 * cell_size)  # 8 pt in a 2-inch cell


def _save(figure: Figure, path: Path | None) -> Figure:
    if path is not None:
        save_figure(figure, path)
    return figure


def _draw_ground_truth(axes, mask, boxes, line_width: float):
    """Mask contour (between inside and outside pixel centres, i.e. on the mask's edge) and boxes, in red."""
    if mask is not None and mask.any() and not mask.all():
        axes.contour(mask.astype(np.float32), levels=[0.5], colors=[RED], linewidths=line_width,
                     antialiased=False)
    for y0, x0, y1, x1 in boxes or ():
        # (y0, x0, y1, x1) end exclusive: the box's outline runs along the outer pixel edges
        axes.add_patch(Rectangle((x0 - 0.5, y0 - 0.5), x1 - x0, y1 - y0, fill=False, edgecolor=RED,
                                 linewidth=line_width, antialiased=False))


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


def method_grid(images, maps_by_method: Mapping, titles: Sequence[str] | None = None, masks=None, boxes=None,
                denoise: str | None = None, labels=None, predictions=None, class_names=None, path=None, *,
                cmap="jet", alpha: float = 0.6, signed: str = "abs", cell_size: float = 2.0,
                dpi: float = 100) -> Figure:
    """Grid of images x explanation methods with the ground truth in red; returns the Figure.

    images: ``(N, H, W, C)`` in [0, 1], C = 1 (shown in gray) or 3. One row each.
    maps_by_method: ``{method name: maps (N, H, W)}``, one column each in dict order after the
        input column (``dict(np.load("maps.npz"))`` works). Maps may be coarser than the image
        (resized bilinearly, see ``overlay``).
    titles: column titles for the methods (default: the dict's keys); the first column is "input".
    masks: optional ``(N, H, W)`` ground-truth masks (nonzero = inside); their contour is drawn in
        pure red (1, 0, 0) on every cell of the row.
    boxes: optional per image a list of ``(y0, x0, y1, x1)`` pixel boxes, end exclusive (the
        convention of ``xai_tf.data``); drawn in pure red on every cell.
    denoise: optional denoiser name (see ``xai_tf.denoise.methods()``) applied with its paper
        defaults to every map before display; titles then say so.
    labels, predictions: optional ``(N,)`` class indices; the row label reads "true: ...\\npred: ...".
    class_names: optional names for those indices.
    path: optional ``.png`` or ``.pdf`` file to save to (parent folders are created).
    cmap, alpha: heatmap colormap and opacity over the image (see ``overlay``; defaults ``"jet"``,
        0.6 as in paper 002).
    signed: ``"abs"`` (default) shows ``|map|`` (larger magnitude = more important, PAIR's figures);
        ``"keep"`` keeps the sign, scaled symmetrically around zero (use a diverging ``cmap``).
    cell_size: side of each cell in inches (default 2.0); dpi: pixels per inch (default 100), so
        a PNG is ``(N * cell_size * dpi, (1 + methods) * cell_size * dpi)`` pixels.
    """
    _check_layout(cell_size, dpi)
    path = _check_path(path)
    check_choice(signed, "signed", ("abs", "keep"))
    get_colormap(cmap)
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

    columns = 1 + len(names)
    figure = _new_figure(n, columns, cell_size, dpi)
    font = _font_size(cell_size)
    line_width = 0.75 * cell_size  # points: 1.5 pt in a 2-inch cell
    for row in range(n):
        for column in range(columns):
            axes = _cell(figure, row, column, n, columns)
            if column == 0:
                axes.imshow(as_rgb(images[row]))
                label = _row_label(row, labels, predictions, class_names)
                if label:
                    axes.set_ylabel(label, fontsize=font, labelpad=2)
            else:
                name = names[column - 1]
                axes.imshow(overlay(images[row], all_maps[name][row], cmap=cmap, alpha=alpha))
            _draw_ground_truth(axes, None if masks is None else masks[row],
                               None if boxes is None else boxes[row], line_width)
            if row == 0:
                axes.set_title("input" if column == 0 else titles[column - 1], fontsize=font)
    return _save(figure, path)


def activation_grid(activations: Mapping, path=None, max_channels: int = 16, *, cmap="viridis",
                    cell_size: float = 1.0, dpi: float = 100) -> Figure:
    """Feature maps of several layers for one image: rows = layers (dict order), columns = channels.

    activations: ``{layer name: (H, W, C) or (1, H, W, C)}``, as returned by
        ``xai_tf.explain.activations`` for one image. Each layer shows its first
        ``min(C, max_channels)`` channels, each scaled from its own min to max (a constant channel
        shows as the colormap's bottom colour).
    max_channels: channels shown per layer (default 16, a positive int).
    cmap: colormap (default ``"viridis"``, paper 002's choice).
    cell_size: cell side in inches (default 1.0); dpi default 100: a PNG is
        ``(layers * cell_size * dpi, min(max C, max_channels) * cell_size * dpi)`` pixels.
    path: optional ``.png`` or ``.pdf`` file.
    """
    _check_layout(cell_size, dpi)
    path = _check_path(path)
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
    rows = len(layers)
    figure = _new_figure(rows, columns, cell_size, dpi)
    font = _font_size(cell_size) + 1
    for row, (name, array) in enumerate(layers.items()):
        for channel in range(columns):
            axes = _cell(figure, row, channel, rows, columns)
            if channel >= array.shape[-1]:
                axes.set_axis_off()
                continue
            plane = array[..., channel]
            low, high = float(plane.min()), float(plane.max())
            scaled = np.zeros_like(plane) if high == low else (plane - low) / (high - low)
            axes.imshow(colormap(scaled)[..., :3])
            if channel == 0:
                axes.set_ylabel(name, fontsize=font)
            if row == 0:
                axes.set_title(f"channel {channel}", fontsize=font)
    return _save(figure, path)


def denoise_grid(saliency_map, methods=None, image=None, path=None, *, cmap="jet", alpha: float = 0.6,
                 cell_size: float = 2.0, dpi: float = 100) -> Figure:
    """One map, then each denoiser's result; with ``image``, a second row superimposes each on it.

    saliency_map: ``(H, W)`` map of any sign and scale.
    methods: denoiser names (default: all of ``xai_tf.denoise.methods()``), or a dict
        ``{name: {parameter: value}}`` to override the papers' defaults.
    image: optional ``(H, W)``, ``(H, W, 1)`` or ``(H, W, 3)`` in [0, 1] (map resized to it if
        coarser, see ``overlay``).
    path: optional ``.png`` or ``.pdf`` file.
    cmap, alpha: heatmap colormap and overlay opacity (defaults ``"jet"``, 0.6; paper 002).
    All cells share the original map's colour scale (0 to its maximum; symmetric for a signed map),
    so the loss of peak height that smoothing causes shows. The PNG is
    ``(rows * cell_size * dpi, (1 + len(methods)) * cell_size * dpi)`` pixels, rows = 2 with an
    image, else 1.
    """
    from xai_tf.denoising import denoise

    _check_layout(cell_size, dpi)
    path = _check_path(path)
    colormap = get_colormap(cmap)
    original = check_map_2d(saliency_map)
    if methods is None:
        methods = {name: {} for name in denoise.methods()}
    elif isinstance(methods, str):
        methods = {methods: {}}
    elif not isinstance(methods, Mapping):
        methods = {name: {} for name in methods}
    if not methods:
        raise ValueError("methods must name at least one denoiser; valid: " + ", ".join(denoise.methods()))
    panels = {"original": original}
    for name, params in methods.items():
        panels[name] = denoise(original, name, verbose=0, **dict(params or {}))
    if image is not None:
        as_rgb(image)  # check it before drawing anything
    # the original's colour scale for every panel: zero at the bottom, or symmetric for signed maps
    peak = float(np.max(np.abs(original)))
    value_range = None if peak == 0.0 else ((0.0, peak) if original.min() >= 0.0 else (-peak, peak))

    rows, columns = (2 if image is not None else 1), len(panels)
    figure = _new_figure(rows, columns, cell_size, dpi)
    font = _font_size(cell_size)
    for column, (name, panel) in enumerate(panels.items()):
        axes = _cell(figure, 0, column, rows, columns)
        axes.imshow(colormap(normalise_map(panel, value_range))[..., :3])
        axes.set_title(name, fontsize=font)
        if column == 0:
            axes.set_ylabel("map", fontsize=font)
        if image is not None:
            axes = _cell(figure, 1, column, rows, columns)
            axes.imshow(overlay(image, panel, cmap=colormap, alpha=alpha, value_range=value_range))
            if column == 0:
                axes.set_ylabel("superimposed", fontsize=font)
    return _save(figure, path)
