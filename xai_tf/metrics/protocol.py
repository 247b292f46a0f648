"""The metric protocol: what every metric the evaluation runner can score declares.

A metric is an object with

- ``name``: the name used by ``evaluate(metrics=...)``, ``xai-tf evaluate --metrics`` and the report;
- ``scores``: ``"maps"`` (it scores the maps the method made: AIC/SIC, XAI entropy, Pointing Game)
  or ``"method"`` (it re-runs the method: Max-Sensitivity on perturbed images, randomisation on a
  re-initialised model);
- ``ground_truth``: ``None``, or ``"masks or boxes"`` when it needs the data's localisation truth;
- ``options``: :class:`Option` s (name, default, check, CLI flag, help), prefixed by the metric
  (``pic_entropy``, ``sensitivity_radius``); options may be shared by several metrics (SIC and AIC);
- ``columns(options)``: the per-image result columns it writes (default ``[name]``), and
  ``notes``: how to read each column (the report's table headers);
- ``score(chunk, options)``: ``(columns, arrays)`` for one chunk of images of one method, where
  ``columns`` maps each column to one JSON value per image and ``arrays`` holds anything to keep
  beside the maps (saved in the chunk's ``.npz``);
- ``summarize(column, values, stored)``: the method's summary entry of one column (default: mean,
  standard deviation and count of the finite values), plus an optional detail stored in the
  summary under ``details_key`` (default ``"details"``; AIC/SIC use ``"pic"``);
- ``reference``: the paper and the reference implementation whose arithmetic it reproduces (the
  README's metric table and the docs read it);
- ``direction``: ``"higher"`` or ``"lower"`` (which values of its columns are better), or ``None``
  where neither is (a diagnostic), so the report and the findings can read any metric generically;
- ``evidence``: how the report's Findings judge its per-image values beside a baseline method scored
  on the same images: ``"mean"`` (default; Student-t interval of the mean, better when the interval
  of the paired per-image difference lies on the ``direction_of(column)`` side of 0; columns
  without a direction are reported, not judged), ``"hits"`` (0/1 per image: Wilson interval of the
  hit rate, one-sided exact McNemar test against the baseline) or ``"sanity"`` (a similarity to
  the maps of a randomised model: passes, fails or is inconclusive against the metric's
  ``threshold``, on the ``direction_of(column)`` side). A row whose ``<column>_excluded`` holds a
  reason is left out of ``column`` and the reason counted.

Two kinds, as Xplique's ``ExplanationMetric`` / ``ExplainerMetric``: :class:`MapsMetric` scores the
maps it is given (Deletion, Sparseness, Relevance Mass), :class:`MethodMetric` re-runs the method
through ``chunk.method`` / ``chunk.params`` (Avg-Sensitivity, Random Logit). :class:`CurveMetric`
is a maps metric that measures one curve per image (a model score against how much of the image
was perturbed) and reports an area under it: SIC/AIC, Deletion, Insertion, Pixel-Flipping, ROAD,
IROF. It stores each chunk's curves beside the maps and aggregates them in the summary.

``xai_tf.metrics.registry.METRICS`` lists them; the runner, its CLI flags, the report's notes and
the demo read that table, so adding a metric is one new module (a :class:`Metric` subclass) plus
one line in the registry. Everything a metric needs for one chunk is in :class:`Chunk`.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

SCORES = ("maps", "method")
DIRECTIONS = ("higher", "lower")
#: How the Findings judge a metric's per-image values (see the module docstring).
EVIDENCE = ("mean", "hits", "sanity")
#: Most points of an aggregated curve kept in the summary (evenly spaced; the chunks' arrays keep all).
MAX_SUMMARY_POINTS = 1001


@dataclass(frozen=True)
class Option:
    """One option of a metric.

    Parameters
    ----------
    name : str
        Key in ``evaluate(options={...})`` and in the run's ``config.json``.
    default : object
        JSON-able default (the papers').
    check : callable
        ``value -> checked value`` (JSON-able); raises ``TypeError``/``ValueError`` naming the option.
    help : str
        One line for ``xai-tf evaluate --help``.
    parse : callable
        CLI string -> value handed to ``check`` (default: the string itself).
    flag : str or None
        CLI flag; default ``--`` + the name with ``-`` for ``_``.
    """

    name: str
    default: object
    check: Callable[[object], object]
    help: str
    parse: Callable[[str], object] = str
    flag: str | None = None

    @property
    def cli_flag(self) -> str:
        return self.flag or "--" + self.name.replace("_", "-")

    def from_cli(self, text: str):
        """The checked value of a CLI string; ValueError naming the flag when it cannot be read."""
        try:
            value = self.parse(text)
        except (TypeError, ValueError) as error:
            raise ValueError(f"{self.cli_flag}={text!r} could not be read ({error}); {self.help}") from None
        return self.check(value)


@dataclass
class Chunk:
    """One unit of work handed to :meth:`Metric.score`: a chunk of images explained by one method.

    images ``(B, H, W, C)`` float32 in [0, 1]; indices ``(B,)`` positions in the data set; targets
    ``(B,)`` int64; maps ``(B, H, W)`` the method's maps; masks ``(B, H, W)`` bool or None; boxes a
    list of per-image box lists or None. ``seed`` is the run's seed (per-image draws key on it and
    the image index), ``chunk_seed`` the chunk's seed for the stochastic methods; ``params`` the
    method's parameters; ``randomized(mode)`` returns the model with re-initialised weights (cached
    per run).
    """

    model: object
    method: str
    images: np.ndarray
    indices: np.ndarray
    targets: np.ndarray
    maps: np.ndarray
    seed: int
    chunk_seed: int
    batch_size: int
    params: dict = field(default_factory=dict)
    masks: np.ndarray | None = None
    boxes: list | None = None
    randomized: Callable | None = None


class Metric:
    """Base class of the metric protocol (see the module docstring)."""

    name: str = ""
    scores: str = "maps"
    ground_truth: str | None = None
    options: tuple[Option, ...] = ()
    notes: ClassVar[dict[str, str]] = {}
    details_key: str = "details"
    reference: str = ""  # the paper and the reference implementation it matches (README, docs)
    direction: str | None = None
    column_directions: ClassVar[dict[str, str]] = {}
    evidence: str = "mean"
    threshold: float | None = None

    def direction_of(self, column: str) -> str | None:
        """Which values of ``column`` are better: ``column_directions[column]``, else ``direction``."""
        return self.column_directions.get(column, self.direction)

    def columns(self, options: dict) -> list[str]:
        """Result columns this metric writes with ``options`` (default: its name)."""
        return [self.name]

    def note(self, column: str) -> str:
        """How to read ``column`` (the report's header)."""
        return self.notes.get(column, column)

    def score(self, chunk: Chunk, options: dict) -> tuple[dict[str, list], dict[str, np.ndarray]]:
        """``({column: one value per image}, {array name: array})`` for one chunk."""
        raise NotImplementedError

    def check_shape(self, options: dict, shape: tuple) -> None:
        """Raise ValueError naming the option when ``options`` cannot score images of ``shape`` ``(H, W, C)``.

        For options whose validity depends on the data (Top-k's ``k`` against the pixels of an
        image, a segmentation of 1-pixel images): a runner calls it with the data's image shape
        before writing anything; :meth:`score` calls it too. Default: every shape is fine.
        """

    def summarize(self, column: str, values: np.ndarray, stored: Callable[[], list]) -> tuple[dict, dict | None]:
        """``(table entries, detail)`` of ``column`` for one method.

        Default: the mean, standard deviation and count of the finite ``values`` (one per image),
        no detail. stored: returns the method's saved chunk arrays ``[(first image index, {name:
        array})]``, for metrics whose summary is not a mean (AIC/SIC's aggregated curve); their
        detail (JSON-able) lands in ``summary[details_key][column][method]``.
        """
        finite = values[np.isfinite(values)]
        entry = {column: float(finite.mean()) if len(finite) else None,
                 f"{column}_std": float(finite.std()) if len(finite) else None,
                 f"{column}_n": len(finite)}
        return entry, None


class MapsMetric(Metric):
    """A metric of the maps the method made (Xplique's ``ExplanationMetric``): ``scores = "maps"``."""

    scores = "maps"


class MethodMetric(Metric):
    """A metric that re-runs the method (Xplique's ``ExplainerMetric``): ``scores = "method"``.

    ``score`` calls ``xai_tf.explain(chunk.model, ..., chunk.method, ..., **chunk.params)`` with
    seeds from ``chunk.chunk_seed`` (stochastic methods) and ``rng_for(chunk.seed, image index)``
    (the metric's own draws).
    """

    scores = "method"


class CurveMetric(MapsMetric):
    """A maps metric measured as one curve per image and reported as the area under it.

    Subclasses set ``name``, ``direction`` (``"higher"``: a larger area is better, as Insertion;
    ``"lower"``, as Deletion), ``label`` (what the curve's x axis is, for figures) and
    ``options``, and implement :meth:`curves`. The default :meth:`score` writes the per-image
    area (:meth:`area`) in the column ``name`` and stores the curves in the chunk's arrays as
    ``curve_<name>`` ``(B, T)`` float64 (NaN-padded where images have fewer points) and
    ``curve_<name>_x`` ``(T,)``; :meth:`summarize` returns the mean, standard deviation and count
    of the areas. The evaluation summary stores every curve metric's aggregated curve under
    ``summary["curves"][column][method]`` (:meth:`curve_detail`: the curve of
    :meth:`aggregate_curves`, by default the mean over images at each x, NaN ignored, at most
    ``MAX_SUMMARY_POINTS`` evenly spaced points, with ``direction``, ``label`` and ``ylabel``), from
    which ``table.csv``'s figures, the report and the studies draw the curves.
    """

    direction: str = "higher"
    label: str = "fraction of the image perturbed"
    ylabel: str = "target class probability"

    def curves(self, chunk: Chunk, options: dict) -> tuple[np.ndarray, np.ndarray]:
        """``(x (T,), curves (B, T))`` of one chunk: the curve of every image at the points ``x``."""
        raise NotImplementedError

    def area(self, x: np.ndarray, curves: np.ndarray, options: dict) -> np.ndarray:
        """Per-image area ``(B,)`` under ``curves`` over ``x`` (trapezoidal rule; NaN points dropped)."""
        return trapezoid_rows(x, curves)

    def score(self, chunk: Chunk, options: dict):
        x, curves = self.curves(chunk, options)
        curves = np.asarray(curves, dtype=np.float64)
        areas = self.area(np.asarray(x, dtype=np.float64), curves, options)
        return ({self.name: [float(value) for value in areas]},
                {f"curve_{self.name}": curves, f"curve_{self.name}_x": np.asarray(x, dtype=np.float64)})

    def aggregate_curves(self, stored: Callable[[], list]) -> tuple[np.ndarray, np.ndarray, int] | None:
        """``(x, mean curve, images)`` over every stored chunk of one method, or None when none was stored.

        Chunks whose curves have different lengths (e.g. IROF's segment counts) are NaN-padded to the
        longest; each point is the mean over the images that have it.
        """
        key = f"curve_{self.name}"
        parts = [(first, arrays[key], arrays[f"{key}_x"]) for first, arrays in stored() if key in arrays]
        if not parts:
            return None
        length = max(curves.shape[1] for _, curves, _ in parts)
        x = max((xs for _, _, xs in parts), key=len)
        padded = np.full((sum(len(curves) for _, curves, _ in parts), length), np.nan)
        row = 0
        for _, curves, _ in sorted(parts, key=lambda part: part[0]):
            padded[row:row + len(curves), :curves.shape[1]] = curves
            row += len(curves)
        counts = np.sum(np.isfinite(padded), axis=0)
        with np.errstate(invalid="ignore"):
            mean = np.where(counts > 0, np.nansum(padded, axis=0) / np.maximum(counts, 1), np.nan)
        return np.asarray(x, dtype=np.float64), mean, len(padded)

    def curve_detail(self, stored: Callable[[], list]) -> dict | None:
        """The aggregated curve of one method for the summary (``summary["curves"][column][method]``).

        ``{"x", "curve", "images", "direction", "label", "ylabel"}`` (JSON-ready; at most
        ``MAX_SUMMARY_POINTS`` points), from :meth:`aggregate_curves`; None when nothing was stored.
        The summary stores it for every curve metric, so figures and reports read curves alike.
        """
        aggregated = self.aggregate_curves(stored)
        if aggregated is None:
            return None
        x, curve, images = aggregated
        if len(x) > MAX_SUMMARY_POINTS:  # one point per pixel (Pixel-Flipping at 224 px): keep the summary small
            keep = np.unique(np.round(np.linspace(0, len(x) - 1, MAX_SUMMARY_POINTS)).astype(int))
            x, curve = x[keep], curve[keep]
        return {"x": [float(v) for v in x], "curve": [None if not np.isfinite(v) else float(v) for v in curve],
                "images": images, "direction": self.direction, "label": self.label, "ylabel": self.ylabel}


def trapezoid_rows(x: np.ndarray, curves: np.ndarray) -> np.ndarray:
    """Trapezoidal area of each row of ``curves`` ``(B, T)`` over ``x`` ``(T,)``; NaN points (padding) dropped.

    A row with fewer than two finite points has area NaN (nothing to integrate).
    """
    x = np.asarray(x, dtype=np.float64)
    curves = np.atleast_2d(np.asarray(curves, dtype=np.float64))
    finite = np.isfinite(curves)
    if finite.all():
        return np.sum((curves[:, 1:] + curves[:, :-1]) * np.diff(x) / 2.0, axis=1)
    areas = np.full(len(curves), np.nan)
    for i, (row, keep) in enumerate(zip(curves, finite)):
        if keep.sum() >= 2:
            areas[i] = float(np.sum((row[keep][1:] + row[keep][:-1]) * np.diff(x[keep]) / 2.0))
    return areas


def choice(name: str, choices) -> Callable[[object], object]:
    """An option check: the value must be one of ``choices``."""
    from xai_tf._checks import check_choice

    return lambda value: check_choice(value, name, choices)


def number(name: str, low=None, high=None, *, integer: bool = False) -> Callable[[object], object]:
    """An option check: a number in ``[low, high]`` (an integer when ``integer``)."""
    from xai_tf._checks import check_number

    def check(value):
        if integer and (isinstance(value, bool) or not isinstance(value, (int, np.integer))):
            raise TypeError(f"{name} must be an integer; got {value!r}")
        checked = check_number(value, name, low, high)
        return int(checked) if integer else checked
    return check


def fraction(name: str) -> Callable[[object], object]:
    """An option check: a number in ``(0, 1]`` (a fraction of the image; 0 would perturb nothing)."""
    from xai_tf._checks import check_number

    def check(value):
        checked = check_number(value, name, 0.0, 1.0)
        if checked == 0.0:
            raise ValueError(f"{name} must lie in (0, 1]; got {value!r}")
        return checked
    return check


def count(name: str, low: int = 1) -> Callable[[object], object]:
    """An option check: an integer ``>= low`` (steps, samples, runs)."""
    return number(name, low, integer=True)


def flag(name: str) -> Callable[[object], object]:
    """An option check: True or False."""
    from xai_tf._checks import check_bool

    return lambda value: check_bool(value, name)


def parse_bool(text: str) -> bool:
    """CLI string -> bool (``true/false``, ``yes/no``, ``1/0``)."""
    lowered = text.strip().lower()
    if lowered in ("true", "yes", "1"):
        return True
    if lowered in ("false", "no", "0"):
        return False
    raise ValueError("expected true or false")


def parse_list(text: str) -> list[str]:
    """CLI string ``"a,b"`` -> ``["a", "b"]``."""
    return [part.strip() for part in text.split(",") if part.strip()]
