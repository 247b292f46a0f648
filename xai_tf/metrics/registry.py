"""The metrics the evaluation runner can score: name -> :class:`~xai_tf.metrics.protocol.Metric`.

``METRICS`` feeds ``xai_tf.evaluate`` (which metrics exist, their options and checks), the flags of
``xai-tf evaluate``, the summary's columns, the report's notes and the demo. A new metric is a
module with a ``Metric`` subclass plus one line below (``register`` does the same at run time).
"""
from __future__ import annotations

from xai_tf._docstrings import fill_doc
from xai_tf._registry import UNREGISTER_DOC, Registry
from xai_tf.metrics.axiomatic import axioms
from xai_tf.metrics.complexity import quantus_complexity
from xai_tf.metrics.complexity.entropy import XAI_ENTROPY
from xai_tf.metrics.faithfulness import (
    correlation,
    fidelity,
    infidelity,
    irof,
    pixel_flipping,
    road,
    sufficiency,
)
from xai_tf.metrics.information_curves.metric import AIC, SIC
from xai_tf.metrics.localisation import focus, relevance
from xai_tf.metrics.localisation.pointing_game import POINTING_GAME
from xai_tf.metrics.options import Option
from xai_tf.metrics.protocol import DIRECTIONS, SCORES, Metric
from xai_tf.metrics.randomisation import random_logit
from xai_tf.metrics.randomisation.model_randomization import RANDOMIZATION
from xai_tf.metrics.robustness import quantus_robustness
from xai_tf.metrics.robustness.sensitivity import MAX_SENSITIVITY

METRICS: Registry[Metric] = Registry("metric", Metric, argument="metric")


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
    METRICS.check(metric)
    if metric.scores not in SCORES:
        raise ValueError(f"metric {metric.name!r}: scores must be one of {SCORES}; got {metric.scores!r}")
    if metric.direction is not None and metric.direction not in DIRECTIONS:
        raise ValueError(f"metric {metric.name!r}: direction must be None or one of {DIRECTIONS}; got "
                         f"{metric.direction!r}")
    known = all_options()
    for option in metric.options:
        if option.name in known and known[option.name] is not option:
            raise ValueError(f"metric {metric.name!r}: option {option.name!r} is already another metric's")
    return METRICS.add(metric)


@fill_doc(unregister=UNREGISTER_DOC.format(kind="metric", record="xai_tf.metrics.Metric"))
def unregister(name: str) -> Metric | None:
    """{unregister}"""
    return METRICS.remove(name)


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
    correlation.FAITHFULNESS_CORRELATION,
    pixel_flipping.MONOTONICITY,
    pixel_flipping.PIXEL_FLIPPING,
    road.ROAD,
    irof.IROF,
    infidelity.INFIDELITY,
    sufficiency.SUFFICIENCY,
    axioms.COMPLETENESS,
    axioms.NON_SENSITIVITY,
    quantus_robustness.AVG_SENSITIVITY,
    quantus_robustness.LOCAL_LIPSCHITZ,
    random_logit.RANDOM_LOGIT,
    quantus_complexity.SPARSENESS,
    quantus_complexity.COMPLEXITY,
    quantus_complexity.EFFECTIVE_COMPLEXITY,
    relevance.RELEVANCE_MASS_ACCURACY,
    relevance.RELEVANCE_RANK_ACCURACY,
    relevance.TOP_K_INTERSECTION,
    focus.FOCUS,
):
    register(_metric)

#: The metrics the demo scores: the papers' (AIC/SIC, Max-Sensitivity, XAI entropy, Pointing Game,
#: randomisation) and the fidelity curves people compare with them (Deletion, Insertion).
DEFAULT_METRICS = ("sic", "aic", "deletion", "insertion", "max_sensitivity", "xai_entropy", "pointing_game",
                   "randomization")
