"""The metrics the evaluation runner can score: name -> :class:`~xai_tf.metrics.protocol.Metric`.

``METRICS`` feeds ``xai_tf.evaluate`` (which metrics exist, their options and checks), the flags of
``xai-tf evaluate``, the summary's columns, the report's notes and the demo. A new metric is a
module with a ``Metric`` subclass plus one line below (``register`` does the same at run time).
"""
from __future__ import annotations

from xai_tf.metrics import (
    axiomatic,
    complexity,
    faithfulness,
    fidelity,
    focus,
    irof,
    random_logit,
    relevance_localization,
    road,
    robustness,
)
from xai_tf.metrics.complexity import XAI_ENTROPY
from xai_tf.metrics.localization import POINTING_GAME
from xai_tf.metrics.pic_metric import AIC, SIC
from xai_tf.metrics.protocol import DIRECTIONS, SCORES, Metric, Option
from xai_tf.metrics.randomization import RANDOMIZATION
from xai_tf.metrics.sensitivity import MAX_SENSITIVITY

METRICS: dict[str, Metric] = {}


def register(metric: Metric) -> Metric:
    """Add ``metric`` to ``METRICS``, so that the runner, the CLI flags, the summary and the report know it.

    Parameters
    ----------
    metric : xai_tf.metrics.Metric
        An instance of a :class:`~xai_tf.metrics.Metric` subclass. Its ``name`` must be non-empty
        and new; an option it declares must not have the name of another metric's option unless
        it is the same :class:`~xai_tf.metrics.Option` object (shared options, as SIC's and AIC's).

    Returns
    -------
    xai_tf.metrics.Metric
        ``metric`` itself, so that ``METRIC = register(MyMetric())`` reads in one line.

    Raises
    ------
    TypeError
        If ``metric`` is not a :class:`~xai_tf.metrics.Metric`.
    ValueError
        If its name is empty or already registered, its ``scores`` is not ``"maps"`` or
        ``"method"``, its ``direction`` is not None, ``"higher"`` or ``"lower"``, or one of its
        options clashes with another metric's.
    """
    if not isinstance(metric, Metric):
        raise TypeError(f"metric must be a xai_tf.metrics.protocol.Metric; got {type(metric).__name__}")
    if not metric.name or metric.name in METRICS:
        raise ValueError(f"metric name {metric.name!r} is empty or already registered")
    if metric.scores not in SCORES:
        raise ValueError(f"metric {metric.name!r}: scores must be one of {SCORES}; got {metric.scores!r}")
    if metric.direction is not None and metric.direction not in DIRECTIONS:
        raise ValueError(f"metric {metric.name!r}: direction must be None or one of {DIRECTIONS}; got "
                         f"{metric.direction!r}")
    known = all_options()
    for option in metric.options:
        if option.name in known and known[option.name] is not option:
            raise ValueError(f"metric {metric.name!r}: option {option.name!r} is already another metric's")
    METRICS[metric.name] = metric
    return metric


def unregister(name: str) -> None:
    """Remove a metric from ``METRICS`` (tests remove the metrics they ``register``).

    Parameters
    ----------
    name : str
        The metric's name; a name that is not registered is ignored.
    """
    METRICS.pop(name, None)


def all_options() -> dict[str, Option]:
    """Every registered metric's options by name (shared options, e.g. SIC's and AIC's, once)."""
    options: dict[str, Option] = {}
    for metric in METRICS.values():
        for option in metric.options:
            options.setdefault(option.name, option)
    return options


def default_options() -> dict:
    """``{option name: default}`` of every registered metric (the papers' defaults)."""
    return {name: option.default for name, option in all_options().items()}


for _metric in (
    SIC, AIC, MAX_SENSITIVITY, XAI_ENTROPY, POINTING_GAME, RANDOMIZATION,
    fidelity.DELETION,
    fidelity.INSERTION,
    fidelity.MUFIDELITY,
    fidelity.AVERAGE_DROP,
    fidelity.AVERAGE_INCREASE,
    fidelity.AVERAGE_GAIN,
    faithfulness.FAITHFULNESS_CORRELATION,
    faithfulness.MONOTONICITY,
    faithfulness.PIXEL_FLIPPING,
    road.ROAD,
    irof.IROF,
    faithfulness.INFIDELITY,
    faithfulness.SUFFICIENCY,
    axiomatic.COMPLETENESS,
    axiomatic.NON_SENSITIVITY,
    robustness.AVG_SENSITIVITY,
    robustness.LOCAL_LIPSCHITZ,
    random_logit.RANDOM_LOGIT,
    complexity.SPARSENESS,
    complexity.COMPLEXITY,
    complexity.EFFECTIVE_COMPLEXITY,
    relevance_localization.RELEVANCE_MASS_ACCURACY,
    relevance_localization.RELEVANCE_RANK_ACCURACY,
    relevance_localization.TOP_K_INTERSECTION,
    focus.FOCUS,
):
    register(_metric)

#: The metrics the demo scores: the papers' (AIC/SIC, Max-Sensitivity, XAI entropy, Pointing Game,
#: randomisation) and the fidelity curves people compare with them (Deletion, Insertion).
DEFAULT_METRICS = ("sic", "aic", "deletion", "insertion", "max_sensitivity", "xai_entropy", "pointing_game",
                   "randomization")
