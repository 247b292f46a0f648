"""The report's evaluation sections: AIC/SIC curves and table, and the other metrics' table.

Read from evaluation runner folders (``xai_tf.evaluation``); the PIC figures are drawn here with
``xai_tf.viz.plot_pic`` from the stored results, nothing is recomputed.
"""
from __future__ import annotations

import json

import numpy as np

from xai_tf.report.config import ReportConfigError, resolve
from xai_tf.viz.figures import figure_uri


def format_value(value, digits: int = 3) -> str:
    """A table cell: ``n/a`` for missing or non-finite values, ints as is, floats to ``digits``."""
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "n/a"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    return f"{float(value):.{digits}f}"


def _metric_note(column: str) -> str:
    """How to read a result column: the note of the registered metric that writes it."""
    from xai_tf.metrics.registry import METRICS

    for metric in METRICS.values():
        if column in metric.notes:
            return metric.notes[column]
    return column


class EvaluationSections:
    """Mixin of the report builder: the "AIC and SIC" and "Metrics" sections, and the Findings' data."""

    findings: dict | None = None

    def evaluation_sections(self) -> None:
        from xai_tf.evaluation import EvaluationError, pic_results, summarize
        from xai_tf.evaluation.store import read_config
        from xai_tf.viz import plot_pic

        folders = [resolve(self.base, folder) for folder in self.config.get("evaluation") or []]
        if not folders:
            for section in ("pic", "metrics"):
                self.note(section, "Skipped: the config names no `evaluation` folder (the evaluation runner's output).")
            return
        try:
            config = read_config(folders[0])
            for folder in folders[1:]:
                read_config(folder)
        except EvaluationError as error:
            raise ReportConfigError(f"config['evaluation']: {error}") from None
        stored = json.loads((folders[0] / "config.json").read_text())
        fingerprint = config.get("model_weights")
        if self.fingerprints and fingerprint not in self.fingerprints:
            raise ReportConfigError(f"the evaluation in {folders[0]} scored a model (weights {fingerprint}) that is "
                                    f"none of the runs' models ({', '.join(self.fingerprints)}); it comes from "
                                    "another configuration")
        self._check_shape(config.get("data_shape", ()), f"the evaluated images in {folders[0]}")
        summary = summarize(folders)  # refuses folders of different configurations
        curves = {}
        for kind in ("sic", "aic"):
            by_method = pic_results(folders, kind)
            if by_method:
                curves[kind] = figure_uri(plot_pic(by_method))
        self.provenance["evaluation"] = {"folders": [str(f) for f in folders], "config": config,
                                         "versions": stored.get("versions")}
        model = self.fingerprints.get(fingerprint, config.get("model"))
        intro = (f"{summary['images']} images x {len(summary['methods'])} methods, model {model}, "
                 f"targets {config.get('targets')}, seed {config.get('seed')}; read from "
                 f"{', '.join(str(f) for f in folders)}.")
        if not summary["complete"]:
            for section in ("pic", "metrics"):
                self.note(section, "The evaluation is not complete (some images or methods are missing); "
                                   "run it again to resume, the numbers below cover what is finished.")
        self._pic_section(summary, curves, config, intro)
        self._metrics_section(summary, intro)
        self._findings(folders, summary, config)

    def _findings(self, folders, summary: dict, config: dict) -> None:
        """The Findings section's data (``xai_tf.report.findings``), from the runner's rows, maps and masks.

        The evaluated columns and their metrics come from the evaluation's config through the registry;
        each column's summary details (``summary[metric.details_key][column]``) go with them.
        """
        from xai_tf.evaluation import read_results
        from xai_tf.metrics.registry import METRICS
        from xai_tf.report.findings import compute_findings

        results = read_results(folders)
        columns = [(column, METRICS[name]) for name in config["metrics"]
                   for column in METRICS[name].columns(config["options"])]
        details = {column: summary.get(metric.details_key, {}).get(column, {}) for column, metric in columns}
        self.findings = compute_findings(results["rows"], maps=results["maps"] or None, masks=results["masks"],
                                         image_indices=results["indices"] if results["maps"] else None,
                                         columns=columns, details=details, method_params=config.get("method_params"))

    def _pic_section(self, summary: dict, curves: dict, config: dict, intro: str) -> None:
        if not any(kind in summary["pic"] for kind in ("sic", "aic")):
            self.note("pic", "Skipped: the evaluation did not compute `sic` or `aic`.")
            return
        options = config.get("options", {})
        self.add("pic", "text", text=intro + f" PIC entropy {options.get('pic_entropy')}, blur "
                                             f"{options.get('pic_blur')}, min prediction "
                                             f"{options.get('pic_min_pred_value')}.")
        if "random" not in summary["methods"]:
            self.note("pic", "The evaluation has no `random` method: the table lacks the random baseline.")
        for kind in ("sic", "aic"):
            if kind in curves:
                self.add("pic", "figure", uri=curves[kind], caption=f"Aggregated {kind.upper()}: median curve over "
                                                                    "the included images per method.", wide=False)
        kinds = [kind for kind in ("sic", "aic") if kind in summary["pic"]]
        header = ["method"] + [f"{kind.upper()} AUC" for kind in kinds] + [f"{kind.upper()} images" for kind in kinds]
        rows, highlight = [], []
        for position, method in enumerate(summary["methods"]):
            entries = [summary["pic"][kind].get(method, {}) for kind in kinds]
            label = f"{method} (random baseline)" if method == "random" else method
            if method == "random":
                highlight.append(position)
            rows.append([label] + [format_value(entry.get("auc")) for entry in entries]
                        + [f"{entry.get('included', 0)}/{entry.get('images', 0)}" for entry in entries])
        self.add("pic", "table", caption="Area under the aggregated curves (higher = better; compare with the random "
                                         "baseline). Images: included in the curve / evaluated.",
                 header=header, rows=rows, highlight=highlight)

    def _metrics_section(self, summary: dict, intro: str) -> None:
        columns = [c for c in summary["metrics"] if c not in ("sic", "aic")]
        if not columns:
            self.note("metrics", "Skipped: the evaluation computed no metric besides AIC/SIC.")
            return
        for metric, label in (("max_sensitivity", "Max-Sensitivity"), ("xai_entropy", "XAI entropy"),
                              ("pointing_game", "Pointing Game"), ("randomization", "randomisation")):
            if not any(column.startswith(metric) for column in columns):
                self.note("metrics", f"{label} was not evaluated.")
        self.add("metrics", "text", text=intro)
        rows = []
        for method in summary["methods"]:
            entry = summary["table"][method]
            cells = []
            for column in columns:
                mean, std, count = entry.get(column), entry.get(f"{column}_std"), entry.get(f"{column}_n")
                cells.append("n/a" if mean is None else f"{format_value(mean)} ± {format_value(std)} (n={count})")
            rows.append([method] + cells)
        self.add("metrics", "table", caption="Mean ± standard deviation over images (n = images scored)",
                 header=["method"] + [_metric_note(column) for column in columns], rows=rows,
                 highlight=[i for i, m in enumerate(summary["methods"]) if m == "random"])
