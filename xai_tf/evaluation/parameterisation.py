"""Metric parameterisation analysis: how the method rankings move when one metric option changes.

Quantus' "metric parameterisation analysis" (Hedström et al., JMLR 2023) asks whether a metric's
verdict depends on its hyperparameters. ``parameterisation(folders)`` takes two or more evaluation
folders of the same model, data and methods that differ in metric options (e.g. ``sic`` with
``pic_blur`` "paper" and "fast", or Max-Sensitivity with three radii) and, per metric column:

- each run's average rank of every method over the images every method scored (1 = best, by the
  metric's direction; ties averaged, as in :func:`xai_tf.evaluation.compare`) and its ranking;
- for every pair of runs, Kendall's tau (tau-b) and Spearman's rho between the two runs' average ranks,
  with SciPy's p-values; 1 = the option does not change the order of the methods, -1 = it reverses it.

The options that differ between the runs are listed (``varied``), and the other configuration keys
that differ are named (``other_differences``: a seed or a method parameter changes rankings too).
``parameterisation.json`` and ``parameterisation.csv`` (one row per column and pair of runs) are
written into ``out_dir`` (default the first folder).
"""
from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np

from xai_tf._checks import check_bool
from xai_tf._io import csv_text, write_atomic, write_json
from xai_tf.evaluation import statistics as st
from xai_tf.evaluation.store import EvaluationError, json_tree
from xai_tf.evaluation.summary import columns_of, read_shards

JSON_NAME, CSV_NAME = "parameterisation.json", "parameterisation.csv"
#: The columns of ``parameterisation.csv``, one row per metric column and pair of runs.
CSV_COLUMNS = ["column", "run_a", "run_b", "tau", "tau_p", "rho", "rho_p", "top_a", "top_b", "blocks_a", "blocks_b"]
#: Keys of an evaluation's configuration that identify its data (the runs must share them).
DATA_KEYS = ("data_fingerprint", "data_images", "data_shape")
#: Configuration keys that may differ between runs without being reported (bookkeeping).
IGNORED_KEYS = ("options", "shard", "shards", "started", "versions")


def average_ranks(values: np.ndarray, direction) -> tuple[np.ndarray, int]:
    """Average rank of each method (column) over the images (rows) with a value for every method.

    Parameters
    ----------
    values : numpy.ndarray, shape (N, L)
        Scores, NaN where an image has no value.
    direction : {"higher", "lower"} or None
        Which scores are better (None ranks larger values first).

    Returns
    -------
    tuple
        ``(ranks, blocks)``: the (L,) average ranks (1 = best; NaN when no image is complete) and
        the number of complete images.
    """
    complete = np.isfinite(values).all(axis=1)
    if not complete.any():
        return np.full(values.shape[1], np.nan), 0
    return st.block_ranks(values[complete], direction).mean(axis=0), int(complete.sum())


