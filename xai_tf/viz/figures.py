"""The one figure helper: a new headless figure, saving it (folders created), turning it into a data URI.

Every figure of xai-tf is a ``matplotlib.figure.Figure`` on an Agg canvas: no pyplot, no global
state, works on a server without a display. ``save_figure`` writes PNG, PDF or SVG by the path's
suffix with the "standard" bounding box (a user's ``rcParams["savefig.bbox"] = "tight"`` would
change the pixel size); ``figure_uri`` embeds a figure in an HTML report as a base64 PNG.
"""
from __future__ import annotations

import base64
import io
from pathlib import Path

import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

FORMATS = (".png", ".pdf", ".svg")


def new_figure(width: float, height: float, dpi: float = 100) -> Figure:
    """A white ``width`` x ``height`` inch figure at ``dpi`` on an Agg canvas."""
    figure = Figure(figsize=(width, height), dpi=dpi, facecolor="white")
    FigureCanvasAgg(figure)
    return figure


def check_figure_path(path, name: str = "path") -> Path | None:
    """``None`` or a path ending in .png, .pdf or .svg -> Path; ValueError naming ``name`` otherwise."""
    if path is None:
        return None
    if not isinstance(path, (str, Path)):
        raise TypeError(f"{name} must be a file path (str or pathlib.Path) or None; got {type(path).__name__}")
    path = Path(path)
    if path.suffix.lower() not in FORMATS:
        raise ValueError(f"{name} must end in one of {', '.join(FORMATS)}; got {str(path)!r}")
    return path


def save_figure(figure: Figure, path, dpi="figure") -> Path:
    """Write ``figure`` to ``path`` (format from the suffix, parent folders created); returns the path."""
    path = check_figure_path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with matplotlib.rc_context({"savefig.bbox": "standard"}):
        figure.savefig(path, dpi=figure.dpi if dpi == "figure" else dpi, format=path.suffix.lower()[1:])
    return path


def figure_uri(figure: Figure, dpi="figure") -> str:
    """A figure as a base64 PNG data URI (at the figure's own dpi unless ``dpi`` is given)."""
    buffer = io.BytesIO()
    with matplotlib.rc_context({"savefig.bbox": "standard"}):
        figure.savefig(buffer, format="png", dpi=dpi)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
