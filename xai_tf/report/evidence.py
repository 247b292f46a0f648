"""How the Findings judge one result column of one method beside a baseline: the statistics.

A metric declares its ``evidence`` (``xai_tf.metrics.protocol``); each kind is judged here, on the
per-image values of one column, the method's and the baseline method's on the same images:

- ``"mean"``: Student-t interval of the mean over images; "better" when the interval of the paired
  per-image difference from the baseline lies entirely on the metric's better side of 0 (above 0
  for ``"higher"``, below for ``"lower"``); a column without a direction is reported, not judged.
- ``"hits"``: 0/1 per image. Wilson score interval of the hit rate (Wilson 1927; better than the
  normal interval for small n and rates near 0 or 1); "better" when the exact one-sided McNemar
  test (a binomial test on the images where exactly one of the two hits) gives p < 1 - confidence.
- ``"sanity"``: a similarity to the maps of a randomised model (Adebayo et al. 2018). A column
  **passes** when its whole interval lies on the better side of the metric's ``threshold``
  (``"lower"``: the upper bound is below it), **fails** when it lies entirely on the other side
  (the lower bound at or above it), and is **inconclusive** otherwise; one image decides by its
  value. A method fails when any of its scored columns fails. The baseline is not judged (random
  maps drawn with the same seed are the same for any model).

Values come from the runner's rows (``column_values``): a row whose ``<column>_excluded`` holds a
reason is left out with that reason counted; missing or non-finite values are left out.
All functions are pure.
"""
from __future__ import annotations

import math
from collections import Counter

import numpy as np
from scipy import stats


# ------------------------------------------------------------------------------------------- statistics
def mean_interval(values, confidence: float = 0.95) -> dict:
    """Student-t interval of the mean of the finite ``values``.

    Parameters
    ----------
    values : iterable of float or None
        One value per image; None and non-finite values are left out.
    confidence : float
        Coverage of the interval (default 0.95).

    Returns
    -------
    dict
        ``{"mean", "low", "high", "n"}``; the bounds are None for n < 2, everything but n for n = 0.
    """
    array = np.asarray([v for v in values if v is not None], dtype=float)
    array = array[np.isfinite(array)]
    n = int(array.size)
    if n == 0:
        return {"mean": None, "low": None, "high": None, "n": 0}
    mean = float(array.mean())
    if n < 2:
        return {"mean": mean, "low": None, "high": None, "n": n}
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1)) * float(array.std(ddof=1)) / math.sqrt(n)
    return {"mean": mean, "low": mean - half, "high": mean + half, "n": n}


