"""Which method: paired comparisons of an evaluation's methods from its stored per-image values.

``compare(folder)`` reads the rows of an evaluation folder (``results.jsonl``: one value per image,
method and metric column) and, for each metric column:

- every pair of methods: the mean difference (first minus second) with a paired percentile
  bootstrap interval at level ``1 - alpha`` (95% by default), a paired test (Wilcoxon's signed-rank
  test, or the exact McNemar test for a metric whose evidence is ``"hits"``: 0/1 per image), its
  effect size (matched-pairs rank-biserial correlation; Cohen's g and the odds ratio for McNemar)
  and Holm-adjusted p-values over the column's pairs. Images without a value for one of the two
  methods (``<column>_excluded`` reasons, or none stored) are dropped from that pair and counted;
- the ranking of the methods: average ranks over the images every method scored (1 = best, by the
  metric's direction; a column without a direction ranks larger values first and claims no
  "better"), Friedman's test and Nemenyi's critical difference (Demšar 2006), drawn as a
  critical-difference diagram ``cd_<column>.png``;

and across the columns that have a direction: Kendall's W of their method rankings and Kendall's
tau of every pair of columns (where the metrics disagree). The statistics are
``xai_tf.evaluation.statistics``'; ``comparison.json`` (everything, numbers as numbers, NaN as
null) and ``comparison.csv`` (one row per column and pair) are written into the evaluation folder.
"""
from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np

from xai_tf._checks import check_bool, check_positive, check_seed
from xai_tf._io import csv_text, write_atomic, write_json
from xai_tf._random import rng_for
from xai_tf.evaluation import statistics as st
from xai_tf.evaluation.store import EvaluationError, json_tree, read_config
from xai_tf.evaluation.summary import columns_of, read_shards

JSON_NAME, CSV_NAME = "comparison.json", "comparison.csv"
#: The columns of ``comparison.csv``, one row per metric column and pair of methods.
CSV_COLUMNS = ["metric", "method_a", "method_b", "n", "dropped", "mean_a", "mean_b", "mean_difference", "ci_low",
               "ci_high", "test", "statistic", "p_value", "p_holm", "effect", "effect_size", "odds_ratio",
               "rank_a", "rank_b", "rank_difference", "critical_difference", "nemenyi_significant", "significant",
               "better"]
#: Keys of an evaluation's configuration that identify its data.
DATA_KEYS = ("data_fingerprint", "data_images", "data_shape")


