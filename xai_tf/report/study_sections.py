"""The report's study section: a whole study's cells (``xai_tf.study``), read from its output folder.

Config: ``study: <the study's output folder>``. The section holds, from ``study.json`` /
``table.json`` and the cells' stores (nothing is recomputed):

- every metric column per model x method (denoiser ``none``; the columns, their notes and
  directions come from the cells' summaries, that is from the registered metrics), the random
  baseline marked, with what each cell cost in seconds (paper 004's comparison);
- the aggregated curves of every curve metric (SIC, AIC, Deletion, ...) of every method, one figure
  per model and curve column (paper 004's figures);
- the denoiser effect per method: each metric with a denoiser minus the same cell without (paper
  002's question: does denoising change the explanations' scores?);
- the Difference of Means across architectures (paper 003): per method, ``|mean_A - mean_B|`` of
  the per-image hits of every pair of models, lower = more consistent, for every hit-rate column
  (a metric whose Findings evidence is ``"hits"``: the Pointing Game);
- the hit rate per class (paper 000 compares FRI and FRII).
"""
from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np

from xai_tf.report.config import ReportConfigError, resolve


def _cell_rows(folder) -> list[dict]:
    from xai_tf.evaluation.store import RESULTS, plain_rows

    return plain_rows(Path(folder) / RESULTS)


def _cell_summary(cell: dict) -> dict:
    """The cell's ``summary.json`` (written by the study beside its store); recomputed when missing."""
    path = Path(cell["folder"]) / "summary.json"
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        from xai_tf.evaluation import summarize

        return summarize([cell["folder"]])


def _described(summaries) -> dict:
    """The metric columns of the cells in order, their notes and directions, curve and hit-rate columns."""
    from xai_tf.metrics.registry import METRICS

    described = {"metrics": [], "notes": {}, "directions": {}, "curves": [], "hits": []}
    for summary in summaries:
        for column in summary["metrics"]:
            if column in described["notes"]:
                continue
            described["metrics"].append(column)
            described["notes"][column] = summary.get("notes", {}).get(column, column)
            described["directions"][column] = summary.get("directions", {}).get(column)
            if column in summary.get("curves", {}):
                described["curves"].append(column)
            metric = METRICS.get(summary.get("metric_of", {}).get(column))
            if getattr(metric, "evidence", None) == "hits":
                described["hits"].append(column)
    return described


def _merged_curves(cells, summaries: dict, column: str) -> dict:
    """A summary-shaped dict holding one curve column of several one-method cells, keyed by the cells' methods."""
    merged = {"curves": {column: {}}, "table": {}, "directions": {}}
    for cell in cells:
        summary = summaries[cell["hash"]]
        for method, detail in summary.get("curves", {}).get(column, {}).items():
            merged["curves"][column][cell["method"]] = detail
            merged["table"][cell["method"]] = {column: summary["table"][method].get(column)}
            merged["directions"] = summary.get("directions", {})
    return merged


