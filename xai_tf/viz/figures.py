"""The one figure helper: new headless figures, text sizes in pixels, saving (folders created), data URIs.

Every figure of the package is a ``matplotlib.figure.Figure`` on an Agg canvas (no pyplot, so no
global figure state, and it works without a display; notebooks show the returned figure).

Legibility is stated in pixels because that is what a reader sees: a figure embedded in the HTML
report is shown at most ``REPORT_WIDTH_PX`` wide (the report's content column: ``max-width:
1200px`` minus ``2em`` padding on each side at the browsers' default 16 px font, see
``xai_tf/report/templates/report.html.j2``); a wider PNG is scaled down to it. ``MIN_TEXT_PX`` is
the smallest text height (in pixels at 100% zoom, after that scaling) the figures allow.
"""
from __future__ import annotations

import base64
import io
from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

#: Width in pixels at which the HTML report shows a figure at most (its content column).
REPORT_WIDTH_PX = 1200 - 2 * 2 * 16
#: Smallest text height in pixels at 100% zoom once a figure is shown at the report's width.
MIN_TEXT_PX = 10.0
#: File formats of the figures (grids); ``save_figure`` also writes SVG (the PIC curves accept it).
FORMATS = ("png", "pdf")
SAVE_FORMATS = ("png", "pdf", "svg")


#: The numpydoc entries of the figures written as PNG, PDF or SVG (``fill_doc(**FIGURE_DOCS)``).
FIGURE_DOCS = {
    "path": """
        path : str or pathlib.Path, optional
            File to write; the format follows the suffix (``.png``, ``.pdf`` or ``.svg``); parent
            folders are created. Default None: not written.
        """,
    "figure_returns": """
        Returns
        -------
        matplotlib.figure.Figure
            The figure (Agg canvas), also written to ``path`` when given.
        """,
}


def new_figure(width: float, height: float, dpi: float = 100) -> Figure:
    """A white ``Figure`` of ``width`` x ``height`` inches at ``dpi``, drawn on an Agg canvas."""
    figure = Figure(figsize=(width, height), dpi=dpi, facecolor="white")
    FigureCanvasAgg(figure)  # attaches itself as figure.canvas: drawing without pyplot or a display
    return figure


def points(pixels: float, dpi: float) -> float:
    """Font size in points that is ``pixels`` high at ``dpi`` (1 point = 1/72 inch)."""
    return float(pixels) * 72.0 / float(dpi)


def text_pixels(font_points: float, dpi: float, figure_width_px: float) -> float:
    """Height in pixels at 100% zoom of ``font_points`` text in a figure shown in the report.

    The figure's PNG is ``figure_width_px`` wide at ``dpi``; the report scales it down to
    ``REPORT_WIDTH_PX`` when it is wider (never up).
    """
    scale = min(1.0, REPORT_WIDTH_PX / float(figure_width_px))
    return float(font_points) * float(dpi) / 72.0 * scale


def check_path(path, formats: Sequence[str] = FORMATS):
    """``None`` or a ``Path`` whose suffix is one of ``formats``; ValueError naming ``path`` otherwise."""
    if path is None:
        return None
    path = Path(path)
    if path.suffix.lower().lstrip(".") not in formats:
        raise ValueError(f"path={str(path)!r} must end in {' or '.join('.' + f for f in formats)} "
                         "(the figure's format)")
    return path


def save_figure(figure: Figure, path) -> Path:
    """Write ``figure`` to ``path`` (``.png``, ``.pdf`` or ``.svg`` by the suffix) at the figure's own dpi.

    Parent folders are created. The bounding box is the figure's ("standard"), so that a user's
    ``rcParams["savefig.bbox"] = "tight"`` does not change the pixel size the layout promises.
    """
    path = check_path(path, SAVE_FORMATS)
    path.parent.mkdir(parents=True, exist_ok=True)
    with matplotlib.rc_context({"savefig.bbox": "standard"}):
        figure.savefig(path, dpi=figure.dpi, format=path.suffix.lower()[1:])
    return path


def write_figures(figures: Mapping, folder, formats: Sequence[str] = ("png",)) -> list[Path]:
    """Write ``{file stem: Figure}`` into ``folder`` once per format; returns the paths written.

    Each file is saved at the figure's own dpi with the figure's own bounding box (a user's
    ``rcParams["savefig.bbox"] = "tight"`` does not change the pixel size the layout promises).

    Parameters
    ----------
    figures : mapping of str to matplotlib.figure.Figure
        ``{file stem: Figure}``; stems must be plain file names (no folder separators).
    folder : str or pathlib.Path
        Output folder, created if missing.
    formats : str or sequence of str, optional
        Any of ``"png"``, ``"pdf"`` (default PNG only; ask for ``("png", "pdf")`` for print).

    Returns
    -------
    list of pathlib.Path
        The files written, ``folder/<stem>.<format>``, in the order of ``figures`` then
        ``formats``.

    Raises
    ------
    ValueError
        If ``formats`` is empty or names a format other than png and pdf, or a stem is empty or
        holds a folder.
    TypeError
        If ``figures`` is not a mapping or one of its values is not a matplotlib ``Figure``.
    """
    if isinstance(formats, str):
        formats = (formats,)
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise ValueError(f"formats must name some of {', '.join(FORMATS)}; got {list(formats)!r}")
    if not isinstance(figures, Mapping):
        raise TypeError(f"figures must be a dict {{file stem: Figure}}; got {type(figures).__name__}")
    folder = Path(folder)
    written = []
    for stem, figure in figures.items():
        if not isinstance(figure, Figure):
            raise TypeError(f"figures[{stem!r}] must be a matplotlib Figure; got {type(figure).__name__}")
        if not str(stem) or Path(str(stem)).name != str(stem):
            raise ValueError(f"figure name {stem!r} must be a plain file name without folders")
        for extension in formats:
            written.append(save_figure(figure, folder / f"{stem}.{extension}"))
    return written


def figure_uri(figure: Figure, dpi="figure") -> str:
    """A figure as a base64 PNG data URI (at the figure's own dpi unless ``dpi`` is given): the report embeds it."""
    buffer = io.BytesIO()
    with matplotlib.rc_context({"savefig.bbox": "standard"}):
        figure.savefig(buffer, format="png", dpi=dpi)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
