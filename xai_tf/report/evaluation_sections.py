"""The report's evaluation sections: every curve metric's curves and areas, every other metric's table,
"Which method": the paired tests, ranks and critical-difference diagrams of ``xai_tf.evaluation.compare``,
and "Can the metrics be trusted": the meta-evaluation table of ``xai_tf.evaluation.meta`` when the
evaluation folder holds one (``xai-tf meta-evaluate --out <evaluation folder>``).

Read from evaluation runner folders (``xai_tf.evaluation``); what each column means, which direction
is better and which columns have curves come from the summary (that is, from the registered
metrics, ``xai_tf.metrics.registry``), so a new metric appears here without a line of this module.
The figures are drawn with ``xai_tf.evaluation.summary.curve_figure`` from the stored results;
nothing is recomputed.
"""
from __future__ import annotations

import json

import numpy as np

from xai_tf.report.config import ReportConfigError, resolve
from xai_tf.viz.figures import figure_uri

#: Arrows after a column's name in tables: which values are better.
DIRECTION_MARKS = {"higher": " (↑)", "lower": " (↓)", None: ""}


def format_value(value, digits: int = 3) -> str:
    """A table cell: ``n/a`` for missing or non-finite values, ints as is, floats to ``digits``."""
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "n/a"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    return f"{float(value):.{digits}f}"


def column_header(summary: dict, column: str) -> str:
    """A table header: the column's note (how to read it), with a direction arrow unless the note says it."""
    note = summary.get("notes", {}).get(column, column)
    if "= better" in note:  # "... (lower = better)" already
        return note
    return note + DIRECTION_MARKS[summary.get("directions", {}).get(column)]


