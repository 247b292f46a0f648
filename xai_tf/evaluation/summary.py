"""Summaries of evaluation folders: per method and metric column, data only (figures are ``viz``'s).

``summarize(folders)`` reads one or more folders that hold shards of one configuration and returns
a JSON-ready dict: ``methods``, ``metrics`` (the result columns), ``metric_of`` (``{column: the
registered metric that writes it}``), ``notes`` and ``directions``
(``{column: how to read it}``, ``{column: "higher"/"lower"/None}``: which values are better, from
the registered metrics), ``images``, ``complete``, ``shards``, ``table`` (``{method: {column:
value, column_std, column_n}}``: the mean over images, or the metric's own summary: AIC/SIC give the
AUC of the aggregated median curve, as PAIR and paper 004), ``curves`` (``{column: {method: {"x",
"curve", "images", "direction", "label", "ylabel"}}}``: the aggregated curve of every curve metric,
``xai_tf.metrics.curve_metric.CurveMetric``) and the metrics' details
(``summary[metric.details_key][column][method]``: ``pic`` holds AIC/SIC's AUC, included and
evaluated images), and, when a ranked metric was scored, ``tie_fraction`` (``{method: mean over
images of the rows' tie_fraction}``: how much of the maps is tied, a diagnostic, not a metric column).
With ``write_to`` it also writes ``summary.json``, ``table.csv`` (method x column, like paper 001's
Table 1) and one figure of aggregated curves per curve column, ``curve_<column>.png``
(:func:`curve_figure`).
"""
from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from xai_tf._docstrings import fill_doc
from xai_tf._io import csv_text, write_atomic, write_json
from xai_tf.evaluation.shards import parse_shard, shard_chunks
from xai_tf.evaluation.store import EvaluationError, Store, plain_rows, read_config
from xai_tf.metrics.curve_metric import CurveMetric

#: The numpydoc entry of the folders every reader here takes.
FOLDERS = """
folders : list of path
    Evaluation folders (one run, or its shards).
"""
#: What the readers that only read stored results (:func:`pic_results`, :func:`read_results`) raise.
READ_ERRORS = """
ValueError
    If ``folders`` is empty.
EvaluationError
    If the folders are not evaluation folders holding disjoint shards of one configuration.
"""


def columns_of(config: dict) -> list[tuple[str, object]]:
    """``[(column, metric)]`` of an evaluation configuration, in its metric order (from the registry).

    Raises EvaluationError when the configuration names a metric that is not registered here.
    """
    from xai_tf.metrics.registry import METRICS

    missing = [name for name in config["metrics"] if name not in METRICS]
    if missing:
        raise EvaluationError(f"the evaluation used metric(s) {missing}, which are not registered here")
    return [(column, METRICS[name]) for name in config["metrics"]
            for column in METRICS[name].columns(config["options"])]


def read_shards(folders) -> tuple[dict, list[dict], list[Store]]:
    """``(configuration, rows sorted by image and method, stores)`` of shard folders of one run.

    Raises EvaluationError when the folders hold different configurations, a shard twice, or
    results for the same images twice.
    """
    folders = [Path(folder) for folder in folders]
    if not folders:
        raise ValueError("folders must name at least one evaluation folder")
    configs = [read_config(folder) for folder in folders]
    base = {key: value for key, value in configs[0].items() if key != "shard"}
    for folder, config in zip(folders[1:], configs[1:]):
        differing = sorted(key for key in set(base) | set(config)
                           if key != "shard" and base.get(key) != config.get(key))
        if differing:
            raise EvaluationError(f"{folder} has a different configuration from {folders[0]} ({', '.join(differing)}); "
                                  "only shards of one run can be merged")
    shards = [config["shard"] for config in configs]
    if len(set(shards)) != len(shards):
        raise EvaluationError(f"the folders hold the same shard twice ({shards})")
    stores = [Store(folder) for folder in folders]
    rows = sorted((row for store in stores for row in plain_rows(store.results)),
                  key=lambda row: (row["image"], base["methods"].index(row["method"])))
    keys = [(row["image"], row["method"]) for row in rows]
    if len(set(keys)) != len(keys):
        raise EvaluationError("the folders hold results for the same images twice; merge disjoint shards only")
    return {**base, "shards": shards}, rows, stores


