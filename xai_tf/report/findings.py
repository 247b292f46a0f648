"""Findings: what a reader should conclude from an evaluation, computed from its results, never hand-written.

``compute_findings(rows, maps=None, masks=None, ...)`` takes the evaluation runner's per-image rows
(``results.jsonl``: ``image``, ``method``, ``target``, ``label`` and one entry per result column,
plus ``<column>_excluded`` where a metric excludes images with a reason) and, when available, the
maps and ground-truth masks of those images, and returns per method, each beside a baseline method
scored on the same images (default ``random``):

- localisation from the maps and masks: the share of ``|map|`` inside the ground-truth mask, the
  mean saliency inside / outside (below 1: the map highlights the background) and whether the
  map's maximum lies in the mask;
- one result per evaluated column, judged as its metric declares (``Metric.evidence``, see
  ``xai_tf.report.evidence``): ``scores`` (``"mean"`` and ``"hits"`` columns: intervals, paired test
  against the baseline, ``better``) and ``sanity`` (``"sanity"`` columns: verdict against the
  metric's ``threshold``, the images used and why the others were dropped), with ``sanity_verdict``;
- warnings: coarse or constant maps (LIME's few segments), a maximum never in the source, scores no
  better than the baseline, failed sanity checks, few images, maps whose mean ``tie_fraction`` (the
  rows' share of tied pixels, written when a ranked metric is scored) exceeds ``TIE_FRACTION``.

The columns, their labels (the metric's note up to its parenthesis), better sides (``direction_of``),
evidence, thresholds and need of ground truth are read from the metrics (``METRICS``): nothing here
names a metric. The maps-based part is ``xai_tf.report.map_findings``. All functions are pure: no
files are read, nothing is printed; the report renders the returned dict.
"""
from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence

import numpy as np

from xai_tf.metrics.protocol import DIRECTIONS, EVIDENCE, Metric
from xai_tf.report.evidence import (
    column_values,
    judge_hits,
    judge_mean,
    judge_sanity,
    mcnemar_greater,
    mean_interval,
    overall_verdict,
    wilson_interval,
)
from xai_tf.report.findings_table import findings_summary, findings_table
from xai_tf.report.map_findings import (
    BACKGROUND_SHARE,
    COARSE_LEVELS,
    GROUND_TRUTH_FINDINGS,
    check_arrays,
    coarseness_warnings,
    localisation_entry,
    localisation_shares,
)

__all__ = ["BACKGROUND_SHARE", "COARSE_LEVELS", "FEW_IMAGES", "GROUND_TRUTH_FINDINGS", "TIE_FRACTION",
           "column_label", "compute_findings", "findings_summary", "findings_table", "mcnemar_greater",
           "mean_interval", "result_columns", "rules", "wilson_interval"]

#: Fewer scored images than this: a warning that the intervals are wide.
FEW_IMAGES = 10
#: A mean tie fraction above this (a tenth of the pixels tied): a warning that ties decide part of the
#: ranked metrics' scores (Grad-CAM maps at 32 px hold about a third of their pixels tied at 0).
TIE_FRACTION = 0.1


# ------------------------------------------------------------------------------------------- columns
def column_label(metric: Metric, column: str) -> str:
    """Short header of a result column: its metric's note up to the parenthesis, without a long gloss.

    Parameters
    ----------
    metric : Metric
        The metric that writes ``column``.
    column : str
        The result column.

    Returns
    -------
    str
        ``"X AUC"`` for the note ``"X AUC (higher = better)"``, ``"X"`` for ``"X, a gloss of more than
        two words (lower = better)"``; a short qualifier after a comma is kept (``"X, full"``).
    """
    label = metric.note(column).split(" (")[0].strip()
    head, _, tail = label.partition(", ")
    return head if tail and len(tail.split()) > 2 else label


def _label_parts(labels: list[str]) -> tuple[str, list[str | None]]:
    """``(common head, qualifiers)`` of the labels of one metric's columns ("X, full", "X, semi" -> X, [full, semi])."""
    parts = [label.partition(", ") for label in labels]
    heads = {head for head, _, _ in parts}
    if len(heads) == 1:
        return heads.pop(), [tail or None for _, _, tail in parts]
    return " / ".join(dict.fromkeys(head for head, _, _ in parts)), list(labels)


