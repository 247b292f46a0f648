"""Is a method's rank stable across models? A study's methods ranked per model, per metric column.

``compare(study_folder)`` reads the study's combined table (``table.json``: one value per model x
method x denoiser cell) and, for each metric column and the chosen denoiser, ranks the methods
within each model (1 = best, by the metric's direction), tests the ranks with Friedman's test over
the models as blocks, gives Nemenyi's critical difference (Demšar 2006) and Kendall's W of the
models' rankings (1 = every model ranks the methods alike), and draws one critical-difference
diagram per column, ``compare_<column>.png``. ``study_comparison.json`` and
``study_comparison.csv`` (one row per column, model and method: value and rank) go into the study
folder. The statistics are ``xai_tf.evaluation.statistics``'.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from xai_tf._checks import check_bool
from xai_tf._io import csv_text, write_atomic, write_json
from xai_tf.evaluation import statistics as st
from xai_tf.evaluation.store import EvaluationError, json_tree, read_config

JSON_NAME, CSV_NAME = "study_comparison.json", "study_comparison.csv"


def compare(folder, metric=None, alpha: float = 0.05, denoiser: str = "none", *, write: bool = True) -> dict:
    """Rank a study's methods within each model, per metric column, and test the ranks across models.

    Parameters
    ----------
    folder : str or pathlib.Path
        A study's output folder (``study.json``, ``table.json`` and ``cells/``; ``xai_tf.study.run``).
    metric : str or list of str, optional
        Metric columns of the study's table to compare (e.g. ``"sic"``); default every column.
    alpha : float, optional
        Significance level in (0, 1) of Nemenyi's critical difference, default 0.05.
    denoiser : str, optional
        Which denoiser's cells to rank (default ``"none"``: the raw maps).
    write : bool, optional
        Write ``study_comparison.json``, ``study_comparison.csv`` and one ``compare_<column>.png``
        per column into ``folder`` (default True).

    Returns
    -------
    dict
        JSON-ready: ``alpha``, ``denoiser``, ``models``, ``methods``, ``columns``, ``metrics``
        (``{column: {"direction", "values": {model: {method: value}}, "ranks": {model: {method:
        rank}}, "average_ranks", "ranking", "blocks", "friedman", "critical_difference",
        "kendall_w", "figure"}}``) and ``files`` (the paths written).

    Raises
    ------
    ValueError
        If ``alpha`` is outside (0, 1), ``folder`` holds no finished study, the study has fewer
        than two methods or models for ``denoiser``, ``metric`` names no column of the table, or
        the cells of one model scored different data (``xai_tf.evaluation.EvaluationError``).
    TypeError
        If ``metric`` is not a string or a list of strings, or ``write`` not a bool.
    """
    alpha = st.check_alpha(alpha)
    write = check_bool(write, "write")
    folder = Path(folder)
    try:
        study = json.loads((folder / "study.json").read_text())
        table = study["table"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ValueError(f"folder={str(folder)!r} holds no finished study (study.json: {error})") from None
    rows = [row for row in table if row.get("denoiser") == denoiser]
    models = list(dict.fromkeys(row["model"] for row in rows))
    methods = list(dict.fromkeys(row["method"] for row in rows))
    if len(methods) < 2 or len(models) < 2:
        raise ValueError(f"folder: the study has {len(methods)} method(s) and {len(models)} model(s) with "
                         f"denoiser={denoiser!r}; ranking methods across models needs two or more of each")
    directions = _directions(folder, study["cells"])
    _check_data(folder, [cell for cell in study["cells"] if cell.get("denoiser") == denoiser])
    columns = [column for column in directions if any(column in row for row in rows)]
    if metric is not None:
        names = [metric] if isinstance(metric, str) else metric
        if not isinstance(names, (list, tuple)) or not all(isinstance(name, str) for name in names):
            raise TypeError(f"metric must be a column name or a list of them; got {metric!r}")
        unknown = [name for name in names if name not in columns]
        if unknown:
            raise ValueError(f"metric={unknown!r} is not a column of the study's table ({', '.join(columns)})")
        columns = [column for column in columns if column in names]
    result = {"alpha": alpha, "denoiser": denoiser, "models": models, "methods": methods, "columns": columns,
              "metrics": {}, "files": []}
    for column in columns:
        values = np.full((len(models), len(methods)), np.nan)
        for row in rows:
            if row.get(column) is not None:
                values[models.index(row["model"]), methods.index(row["method"])] = row[column]
        complete = np.isfinite(values).all(axis=1)
        blocks = int(complete.sum())
        ranks = st.block_ranks(values[complete], directions[column])
        average = ranks.mean(axis=0) if blocks else np.full(len(methods), np.nan)
        kept = [model for model, full in zip(models, complete) if full]
        result["metrics"][column] = {
            "direction": directions[column],
            "values": {model: dict(zip(methods, line)) for model, line in zip(models, values)},
            "ranks": {model: dict(zip(methods, line)) for model, line in zip(kept, ranks)},
            "average_ranks": dict(zip(methods, average)), "blocks": blocks,
            "ranking": [methods[m] for m in np.argsort(average, kind="stable")],
            "friedman": st.friedman(ranks),
            "critical_difference": st.critical_difference(len(methods), blocks, alpha) if blocks else np.nan,
            "kendall_w": st.kendall_w(ranks)["w"] if blocks > 1 else np.nan, "figure": None}
    result = json_tree(result)
    if write:
        result["files"] = _write(result, folder)
    return result


def _directions(folder: Path, cells: list[dict]) -> dict:
    """``{column: direction}`` from the cells' summaries (their order), as the study section reads them."""
    directions: dict = {}
    for cell in cells:
        try:
            summary = json.loads((_cell_folder(folder, cell) / "summary.json").read_text())
        except (OSError, ValueError):
            continue
        for column in summary.get("metrics", []):
            directions.setdefault(column, summary.get("directions", {}).get(column))
    return directions