class StudySections:
    """Mixin of the report builder: the "Study" section."""

    def study_section(self) -> None:
        from xai_tf.evaluation.summary import curve_figure
        from xai_tf.report.evaluation_sections import column_header, format_value
        from xai_tf.viz.figures import figure_uri

        folder = resolve(self.base, self.config["study"])
        try:
            study = json.loads((folder / "study.json").read_text())
        except (OSError, ValueError) as error:
            raise ReportConfigError(f"config['study']={str(folder)!r} is not a study's output folder "
                                    f"(study.json: {error})") from None
        cells, table = study["cells"], study["table"]
        summaries = {cell["hash"]: _cell_summary(cell) for cell in cells}
        described = _described(summaries.values())
        metrics = [c for c in described["metrics"] if any(row.get(c) is not None for row in table)]
        self.add("study", "text", text=f"Study {study['config'].get('name', '')}: {len(study['models'])} models x "
                 f"{len({c['method'] for c in cells})} methods x {len({c['denoiser'] for c in cells})} denoisers, "
                 f"{cells[0]['images'] if cells else 0} held-out images; read from {folder}.")
        plain = [row for row in table if row["denoiser"] == "none"]
        self.add("study", "table", caption="Scores per model and method (no denoiser; AIC/SIC: AUC of the "
                 "aggregated curve; others: mean over images) and what each cell cost",
                 header=["model", "method"] + [column_header(described, m) for m in metrics] + ["seconds"],
                 rows=[[row["model"], row["method"]] + [format_value(row.get(m)) for m in metrics]
                       + [format_value(row.get("seconds"), 1)] for row in plain],
                 highlight=[i for i, row in enumerate(plain) if row["method"] == "random"])
        for model in dict.fromkeys(cell["model"] for cell in cells):
            plain_cells = [cell for cell in cells if cell["model"] == model and cell["denoiser"] == "none"]
            for column in described["curves"]:
                merged = _merged_curves(plain_cells, summaries, column)
                if merged["curves"][column]:
                    self.add("study", "figure", uri=figure_uri(curve_figure(merged, column)), wide=False,
                             caption=f"{model}: aggregated {column_header(described, column)} of every method.")
        self._denoiser_effect(table, metrics, format_value)
        self._consistency(cells, described["hits"], format_value)

    def _denoiser_effect(self, table, metrics, format_value) -> None:
        base = {(row["model"], row["method"]): row for row in table if row["denoiser"] == "none"}
        rows = []
        for row in table:
            reference = base.get((row["model"], row["method"]))
            if row["denoiser"] == "none" or reference is None:
                continue
            rows.append([row["model"], row["method"], row["denoiser"]] + [
                format_value(None if row.get(m) is None or reference.get(m) is None else row[m] - reference[m])
                for m in metrics])
        if rows:
            self.add("study", "table", caption="Denoiser effect: each score with the denoiser minus the same cell "
                     "without (paper 002)", header=["model", "method", "denoiser"] + metrics, rows=rows)
        else:
            self.note("study", "The study scored no denoiser besides `none`: no denoiser effect to show.")

    def _consistency(self, cells, hit_columns, format_value) -> None:
        if not hit_columns:
            self.note("study", "The study scored no hit-rate metric (e.g. the Pointing Game): no Difference of Means "
                               "or per-class rates.")
            return
        for column in hit_columns:
            self._consistency_of(cells, column, format_value)

    def _consistency_of(self, cells, column: str, format_value) -> None:
        from xai_tf.metrics.robustness.consistency import difference_of_means

        hits = {}  # (model, method) -> per-image hits; (model, method, label) -> hits of that class
        for cell in cells:
            if cell["denoiser"] != "none":
                continue
            for row in _cell_rows(cell["folder"]):
                if row.get(column) is not None:
                    hits.setdefault((cell["model"], cell["method"]), []).append(row[column])
                    hits.setdefault((cell["model"], cell["method"], row["label"]), []).append(row[column])
        if not hits:
            return
        models = list(dict.fromkeys(key[0] for key in hits))
        methods = list(dict.fromkeys(key[1] for key in hits))
        pairs = list(itertools.combinations(models, 2))
        if pairs:
            self.add("study", "table", caption=f"Difference of Means of {column} across architectures "
                     "(paper 003; lower = more consistent)", header=["method"] + [f"{a} vs {b}" for a, b in pairs],
                     rows=[[method] + [format_value(difference_of_means(hits[(a, method)], hits[(b, method)]))
                                       if (a, method) in hits and (b, method) in hits else "n/a" for a, b in pairs]
                           for method in methods])
        labels = sorted({key[2] for key in hits if len(key) == 3})
        names = list(self.class_names or [])
        header = [names[label] if label < len(names) else f"class {label}" for label in labels]
        self.add("study", "table", caption=f"{column} hit rate per class (paper 000; hits / images)",
                 header=["model", "method"] + header,
                 rows=[[model, method] + [
                     f"{format_value(float(np.mean(hits[(model, method, label)])))} "
                     f"({int(np.sum(hits[(model, method, label)]))}/{len(hits[(model, method, label)])})"
                     if (model, method, label) in hits else "n/a" for label in labels]
                       for model in models for method in methods if (model, method) in hits])