def compare(folder_or_summary, metric=None, alpha: float = 0.05, seed: int = 0, *, resamples: int = 2000,
            write: bool = True) -> dict:
    """Compare an evaluation's methods pairwise and by rank, per metric column and across metrics.

    See :mod:`xai_tf.evaluation.compare` for what is computed; the tests and the critical difference
    follow Demšar (2006), the p-value adjustment Holm (1979).

    Parameters
    ----------
    folder_or_summary : str, pathlib.Path, list of path or dict
        An evaluation folder, the folders of one run's shards, or ``{"config": ..., "rows": ...}``
        (what :func:`xai_tf.evaluation.read_results` returns: the configuration and the rows).
    metric : str or list of str, optional
        The metric names (``"sic"``, ``"randomization"``) or result columns
        (``"randomization_full"``) to compare; default every column of the run.
    alpha : float, optional
        Significance level in (0, 1), default 0.05: Holm's family-wise level over each column's
        pairs, the bootstrap intervals' level ``1 - alpha`` and Nemenyi's critical difference.
    seed : int, optional
        Seed of the bootstrap resampling (default 0; ``xai_tf._random.rng_for(seed, column, group)``).
    resamples : int, optional
        Bootstrap resamples per interval, >= 100 (default 2000).
    write : bool, optional
        Write ``comparison.json``, ``comparison.csv`` and ``cd_<column>.png`` into the evaluation
        folder (the first folder of shards; nothing is written for a dict). Default True.

    Returns
    -------
    dict
        JSON-ready: ``alpha``, ``seed``, ``resamples``, ``methods``, ``images``, ``columns``,
        ``metrics`` (``{column: {"metric", "direction", "evidence", "test", "excluded", "missing",
        "blocks", "dropped_blocks", "friedman", "average_ranks", "ranking", "critical_difference",
        "q_alpha", "pairs", "figure"}}``, ``pairs`` the rows of ``comparison.csv``), ``agreement``
        (``{"columns", "w", "chi2", "df", "p_value", "raters", "tau": [{"a", "b", "tau", "p_value"}]}``)
        and ``files`` (the paths written).

    Raises
    ------
    ValueError
        If ``alpha`` is outside (0, 1), ``resamples`` < 100, the run has fewer than two methods,
        ``metric`` names no metric or column of the run, or the folders hold different data or
        configurations (``xai_tf.evaluation.EvaluationError``, a ValueError), or a folder is not an
        evaluation folder.
    TypeError
        If ``folder_or_summary`` is none of the accepted kinds, or ``alpha``, ``seed``,
        ``resamples`` or ``write`` has the wrong type.
    """
    alpha = st.check_alpha(alpha)
    seed = check_seed(seed)
    check_positive(resamples, "resamples", integer=True)
    if resamples < 100:
        raise ValueError(f"resamples must be at least 100; got {resamples}")
    write = check_bool(write, "write")
    config, rows, out = _load(folder_or_summary)
    methods = list(config["methods"])
    if len(methods) < 2:
        raise ValueError(f"folder_or_summary: the evaluation scored one method only ({methods}); comparing needs two "
                         "or more")
    columns = _select(columns_of(config), metric)
    images = sorted({int(row["image"]) for row in rows})
    position = {image: i for i, image in enumerate(images)}
    result = {"alpha": alpha, "seed": seed, "resamples": resamples, "methods": methods, "images": len(images),
              "columns": [column for column, _ in columns], "metrics": {}, "pairs": [], "files": []}
    for index, (column, registered) in enumerate(columns):
        values = np.full((len(images), len(methods)), np.nan)
        excluded, missing = dict.fromkeys(methods, 0), dict.fromkeys(methods, 0)
        for row in rows:
            method = row["method"]
            if method not in excluded:
                continue
            value = row.get(column)
            if row.get(f"{column}_excluded"):
                excluded[method] += 1
            elif value is None or not np.isfinite(value):
                missing[method] += 1
            else:
                values[position[int(row["image"])], methods.index(method)] = value
        direction = registered.direction_of(column)
        entry = _compare_column(values, methods, direction, registered.evidence == "hits", alpha, resamples,
                                (seed, index))
        entry.update(metric=registered.name, direction=direction, evidence=registered.evidence,
                     excluded=excluded, missing=missing)
        for pair in entry["pairs"]:
            pair["metric"] = column
        result["metrics"][column] = entry
        result["pairs"].extend(entry["pairs"])
    result["agreement"] = _agreement(result)
    result = json_tree(result)
    if write and out is not None:
        result["files"] = _write(result, Path(out))
    return result


def _load(source) -> tuple[dict, list[dict], Path | None]:
    if isinstance(source, dict):
        if not isinstance(source.get("config"), dict) or not isinstance(source.get("rows"), list):
            raise ValueError("folder_or_summary: a dict must hold 'config' (an evaluation configuration) and 'rows' "
                             "(its result rows), as xai_tf.evaluation.read_results returns")
        return source["config"], source["rows"], None
    if isinstance(source, (str, Path)):
        folders = [Path(source)]
    elif isinstance(source, (list, tuple)) and source and all(isinstance(f, (str, Path)) for f in source):
        folders = [Path(folder) for folder in source]
    else:
        raise TypeError("folder_or_summary must be an evaluation folder, a list of its shard folders or a dict "
                        f"with 'config' and 'rows'; got {type(source).__name__}")
    configs = [read_config(folder) for folder in folders]
    for folder, config in zip(folders[1:], configs[1:]):
        differing = [key for key in DATA_KEYS if config.get(key) != configs[0].get(key)]
        if differing:
            raise EvaluationError(f"folder_or_summary: {folder} and {folders[0]} evaluated different data "
                                  f"({', '.join(differing)} differ); compare the folders of one run only")
    config, rows, _ = read_shards(folders)
    return config, rows, folders[0]


def _select(columns: list, metric) -> list:
    if metric is None:
        return columns
    names = [metric] if isinstance(metric, str) else metric
    if not isinstance(names, (list, tuple)) or not names or not all(isinstance(n, str) for n in names):
        raise TypeError(f"metric must be a metric or column name, or a list of them; got {metric!r}")
    known = {column for column, _ in columns} | {registered.name for _, registered in columns}
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ValueError(f"metric={unknown!r} is not in the run; its metrics and columns: {', '.join(sorted(known))}")
    return [(column, registered) for column, registered in columns if column in names or registered.name in names]