def wilson_interval(hits: int, n: int, confidence: float = 0.95) -> dict:
    """Wilson score interval of ``hits`` successes in ``n`` trials (Wilson 1927).

    Parameters
    ----------
    hits, n : int
        Successes and trials.
    confidence : float
        Coverage of the interval (default 0.95).

    Returns
    -------
    dict
        ``{"rate", "low", "high", "hits", "n"}``; rate and bounds are None for n = 0.
    """
    if n == 0:
        return {"rate": None, "low": None, "high": None, "hits": 0, "n": 0}
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    rate = hits / n
    centre = (rate + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(rate * (1 - rate) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return {"rate": rate, "low": max(0.0, centre - half), "high": min(1.0, centre + half), "hits": int(hits), "n": n}


def mcnemar_greater(method_hits, baseline_hits) -> float:
    """One-sided exact McNemar p-value that the method hits more often than the baseline on the same images.

    Parameters
    ----------
    method_hits, baseline_hits : array-like of bool, shape (N,)
        Hits of the two on the same N images.

    Returns
    -------
    float
        The binomial test's p-value on the discordant images (1.0 when there are none).
    """
    method_hits, baseline_hits = np.asarray(method_hits, bool), np.asarray(baseline_hits, bool)
    only_method = int(np.sum(method_hits & ~baseline_hits))
    only_baseline = int(np.sum(~method_hits & baseline_hits))
    if only_method + only_baseline == 0:
        return 1.0
    return float(stats.binomtest(only_method, only_method + only_baseline, 0.5, alternative="greater").pvalue)


# ------------------------------------------------------------------------------------------- values
def column_values(rows, column: str, evidence: str) -> tuple[dict, int, Counter, list[int]]:
    """The per-image values of ``column`` in one method's ``rows``.

    Parameters
    ----------
    rows : list of dict
        The runner's rows of one method (``image`` and the result columns).
    column : str
        The result column.
    evidence : {"mean", "hits", "sanity"}
        ``"hits"`` turns each value into a bool.

    Returns
    -------
    tuple
        ``(values, scored, excluded, undefined)``: ``{image: value}`` of the usable values; how many
        rows hold the column (or its ``<column>_excluded``); ``Counter`` of the exclusion reasons;
        the images whose value is missing or not finite without a stated reason.
    """
    excluded_key = f"{column}_excluded"
    values, excluded, undefined, scored = {}, Counter(), [], 0
    for row in rows:
        if column not in row and excluded_key not in row:
            continue
        scored += 1
        if row.get(excluded_key):
            excluded[str(row[excluded_key])] += 1
            continue
        value = row.get(column)
        if value is None or not math.isfinite(float(value)):
            undefined.append(int(row["image"]))
            continue
        values[int(row["image"])] = bool(value) if evidence == "hits" else float(value)
    return values, scored, excluded, undefined


# ------------------------------------------------------------------------------------------- judging
def _on_better_side(interval: dict, direction: str | None, level: float = 0.0) -> bool | None:
    """True when the whole interval lies on ``direction``'s side of ``level``, False when not, None if unknown."""
    if direction is None or interval["low"] is None:
        return None
    return bool(interval["low"] > level) if direction == "higher" else bool(interval["high"] < level)


def judge_mean(values: dict, baseline: dict | None, direction: str | None, confidence: float,
               reference: float | None = None) -> dict:
    """The ``"mean"`` evidence of one column: intervals of the method, the baseline and their paired difference.

    Parameters
    ----------
    values, baseline : dict
        ``{image: value}`` of the method and of the baseline (None or empty: no baseline).
    direction : {"higher", "lower"} or None
        Which values are better (None: reported, not judged).
    confidence : float
        Coverage of the intervals.
    reference : float, optional
        Used instead of a baseline when there is none: the expected value of a random map.

    Returns
    -------
    dict
        ``mean_interval`` of the values plus ``baseline`` and ``difference`` (intervals or None) and
        ``better`` (bool, or None when not judged).
    """
    result = {**mean_interval(list(values.values()), confidence), "baseline": None, "difference": None,
              "better": None}
    if baseline:
        common = sorted(set(values) & set(baseline))
        result["baseline"] = mean_interval(list(baseline.values()), confidence)
        difference = mean_interval([values[i] - baseline[i] for i in common], confidence)
    elif reference is not None:
        result["baseline"] = {"mean": reference, "low": None, "high": None, "n": 0}
        difference = mean_interval([v - reference for v in values.values()], confidence)
    else:
        return result
    result["difference"] = difference
    result["better"] = _on_better_side(difference, direction)
    return result


def judge_hits(hits: dict, baseline: dict | None, direction: str | None, confidence: float) -> dict:
    """The ``"hits"`` evidence of one column: Wilson interval and the exact McNemar test against the baseline.

    Parameters
    ----------
    hits, baseline : dict
        ``{image: bool}`` of the method and of the baseline (None or empty: no baseline).
    direction : {"higher", "lower"} or None
        Whether more hits (``"higher"``) or fewer are better (None: reported, not judged).
    confidence : float
        Coverage of the interval; the test's level is ``1 - confidence``.

    Returns
    -------
    dict
        ``wilson_interval`` of the hits plus ``baseline`` (its interval or None), ``p_value`` and
        ``better`` (None without a baseline or a direction).
    """
    result = {**wilson_interval(sum(hits.values()), len(hits), confidence), "baseline": None, "p_value": None,
              "better": None}
    if baseline:
        result["baseline"] = wilson_interval(sum(baseline.values()), len(baseline), confidence)
        if direction is not None and hits:
            common = sorted(set(hits) & set(baseline))
            ours, theirs = [hits[i] for i in common], [baseline[i] for i in common]
            result["p_value"] = mcnemar_greater(*((ours, theirs) if direction == "higher" else (theirs, ours)))
            result["better"] = bool(result["p_value"] < 1 - confidence)
    return result


def judge_sanity(values: dict, threshold: float, direction: str, confidence: float, is_baseline: bool = False) -> dict:
    """The ``"sanity"`` evidence of one column: interval of the mean similarity and its verdict.

    Parameters
    ----------
    values : dict
        ``{image: similarity}`` to the randomised model's maps.
    threshold : float
        The metric's ``threshold``.
    direction : {"higher", "lower"}
        The side of the threshold that passes (``"lower"``: a similarity below it).
    confidence : float
        Coverage of the interval.
    is_baseline : bool
        The baseline method: verdict ``"baseline"``, not judged.

    Returns
    -------
    dict
        ``mean_interval`` of the values plus ``threshold`` and ``verdict``: ``"passes"``, ``"fails"``,
        ``"inconclusive"``, ``"not scored"`` (no value) or ``"baseline"``.
    """
    interval = mean_interval(list(values.values()), confidence)
    passing = _on_better_side(interval, direction, threshold)
    if is_baseline:
        verdict = "baseline"
    elif interval["n"] == 0:
        verdict = "not scored"
    elif passing:
        verdict = "passes"
    elif interval["low"] is not None and (interval["low"] >= threshold if direction == "lower"
                                          else interval["high"] <= threshold):
        verdict = "fails"
    elif interval["n"] == 1:
        verdict = "passes" if (interval["mean"] < threshold if direction == "lower"
                               else interval["mean"] > threshold) else "fails"
    else:
        verdict = "inconclusive"
    return {**interval, "threshold": float(threshold), "verdict": verdict}


def overall_verdict(verdicts, is_baseline: bool = False) -> str | None:
    """One verdict from the columns' verdicts: fails when any fails, passes when every scored one passes.

    Parameters
    ----------
    verdicts : list of str
        Verdicts of ``judge_sanity``.
    is_baseline : bool
        The baseline method (``"baseline"`` when it has any verdict).

    Returns
    -------
    str or None
        ``"baseline"``, ``"fails"``, ``"passes"``, ``"inconclusive"``, or None without verdicts.
    """
    verdicts = list(verdicts)
    if not verdicts:
        return None
    if is_baseline:
        return "baseline"
    if "fails" in verdicts:
        return "fails"
    if "passes" in verdicts and all(v == "passes" for v in verdicts if v != "not scored"):
        return "passes"
    return "inconclusive"