def result_columns(rows, columns=None) -> list[tuple[str, Metric]]:
    """The evaluated result columns with their metrics, checked.

    Parameters
    ----------
    rows : list of dict
        The runner's rows (used only when ``columns`` is None).
    columns : list of (str, Metric), optional
        ``[(column, metric)]`` of the evaluation, in its metric order (the report builds it from the
        evaluation's config: ``[(c, METRICS[name]) for name in config["metrics"] for c in
        METRICS[name].columns(config["options"])]``). Default: every column of a registered metric
        (with the default options, or named in its notes) that the rows hold, in registry order.

    Returns
    -------
    list of (str, Metric)
    """
    if columns is None:
        from xai_tf.metrics.registry import METRICS, default_options

        present = {key for row in rows for key in row}
        defaults, claimed, columns = default_options(), set(), []
        for metric in METRICS.values():
            for column in dict.fromkeys([*metric.columns(defaults), *metric.notes]):
                if column not in claimed and (column in present or f"{column}_excluded" in present):
                    claimed.add(column)
                    columns.append((column, metric))
    if isinstance(columns, (str, Mapping)) or not isinstance(columns, Sequence):
        raise TypeError(f"columns must be a list of (column, metric) pairs; got {type(columns).__name__}")
    checked = []
    for position, pair in enumerate(columns):
        if not (isinstance(pair, (tuple, list)) and len(pair) == 2 and isinstance(pair[0], str)
                and isinstance(pair[1], Metric)):
            raise TypeError(f"columns[{position}] must be a (column, xai_tf.metrics.protocol.Metric) pair; "
                            f"got {pair!r}")
        column, metric = pair
        if any(column == seen for seen, _ in checked):
            raise ValueError(f"columns[{position}]: column {column!r} is listed twice")
        direction = metric.direction_of(column)
        if metric.evidence not in EVIDENCE or (direction is not None and direction not in DIRECTIONS):
            raise ValueError(f"columns[{position}]: metric {metric.name!r} declares evidence {metric.evidence!r} "
                             f"(one of {EVIDENCE}) and direction {direction!r} (None or one of {DIRECTIONS})")
        threshold = metric.threshold
        if metric.evidence == "sanity" and (direction is None or isinstance(threshold, bool)
                                            or not isinstance(threshold, (int, float)) or not math.isfinite(threshold)):
            raise ValueError(f"columns[{position}]: metric {metric.name!r} has evidence 'sanity' and needs a direction "
                             f"and a finite threshold; got direction {direction!r}, threshold {threshold!r}")
        checked.append((column, metric))
    return checked


# ------------------------------------------------------------------------------------------- inputs
def _check_rows(rows) -> list[dict]:
    if isinstance(rows, Mapping) or not isinstance(rows, Sequence) or isinstance(rows, str):
        raise TypeError(f"rows must be a list of dicts (the lines of results.jsonl); got {type(rows).__name__}")
    for position, row in enumerate(rows):
        if not isinstance(row, Mapping) or "image" not in row or "method" not in row:
            raise ValueError(f"rows[{position}] must be a dict with at least 'image' and 'method'; got {row!r}")
    keys = [(int(row["image"]), str(row["method"])) for row in rows]
    if len(set(keys)) != len(keys):
        raise ValueError("rows holds the same (image, method) twice; merge shards before computing findings")
    return list(rows)


# ------------------------------------------------------------------------------------------- columns judged
def _undefined_reasons(images, maps, position) -> Counter:
    """Why a similarity to a randomised model's map is undefined, per image (a constant map on either side)."""
    reasons = Counter()
    for image in images:
        if maps is not None and image in position:
            constant = np.ptp(np.abs(maps[position[image]])) == 0
            reasons["the trained model's map is constant" if constant
                    else "the randomised model's map is constant (rank correlation undefined)"] += 1
        else:
            reasons["similarity undefined: the trained or the randomised model's map is constant "
                    "(e.g. an all-zero CAM after its ReLU)"] += 1
    return reasons