@fill_doc(folders=FOLDERS)
def summarize(folders, write_to=None) -> dict:
    """Summary of one or more evaluation folders (shards of one configuration); see the module docstring.

    Parameters
    ----------
    {folders}
    write_to : path, optional
        Folder for ``summary.json``, ``table.csv`` and one ``curve_<column>.png`` per curve column.

    Returns
    -------
    dict
        The summary (JSON-ready).

    Raises
    ------
    ValueError
        If ``folders`` is empty.
    EvaluationError
        If a folder is not an evaluation folder, the folders hold different configurations, the
        same shard twice or results for the same images twice, or the configuration names a
        metric that is not registered here.
    """
    config, rows, stores = read_shards(folders)
    methods = config["methods"]
    columns = columns_of(config)
    summary = {"methods": methods, "metrics": [column for column, _ in columns],
               "metric_of": {column: metric.name for column, metric in columns},
               "notes": {column: metric.note(column) for column, metric in columns},
               "directions": {column: metric.direction_of(column) for column, metric in columns},
               "images": len({row["image"] for row in rows}), "complete": False, "table": {}, "pic": {}, "curves": {}}
    for method in methods:
        method_rows = [row for row in rows if row["method"] == method]

        @functools.cache  # read once per method, when a metric first asks (AIC and SIC both do)
        def stored(method=method):
            return [item for store in stores for item in store.method_arrays(method)]

        entry = {}
        for column, metric in columns:
            values = np.array([np.nan if row.get(column) is None else row[column] for row in method_rows], float)
            values_entry, detail = metric.summarize(column, values, stored)
            entry.update(values_entry)
            if detail is not None:
                summary.setdefault(metric.details_key, {}).setdefault(column, {})[method] = detail
            curve = metric.curve_detail(stored) if isinstance(metric, CurveMetric) else None
            if curve is not None:
                summary["curves"].setdefault(column, {})[method] = curve
        summary["table"][method] = entry
        ties = [row["tie_fraction"] for row in method_rows if row.get("tie_fraction") is not None]
        if ties:  # beside the table, not in it: a property of the maps, with no better side
            summary.setdefault("tie_fraction", {})[method] = float(np.mean(ties))
    expected = {int(i) for shard in config["shards"]
                for _, indices in shard_chunks(config["data_images"], config["chunk_size"], parse_shard(shard))
                for i in indices}
    summary["complete"] = {row["image"] for row in rows} == expected and len(rows) == len(expected) * len(methods)
    summary["shards"] = config["shards"]
    if write_to is not None:
        write_summary(summary, write_to)
    return summary


@fill_doc(folders=FOLDERS, read_errors=READ_ERRORS)
def pic_results(folders, kind: str) -> dict:
    """Read the AIC or SIC results of every method, merged over the folders' stored chunks.

    Parameters
    ----------
    {folders}
    kind : {"sic", "aic"}
        Which PIC metric.

    Returns
    -------
    dict of str to PicResult
        ``{method: PicResult}`` merged in image order (``PicResult.merge``); methods with no
        stored chunk are left out, and the dict is empty when the run did not score ``kind``.

    Raises
    ------
    {read_errors}
    """
    from xai_tf.metrics.registry import METRICS

    config, _, stores = read_shards(folders)
    if kind not in config["metrics"]:
        return {}
    metric = METRICS[kind]
    results = {}
    for method in config["methods"]:
        merged = metric.results(
            lambda method=method: [item for store in stores for item in store.method_arrays(method)])
        if merged is not None:
            results[method] = merged
    return results