def parameterisation(folders, metric=None, *, out_dir=None, write: bool = True) -> dict:
    """Rank correlation of the method rankings of evaluations that differ in metric options.

    See :mod:`xai_tf.evaluation.parameterisation` for what is computed.

    Parameters
    ----------
    folders : list of path
        Two or more evaluation folders (one per setting of the option), scored on the same data
        with the same methods.
    metric : str or list of str, optional
        Metric names or result columns to analyse; default every column the runs share.
    out_dir : path, optional
        Where ``parameterisation.json``/``.csv`` go (default the first folder).
    write : bool, optional
        Write the files (default True).

    Returns
    -------
    dict
        JSON-ready: ``runs`` (the folders), ``methods``, ``varied`` (``{option: [value per run]}``),
        ``other_differences`` (other configuration keys that differ), ``columns`` (``{column:
        {"direction", "average_ranks": [{method: rank} per run], "rankings", "blocks", "pairs",
        "mean_tau"}}``), ``rows`` (those of the CSV) and ``files``.

    Raises
    ------
    EvaluationError
        If the runs scored different data, or a folder is not an evaluation folder (a ValueError).
    ValueError
        If fewer than two folders are given, the runs scored different methods or one method only,
        or ``metric`` names no column the runs share.
    TypeError
        If ``folders`` is not a list of paths, ``metric`` not a name or list of names, or ``write``
        not a bool.
    """
    from scipy import stats

    write = check_bool(write, "write")
    if isinstance(folders, (str, Path)) or not isinstance(folders, (list, tuple)) \
            or not all(isinstance(folder, (str, Path)) for folder in folders):
        raise TypeError(f"folders must be a list of evaluation folders; got {folders!r}")
    if len(folders) < 2:
        raise ValueError(f"folders: the analysis compares two or more runs; got {len(folders)}")
    runs = [read_shards([Path(folder)])[:2] for folder in folders]
    first = runs[0][0]
    for folder, (config, _) in zip(folders[1:], runs[1:]):
        differing = [key for key in DATA_KEYS if config.get(key) != first.get(key)]
        if differing:
            raise EvaluationError(f"folders: {folder} and {folders[0]} evaluated different data "
                                  f"({', '.join(differing)} differ); analyse runs on the same data only")
        if list(config["methods"]) != list(first["methods"]):
            raise ValueError(f"folders: {folder} scored methods {config['methods']}, {folders[0]} {first['methods']}; "
                             "the runs must score the same methods")
    methods = list(first["methods"])
    if len(methods) < 2:
        raise ValueError(f"folders: the runs scored one method only ({methods}); ranking needs two or more")
    shared = [dict(columns_of(config)) for config, _ in runs]
    columns = [column for column in shared[0] if all(column in other for other in shared[1:])]
    if metric is not None:
        names = [metric] if isinstance(metric, str) else metric
        if not isinstance(names, (list, tuple)) or not names or not all(isinstance(n, str) for n in names):
            raise TypeError(f"metric must be a metric or column name, or a list of them; got {metric!r}")
        known = set(columns) | {shared[0][column].name for column in columns}
        unknown = [name for name in names if name not in known]
        if unknown:
            raise ValueError(f"metric={unknown!r} is not a column of every run; shared: {', '.join(sorted(known))}")
        columns = [column for column in columns if column in names or shared[0][column].name in names]
    options = sorted({key for config, _ in runs for key in config.get("options", {})})
    varied = {key: [config.get("options", {}).get(key) for config, _ in runs] for key in options}
    varied = {key: values for key, values in varied.items() if any(value != values[0] for value in values)}
    keys = sorted({key for config, _ in runs for key in config} - set(IGNORED_KEYS))
    other = [key for key in keys if any(config.get(key) != first.get(key) for config, _ in runs)]
    result = {"runs": [str(folder) for folder in folders], "methods": methods, "varied": varied,
              "other_differences": other, "columns": {}, "rows": [], "files": []}
    for column in columns:
        direction = shared[0][column].direction_of(column)
        ranks, blocks = zip(*(average_ranks(_matrix(rows, column, methods), direction) for _, rows in runs))
        entry = {"direction": direction, "average_ranks": [dict(zip(methods, r)) for r in ranks],
                 "rankings": [[methods[m] for m in np.argsort(r, kind="stable")] for r in ranks],
                 "blocks": list(blocks), "pairs": []}
        for a, b in itertools.combinations(range(len(runs)), 2):
            if blocks[a] and blocks[b]:
                tau, rho = stats.kendalltau(ranks[a], ranks[b]), stats.spearmanr(ranks[a], ranks[b])
                values = (tau.statistic, tau.pvalue, rho.statistic, rho.pvalue)
            else:
                values = (np.nan,) * 4
            pair = {"column": column, "run_a": a, "run_b": b, **dict(zip(("tau", "tau_p", "rho", "rho_p"), values)),
                    "top_a": entry["rankings"][a][0] if blocks[a] else None,
                    "top_b": entry["rankings"][b][0] if blocks[b] else None,
                    "blocks_a": blocks[a], "blocks_b": blocks[b]}
            entry["pairs"].append(pair)
            result["rows"].append(pair)
        taus = np.array([pair["tau"] for pair in entry["pairs"]], dtype=float)
        entry["mean_tau"] = float(np.nanmean(taus)) if np.isfinite(taus).any() else np.nan
        result["columns"][column] = entry
    result = json_tree(result)
    if write:
        out = Path(out_dir) if out_dir is not None else Path(folders[0])
        out.mkdir(parents=True, exist_ok=True)
        result["files"] = [str(out / JSON_NAME), str(out / CSV_NAME)]
        write_atomic(out / CSV_NAME, csv_text(CSV_COLUMNS, result["rows"]).encode())
        write_json(out / JSON_NAME, result)
    return result


def _matrix(rows: list[dict], column: str, methods: list[str]) -> np.ndarray:
    images = sorted({int(row["image"]) for row in rows})
    position = {image: i for i, image in enumerate(images)}
    values = np.full((len(images), len(methods)), np.nan)
    for row in rows:
        value = row.get(column)
        if row["method"] in methods and value is not None and not row.get(f"{column}_excluded"):
            values[position[int(row["image"])], methods.index(row["method"])] = value
    return values


def text_report(result: dict) -> str:
    """:func:`parameterisation`'s result as text: the varied options, each run's ranking and the correlations.

    Parameters
    ----------
    result : dict
        What :func:`parameterisation` returns.

    Returns
    -------
    str
        The runs with their varied options, then per column each run's ranking and each pair's
        Kendall tau and Spearman rho.
    """
    def number(value) -> str:
        return "n/a" if value is None or not np.isfinite(value) else f"{value:.3f}"

    lines = []
    for index, run in enumerate(result["runs"]):
        setting = ", ".join(f"{key}={values[index]}" for key, values in result["varied"].items())
        lines.append(f"run {index}: {run} ({setting or 'no metric option differs'})")
    if result["other_differences"]:
        lines.append(f"note: the runs also differ in {', '.join(result['other_differences'])}")
    for column, entry in result["columns"].items():
        lines.append(f"{column}:")
        for index, ranking in enumerate(entry["rankings"]):
            ranks = entry["average_ranks"][index]
            lines.append(f"  run {index}: " + ", ".join(f"{m} ({number(ranks[m])})" for m in ranking))
        for pair in entry["pairs"]:
            lines.append(f"  run {pair['run_a']} vs run {pair['run_b']}: Kendall tau {number(pair['tau'])} "
                         f"(p {number(pair['tau_p'])}), Spearman rho {number(pair['rho'])} (p {number(pair['rho_p'])})")
    return "\n".join(lines)