def _cell_folder(folder: Path, cell: dict) -> Path:
    """The cell's store: under this study folder (it may have moved), else the recorded path."""
    inside = folder / "cells" / Path(cell["folder"]).name
    return inside if inside.exists() else Path(cell["folder"])


def _check_data(folder: Path, cells: list[dict]) -> None:
    """Refuse a model whose cells scored different images (the methods of a block must share its data)."""
    seen: dict = {}
    for cell in cells:
        try:
            fingerprint = read_config(_cell_folder(folder, cell)).get("data_fingerprint")
        except EvaluationError:
            continue
        if seen.setdefault(cell["model"], fingerprint) != fingerprint:
            raise EvaluationError(f"folder: the cells of model {cell['model']!r} scored different data "
                                  f"({seen[cell['model']]} vs {fingerprint}); their methods cannot be ranked together")


def _write(result: dict, folder: Path) -> list[str]:
    from xai_tf.viz.cd import cd_diagram

    written = []
    csv_rows = []
    for column, entry in result["metrics"].items():
        for model, values in entry["values"].items():
            csv_rows.extend({"metric": column, "model": model, "method": method, "value": value,
                             "rank": entry["ranks"].get(model, {}).get(method)} for method, value in values.items())
        if entry["blocks"]:
            better = {"higher": "higher = better", "lower": "lower = better"}.get(entry["direction"], "by value")
            path = folder / f"compare_{column}.png"
            cd_diagram(entry["average_ranks"], entry["critical_difference"] or 0.0, path,
                       title=f"{column} ({better}): average ranks over {entry['blocks']} models")
            entry["figure"] = path.name
            written.append(str(path))
    write_atomic(folder / CSV_NAME, csv_text(["metric", "model", "method", "value", "rank"], csv_rows).encode())
    written = [str(folder / JSON_NAME), str(folder / CSV_NAME), *written]
    result["files"] = written
    write_json(folder / JSON_NAME, result)
    return written