@fill_doc(folders=FOLDERS, read_errors=READ_ERRORS)
def read_results(folders) -> dict:
    """Read everything an evaluation scored, for findings: rows, maps, image indices and masks.

    Parameters
    ----------
    {folders}

    Returns
    -------
    dict
        ``{"config", "rows", "maps", "indices", "masks"}``: the configuration (with ``shards``),
        the rows sorted by image and method, ``{method: maps (N, H, W)}``, the image indices
        ``(N,)`` int64 (empty when nothing was stored) and the ground-truth masks ``(N, H, W)``
        bool or None. Every method's maps are in the order of ``indices``, the images of the
        first method with stored maps; a method whose stored images differ is left out.

    Raises
    ------
    {read_errors}
    """
    config, rows, stores = read_shards(folders)
    maps, indices, masks = {}, None, None
    for method in config["methods"]:
        parts = sorted((item for store in stores for item in store.method_arrays(method, with_maps=True)),
                       key=lambda item: item[0])
        if not parts:
            continue
        order = np.concatenate([arrays["indices"] for _, arrays in parts])
        if indices is None:
            indices = order
            if all("masks" in arrays for _, arrays in parts):
                masks = np.concatenate([arrays["masks"] for _, arrays in parts])
        elif not np.array_equal(order, indices):
            continue  # a method not finished on the same images: its maps are left out
        maps[method] = np.concatenate([arrays["maps"] for _, arrays in parts])
    return {"config": config, "rows": rows, "maps": maps,
            "indices": np.array([], np.int64) if indices is None else indices, "masks": masks}


def table_csv(summary: dict) -> str:
    """The method x column table as CSV text (6 significant digits, empty where missing)."""
    return csv_text(["method", *summary["metrics"]],
                    [{**summary["table"][method], "method": method} for method in summary["methods"]])


def curve_figure(summary: dict, column: str, path=None, *, methods=None):
    """The aggregated curves of one curve column of a summary, one per method (``xai_tf.viz.plot_curves``).

    Parameters
    ----------
    summary : dict
        :func:`summarize`'s result (or a ``summary.json`` read back).
    column : str
        A column of ``summary["curves"]``.
    path : path, optional
        File to write (``.png``, ``.pdf`` or ``.svg``).
    methods : dict, optional
        ``{label: method}`` to draw (default every method with a curve, by its name).

    Returns
    -------
    matplotlib.figure.Figure
        Legend: each method's value of ``column`` in the table (the area under its curve).

    Raises
    ------
    ValueError
        The summary holds no curve for ``column``.
    """
    from xai_tf.viz import plot_curves

    details = summary.get("curves", {}).get(column)
    if not details:
        raise ValueError(f"column={column!r} has no aggregated curve in the summary; curve columns: "
                         f"{', '.join(summary.get('curves', {})) or '(none)'}")
    methods = methods or {method: method for method in details}
    curves = {label: (details[method]["x"], [np.nan if v is None else v for v in details[method]["curve"]],
                      summary["table"].get(method, {}).get(column)) for label, method in methods.items()
              if method in details}
    first = next(iter(details.values()))
    direction = summary.get("directions", {}).get(column)
    images = sorted({detail["images"] for detail in details.values()})
    better = f"{direction} = better, " if direction else ""
    title = f"Aggregated {column} ({better}{'/'.join(map(str, images))} images)"
    return plot_curves(curves, path, xlabel=first["label"], ylabel=first["ylabel"], title=title,
                       area_label=column)


def write_summary(summary: dict, out) -> None:
    """Write ``summary.json``, ``table.csv`` and one ``curve_<column>.png`` per curve column into ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "summary.json", summary)
    write_atomic(out / "table.csv", table_csv(summary).encode())
    for column in summary["curves"]:
        curve_figure(summary, column, out / f"curve_{column}.png")