def _judge_columns(method, method_rows, columns, labels, base_values, maps, position, details, confidence,
                   is_baseline, baseline, warn) -> tuple[dict, dict]:
    """``(scores, sanity)`` of one method: each evaluated column judged as its metric declares."""
    scores, sanity = {}, {}
    for column, metric in columns:
        values, scored, excluded, undefined = column_values(method_rows, column, metric.evidence)
        if not scored:
            continue
        direction, label = metric.direction_of(column), labels[column]
        base = None if is_baseline else base_values.get(column) or None
        if metric.evidence == "sanity":
            reasons = excluded + _undefined_reasons(undefined, maps, position)
            sanity[column] = {**judge_sanity(values, metric.threshold, direction, confidence, is_baseline),
                              "scored": scored, "dropped": scored - len(values), "drop_reasons": dict(reasons)}
            continue
        if metric.evidence == "hits":
            result = judge_hits(values, base, direction, confidence)
            if result["better"] is False:
                warn(f"{method}: {label} {result['rate']:.2f} is not better than {baseline}'s "
                     f"{result['baseline']['rate']:.2f} (McNemar p = {result['p_value']:.2f})")
        else:
            result = judge_mean(values, base, direction, confidence)
            detail = ((details or {}).get(column) or {}).get(method)
            if isinstance(detail, Mapping) and detail.get("auc") is not None:
                result["aggregated_auc"] = detail["auc"]
            if result["better"] is False:
                warn(f"{method}: {label} is not better than {baseline} (per-image mean {result['mean']:.3f} vs "
                     f"{result['baseline']['mean']:.3f})")
        scores[column] = {**result, "scored": scored, "excluded": dict(excluded)}
    return scores, sanity


def _sanity_groups(sanity: dict, columns, labels) -> list[tuple[Metric, str, list[tuple[str, str | None]]]]:
    """``[(metric, head, [(column, qualifier)])]``: the sanity columns of a method grouped by metric."""
    groups: dict[int, tuple[Metric, list[str]]] = {}
    for column, metric in columns:
        if column in sanity:
            groups.setdefault(id(metric), (metric, []))[1].append(column)
    result = []
    for metric, group in groups.values():
        head, tails = _label_parts([labels[column] for column in group])
        result.append((metric, head, list(zip(group, tails))))
    return result


def _sanity_warnings(method: str, sanity: dict, groups, warn) -> None:
    """Per metric: one warning for its failed columns together, one per distinct set of dropped images."""
    for metric, head, members in groups:
        failed = [f"{tail + ' ' if tail else ''}{sanity[column]['mean']:.2f}" for column, tail in members
                  if sanity[column]["verdict"] == "fails"]
        if failed:
            side = ">=" if metric.direction_of(members[0][0]) == "lower" else "<="
            warn(f"{method}: fails the {head} check (similarity {', '.join(failed)} {side} {metric.threshold:g}): its "
                 "maps barely change when the model's weights are randomised, so its other scores do not show that "
                 "it explains this model")
        dropped: dict = {}
        for column, tail in members:
            result = sanity[column]
            if result["dropped"]:
                key = (result["n"], result["scored"], result["dropped"], tuple(result["drop_reasons"].items()))
                dropped.setdefault(key, []).append(tail)
        for (used, scored, count, reasons), tails in dropped.items():
            why = "; ".join(f"{number}: {reason}" for reason, number in reasons)
            named = head + (f" ({', '.join(tails)})" if all(tails) else "")
            warn(f"{method}: {named} uses {used} of {scored} images; {count} dropped ({why})")