class EvaluationSections:
    """Mixin of the report builder: "AIC and SIC", "Metrics", "Which method", the meta-evaluation and Findings' data."""

    findings: dict | None = None

    def evaluation_sections(self) -> None:
        from xai_tf.evaluation import EvaluationError, summarize
        from xai_tf.evaluation.store import read_config

        folders = [resolve(self.base, folder) for folder in self.config.get("evaluation") or []]
        if not folders:
            for section in ("curves", "metrics", "which", "meta"):
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
        self.provenance["evaluation"] = {"folders": [str(f) for f in folders], "config": config,
                                         "versions": stored.get("versions")}
        model = self.fingerprints.get(fingerprint, config.get("model"))
        intro = (f"{summary['images']} images x {len(summary['methods'])} methods, model {model}, "
                 f"targets {config.get('targets')}, seed {config.get('seed')}; read from "
                 f"{', '.join(str(f) for f in folders)}.")
        if not summary["complete"]:
            for section in ("curves", "metrics"):
                self.note(section, "The evaluation is not complete (some images or methods are missing); "
                                   "run it again to resume, the numbers below cover what is finished.")
        self._curves_section(summary, config, intro)
        self._metrics_section(summary, intro)
        self._which_section(folders)
        self._meta_section(folders[0])
        self._findings(folders, summary, config)

    def _findings(self, folders, summary: dict, config: dict) -> None:
        """The Findings section's data (``xai_tf.report.findings``), from the runner's rows, maps and masks.

        The evaluated columns and their metrics come from the evaluation's config through the registry;
        each column's summary details (``summary[metric.details_key][column]``) go with them.
        """
        from xai_tf.evaluation import read_results
        from xai_tf.evaluation.summary import columns_of
        from xai_tf.report.findings import compute_findings

        results = read_results(folders)
        columns = columns_of(config)
        details = {column: summary.get(metric.details_key, {}).get(column, {}) for column, metric in columns}
        self.findings = compute_findings(results["rows"], maps=results["maps"] or None, masks=results["masks"],
                                         image_indices=results["indices"] if results["maps"] else None,
                                         columns=columns, details=details, method_params=config.get("method_params"))

    def _curves_section(self, summary: dict, config: dict, intro: str) -> None:
        from xai_tf.evaluation.summary import columns_of, curve_figure

        columns = list(summary.get("curves", {}))
        if not columns:
            self.note("curves", "Skipped: the evaluation computed no curve metric.")
            return
        metrics = {column: metric for column, metric in columns_of(config)}
        options = config.get("options", {})
        used = {option.name: options.get(option.name) for column in columns for option in metrics[column].options}
        settings = ", ".join(f"{name} {value}" for name, value in used.items())
        self.add("curves", "text", text=intro + (f" Options: {settings}." if settings else ""))
        if "random" not in summary["methods"]:
            self.note("curves", "The evaluation has no `random` method: the table lacks the random baseline.")
        for column in columns:
            self.add("curves", "figure", uri=figure_uri(curve_figure(summary, column)), wide=False,
                     caption=f"{column_header(summary, column)}: the aggregated curve of each method.")
        header = ["method"] + [column_header(summary, column) for column in columns] + [f"{column} images"
                                                                                        for column in columns]
        rows, highlight = [], []
        for position, method in enumerate(summary["methods"]):
            label = f"{method} (random baseline)" if method == "random" else method
            if method == "random":
                highlight.append(position)
            rows.append([label] + [format_value(summary["table"][method].get(column)) for column in columns]
                        + [self._images_cell(summary, metrics[column], column, method) for column in columns])
        self.add("curves", "table", caption="Area under the aggregated curves (compare with the random baseline; "
                                            "the arrows say which values are better). Images: those the curve "
                                            "includes / evaluated.", header=header, rows=rows, highlight=highlight)

    @staticmethod
    def _images_cell(summary: dict, metric, column: str, method: str) -> str:
        """``included/evaluated`` where the metric's detail says (PIC's exclusions), else the curve's images."""
        detail = summary.get(metric.details_key, {}).get(column, {}).get(method, {})
        if "included" in detail:
            return f"{detail['included']}/{detail.get('images', 0)}"
        curve = summary["curves"].get(column, {}).get(method)
        return "n/a" if curve is None else str(curve["images"])

    def _metrics_section(self, summary: dict, intro: str) -> None:
        columns = [c for c in summary["metrics"] if c not in summary.get("curves", {})]
        if not columns:
            self.note("metrics", "Skipped: the evaluation computed no metric besides the curve metrics.")
            return
        self.add("metrics", "text", text=intro)
        rows = []
        for method in summary["methods"]:
            entry = summary["table"][method]
            cells = []
            for column in columns:
                mean, std, count = entry.get(column), entry.get(f"{column}_std"), entry.get(f"{column}_n")
                cells.append("n/a" if mean is None else f"{format_value(mean)} ± {format_value(std)} (n={count})")
            rows.append([method] + cells)
        self.add("metrics", "table", caption="Mean ± standard deviation over images (n = images scored; the arrows "
                                             "say which values are better)",
                 header=["method"] + [column_header(summary, column) for column in columns], rows=rows,
                 highlight=[i for i, m in enumerate(summary["methods"]) if m == "random"])

    def _which_section(self, folders, alpha: float = 0.05) -> None:
        """"Which method": per metric column, in words, which differences hold at ``alpha`` and which do not.

        Computed from the stored rows with ``xai_tf.evaluation.compare`` (nothing is written into the
        evaluation folder), so runs evaluated before ``compare`` existed get the section too.
        """
        from xai_tf.evaluation.compare import compare, describe, diagram_title
        from xai_tf.viz.cd import cd_diagram

        if len(self.provenance["evaluation"]["config"].get("methods", [])) < 2:
            self.note("which", "Skipped: the evaluation scored one method only; comparing needs two or more.")
            return
        result = compare(folders, alpha=alpha, write=False)
        self.add("which", "text", text=(
            f"Every pair of methods per metric: the mean difference with a paired bootstrap {100 * (1 - alpha):g}% "
            f"interval, a Wilcoxon signed-rank test (exact McNemar for hit rates) and Holm-adjusted p-values over "
            f"the metric's pairs, at alpha {alpha:g}; the methods' average ranks with Friedman's test and Nemenyi's "
            "critical difference (Demšar 2006). `xai-tf compare` writes the same numbers to comparison.json/csv."))
        for column, entry in result["metrics"].items():
            for line in describe(result, column):
                self.add("which", "text", text=line)
            ranks = entry["average_ranks"]
            if entry["blocks"] and all(value is not None for value in ranks.values()):
                figure = cd_diagram(ranks, entry["critical_difference"] or 0.0, title=diagram_title(column, entry))
                self.add("which", "figure", uri=figure_uri(figure), wide=False,
                         caption=f"{column_header({'notes': {}, 'directions': {column: entry['direction']}}, column)}: "
                                 "average ranks (1 = best); methods joined by a bar do not differ by more than the "
                                 "critical difference (CD).")
        agreement = result["agreement"]
        if agreement["w"] is not None:
            taus = "; ".join(f"{t['a']} vs {t['b']}: tau {format_value(t['tau'])}" for t in agreement["tau"])
            self.add("which", "text", text=(
                f"Agreement of the metrics' rankings ({', '.join(agreement['columns'])}): Kendall's W = "
                f"{format_value(agreement['w'])} (1 = the same ranking, 0 = no agreement; p = "
                f"{format_value(agreement['p_value'])}). Kendall's tau per pair of metrics: {taus}."))

    def _meta_section(self, folder) -> None:
        """"Can the metrics be trusted": the MC table that ``xai-tf meta-evaluate`` wrote into the evaluation folder."""
        from xai_tf.evaluation.meta import JSON_NAME

        path = folder / JSON_NAME
        if not path.exists():
            self.note("meta", f"Skipped: the evaluation folder holds no {JSON_NAME} (run `xai-tf meta-evaluate ... "
                              f"--out {folder}` to meta-evaluate its metrics).")
            return
        result = json.loads(path.read_text())
        self.add("meta", "text", text=(
            f"Meta-evaluation of the metrics (Hedström et al., TMLR 2023) on {result['images']} images and "
            f"{len(result['methods'])} methods ({', '.join(result['methods'])}): {result['perturbations']} minor "
            f"perturbations (noise resilience, NR: the scores should not move) and {result['perturbations']} "
            "disruptive ones (adversary reactivity, AR: the scores should drop) of the "
            f"{' and the '.join(result['tests'])} (weight noise std {result['model_noise']}, input noise "
            f"half-width {result['input_noise']}). IAC: mean "
            "Wilcoxon p-value between the unperturbed and perturbed scores (NR) or 1 - p (AR); IEC: share of images "
            "whose method ranks stay (NR) or whose scores drop (AR); MC: the mean of the four, 1 = an ideal metric."))
        rows = [[row["column"], row["test"]] + [format_value(row[name]) for name in
                                                ("mc", "iac_nr", "iac_ar", "iec_nr", "iec_ar", "nr_kept", "ar_changed")]
                for row in result["rows"]]
        self.add("meta", "table", caption="MC score and its criteria per metric and perturbation test (NR kept / AR "
                                          "changed: share of predictions unchanged by the minor and changed by the "
                                          "disruptive perturbations)",
                 header=["metric", "test", "MC", "IAC_NR", "IAC_AR", "IEC_NR", "IEC_AR", "NR kept", "AR changed"],
                 rows=rows)
        scored = {column: entry["mc"] for column, entry in result["columns"].items() if entry["mc"] is not None}
        if scored:
            best = max(scored, key=scored.get)
            low = [column for column, value in scored.items() if value <= 0.5]
            weak = f" MC at most 0.5, about what a metric that ignores the model gets: {', '.join(low)}." if low else ""
            self.add("meta", "text", text=f"Most reliable here: {best} (MC {format_value(scored[best])}).{weak}")