def _compare_column(values: np.ndarray, methods: list, direction, hits: bool, alpha: float, resamples: int,
                    keys: tuple) -> dict:
    """Pairs, Holm, ranks, Friedman and the critical difference of one column's (images, methods) values."""
    k = len(methods)
    finite = np.isfinite(values)
    binary = hits and bool(np.all(np.isin(values[finite], (0.0, 1.0))))
    pairs = list(itertools.combinations(range(k), 2))
    groups: dict[bytes, tuple[np.ndarray, list[int]]] = {}
    for number, (i, j) in enumerate(pairs):
        valid = finite[:, i] & finite[:, j]
        groups.setdefault(valid.tobytes(), (valid, []))[1].append(number)
    intervals = np.full((len(pairs), 2), np.nan)
    for group, (valid, members) in enumerate(groups.values()):
        differences = np.stack([values[valid, pairs[m][0]] - values[valid, pairs[m][1]] for m in members], axis=1)
        intervals[members] = st.bootstrap_means(differences, resamples, 1.0 - alpha, rng_for(*keys, group))
    complete = finite.all(axis=1)
    blocks = int(complete.sum())
    ranks = st.block_ranks(values[complete], direction)
    average = ranks.mean(axis=0) if blocks else np.full(k, np.nan)
    cd = st.critical_difference(k, blocks, alpha) if blocks else np.nan
    entries = []
    for (i, j), interval in zip(pairs, intervals):
        valid = finite[:, i] & finite[:, j]
        first, second = values[valid, i], values[valid, j]
        if binary:
            test = st.mcnemar_pair(first, second)
            kind, effect = "mcnemar_exact", "cohen_g"
        else:
            test = st.wilcoxon_pair(first - second)
            kind, effect = "wilcoxon", "rank_biserial"
        entries.append({
            "method_a": methods[i], "method_b": methods[j], "n": int(valid.sum()), "dropped": int((~valid).sum()),
            "mean_a": first.mean() if first.size else np.nan, "mean_b": second.mean() if second.size else np.nan,
            "mean_difference": (first - second).mean() if first.size else np.nan, "ci_low": interval[0],
            "ci_high": interval[1], "test": kind, "statistic": test["statistic"], "p_value": test["p_value"],
            "effect": effect, "effect_size": test["effect_size"], "odds_ratio": test.get("odds_ratio"),
            "rank_a": average[i], "rank_b": average[j], "rank_difference": average[i] - average[j],
            "critical_difference": cd, "nemenyi_significant": bool(abs(average[i] - average[j]) > cd)})
    adjusted = st.holm([entry["p_value"] for entry in entries])
    for entry, p_holm in zip(entries, adjusted):
        significant = bool(np.isfinite(p_holm) and p_holm < alpha)
        better = None
        if significant and direction is not None and entry["effect_size"] != 0:
            larger = entry["method_a"] if entry["effect_size"] > 0 else entry["method_b"]
            smaller = entry["method_b"] if larger == entry["method_a"] else entry["method_a"]
            better = larger if direction == "higher" else smaller
        entry.update(p_holm=p_holm, significant=significant, better=better)
    order = sorted(range(k), key=lambda m: (average[m] if np.isfinite(average[m]) else np.inf, m))
    return {"test": "mcnemar_exact" if binary else "wilcoxon", "blocks": blocks,
            "dropped_blocks": int(len(values) - blocks), "friedman": st.friedman(ranks),
            "average_ranks": dict(zip(methods, average)), "ranking": [methods[m] for m in order],
            "critical_difference": cd, "q_alpha": st.q_alpha(k, alpha), "pairs": entries, "figure": None}


def _agreement(result: dict) -> dict:
    """Kendall's W and pairwise tau of the method rankings of the columns that have a direction."""
    from scipy import stats

    columns = [column for column, entry in result["metrics"].items()
               if entry["direction"] is not None and entry["blocks"] > 0]
    agreement = {"columns": columns, "w": np.nan, "chi2": np.nan, "df": len(result["methods"]) - 1,
                 "p_value": np.nan, "raters": len(columns), "tau": []}
    if len(columns) < 2:
        return agreement
    averages = np.array([[result["metrics"][c]["average_ranks"][m] for m in result["methods"]] for c in columns])
    agreement.update(st.kendall_w(stats.rankdata(averages, axis=1)))
    for (a, first), (b, second) in itertools.combinations(zip(columns, averages), 2):
        tau = stats.kendalltau(first, second)
        agreement["tau"].append({"a": a, "b": b, "tau": float(tau.statistic), "p_value": float(tau.pvalue)})
    return agreement


