"""A study's tables: per-cell summaries, the combined table, the models' scores and ``study.json``.

- ``table.csv`` / ``table.json``: one row per cell (model, method, denoiser, hash), then every metric
  column of the cell's summary (``xai_tf.evaluation.summary``: AIC/SIC are the AUC of the aggregated
  median curve, as paper 004; the others the mean over images, with ``<column>_std``), then
  ``seconds``: what the cell cost (explain time of its chunks, shared by the denoiser cells of a
  chunk and counted in each, plus its own denoising and scoring), summed over the chunks stored,
  so resumed runs keep the time of the run that computed them;
- ``models.csv`` / ``models.json``: accuracy, macro and weighted F1 of each model on its held-out
  images (paper 004's table), from the train run's ``report.json`` (empty for a loaded model
  without one);
- ``study.json``: the checked configuration, the cells, the models and the wall time.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from xai_tf._io import csv_text, write_json


def summarize_cell(cell: dict) -> dict:
    """The cell's evaluation summary (written beside its store), with ``seconds`` added."""
    from xai_tf.evaluation.store import Store
    from xai_tf.evaluation.summary import summarize

    summary = summarize([cell["folder"]], write_to=cell["folder"])
    stored = Store(cell["folder"]).method_arrays(cell["registry_method"])
    summary["seconds"] = float(sum(np.sum(arrays["seconds"]) for _, arrays in stored if "seconds" in arrays))
    return summary


def model_scores(study: dict) -> list[dict]:
    """``[{"model", "accuracy", "f1_macro", "f1_weighted", "held_out", "train_seconds"}]`` from the runs.

    ``train_seconds`` is what the train run's ``config.json`` records (``xai_tf.runs.train``).
    """
    from xai_tf.runs import read_json, run_folder_of

    rows = []
    for model in study["models"]:
        folder = run_folder_of(model["path"])
        report = read_json(folder / "report.json", f"model {model['name']}") if folder is not None else None
        record = read_json(folder / "config.json", f"model {model['name']}") if folder is not None else None
        row = {"model": model["name"], "accuracy": None, "f1_macro": None, "f1_weighted": None, "held_out": None,
               "train_seconds": (record or {}).get("seconds")}
        if report:
            row.update(accuracy=report["accuracy"], f1_macro=report["macro avg"]["f1-score"],
                       f1_weighted=report["weighted avg"]["f1-score"], held_out=report["macro avg"]["support"])
        rows.append(row)
    return rows


def combined_rows(cells: list[dict], summaries: dict) -> tuple[list[str], list[dict]]:
    """``(columns, rows)`` of the combined model x method x denoiser table."""
    metric_columns: list[str] = []
    for cell in cells:
        for column in summaries[cell["hash"]]["metrics"]:
            if column not in metric_columns:
                metric_columns.append(column)
    rows = []
    for cell in cells:
        summary = summaries[cell["hash"]]
        entry = summary["table"][cell["registry_method"]]
        row = {"model": cell["model"], "method": cell["method"], "denoiser": cell["denoiser"], "hash": cell["hash"]}
        for column in metric_columns:
            row[column] = entry.get(column)
            if f"{column}_std" in entry:
                row[f"{column}_std"] = entry[f"{column}_std"]
        row.update(images=summary["images"], complete=summary["complete"], seconds=round(summary["seconds"], 3))
        rows.append(row)
    columns = list(rows[0]) if rows else []
    return columns, rows


def write_study(out, study: dict, cells: list[dict], summaries: dict, seconds: float) -> dict:
    """Write the tables and ``study.json`` into ``out``; returns ``study.json``'s content."""
    from xai_tf._io import write_atomic

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    columns, rows = combined_rows(cells, summaries)
    write_atomic(out / "table.csv", csv_text(columns, rows).encode())
    write_json(out / "table.json", rows)
    models = model_scores(study)
    model_columns = ["model", "accuracy", "f1_macro", "f1_weighted", "held_out", "train_seconds"]
    write_atomic(out / "models.csv", csv_text(model_columns, models).encode())
    write_json(out / "models.json", models)
    record = {
        "config": {key: value for key, value in study.items()},
        "cells": [{key: (str(value) if isinstance(value, Path) else value) for key, value in cell.items()}
                  for cell in cells],
        "models": models, "table": rows, "seconds": round(seconds, 1), "out": str(out),
    }
    record["config"]["models"] = [{key: str(value) if isinstance(value, Path) else value
                                   for key, value in model.items()} for model in study["models"]]
    write_json(out / "study.json", record)
    return record