# ------------------------------------------------------------------------------------------- findings
def compute_findings(rows, maps: Mapping | None = None, masks=None, image_indices=None, *, columns=None,
                     details: Mapping | None = None, baseline: str | None = "random", confidence: float = 0.95,
                     method_params: Mapping | None = None) -> dict:
    """Per-method findings of an evaluation (see the module docstring); a plain dict for the report.

    Parameters
    ----------
    rows : list of dict
        The runner's per-image rows, one per image and method (``results.jsonl``).
    maps : dict of str to array (N, H, W), optional
        ``{method: maps}`` of the evaluated images (the runner's arrays), all methods on the same
        images, in the order of ``image_indices``.
    masks : array (N, H, W), optional
        Ground-truth masks of those images (nonzero = source).
    image_indices : array of int (N,), optional
        The rows' ``image`` of each map (default ``0 .. N-1``).
    columns : list of (str, Metric), optional
        The evaluation's result columns with their metrics (see ``result_columns``; default:
        derived from the registry and the rows).
    details : dict, optional
        ``{column: {method: detail}}``: the summary's details of each column
        (``summary[metric.details_key][column]``); an ``"auc"`` in a detail (the aggregated curve's
        area) is quoted beside the per-image mean.
    baseline : str or None
        The method every score is compared with (default ``"random"``; None or absent: no comparison).
    confidence : float
        Of every interval and test, in (0.5, 1) (default 0.95).
    method_params : dict, optional
        ``{method: {parameter: value}}`` the methods ran with (quoted in warnings).

    Returns
    -------
    dict
        ``{"methods": [per method], "columns": [per column: column, metric, label, note, evidence,
        direction, threshold], "warnings", "needs_ground_truth", "rules", "table" (findings_table),
        "summary" (findings_summary: the sentences the Findings open with), "baseline", "images",
        "confidence"}``; each method's entry holds ``method``, ``is_baseline``,
        ``images``, ``localisation`` (``mass_inside``, ``inside_outside``, ``max_inside``), ``scores``
        ``{column: result with "better"}``, ``sanity`` ``{column: result with "verdict"}``,
        ``sanity_verdict``, ``verdict`` (short lines) and ``warnings``.

    Raises
    ------
    ValueError
        If ``confidence`` is not a number in (0.5, 1), a row lacks ``image`` or ``method``, the
        same (image, method) appears twice (merge shards first), a column is listed twice or its
        metric declares an unknown evidence or direction, or the maps or masks are not finite
        ``(N, H, W)`` arrays of one shape.
    TypeError
        If ``rows`` is not a list of dicts or ``columns`` not a list of (column, Metric) pairs.
    """
    rows = _check_rows(rows)
    if (isinstance(confidence, bool) or not isinstance(confidence, (int, float, np.floating))
            or not 0.5 < float(confidence) < 1.0):
        raise ValueError(f"confidence must be a number in (0.5, 1); got {confidence!r}")
    confidence = float(confidence)
    columns = result_columns(rows, columns)
    maps, masks, position = check_arrays(maps, masks, image_indices)
    labels = {column: column_label(metric, column) for column, metric in columns}
    methods = list(dict.fromkeys(str(row["method"]) for row in rows))
    if baseline not in methods:
        baseline = None
    by_method = {method: [row for row in rows if row["method"] == method] for method in methods}
    method_params = dict(method_params or {})
    base_loc = None
    if baseline is not None and masks is not None and baseline in maps:
        base_loc = localisation_shares(maps[baseline], masks, position, [int(r["image"]) for r in by_method[baseline]])
    base_values = {} if baseline is None else {
        column: column_values(by_method[baseline], column, metric.evidence)[0] for column, metric in columns}

    entries, all_warnings = [], []
    for method in methods:
        method_rows = by_method[method]
        images = [int(row["image"]) for row in method_rows]
        is_baseline = method == baseline
        entry = {"method": method, "is_baseline": is_baseline, "images": len(images), "localisation": {},
                 "scores": {}, "sanity": {}, "sanity_verdict": None, "verdict": [], "warnings": []}
        warn = entry["warnings"].append
        if masks is not None and method in maps:
            entry["localisation"] = localisation_entry(method, maps[method], masks, position, images, base_loc,
                                                       baseline if base_loc is not None else "random", confidence,
                                                       not is_baseline, warn)
        entry["scores"], entry["sanity"] = _judge_columns(
            method, method_rows, columns, labels, base_values, maps.get(method), position, details, confidence,
            is_baseline, baseline, warn)
        groups = _sanity_groups(entry["sanity"], columns, labels)
        entry["sanity_verdict"] = overall_verdict([r["verdict"] for r in entry["sanity"].values()], is_baseline)
        if not is_baseline:
            _sanity_warnings(method, entry["sanity"], groups, warn)
        if method in maps and not is_baseline:
            coarseness_warnings(method, maps[method], images, position, method_params, warn)
        ties = [float(row["tie_fraction"]) for row in method_rows if row.get("tie_fraction") is not None]
        if ties and not is_baseline and float(np.mean(ties)) > TIE_FRACTION:
            warn(f"{method}: ties decide part of the ranked metrics' scores (mean tie fraction {np.mean(ties):.2f}); "
                 "with ties='block' (the default) each tied group is scored as its expectation over orders")
        if len(images) < FEW_IMAGES and not is_baseline:
            warn(f"{method}: only {len(images)} images; the intervals are wide")
        entry["verdict"] = _verdict_lines(entry, groups, labels, baseline, "random" if base_loc is None else baseline)
        entries.append(entry)
        all_warnings.extend(entry["warnings"])
    column_info = [{"column": column, "metric": metric.name, "label": labels[column], "note": metric.note(column),
                    "evidence": metric.evidence, "direction": metric.direction_of(column),
                    "threshold": metric.threshold if metric.evidence == "sanity" else None}
                   for column, metric in columns]
    findings = {"methods": entries, "columns": column_info, "warnings": all_warnings, "baseline": baseline,
                "needs_ground_truth": _needs_ground_truth(rows, masks, columns, labels),
                "images": len({int(row["image"]) for row in rows}), "confidence": float(confidence),
                "rules": rules(confidence, [info for info in column_info if info["evidence"] == "sanity"])}
    findings["table"] = findings_table(findings)
    findings["summary"] = findings_summary(findings)
    return findings


