"""Findings: what a reader should conclude from an evaluation, computed from its results, never hand-written.

``compute_findings(rows, maps=None, masks=None, ...)`` takes the evaluation runner's per-image rows
(``results.jsonl``: ``image``, ``method``, ``target``, ``label``, ``sic``, ``aic``, ``sic_excluded``,
``aic_excluded``, ``pointing_game``, ``randomization_full``, ``randomization_semi``; any may be
missing) and, when available, the maps and ground-truth masks of those images, and returns per
method, each beside the random baseline (the ``random`` method scored on the same images):

- localisation: the share of ``|map|`` inside the ground-truth mask, the mean saliency inside /
  outside (below 1: the map highlights the background), whether the map's maximum lies in the mask,
  and the runner's Pointing Game hit rate;
- SIC and AIC: the mean per-image AUC (and the aggregated curve's AUC when ``pic`` is given);
- the randomisation sanity check with its threshold and verdict, the images it used and why the
  others were dropped;
- warnings: coarse or constant maps (LIME's few segments), a maximum never in the source, scores no
  better than random, failed sanity checks, few images.

Statistics (all at ``confidence``, default 95%):

- a mean over images: Student-t interval ``mean +- t * sd / sqrt(n)``;
- a hit rate: Wilson score interval (Wilson 1927; better than the normal interval for small n and
  rates near 0 or 1);
- "better than random": the method and the baseline are scored on the same images, so the test is
  paired: for means, the t interval of the per-image differences lies above 0; for Pointing Game
  hits, the exact one-sided McNemar test (binomial test on the images where exactly one of the two
  hits) gives p < 1 - confidence. Without baseline maps, a uniform random map's expected share of
  mass inside a mask is the mask's area share, which is used instead.

Randomisation threshold: Adebayo et al. (2018, "Sanity checks for saliency maps") compare the
maps of the trained model with those of randomised models by the Spearman rank correlation of
``|map|`` (the runner's ``randomization_full`` / ``_semi`` columns) and give no cut-off: the methods
they call insensitive to the model (guided backprop, guided Grad-CAM) stay near 1 under full
randomisation, the sensitive ones (gradient, Grad-CAM) fall near 0. ``RANDOMIZATION_THRESHOLD = 0.5``
(declared by the metric, ``xai_tf.metrics.randomization``) is the midpoint between "unchanged" (1)
and "unrelated" (0), our choice: a mode **passes** when the upper confidence bound of the mean
similarity is below it, **fails** when the lower bound is at or above it, and is **inconclusive**
otherwise; a method fails when any scored mode fails. Images whose similarity is undefined (a
constant map, typically an all-zero CAM after its ReLU) are dropped and counted with that reason.
All functions are pure: no files are read, nothing is printed; the report renders the returned dict.
"""
from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence

import numpy as np
from scipy import stats

from xai_tf.metrics.randomization import (
    RANDOMIZATION_THRESHOLD,  # the metric's own threshold
)

#: At most this many distinct values in a map: too coarse to localise (LIME's segments, say).
COARSE_LEVELS = 16
#: Fewer scored images than this: a warning that the intervals are wide.
FEW_IMAGES = 10
#: Share of images whose mean saliency inside the mask is below that outside, from which it is a warning.
BACKGROUND_SHARE = 0.25
RANDOMIZATION_MODES, PIC_KINDS = ("full", "semi"), ("sic", "aic")
GROUND_TRUTH_FINDINGS = ("share of saliency inside the ground-truth mask", "mean saliency inside / outside the mask",
                         "maximum inside the mask", "Pointing Game")


