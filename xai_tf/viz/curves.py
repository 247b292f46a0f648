"""Aggregated metric curves: one curve per saliency method, its area in the legend.

``plot_curves`` draws any curve metric's aggregated curves (``xai_tf.metrics.curve_metric.CurveMetric``:
Deletion, Insertion, Pixel-Flipping, ROAD, IROF, AIC and SIC); ``plot_pic`` is its use for PIC
results, the figure of paper 004 (Figs. 8-11) and of PAIR's ``pic_metrics.ipynb``. Drawn on a
``matplotlib.figure.Figure`` with the Agg canvas: no pyplot, no global state, works headless.
The legend sits outside the axes, to their right, so that it never covers a curve (with seven
methods a legend inside covered the AIC curves); the figure is widened by the legend's width.
"""
from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from xai_tf._docstrings import fill_doc
from xai_tf.viz.figures import FIGURE_DOCS, SAVE_FORMATS, check_path, new_figure, save_figure


@fill_doc(**FIGURE_DOCS)
def plot_curves(curves_by_method: dict, path=None, *, xlabel: str, ylabel: str, title: str,
                area_label: str = "AUC", xlim=None, ylim=None, figsize=(6.0, 4.5), dpi: float = 100) -> Figure:
    """Plot one aggregated curve per method with ``name (AUC=0.123)`` legend entries.

    Works for any curve metric's aggregated curves (``xai_tf.metrics.curve_metric.CurveMetric``:
    Deletion, Insertion, Pixel-Flipping, ROAD, IROF, AIC and SIC). Drawn on a
    ``matplotlib.figure.Figure`` with the Agg canvas: no pyplot, no global state, works headless.
    The legend sits outside the axes, to their right, so that it never covers a curve (with seven
    methods a legend inside covered the AIC curves); the figure is widened by the legend's width.

    Parameters
    ----------
    curves_by_method : dict
        ``{method name: (x, y, area)}``: ``x`` and ``y`` 1-D arrays of one length (NaN points are
        not drawn), ``area`` the number shown in the legend (None or NaN: not shown).
    {path}
    xlabel : str
        Label of the x axis.
    ylabel : str
        Label of the y axis.
    title : str
        Title of the axes.
    area_label : str, optional
        What the legend calls the area (default "AUC").
    xlim : tuple of (float, float), optional
        x-axis limits; default: the data's range.
    ylim : tuple of (float, float), optional
        y-axis limits; default: the data's range (from 0 when ``y`` has no negative value).
    figsize : tuple of (float, float), optional
        Size of the plotting area with its labels, in inches (default 6 x 4.5); the legend is added on
        the right, outside the axes.
    dpi : float, optional
        Pixels per inch (default 100; text is then at least 11 px high).

    {figure_returns}
        When no curve has a finite point (every image excluded, e.g. an all-excluded SIC), the axes
        say "no image included" and so does the title, instead of an empty plot.

    Raises
    ------
    ValueError
        If ``curves_by_method`` is not a non-empty dict, a curve's ``x`` and ``y`` are not 1-D of
        one length, or ``path`` does not end in ``.png``, ``.pdf`` or ``.svg``.
    """
    if not isinstance(curves_by_method, dict) or not curves_by_method:
        raise ValueError("curves_by_method must be a non-empty dict {method name: (x, y, area)}")
    path = check_path(path, SAVE_FORMATS)
    figure = new_figure(*figsize, dpi=dpi)
    axes = figure.add_subplot()
    lowest = np.inf
    for name, (x, y, area) in curves_by_method.items():
        x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        if x.shape != y.shape or x.ndim != 1:
            raise ValueError(f"curves_by_method[{name!r}]: x and y must be 1-D of one length; got {x.shape}, {y.shape}")
        finite = np.isfinite(y)
        if finite.any():
            lowest = min(lowest, float(y[finite].min()))
        legend = name if area is None or not np.isfinite(area) else f"{name} ({area_label}={area:.3f})"
        axes.plot(x[finite], y[finite], label=legend)
    if lowest == np.inf:  # every curve empty (e.g. SIC with every image excluded): say so, no empty plot
        axes.text(0.5, 0.5, "no image included", transform=axes.transAxes, ha="center", va="center",
                  fontsize="large", color="0.3")
        axes.set_xticks([])
        axes.set_yticks([])
        title = f"{title}: no image included"
    if xlim is not None:
        axes.set_xlim(*xlim)
    if ylim is not None:
        axes.set_ylim(*ylim)
    elif lowest >= 0:
        axes.set_ylim(bottom=0.0)
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    axes.set_title(title)
    axes.grid(alpha=0.3)
    figure.tight_layout()
    legend = figure.legend(*axes.get_legend_handles_labels(), loc="upper left", fontsize="small",
                           bbox_to_anchor=(1.0, axes.get_position().y1), bbox_transform=figure.transFigure,
                           frameon=False)
    # widen the figure by the legend's width, keeping the axes where they are in inches
    figure.canvas.draw()
    width, height = figure.get_size_inches()
    total = np.ceil((width + legend.get_window_extent().width / figure.dpi + 0.1) * figure.dpi) / figure.dpi
    legend_width = total - width  # whole pixels: the PNG is exactly the figure's size
    position = axes.get_position()
    figure.set_size_inches(width + legend_width, height)
    scale = width / (width + legend_width)
    axes.set_position((position.x0 * scale, position.y0, position.width * scale, position.height))
    legend.set_bbox_to_anchor((width / (width + legend_width), position.y1), transform=figure.transFigure)
    if path is not None:
        save_figure(figure, path)
    return figure


