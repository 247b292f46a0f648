"""Critical-difference diagrams (Demšar 2006, Fig. 1): average ranks on an axis, Nemenyi's CD as a bar.

The methods hang from the rank axis (1 = best, on the left), half of them labelled on the left and
half on the right; a thick line joins every maximal group of methods whose average ranks differ by
at most the critical difference (no significant difference within it). Drawn on a
``matplotlib.figure.Figure`` with the Agg canvas (``xai_tf.viz.figures``): no pyplot, headless.
"""
from __future__ import annotations

import math

import numpy as np
from matplotlib.figure import Figure

from xai_tf._docstrings import fill_doc
from xai_tf.viz.figures import FIGURE_DOCS, SAVE_FORMATS, check_path, new_figure, points, save_figure


def cliques(ranks: dict, cd: float) -> list[list[str]]:
    """Maximal groups of methods (by average rank, best first) spanning at most ``cd``; groups of one left out."""
    order = sorted(ranks, key=lambda name: ranks[name])
    groups: list[list[str]] = []
    for start in range(len(order)):
        end = start
        while end + 1 < len(order) and ranks[order[end + 1]] - ranks[order[start]] <= cd:
            end += 1
        group = order[start:end + 1]
        if len(group) > 1 and not any(set(group) <= set(other) for other in groups):
            groups.append(group)
    return groups


@fill_doc(**FIGURE_DOCS)
def cd_diagram(average_ranks: dict, cd: float, path=None, *, title: str = "", dpi: float = 100) -> Figure:
    """Draw a critical-difference diagram of methods' average ranks (Demšar 2006, Fig. 1).

    Parameters
    ----------
    average_ranks : dict
        ``{method name: average rank}`` (float, 1 = best), at least two methods.
    cd : float
        Nemenyi's critical difference (``xai_tf.evaluation.critical_difference``), >= 0, drawn as a
        bar above the axis; methods closer than ``cd`` are joined by a thick line. NaN: no bar and
        no groups.
    {path}
    title : str, optional
        Title above the diagram (default none).
    dpi : float, optional
        Pixels per inch (default 100).

    {figure_returns}

    Raises
    ------
    ValueError
        If fewer than two methods are given, a rank is not finite, ``cd`` is negative or ``path``
        has another suffix than ``.png``, ``.pdf`` or ``.svg``.
    TypeError
        If ``average_ranks`` is not a dict.
    """
    if not isinstance(average_ranks, dict):
        raise TypeError(f"average_ranks must be a dict {{method: rank}}; got {type(average_ranks).__name__}")
    if len(average_ranks) < 2:
        raise ValueError(f"average_ranks must hold at least two methods; got {len(average_ranks)}")
    ranks = {str(name): float(rank) for name, rank in average_ranks.items()}
    if not all(np.isfinite(list(ranks.values()))):
        raise ValueError("average_ranks must hold finite ranks")
    if cd is not None and np.isfinite(cd) and cd < 0:
        raise ValueError(f"cd must be >= 0; got {cd!r}")
    path = check_path(path, SAVE_FORMATS)
    order = sorted(ranks, key=lambda name: ranks[name])
    k = len(order)
    low, high = 1, max(k, math.ceil(max(ranks.values())))
    half = math.ceil(k / 2)
    rows = max(half, k - half)
    groups = cliques(ranks, cd) if cd is not None and np.isfinite(cd) else []
    height = 1.05 + 0.28 * rows + 0.12 * len(groups)
    font = points(13, dpi)
    # room for the longest "name (rank)" label on each side (about 0.6 em per character), so no label
    # is cut at the figure's edge; the rank axis keeps its 3.9 inches
    label = max(len(f"{name} ({rank:.2f})") for name, rank in ranks.items()) * 0.6 * font / 72.0 + 0.35
    width = max(7.0, 3.92 + 2 * label)
    figure = new_figure(width, height, dpi=dpi)
    axes = figure.add_axes((0.0, 0.0, 1.0, 1.0))
    axes.set_axis_off()
    axes.set_xlim(0.0, 1.0)
    axes.set_ylim(height, 0.0)  # inches from the top
    left, axis_y = max(0.22, label / width), 0.75
    right = 1.0 - left

    def x_of(rank: float) -> float:
        return left + (right - left) * (rank - low) / max(high - low, 1)

    axes.plot([left, right], [axis_y, axis_y], color="black", linewidth=1)
    for tick in range(low, high + 1):
        axes.plot([x_of(tick)] * 2, [axis_y - 0.06, axis_y], color="black", linewidth=1)
        axes.text(x_of(tick), axis_y - 0.1, str(tick), ha="center", va="bottom", fontsize=font)
    if title:
        axes.text(0.5, 0.08, title, ha="center", va="top", fontsize=font)
    if cd is not None and np.isfinite(cd) and cd > 0:
        start = x_of(low)
        end = x_of(min(low + cd, high + 1.0))
        axes.plot([start, end], [0.38, 0.38], color="black", linewidth=1.5)
        axes.text(end + 0.01, 0.38, f"CD = {cd:.2f}", ha="left", va="center", fontsize=font)
    base = axis_y + 0.2 + 0.12 * len(groups)
    for position, name in enumerate(order):
        on_left = position < half
        row = position if on_left else k - 1 - position
        y = base + 0.28 * row
        x = x_of(ranks[name])
        edge = left - 0.02 if on_left else right + 0.02
        axes.plot([x, x, edge], [axis_y, y, y], color="black", linewidth=0.8)
        axes.text(edge - 0.01 if on_left else edge + 0.01, y, f"{name} ({ranks[name]:.2f})",
                  ha="right" if on_left else "left", va="center", fontsize=font)
    for number, group in enumerate(groups):
        y = axis_y + 0.12 + 0.12 * number
        axes.plot([x_of(ranks[group[0]]) - 0.005, x_of(ranks[group[-1]]) + 0.005], [y, y], color="black",
                  linewidth=3, solid_capstyle="butt")
    if path is not None:
        save_figure(figure, path)
    return figure