# ------------------------------------------------------------------------------------------- statistics
def mean_interval(values, confidence: float = 0.95) -> dict:
    """``{"mean", "low", "high", "n"}`` of the finite ``values``: Student-t interval (None bounds for n < 2)."""
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
    """``{"rate", "low", "high", "hits", "n"}``: the Wilson score interval of ``hits`` successes in ``n``."""
    if n == 0:
        return {"rate": None, "low": None, "high": None, "hits": 0, "n": 0}
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    rate = hits / n
    centre = (rate + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(rate * (1 - rate) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return {"rate": rate, "low": max(0.0, centre - half), "high": min(1.0, centre + half), "hits": int(hits), "n": n}


def mcnemar_greater(method_hits, baseline_hits) -> float:
    """One-sided exact McNemar p-value that the method hits more often than the baseline on the same images."""
    method_hits, baseline_hits = np.asarray(method_hits, bool), np.asarray(baseline_hits, bool)
    only_method = int(np.sum(method_hits & ~baseline_hits))
    only_baseline = int(np.sum(~method_hits & baseline_hits))
    if only_method + only_baseline == 0:
        return 1.0
    return float(stats.binomtest(only_method, only_method + only_baseline, 0.5, alternative="greater").pvalue)


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


def _check_arrays(maps, masks, image_indices, rows):
    """Maps by method and masks, each ``(N, H, W)``, with ``image_indices`` ``(N,)`` naming the rows' images."""
    shape = None
    checked = {}
    for name, array in (maps or {}).items():
        array = np.asarray(array, dtype=np.float64)
        if array.ndim != 3 or not np.all(np.isfinite(array)):
            raise ValueError(f"maps[{name!r}] must be finite maps (N, H, W); got shape {array.shape}")
        if shape is not None and array.shape != shape:
            raise ValueError(f"maps[{name!r}] has shape {array.shape}; the other maps have {shape} (the same images)")
        shape = array.shape
        checked[str(name)] = array
    if masks is not None:
        masks = np.asarray(masks)
        if masks.ndim != 3 or (shape is not None and masks.shape != shape):
            raise ValueError(f"masks must be (N, H, W) like the maps {shape}; got {masks.shape}")
        masks = masks > 0.5
        shape = shape or masks.shape
    if shape is None:
        return checked, None, {}
    if image_indices is None:
        image_indices = np.arange(shape[0])
    image_indices = np.asarray(image_indices)
    if image_indices.shape != (shape[0],) or not np.issubdtype(image_indices.dtype, np.integer):
        raise ValueError(f"image_indices must be {shape[0]} integer image indices (the rows' 'image'), one per map; "
                         f"got {image_indices.dtype} {image_indices.shape}")
    position = {int(index): i for i, index in enumerate(image_indices)}
    return checked, masks, position


# ------------------------------------------------------------------------------------------- findings
def _paired(values: dict, baseline: dict | None, confidence: float, reference: float | None = None) -> dict:
    """Interval of the method's values, of the baseline's, and of their paired difference; ``better``."""
    common = sorted(set(values) & set(baseline or {}))
    result = {**mean_interval(list(values.values()), confidence), "baseline": None, "difference": None,
              "better": None}
    if baseline:
        result["baseline"] = mean_interval(list(baseline.values()), confidence)
        difference = mean_interval([values[i] - baseline[i] for i in common], confidence)
    elif reference is not None:
        result["baseline"] = {"mean": reference, "low": None, "high": None, "n": 0}
        difference = mean_interval([v - reference for v in values.values()], confidence)
    else:
        return result
    result["difference"] = difference
    if difference["low"] is not None:
        result["better"] = bool(difference["low"] > 0)
    return result


def _localisation(maps, masks, position, images):
    """Per image: share of |map| inside, mean inside / outside, maximum inside."""
    share, ratio, max_inside = {}, {}, {}
    magnitude = np.abs(maps)
    for image in images:
        if image not in position:
            continue
        i = position[image]
        inside = masks[i]
        if not inside.any() or inside.all():
            continue  # no background, or no source: nothing to compare
        total = magnitude[i].sum()
        if total > 0:
            share[image] = float(magnitude[i][inside].sum() / total)
            outside = magnitude[i][~inside].mean()
            ratio[image] = float(magnitude[i][inside].mean() / outside) if outside > 0 else math.inf
            max_inside[image] = bool(inside.flat[int(np.argmax(magnitude[i]))])
    return share, ratio, max_inside


def _randomization(method_rows, maps, position, confidence, threshold, is_baseline=False):
    result = {}
    for mode in RANDOMIZATION_MODES:
        column = f"randomization_{mode}"
        scored = [row for row in method_rows if column in row]
        if not scored:
            continue
        values = [row[column] for row in scored if row[column] is not None and math.isfinite(row[column])]
        dropped = [row for row in scored if row[column] is None or not math.isfinite(row[column])]
        reasons = Counter()
        for row in dropped:
            image = int(row["image"])
            if maps is not None and image in position:
                constant = np.ptp(np.abs(maps[position[image]])) == 0
                reasons["the trained model's map is constant" if constant
                        else "the randomised model's map is constant (rank correlation undefined)"] += 1
            else:
                reasons["similarity undefined: the trained or the randomised model's map is constant "
                        "(e.g. an all-zero CAM after its ReLU)"] += 1
        interval = mean_interval(values, confidence)
        if is_baseline:  # random maps drawn with the same seed are the same for any model: nothing to judge
            verdict = "baseline"
        elif interval["n"] == 0:
            verdict = "not scored"
        elif interval["high"] is not None and interval["high"] < threshold:
            verdict = "passes"
        elif interval["low"] is not None and interval["low"] >= threshold:
            verdict = "fails"
        elif interval["n"] == 1:
            verdict = "passes" if interval["mean"] < threshold else "fails"
        else:
            verdict = "inconclusive"
        result[mode] = {**interval, "scored": len(scored), "dropped": len(dropped), "drop_reasons": dict(reasons),
                        "verdict": verdict}
    verdicts = [entry["verdict"] for entry in result.values()]
    if is_baseline and verdicts:
        overall = "baseline"
    elif not verdicts:
        overall = None
    elif "fails" in verdicts:
        overall = "fails"
    elif all(v == "passes" for v in verdicts if v != "not scored") and "passes" in verdicts:
        overall = "passes"
    else:
        overall = "inconclusive"
    return result, overall


def _randomization_warnings(method: str, results: dict, threshold: float, warn) -> None:
    """One warning for the failed modes together, one per distinct set of dropped images."""
    failed = [f"{mode} {result['mean']:.2f}" for mode, result in results.items() if result["verdict"] == "fails"]
    if failed:
        warn(f"{method}: fails the randomisation check (similarity {', '.join(failed)} >= {threshold:g}): its maps "
             "barely change when the model's weights are randomised, so its other scores do not show that it "
             "explains this model")
    dropped: dict = {}
    for mode, result in results.items():
        if result["dropped"]:
            key = (result["n"], result["scored"], result["dropped"], tuple(result["drop_reasons"].items()))
            dropped.setdefault(key, []).append(mode)
    for (used, scored, count, reasons), modes in dropped.items():
        why = "; ".join(f"{number}: {reason}" for reason, number in reasons)
        warn(f"{method}: randomisation ({', '.join(modes)}) uses {used} of {scored} images; {count} dropped ({why})")


def _coarseness(maps, images, position):
    levels = [len(np.unique(maps[position[i]])) for i in images if i in position]
    constant = sum(1 for count in levels if count == 1)
    return levels, constant


def compute_findings(rows, maps: Mapping | None = None, masks=None, image_indices=None, *, pic: Mapping | None = None,
                     baseline: str | None = "random", randomization_threshold: float = RANDOMIZATION_THRESHOLD,
                     confidence: float = 0.95, method_params: Mapping | None = None) -> dict:
    """Per-method findings of an evaluation (see the module docstring); a plain dict for the report.

    rows: the runner's per-image rows (list of dicts, one per image and method; ``results.jsonl``).
    maps: optional ``{method: (N, H, W)}`` maps of the evaluated images (the runner's ``arrays``),
        all methods on the same images, in the order of ``image_indices``.
    masks: optional ``(N, H, W)`` ground-truth masks of those images (nonzero = source).
    image_indices: ``(N,)`` the rows' ``image`` of each map (default ``0 .. N-1``).
    pic: optional ``summary["pic"]`` of ``xai_tf.evaluation.summarize`` (aggregated-curve AUCs).
    baseline: the method every score is compared with (default ``"random"``; None: no comparison).
    randomization_threshold: similarity at which the sanity check fails (default 0.5, see above).
    confidence: of every interval and test (default 0.95).
    method_params: optional ``{method: {parameter: value}}`` the methods ran with (quoted in warnings).
    Returns ``{"methods": [per method], "warnings": [...], "needs_ground_truth": [...], "rules": [...],
    "table": findings_table(...), "baseline", "images", "confidence", "randomization_threshold"}``; each method's entry holds
    ``localisation``, ``pic``, ``randomization`` (with ``verdict``), ``verdict`` (short lines) and ``warnings``.
    """
    rows = _check_rows(rows)
    if not 0.5 < float(confidence) < 1.0:
        raise ValueError(f"confidence must be in (0.5, 1); got {confidence!r}")
    if not 0.0 < float(randomization_threshold) <= 1.0:
        raise ValueError(f"randomization_threshold must be in (0, 1]; got {randomization_threshold!r}")
    maps, masks, position = _check_arrays(maps, masks, image_indices, rows)
    methods = list(dict.fromkeys(str(row["method"]) for row in rows))
    if baseline is not None and baseline not in methods:
        baseline = None
    by_method = {method: [row for row in rows if row["method"] == method] for method in methods}
    has_pointing = any(row.get("pointing_game") is not None for row in rows)
    ground_truth = masks is not None or has_pointing
    method_params = dict(method_params or {})

    base_loc = None
    if baseline is not None and masks is not None and baseline in maps:
        base_loc = _localisation(maps[baseline], masks, position, [int(r["image"]) for r in by_method[baseline]])
    base_hits = {int(r["image"]): bool(r["pointing_game"]) for r in by_method.get(baseline, [])
                 if r.get("pointing_game") is not None}
    base_pic = {kind: {int(r["image"]): r[kind] for r in by_method.get(baseline, [])
                       if r.get(kind) is not None and not r.get(f"{kind}_excluded")} for kind in PIC_KINDS}

    entries, all_warnings = [], []
    for method in methods:
        method_rows = by_method[method]
        images = [int(row["image"]) for row in method_rows]
        is_baseline = method == baseline
        entry = {"method": method, "is_baseline": is_baseline, "images": len(images), "localisation": {},
                 "pic": {}, "randomization": {}, "randomization_verdict": None, "verdict": [], "warnings": []}
        warn = entry["warnings"].append
        # localisation
        if masks is not None and method in maps:
            share, ratio, max_inside = _localisation(maps[method], masks, position, images)
            area = {i: float(masks[position[i]].mean()) for i in share}
            reference = float(np.mean(list(area.values()))) if area else None
            entry["localisation"]["mass_inside"] = _paired(
                share, None if base_loc is None else base_loc[0], confidence,
                reference=None if base_loc is not None else reference)
            below = sum(1 for value in ratio.values() if value < 1)
            entry["localisation"]["inside_outside"] = {
                "median": float(np.median(list(ratio.values()))) if ratio else None, "below_one": below,
                "n": len(ratio), "min": min(ratio.values()) if ratio else None,
                "max": max(ratio.values()) if ratio else None}
            hits = sum(max_inside.values())
            entry["localisation"]["max_inside"] = wilson_interval(hits, len(max_inside), confidence)
            if not is_baseline and ratio and below / len(ratio) >= BACKGROUND_SHARE:
                warn(f"{method}: highlights the background on {below} of {len(ratio)} images (mean saliency inside "
                     "the mask below that outside)")
            if not is_baseline and len(max_inside) >= 5 and hits == 0:
                warn(f"{method}: its maximum is never inside the source (0 of {len(max_inside)} images)")
            if not is_baseline and entry["localisation"]["mass_inside"]["better"] is False:
                warn(f"{method}: its share of saliency inside the mask is not better than random")
        pointing = {int(r["image"]): bool(r["pointing_game"]) for r in method_rows if r.get("pointing_game") is not None}
        if pointing:
            game = wilson_interval(sum(pointing.values()), len(pointing), confidence)
            if base_hits and not is_baseline:
                common = sorted(set(pointing) & set(base_hits))
                game["baseline"] = wilson_interval(sum(base_hits.values()), len(base_hits), confidence)
                game["p_value"] = mcnemar_greater([pointing[i] for i in common], [base_hits[i] for i in common])
                game["better"] = bool(game["p_value"] < 1 - confidence)
                if not game["better"]:
                    warn(f"{method}: Pointing Game {game['rate']:.2f} is not better than random's "
                         f"{game['baseline']['rate']:.2f} (McNemar p = {game['p_value']:.2f})")
            entry["localisation"]["pointing_game"] = game
        # SIC / AIC
        for kind in PIC_KINDS:
            scored = [r for r in method_rows if kind in r or f"{kind}_excluded" in r]
            if not scored:
                continue
            values = {int(r["image"]): r[kind] for r in scored if r.get(kind) is not None and not r.get(f"{kind}_excluded")}
            excluded = Counter(str(r.get(f"{kind}_excluded")) for r in scored if r.get(f"{kind}_excluded"))
            result = _paired(values, None if is_baseline else base_pic[kind] or None, confidence)
            result.update({"scored": len(scored), "excluded": dict(excluded)})
            if pic and kind in pic and method in pic[kind]:
                result["aggregated_auc"] = pic[kind][method].get("auc")
            entry["pic"][kind] = result
            if not is_baseline and result["better"] is False:
                warn(f"{method}: {kind.upper()} is not better than random (per-image AUC {result['mean']:.3f} vs "
                     f"{result['baseline']['mean']:.3f})")
        # randomisation
        entry["randomization"], entry["randomization_verdict"] = _randomization(
            method_rows, maps.get(method), position, confidence, randomization_threshold, is_baseline)
        if not is_baseline:
            _randomization_warnings(method, entry["randomization"], randomization_threshold, warn)
        # maps too coarse, or constant
        if method in maps and not is_baseline:
            levels, constant = _coarseness(maps[method], images, position)
            if levels and constant:
                warn(f"{method}: {constant} of {len(levels)} maps are constant (no pixel ranked above another)")
            informative = [count for count in levels if count > 1]
            if informative and max(informative) <= COARSE_LEVELS:
                size = "x".join(str(v) for v in maps[method].shape[1:])
                low, high = min(informative), max(informative)
                counts = f"{low}" if low == high else f"{low}-{high}"
                if method.startswith("lime"):
                    segments = method_params.get(method, {}).get("num_segments")
                    asked = f" (num_segments={segments})" if segments is not None else ""
                    warn(f"{method}: {counts} segments per image at {size}{asked}; raise num_segments")
                else:
                    warn(f"{method}: {counts} distinct values per map at {size}: too coarse to localise")
        if len(images) < FEW_IMAGES and not is_baseline:
            warn(f"{method}: only {len(images)} images; the intervals are wide")
        entry["verdict"] = _verdict_lines(entry)
        entries.append(entry)
        all_warnings.extend(entry["warnings"])
    needs = [] if ground_truth else [f"{name} (needs ground-truth masks or boxes; the data has none)"
                                     for name in GROUND_TRUTH_FINDINGS]
    if ground_truth and masks is None:
        needs = [f"{name} (needs the ground-truth masks and the maps)" for name in GROUND_TRUTH_FINDINGS[:3]]
    findings = {"methods": entries, "warnings": all_warnings, "needs_ground_truth": needs, "baseline": baseline,
                "images": len({int(row["image"]) for row in rows}), "confidence": float(confidence),
                "randomization_threshold": float(randomization_threshold),
                "rules": rules(randomization_threshold, confidence)}
    findings["table"] = findings_table(findings)
    return findings


def _verdict_lines(entry: dict) -> list[str]:
    if entry["is_baseline"]:
        return ["random baseline: every score is read against it"]
    lines = []
    location = entry["localisation"]
    flags = [location.get("mass_inside", {}).get("better"), location.get("pointing_game", {}).get("better")]
    if any(flag is not None for flag in flags):
        lines.append("localises better than random" if all(f is not False for f in flags)
                     else "localisation not better than random")
    verdict = entry["randomization_verdict"]
    if verdict is not None:
        lines.append(f"randomisation check {verdict}")
    for kind, result in entry["pic"].items():
        if result.get("better") is not None:
            lines.append(f"{kind.upper()} {'better' if result['better'] else 'not better'} than random")
    return lines


def rules(threshold: float = RANDOMIZATION_THRESHOLD, confidence: float = 0.95) -> list[str]:
    """The decision rules behind the findings, in words (the report prints them under the table)."""
    percent = f"{100 * confidence:g}%"
    return [
        f"Intervals are {percent}: Student-t for means over images, Wilson for hit rates.",
        ("Better than random: the paired per-image difference from the random baseline has its interval above 0 "
        f"(means), or the exact one-sided McNemar test gives p < {1 - confidence:.2g} (Pointing Game hits)."),
        (f"Randomisation (Adebayo et al. 2018): Spearman similarity of |map| to the randomised model's map; passes "
        f"when the interval of the mean lies below {threshold:g}, fails when it lies at or above, else "
        "inconclusive (the threshold is the midpoint between unchanged, 1, and unrelated, 0; the paper gives none)."),
    ]


def findings_table(findings: dict) -> dict:
    """``{"header": [...], "rows": [[...]], "highlight": [...]}`` of strings: one row per method for the report."""
    def interval(entry, digits=3, count=False):
        if not entry or entry.get("mean" if "mean" in entry else "rate") is None:
            return "n/a" if not count or not entry else f"n/a (n=0/{entry.get('scored', 0)})"
        value = entry.get("mean", entry.get("rate"))
        text = f"{value:.{digits}f}"
        if entry.get("low") is not None:
            text += f" [{entry['low']:.{digits}f}, {entry['high']:.{digits}f}]"
        return text + (f" (n={entry['n']}/{entry['scored']})" if count else "")

    header = ["method", "share of |map| in mask", "max in mask", "Pointing Game", "SIC AUC", "AIC AUC",
              "randomisation (full / semi)", "verdict"]
    rows, highlight = [], []
    for position, entry in enumerate(findings["methods"]):
        location = entry["localisation"]
        randomization = " / ".join(
            f"{interval(result, 2, count=True)} {result['verdict']}"
            for result in entry["randomization"].values()) or "n/a"
        maximum = location.get("max_inside")
        rows.append([entry["method"] + (" (baseline)" if entry["is_baseline"] else ""),
                     interval(location.get("mass_inside")),
                     "n/a" if not maximum or maximum["n"] == 0 else f"{maximum['hits']}/{maximum['n']}",
                     interval(location.get("pointing_game"), 2),
                     interval(entry["pic"].get("sic"), count=True), interval(entry["pic"].get("aic"), count=True),
                     randomization, "; ".join(entry["verdict"])])
        if entry["is_baseline"]:
            highlight.append(position)
    return {"header": header, "rows": rows, "highlight": highlight}