@fill_doc(**FIGURE_DOCS)
def plot_pic(results_by_method: dict, path=None, *, title: str | None = None, figsize=(6.0, 4.5),
             dpi: float = 100) -> Figure:
    """Plot aggregated PIC curves, one per method, with ``name (AUC=0.123)`` legend entries.

    The figure of paper 004 (Figs. 8-11) and of PAIR's ``pic_metrics.ipynb``; drawn by
    :func:`~xai_tf.viz.plot_curves` with x = normalized estimation of entropy in [0, 1] and y = prediction score
    (SIC) or accuracy (AIC) in [0, 1.05].

    Parameters
    ----------
    results_by_method : dict
        ``{method name: PicResult}`` (all the same ``kind``; any object with ``curve_x``,
        ``curve``, ``auc`` and ``kind`` works).
    {path}
    title : str, optional
        Default None: "Aggregated SIC" / "Aggregated AIC" (with the number of included images when
        all results agree on it).
    figsize : tuple of (float, float), optional
        Size of the plotting area with its labels, in inches (default 6 x 4.5); the legend is
        added on the right, outside the axes.
    dpi : float, optional
        Pixels per inch (default 100; text is then at least 11 px high).

    {figure_returns}

    Raises
    ------
    ValueError
        If ``results_by_method`` is not a non-empty dict, mixes curve kinds (plot AIC and SIC
        separately), or ``path`` has an unsupported suffix.
    """
    if not isinstance(results_by_method, dict) or not results_by_method:
        raise ValueError("results_by_method must be a non-empty dict {method name: PicResult}")
    kinds = {getattr(result, "kind", None) for result in results_by_method.values()}
    if len(kinds) != 1:
        raise ValueError(f"results_by_method mixes curve kinds {sorted(map(str, kinds))}; plot AIC and SIC separately")
    kind = kinds.pop()
    counts = {getattr(result, "num_included", None) for result in results_by_method.values()}
    suffix = f" ({counts.pop()} images)" if len(counts) == 1 and None not in counts else ""
    return plot_curves({name: (result.curve_x, result.curve, result.auc) for name, result in results_by_method.items()},
                       path, xlabel="Normalized estimation of entropy",
                       ylabel="Prediction score" if kind == "sic" else "Accuracy",
                       title=title if title is not None else f"Aggregated {str(kind).upper()}{suffix}",
                       xlim=(0.0, 1.0), ylim=(0.0, 1.05), figsize=figsize, dpi=dpi)
