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
  summary under ``details_key`` (default ``"details"``; AIC/SIC use ``"pic"``).

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

    def columns(self, options: dict) -> list[str]:
        """Result columns this metric writes with ``options`` (default: its name)."""
        return [self.name]

    def note(self, column: str) -> str:
        """How to read ``column`` (the report's header)."""
        return self.notes.get(column, column)

    def score(self, chunk: Chunk, options: dict) -> tuple[dict[str, list], dict[str, np.ndarray]]:
        """``({column: one value per image}, {array name: array})`` for one chunk."""
        raise NotImplementedError

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
