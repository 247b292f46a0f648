"""The report's study section: a whole study's cells (``xai_tf.study``), read from its output folder.

Config: ``study: <the study's output folder>``. The section holds, from ``study.json`` /
``table.json`` and the cells' stores (nothing is recomputed):

- AUC and scores per model x method (denoiser ``none``), the random baseline marked, with what each
  cell cost in seconds (paper 004's comparison);
- the aggregated SIC and AIC curves of every method, one figure per model (paper 004's figures);
- the denoiser effect per method: each metric with a denoiser minus the same cell without (paper
  002's question: does denoising change the explanations' scores?);
- the Difference of Means across architectures (paper 003): per method, ``|mean_A - mean_B|`` of
  the per-image Pointing Game hits of every pair of models, lower = more consistent;
- the Pointing Game per class (paper 000 compares FRI and FRII).
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


class StudySections:
    """Mixin of the report builder: the "Study" section."""

    def study_section(self) -> None:
        from xai_tf.evaluation import pic_results
        from xai_tf.report.evaluation_sections import format_value
        from xai_tf.viz import plot_pic
        from xai_tf.viz.figures import figure_uri

        folder = resolve(self.base, self.config["study"])
        try:
            study = json.loads((folder / "study.json").read_text())
        except (OSError, ValueError) as error:
            raise ReportConfigError(f"config['study']={str(folder)!r} is not a study's output folder "
                                    f"(study.json: {error})") from None
        cells, table = study["cells"], study["table"]
        metrics = [c for c in ("sic", "aic", "pointing_game", "max_sensitivity", "xai_entropy")
                   if any(row.get(c) is not None for row in table)]
        self.add("study", "text", text=f"Study {study['config'].get('name', '')}: {len(study['models'])} models x "
                 f"{len({c['method'] for c in cells})} methods x {len({c['denoiser'] for c in cells})} denoisers, "
                 f"{cells[0]['images'] if cells else 0} held-out images; read from {folder}.")
        plain = [row for row in table if row["denoiser"] == "none"]
        self.add("study", "table", caption="Scores per model and method (no denoiser; AIC/SIC: AUC of the "
                 "aggregated curve; others: mean over images) and what each cell cost",
                 header=["model", "method"] + metrics + ["seconds"],
                 rows=[[row["model"], row["method"]] + [format_value(row.get(m)) for m in metrics]
                       + [format_value(row.get("seconds"), 1)] for row in plain],
                 highlight=[i for i, row in enumerate(plain) if row["method"] == "random"])
        for model in dict.fromkeys(cell["model"] for cell in cells):
            for kind in ("sic", "aic"):
                by_method = {}
                for cell in cells:
                    if cell["model"] == model and cell["denoiser"] == "none":
                        found = list(pic_results([cell["folder"]], kind).values())  # one method per cell
                        if found:
                            by_method[cell["method"]] = found[0]
                if by_method:
                    self.add("study", "figure", uri=figure_uri(plot_pic(by_method)), wide=False,
                             caption=f"{model}: aggregated {kind.upper()} of every method (paper 004).")
        self._denoiser_effect(table, metrics, format_value)
        self._consistency(cells, format_value)

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

    def _consistency(self, cells, format_value) -> None:
        from xai_tf.metrics.consistency import difference_of_means

        hits = {}  # (model, method) -> per-image hits; (model, method, label) -> hits of that class
        for cell in cells:
            if cell["denoiser"] != "none":
                continue
            for row in _cell_rows(cell["folder"]):
                if row.get("pointing_game") is not None:
                    hits.setdefault((cell["model"], cell["method"]), []).append(row["pointing_game"])
                    hits.setdefault((cell["model"], cell["method"], row["label"]), []).append(row["pointing_game"])
        if not hits:
            self.note("study", "The study did not score the Pointing Game: no Difference of Means or per-class rates.")
            return
        models = list(dict.fromkeys(key[0] for key in hits))
        methods = list(dict.fromkeys(key[1] for key in hits))
        pairs = list(itertools.combinations(models, 2))
        if pairs:
            self.add("study", "table", caption="Difference of Means of the Pointing Game across architectures "
                     "(paper 003; lower = more consistent)", header=["method"] + [f"{a} vs {b}" for a, b in pairs],
                     rows=[[method] + [format_value(difference_of_means(hits[(a, method)], hits[(b, method)]))
                                       if (a, method) in hits and (b, method) in hits else "n/a" for a, b in pairs]
                           for method in methods])
        labels = sorted({key[2] for key in hits if len(key) == 3})
        names = list(self.class_names or [])
        header = [names[label] if label < len(names) else f"class {label}" for label in labels]
        self.add("study", "table", caption="Pointing Game hit rate per class (paper 000; hits / images)",
                 header=["model", "method"] + header,
                 rows=[[model, method] + [
                     f"{format_value(float(np.mean(hits[(model, method, label)])))} "
                     f"({int(np.sum(hits[(model, method, label)]))}/{len(hits[(model, method, label)])})"
                     if (model, method, label) in hits else "n/a" for label in labels]
                       for model in models for method in methods if (model, method) in hits])
