"""One map and each denoiser's result: ``denoise_grid`` (paper 002's "heatmap / denoised heatmap / superimposed").

Each denoiser's title gives its relative change ``||denoised - map|| / ||map||``; every panel is on
the original's colour scale, so the loss of peak height that smoothing causes shows. Layout and
saving as the other grids (``xai_tf.viz.grids``); the options it shares with ``method_grid`` are
checked and documented in ``xai_tf.viz.grid_options``.
"""
from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
from matplotlib.figure import Figure

from xai_tf._checks import check_maps
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
from xai_tf.viz.overlays import as_rgb, check_map_2d, clip_range, normalise_map, overlay


def _relative_change(before: np.ndarray, after: np.ndarray) -> float:
    norm = float(np.linalg.norm(before))
    return float(np.linalg.norm(after - before)) / norm if norm > 0 else 0.0


def _format_change(change: float) -> str:
    return f"change {100 * change:.0f}%" if change >= 0.01 else f"change {change:.1e}"


@fill_doc(**GRID_DOCS)
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
    {path}
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
    {colorbar}
    {outline}
    {cmap}
    {alpha}
    {cell_size}
    dpi : float, optional
        Pixels per inch (default 100).

    {grid_returns}

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

    path, colormap, outline, clip_percentile = check_grid_options(path, signed, cmap, outline, clip_percentile,
                                                                  max_columns)
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
        mask = check_maps(mask, "mask", ndim=(2,))
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
                                        f"{percentile_words(clip_percentile)[4:]} (higher values saturate)")
                        if colorbar else None)
    stroke = line_width(layout)
    for position, (name, (panel, change)) in enumerate(panels.items()):
        block, column = divmod(position, per_row)
        row = block * rows_per_block
        axes = layout.cell(row, column)
        heat = colormap(normalise_map(panel, value_range))[..., :3]
        axes.imshow(heat)
        if mask is not None and mask.shape == panel.shape:
            draw_ground_truth(axes, mask, None, outline, stroke)
        layout.title(axes, name if change is None else f"{name}\n{_format_change(change)}")
        if column == 0:
            layout.row_label(axes, "map")
        if image is not None:
            axes = layout.cell(row + 1, column)
            axes.imshow(overlay(image, panel, cmap=colormap, alpha=alpha, value_range=value_range))
            if mask is not None:
                draw_ground_truth(axes, mask, None, outline, stroke)
            if column == 0:
                layout.row_label(axes, "superimposed")
    if colorbar:
        low, high = value_range if value_range is not None else (0.0, 1.0)
        layout.colorbar(colormap, low, high)
    if path is not None:
        save_figure(layout.figure, path)
    return layout.figure
