"""Cell layout of the grid figures: square cells with room for titles and row labels, and one colour bar.

``GridLayout(rows, columns, cell_size, dpi, colorbar_label)`` makes the figure and hands out one
axes per cell; ``wrap_text`` breaks titles so that they fit their cell. Sizes are in pixels because
that is what a reader sees (``xai_tf.viz.figures``): text is ``max(0.08 * cell, 10 px)`` high and
grows with figures wider than the report's column (``REPORT_WIDTH_PX``), so that it is never under
``MIN_TEXT_PX`` when the report scales the figure to its width.
"""
from __future__ import annotations

import math
import re

import numpy as np
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.patches import Rectangle

from xai_tf._checks import check_positive
from xai_tf.viz.figures import MIN_TEXT_PX, REPORT_WIDTH_PX, new_figure, points

CHAR_WIDTH = 0.62  # mean glyph width of DejaVu Sans in font heights, rounded up: wrap before drawing
FONT_PER_CELL = 0.08  # text height as a share of the cell side
TITLE_LINES = 2  # room for two-line titles always, so that grids with and without long names line up
MAX_TITLE_LINES = 3


def wrap_text(text: str, width_px: float, font_px: float, max_lines: int | None = None) -> list[str]:
    """Lines of ``text`` that fit ``width_px`` pixels at ``font_px`` high text, broken after underscores and
    at spaces; a word longer than a line is cut, and lines beyond ``max_lines`` end in an ellipsis."""
    limit = max(1, int(width_px // (CHAR_WIDTH * font_px)))
    lines: list[str] = []
    for paragraph in str(text).split("\n"):
        current = ""
        for token in re.split(r"(?<=[_ ])", paragraph):
            while len(token) > limit:  # one word longer than a line: cut it
                if current:
                    lines.append(current.rstrip())
                    current = ""
                lines.append(token[:limit])
                token = token[limit:]
            if len((current + token).rstrip()) > limit and current:
                lines.append(current.rstrip())
                current = token
            else:
                current += token
        lines.append(current.rstrip())
    if max_lines is not None and len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1][:max(0, limit - 1)] + "\u2026"
    return lines


class GridLayout:
    """``rows`` x ``columns`` square cells of ``cell_size`` inches, and a colour-bar band below them."""

    def __init__(self, rows: int, columns: int, cell_size: float, dpi: float, colorbar_label: str | None = None,
                 titles=()):
        check_positive(cell_size, "cell_size")
        check_positive(dpi, "dpi")
        self.rows, self.columns, self.dpi = rows, columns, float(dpi)
        self.cell_px = float(cell_size) * self.dpi
        self.width_px = columns * self.cell_px
        self.font_px = max(MIN_TEXT_PX * max(1.0, self.width_px / REPORT_WIDTH_PX), FONT_PER_CELL * self.cell_px)
        self.font = points(self.font_px, self.dpi)
        self.left_px, self.pad_px = 2.6 * self.font_px, 0.02 * self.cell_px
        # room on top for the longest title: TITLE_LINES lines, or up to MAX_TITLE_LINES when one needs them
        title_width = self.cell_px - self.left_px + self.pad_px  # the axes' width plus a padding each side
        lines = max([TITLE_LINES] + [len(wrap_text(t, title_width, self.font_px)) for t in titles])
        self.title_lines = min(MAX_TITLE_LINES, lines)
        self.top_px = (1.2 * self.title_lines + 0.3) * self.font_px
        if self.left_px + self.pad_px > 0.45 * self.cell_px or self.top_px + self.pad_px > 0.45 * self.cell_px:
            smallest = math.ceil(max(self.left_px, self.top_px) / 0.43)
            raise ValueError(f"cell_size * dpi = {self.cell_px:g} px leaves no room for {self.font_px:.1f} px text "
                             f"beside a picture; use cells of at least {smallest} px (fewer columns, or a larger "
                             "cell_size or dpi)")
        self.axes_width = self.cell_px - self.left_px - self.pad_px
        self.axes_height = self.cell_px - self.top_px - self.pad_px
        self.label_lines = (None if colorbar_label is None
                            else wrap_text(colorbar_label, 0.8 * self.width_px, self.font_px))
        band = 0.0 if colorbar_label is None else (0.5 + 0.9 + 2.0 + 1.35 * len(self.label_lines) + 0.4) * self.font_px
        self.band_px = float(math.ceil(band))  # whole pixels, so that the PNG is exactly the figure's size
        self.height_px = rows * self.cell_px + self.band_px
        self.figure = new_figure(self.width_px / self.dpi, self.height_px / self.dpi, self.dpi)

    def _add_axes(self, left_px: float, top_px: float, width_px: float, height_px: float):
        bottom = self.height_px - top_px - height_px
        return self.figure.add_axes((left_px / self.width_px, bottom / self.height_px, width_px / self.width_px,
                                     height_px / self.height_px))

    def cell(self, row: int, column: int):
        axes = self._add_axes(column * self.cell_px + self.left_px, row * self.cell_px + self.top_px,
                              self.axes_width, self.axes_height)
        axes.set_xticks([])
        axes.set_yticks([])
        return axes

    def title(self, axes, text: str) -> None:
        # a title is centred on the axes: it may use the axes' width plus the right padding on each side
        lines = wrap_text(text, self.axes_width + 2 * self.pad_px, self.font_px, self.title_lines)
        axes.set_title("\n".join(lines), fontsize=self.font, pad=0.2 * self.font_px * 72 / self.dpi)

    def note(self, axes, text: str) -> None:
        """A short word in the lower left corner of a picture (e.g. "all zero"), legible on any map."""
        axes.text(0.04, 0.04, text, transform=axes.transAxes, ha="left", va="bottom", fontsize=self.font,
                  color="white", bbox={"facecolor": "black", "alpha": 0.6, "pad": 1.0, "linewidth": 0})

    def row_label(self, axes, text: str) -> None:
        if text:
            axes.set_ylabel(text, fontsize=self.font, labelpad=0.15 * self.font_px * 72 / self.dpi)

    def colorbar(self, colormap, low: float, high: float, ticks=None, tick_labels=None):
        """The one colour bar of the figure, across 80% of its width, in the band under the cells."""
        top = self.rows * self.cell_px + 0.5 * self.font_px
        axes = self._add_axes(0.1 * self.width_px, top, 0.8 * self.width_px, 0.9 * self.font_px)
        axes.set_label("colorbar")  # found by tests and by users: figure.axes[-1].get_label()
        bar = self.figure.colorbar(ScalarMappable(norm=Normalize(low, high), cmap=colormap), cax=axes,
                                   orientation="horizontal")
        if ticks is not None:
            bar.set_ticks(ticks, labels=tick_labels)
        bar.ax.tick_params(labelsize=self.font, length=0.3 * self.font_px * 72 / self.dpi)
        bar.set_label("\n".join(self.label_lines), fontsize=self.font)
        return bar


def draw_ground_truth(axes, mask, boxes, colour, line_width: float):
    """Mask contour (between inside and outside pixel centres, i.e. on the mask's edge) and boxes."""
    if mask is not None and mask.any() and not mask.all():
        axes.contour(mask.astype(np.float32), levels=[0.5], colors=[colour], linewidths=line_width,
                     antialiased=False)
    for y0, x0, y1, x1 in boxes or ():
        # (y0, x0, y1, x1) end exclusive: the box's outline runs along the outer pixel edges
        axes.add_patch(Rectangle((x0 - 0.5, y0 - 0.5), x1 - x0, y1 - y0, fill=False, edgecolor=colour,
                                 linewidth=line_width, antialiased=False))