def _needs_ground_truth(rows, masks, columns, labels) -> list[str]:
    """The findings not computed for want of ground truth (masks for the maps' localisation; any for a metric)."""
    truth_columns = [column for column, metric in columns if metric.ground_truth]
    if masks is not None:
        return []
    if any(row.get(column) is not None for row in rows for column in truth_columns):
        return [f"{name} (needs the ground-truth masks and the maps)" for name in GROUND_TRUTH_FINDINGS]
    return [f"{name} (needs ground-truth masks or boxes; the data has none)"
            for name in (*GROUND_TRUTH_FINDINGS, *(labels[column] for column in truth_columns))]


def _verdict_lines(entry: dict, groups, labels: dict, baseline: str | None, against: str) -> list[str]:
    if entry["is_baseline"]:
        return [f"{baseline} baseline: every score is read against it"]
    lines = []
    better = entry["localisation"].get("mass_inside", {}).get("better")
    if better is not None:
        lines.append(f"localises better than {against}" if better else f"localisation not better than {against}")
    for _, head, members in groups:
        lines.append(f"{head} check {overall_verdict([entry['sanity'][column]['verdict'] for column, _ in members])}")
    for column, result in entry["scores"].items():
        if result.get("better") is not None:
            lines.append(f"{labels[column]} {'better' if result['better'] else 'not better'} than {baseline}")
    return lines


def rules(confidence: float = 0.95, sanity=()) -> list[str]:
    """The decision rules behind the findings, in words (the report prints them under the table).

    Parameters
    ----------
    confidence : float
        Of the intervals and tests (default 0.95).
    sanity : list of dict
        The sanity columns (``metric``, ``label``, ``threshold``, ``direction``, as in ``findings["columns"]``),
        whose thresholds are quoted, one metric's columns together.

    Returns
    -------
    list of str
    """
    percent = f"{100 * confidence:g}%"
    lines = [
        f"Intervals are {percent}: Student-t for means over images, Wilson for hit rates (0/1 per image).",
        ("Better than the baseline: the paired per-image difference from the baseline method has its interval "
         "entirely on the metric's better side of 0 (means; a column with no better side is reported, not judged), "
         f"or the exact one-sided McNemar test gives p < {1 - confidence:.2g} (hit rates)."),
        "Images a metric excluded (with its reason) and missing or undefined values are left out and counted.",
    ]
    if sanity:
        groups: dict = {}
        for info in sanity:  # one metric's columns together: "X (full, semi): below 0.5"
            groups.setdefault((info["metric"], info["direction"], info["threshold"]), []).append(info["label"])
        named = []
        for (_, direction, threshold), labels in groups.items():
            head, tails = _label_parts(labels)
            named.append(f"{head}{' (' + ', '.join(tails) + ')' if all(tails) else ''}: "
                         f"{'below' if direction == 'lower' else 'above'} {threshold:g}")
        thresholds = "; ".join(named)
        lines.append("Sanity checks (Adebayo et al. 2018): similarity of the maps to those of a randomised model; "
                     f"a check passes when the interval of the mean lies entirely on the passing side of the metric's "
                     f"threshold ({thresholds}), fails when it lies entirely on the other side, else inconclusive; a "
                     "method fails when any check fails.")
    return lines
