"""Feature maps of several layers for one image: ``activation_grid`` (paper 002's activation visualisation).

Rows are layers (dict order), columns the first channels of each, each channel scaled from its own
minimum to maximum (so there is no colour bar). Layout and saving as the other grids
(``xai_tf.viz.grids``).
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from matplotlib.figure import Figure

from xai_tf._checks import as_float_array, check_finite, check_positive
from xai_tf._docstrings import fill_doc
from xai_tf.viz.figures import check_path, save_figure
from xai_tf.viz.grid_options import GRID_DOCS
from xai_tf.viz.layout import GridLayout
from xai_tf.viz.overlays import get_colormap


@fill_doc(**GRID_DOCS)
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
    {path}
    max_channels : int, optional
        Channels shown per layer (default 16, a positive int).
    cmap : str or matplotlib.colors.Colormap, optional
        Colormap (default ``"viridis"``, paper 002's choice).
    cell_size : float, optional
        Cell side in inches (default 1.0).
    dpi : float, optional
        Pixels per inch (default 100): a PNG is ``layers * cell_size * dpi`` pixels high and
        ``min(max C, max_channels) * cell_size * dpi`` wide.

    {grid_returns}

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
