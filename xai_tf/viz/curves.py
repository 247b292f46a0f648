"""Aggregated AIC/SIC figure: one Performance Information Curve per saliency method, AUC in the legend.

The figure of paper 004 (Figs. 8-11) and of PAIR's ``pic_metrics.ipynb``. Drawn on a
``matplotlib.figure.Figure`` with the Agg canvas: no pyplot, no global state, works headless.
"""
from __future__ import annotations

from matplotlib.figure import Figure

from xai_tf.viz.figures import check_figure_path, new_figure, save_figure


def plot_pic(results_by_method: dict, path=None, *, title: str | None = None, figsize=(6.0, 4.5)) -> Figure:
    """Plot aggregated PIC curves, one per method, with ``name (AUC=0.123)`` legend entries.

    results_by_method: ``{method name: PicResult}`` (all the same ``kind``; any object with
        ``curve_x``, ``curve``, ``auc`` and ``kind`` works).
    path: optional file to write; the format follows the suffix (``.png``, ``.pdf`` or ``.svg``).
    title: default "Aggregated SIC" / "Aggregated AIC" (with the number of included images).
    Returns the ``matplotlib.figure.Figure``.
    """
    if not isinstance(results_by_method, dict) or not results_by_method:
        raise ValueError("results_by_method must be a non-empty dict {method name: PicResult}")
    kinds = {getattr(result, "kind", None) for result in results_by_method.values()}
    if len(kinds) != 1:
        raise ValueError(f"results_by_method mixes curve kinds {sorted(map(str, kinds))}; plot AIC and SIC separately")
    kind = kinds.pop()
    path = check_figure_path(path)
    figure = new_figure(*figsize)
    axes = figure.add_subplot()
    for name, result in results_by_method.items():
        axes.plot(result.curve_x, result.curve, label=f"{name} (AUC={result.auc:.3f})")
    axes.set_xlim(0.0, 1.0)
    axes.set_ylim(0.0, 1.05)
    axes.set_xlabel("Normalized estimation of entropy")
    axes.set_ylabel("Prediction score" if kind == "sic" else "Accuracy")
    counts = {getattr(result, "num_included", None) for result in results_by_method.values()}
    suffix = f" ({counts.pop()} images)" if len(counts) == 1 and None not in counts else ""
    axes.set_title(title if title is not None else f"Aggregated {str(kind).upper()}{suffix}")
    axes.legend(loc="lower right", fontsize="small")
    axes.grid(alpha=0.3)
    figure.tight_layout()
    if path is not None:
        save_figure(figure, path)
    return figure
