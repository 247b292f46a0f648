"""The options the map grids share: their checks, their numpydoc entries and ``MAX_COLUMNS``.

``method_grid`` (``xai_tf.viz.grids``) and ``denoise_grid`` (``xai_tf.viz.denoised``) take the same
drawing options (``path``, ``signed``, ``cmap``, ``outline``, ``clip_percentile``, ``max_columns``,
``colorbar``, ``alpha``, ``cell_size``) and check them in the same order with the same messages
(``check_grid_options``); ``activation_grid`` (``xai_tf.viz.activations``) shares the path and the
Returns entry. Each numpydoc entry is written once here and placed with ``xai_tf._docstrings.fill_doc``.
"""
from __future__ import annotations

import numpy as np

from xai_tf._checks import check_choice, check_positive
from xai_tf.viz.figures import check_path
from xai_tf.viz.overlays import check_percentile, get_colormap, outline_colour

#: Methods per row of ``method_grid`` (and panels per row of ``denoise_grid``) at most.
MAX_COLUMNS = 7

#: The numpydoc entries of the shared options (``fill_doc(**GRID_DOCS)``).
GRID_DOCS = {
    "path": """
        path : str or pathlib.Path, optional
            ``.png`` or ``.pdf`` file to save to (parent folders are created). Default None: not saved.
        """,
    "cmap": """
        cmap : str or matplotlib.colors.Colormap, optional
            Heatmap colormap (default ``"jet"``, as in paper 002; see :func:`~xai_tf.viz.overlay`).
        """,
    "alpha": """
        alpha : float, optional
            Heatmap opacity over the image in [0, 1] (default 0.6, as in paper 002).
        """,
    "colorbar": """
        colorbar : bool, optional
            Draw the colour bar under the grid (default True).
        """,
    "outline": """
        outline : tuple of (float, float, float), optional
            Ground-truth colour (r, g, b) in [0, 1]; default None: ``outline_colour(cmap)``, one absent
            from the colour map (magenta for jet).
        """,
    "cell_size": """
        cell_size : float, optional
            Side of each (square) cell in inches (default 1.4).
        """,
    "grid_returns": """
        Returns
        -------
        matplotlib.figure.Figure
            The grid (Agg canvas, headless), also saved to ``path`` when given.
        """,
}


def check_outline(outline, colormap) -> tuple[float, float, float]:
    """The ground-truth colour: ``outline`` as (r, g, b) in [0, 1], or for None one absent from ``colormap``.

    Raises ValueError naming ``outline`` for anything else.
    """
    if outline is None:
        return outline_colour(colormap)
    array = np.asarray(outline, dtype=float) if not isinstance(outline, str) else None
    if array is None or array.shape != (3,) or not np.all((array >= 0) & (array <= 1)):
        raise ValueError(f"outline must be None (a colour absent from cmap) or (r, g, b) in [0, 1]; got {outline!r}")
    return tuple(float(v) for v in array)


def check_grid_options(path, signed, cmap, outline, clip_percentile, max_columns):
    """Check the options ``method_grid`` and ``denoise_grid`` share, in the order both report them.

    Returns ``(path, colormap, outline, clip_percentile)``: the ``Path`` (or None), the colormap
    object, the (r, g, b) outline colour and the percentile as a float; ``signed`` and ``max_columns``
    are only checked. Raises what ``check_path``, ``check_choice``, ``get_colormap``,
    ``check_outline``, ``check_percentile`` and ``check_positive`` raise, naming the argument.
    """
    path = check_path(path)
    check_choice(signed, "signed", ("abs", "keep"))
    colormap = get_colormap(cmap)
    outline = check_outline(outline, colormap)
    clip_percentile = check_percentile(clip_percentile, "clip_percentile", " (100 = no clipping)")
    check_positive(max_columns, "max_columns", integer=True)
    return path, colormap, outline, clip_percentile


def percentile_words(percentile: float) -> str:
    """``"its maximum"`` for 100, else ``"its 99th percentile"``: the colour bars' wording."""
    return "its maximum" if percentile == 100.0 else f"its {percentile:g}th percentile"


def line_width(layout) -> float:
    """Width in points of the ground-truth outline: 1% of a cell (1.4 px in a 140 px cell)."""
    return 0.01 * layout.cell_px * 72 / layout.dpi
