"""A metric's options: :class:`Option` (name, default, check, CLI flag, help) and the checks and
parsers the metrics build their options from (``choice``, ``number``, ``fraction``, ``count``,
``flag``, ``parse_bool``, ``parse_list``).

Every check raises the ``TypeError``/``ValueError`` of :mod:`xai_tf._checks`, naming the option; the
runner (``xai_tf.evaluate``), ``xai-tf evaluate``'s flags and ``MetricCallback`` read the options of
every registered metric (``xai_tf.metrics.registry.all_options``).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from xai_tf._checks import check_bool, check_choice, check_number, check_positive


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
        """The ``xai-tf evaluate`` flag: ``flag``, else ``--`` + the name with ``-`` for ``_``."""
        return self.flag or "--" + self.name.replace("_", "-")

    def from_cli(self, text: str):
        """Read and check the option's value from its command-line string.

        ``parse`` turns the string into a value, then ``check`` validates it.

        Parameters
        ----------
        text : str
            The flag's value as typed (``"0.05"``, ``"full,semi"``, ``"true"``).

        Returns
        -------
        object
            The checked value (JSON-able), what ``check(parse(text))`` returns.

        Raises
        ------
        ValueError
            If ``parse`` cannot read ``text`` (the message names ``cli_flag`` and repeats the
            option's help), or if ``check`` rejects the value.
        TypeError
            If ``check`` rejects the value's type (naming the option).
        """
        try:
            value = self.parse(text)
        except (TypeError, ValueError) as error:
            raise ValueError(f"{self.cli_flag}={text!r} could not be read ({error}); {self.help}") from None
        return self.check(value)


def choice(name: str, choices) -> Callable[[object], object]:
    """An option check: the value must be one of ``choices``."""
    return lambda value: check_choice(value, name, choices)


def number(name: str, low=None, high=None, *, integer: bool = False) -> Callable[[object], object]:
    """An option check: a number in ``[low, high]`` (an integer when ``integer``)."""
    def check(value):
        if integer and (isinstance(value, bool) or not isinstance(value, (int, np.integer))):
            raise TypeError(f"{name} must be an integer; got {value!r}")
        checked = check_number(value, name, low, high)
        return int(checked) if integer else checked
    return check


def fraction(name: str) -> Callable[[object], object]:
    """An option check: a number in ``(0, 1]`` (a fraction of the image; 0 would perturb nothing)."""
    return lambda value: check_positive(check_number(value, name, 0.0, 1.0), name)


def count(name: str, low: int = 1) -> Callable[[object], object]:
    """An option check: an integer ``>= low`` (steps, samples, runs)."""
    return number(name, low, integer=True)


def flag(name: str) -> Callable[[object], object]:
    """An option check: True or False."""
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


#: The opening of the "Notes" list of a metric class's options, placed by ``{options_note}``.
OPTIONS_NOTE = """
Options (``evaluate(options={...})``; each is also an ``xai-tf evaluate`` flag,
``--`` + its name with ``-`` for ``_``):
"""