def _write(result: dict, out: Path) -> list[str]:
    from xai_tf.viz.cd import cd_diagram

    written = []
    for column, entry in result["metrics"].items():
        ranks = entry["average_ranks"]
        if entry["blocks"] and all(value is not None for value in ranks.values()):
            path = out / f"cd_{column}.png"
            cd_diagram(ranks, entry["critical_difference"] or 0.0, path, title=diagram_title(column, entry))
            entry["figure"] = path.name
            written.append(str(path))
    write_atomic(out / CSV_NAME, csv_text(CSV_COLUMNS, result["pairs"]).encode())
    written = [str(out / JSON_NAME), str(out / CSV_NAME), *written]
    result["files"] = written
    write_json(out / JSON_NAME, result)
    return written


def diagram_title(column: str, entry: dict) -> str:
    """The title of a column's critical-difference diagram: the column, its direction and the blocks."""
    better = {"higher": "higher = better", "lower": "lower = better"}.get(entry["direction"], "ranked by value")
    return f"{column} ({better}): average ranks over {entry['blocks']} images"


def _p(value) -> str:
    return "n/a" if value is None else f"{value:.3g}"


def describe(result: dict, column: str) -> list[str]:
    """Sentences on one column of :func:`compare`'s result: ranking, Friedman, which pairs differ and which not."""
    entry, alpha = result["metrics"][column], result["alpha"]
    friedman = entry["friedman"]
    ranking = ", ".join(f"{m} ({entry['average_ranks'][m]:.2f})" for m in entry["ranking"]
                        if entry["average_ranks"][m] is not None)
    dropped = entry["dropped_blocks"]
    order = "best first" if entry["direction"] else "largest values first; the metric has no better direction"
    lines = [f"{column}: average ranks over {entry['blocks']} images ({order}"
             + (f"; {dropped} image(s) without a value for every method left out" if dropped else "")
             + f"): {ranking or 'n/a'}. Friedman chi2 = {_p(friedman['statistic'])}, p = {_p(friedman['p_value'])}; "
             f"Nemenyi critical difference {_p(entry['critical_difference'])}."]
    holds = [pair for pair in entry["pairs"] if pair["significant"]]
    test = "exact McNemar" if entry["test"] == "mcnemar_exact" else "Wilcoxon signed-rank"
    for pair in holds:
        if pair["better"]:
            worse = pair["method_b"] if pair["better"] == pair["method_a"] else pair["method_a"]
            claim = f"{pair['better']} is better than {worse}"
        else:
            claim = f"{pair['method_a']} and {pair['method_b']} differ"
        lines.append(f"Holds at alpha {alpha:g}: {claim} (mean difference {pair['method_a']} - {pair['method_b']} "
                     f"{_p(pair['mean_difference'])}, {100 * (1 - alpha):g}% interval [{_p(pair['ci_low'])}, "
                     f"{_p(pair['ci_high'])}], {test} p = {_p(pair['p_value'])}, Holm p = {_p(pair['p_holm'])}, "
                     f"n = {pair['n']}).")
    rest = [f"{pair['method_a']} vs {pair['method_b']} (Holm p = {_p(pair['p_holm'])})"
            for pair in entry["pairs"] if not pair["significant"]]
    if rest:
        lines.append(f"Does not hold at alpha {alpha:g} (no significant difference): {'; '.join(rest)}.")
    return lines


def text_report(result: dict) -> str:
    """:func:`compare`'s result as text: per column, the ranking and every pair with its adjusted p-value."""
    out = []
    for column, entry in result["metrics"].items():
        out.append(describe(result, column)[0])
        out.append(f"  {'method_a':>20} {'method_b':>20} {'diff':>9} {'ci_low':>9} {'ci_high':>9} {'p':>9} "
                   f"{'p_holm':>9}")
        for pair in entry["pairs"]:
            mark = " *" if pair["significant"] else ""
            out.append(f"  {pair['method_a']:>20} {pair['method_b']:>20} {_p(pair['mean_difference']):>9} "
                       f"{_p(pair['ci_low']):>9} {_p(pair['ci_high']):>9} {_p(pair['p_value']):>9} "
                       f"{_p(pair['p_holm']):>9}{mark}")
    agreement = result["agreement"]
    if agreement["w"] is not None:
        out.append(f"agreement of the rankings of {', '.join(agreement['columns'])}: Kendall's W = "
                   f"{_p(agreement['w'])} (p = {_p(agreement['p_value'])})")
        out.extend(f"  tau({t['a']}, {t['b']}) = {_p(t['tau'])} (p = {_p(t['p_value'])})" for t in agreement["tau"])
    out.append(f"* Holm-adjusted p < {result['alpha']:g}")
    return "\n".join(out)
