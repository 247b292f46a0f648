"""One self-contained HTML report from finished runs: ``build(config, out=None)``.

The report reads what ``xai-tf train``, ``xai-tf explain`` (or ``xai_tf.demo``) and the evaluation
runner wrote; it recomputes no saliency map and no metric, so it regenerates in seconds. Only the
data-set summary regenerates its images (the synthetic set draws in well under a second) and the
run models are loaded once, to check by weight fingerprint that the explanations and evaluations
belong to them (the fingerprint is cached in ``.model_fingerprint.json`` beside ``model.keras``, so a
regenerated report need not load TensorFlow models again). Every figure is embedded as a base64 PNG
data URI; there is no external CSS or JS.

Config schema: ``xai_tf.report.config`` (also in ``xai-tf report --help``).

This module holds ``build``, the data, training, classification and provenance sections; the other
sections are mixins of the builder: ``xai_tf.report.explanation_sections`` (the method and denoising
grids), ``xai_tf.report.evaluation_sections`` and ``xai_tf.report.study_sections``; the models'
fingerprints are read by ``xai_tf.report.model_identity``.

Sections (each heading is always present; a missing config section or file gives a visible note
instead of a crash): Data set, Training, Classification, Saliency maps per class, Denoised saliency
maps, Performance curves (AIC, SIC and every curve metric), Metrics, Config and versions.

Checks (ValueError naming what differs): unknown keys (the valid ones are listed), unknown
denoisers, a run trained on other data than ``data`` says, explanations or evaluations whose
model-weight fingerprint matches none of the runs' models, image shapes that differ from the
data's, evaluation folders of different configurations (the runner's ``summarize`` refuses them).
"""
from __future__ import annotations

import datetime
import json
from pathlib import Path

from xai_tf._io import write_atomic
from xai_tf._versions import package_versions
from xai_tf.report import figures
from xai_tf.report.config import ReportConfigError, load_config, resolve
from xai_tf.report.evaluation_sections import EvaluationSections, format_value
from xai_tf.report.explanation_sections import ExplanationSections
from xai_tf.report.model_identity import model_identity
from xai_tf.report.study_sections import StudySections
from xai_tf.viz.figures import figure_uri, write_figures

SECTIONS = (("data", "Data set"), ("training", "Training"), ("classification", "Classification"),
            ("explanations", "Saliency maps per class"), ("denoising", "Denoised saliency maps"),
            ("curves", "Performance curves"), ("metrics", "Metrics"), ("which", "Which method"),
            ("meta", "Can the metrics be trusted"), ("provenance", "Config and versions"))


# ------------------------------------------------------------------------------------------ sections
class _Builder(ExplanationSections, EvaluationSections, StudySections):
    def __init__(self, config: dict, base: Path, config_path: Path | None):
        self.config, self.base, self.config_path = config, base, config_path
        titles = list(SECTIONS)
        if config.get("study"):  # a study's section, before the provenance
            titles.insert(len(titles) - 1, ("study", "Study: models x methods x denoisers"))
        self.sections = {key: {"id": key, "title": title, "notes": [], "items": []} for key, title in titles}
        self.data = None
        self.runs: list[dict] = []
        self.fingerprints: dict[str, str] = {}  # weights fingerprint -> run name
        self.input_shape = None
        self.class_names = None
        self.explained = None
        self.provenance: dict = {}
        self.grids: dict = {}  # figure name -> Figure, also written to <report folder>/figures

    # helpers ----------------------------------------------------------------------------------------
    def note(self, section: str, text: str) -> None:
        self.sections[section]["notes"].append(text)

    def add(self, section: str, kind: str, **item) -> None:
        item.setdefault("highlight", [])
        self.sections[section]["items"].append({"kind": kind, **item})

    def add_figure(self, section: str, figure, caption: str, wide: bool = False) -> None:
        self.add(section, "figure", uri=figure_uri(figure), caption=caption, wide=wide)

    def _check_shape(self, shape, what: str) -> None:
        # shared by the explanation and evaluation sections (mixins)
        shape = tuple(int(v) for v in shape)
        expected = self.input_shape or (self.data.image_shape if self.data is not None else None)
        if expected is not None and shape != tuple(expected):
            raise ReportConfigError(f"{what} have shape {shape} but the model/data expect {tuple(expected)}; they "
                                    "come from another configuration")

    # data -------------------------------------------------------------------------------------------
    def data_section(self) -> None:
        spec = self.config.get("data")
        if not spec:
            self.note("data", "Skipped: the config has no `data` section (class counts, sample images and PCA "
                              "need the data set).")
            return
        from xai_tf.data import load

        spec = dict(spec)
        source = spec.pop("source", "synthetic")
        per_class = int(spec.pop("samples_per_class", 4))
        if source != "synthetic":
            source = str(resolve(self.base, source))
        self.data = load(source, **spec)
        data = self.data
        self.class_names = list(data.class_names)
        counts = data.class_counts()
        self.add("data", "text", text=f"{len(data)} images of shape {data.image_shape} from {source}.")
        self.add("data", "table", caption="Images per class", header=["class", "images", "share"],
                 rows=[[name, count, f"{100 * count / len(data):.1f}%"] for name, count in counts.items()])
        self.add_figure("data", figures.sample_images(data.images, data.labels, data.class_names, per_class),
                        f"Sample images: the first {per_class} of each class (one row per class).")
        self.add_figure("data", figures.pca_scatter(data.images, data.labels, data.class_names),
                        "First two principal components of the flattened images, by class (as in paper 000).")

    # runs -------------------------------------------------------------------------------------------
    def read_runs(self) -> None:
        from xai_tf.runs import read_train_run

        for run in self.config.get("runs") or []:
            try:
                entry = read_train_run(resolve(self.base, run["dir"]), run["name"])
            except ValueError as error:
                raise ReportConfigError(str(error)) from None
            self._check_run_data(entry)
            self.runs.append(entry)

    def _check_run_data(self, run: dict) -> None:
        spec = self.config.get("data") or {}
        arguments = (run["config"] or {}).get("arguments") or {}
        if not spec or not arguments:
            return
        wanted = {"source": spec.get("source", "synthetic"), "image_size": spec.get("image_size"),
                  "n": spec.get("n"), "seed": spec.get("seed")}
        trained = {"source": arguments.get("data"), "image_size": arguments.get("image_size"),
                   "n": arguments.get("n"), "seed": arguments.get("seed")}
        if wanted["source"] != "synthetic" or trained["source"] != "synthetic":
            same = Path(str(trained["source"])).name == Path(str(wanted["source"])).name
            keys = [] if same else ["source"]
        else:
            keys = [key for key in wanted if wanted[key] is not None and trained[key] != wanted[key]]
        if keys:
            details = "; ".join(f"{key}: {trained[key]!r} in the run vs {wanted[key]!r} in config['data']"
                                for key in keys)
            raise ReportConfigError(f"run {run['name']!r} ({run['dir']}) was trained on other data ({details}); "
                                    "the report would mix results of different configurations")

    def load_models(self) -> None:
        """Weight fingerprints of the runs' models (to check explanations and evaluations against them)."""
        needs = self.config.get("explain") or self.config.get("evaluation")
        if not needs:
            return
        from xai_tf.models import load_model

        for run in self.runs:
            path = run["dir"] / "model.keras"
            if not path.is_file():
                self.note("provenance", f"run {run['name']!r} has no model.keras; results cannot be checked "
                                        "against its weights")
                continue
            run["fingerprint"], run["input_shape"] = model_identity(path, load_model)
            self.fingerprints.setdefault(run["fingerprint"], run["name"])
            self.input_shape = self.input_shape or run["input_shape"]

    def training_section(self) -> None:
        if not self.runs:
            self.note("training", "Skipped: the config lists no training `runs`.")
            return
        for run in self.runs:
            if not run["history"]:
                self.note("training", f"run {run['name']!r}: no history.json in {run['dir']}; curves skipped.")
                continue
            self.add_figure("training", figures.training_curves(run["history"], run["name"]),
                            f"{run['name']}: loss and accuracy per epoch (training solid, held-out dashed).")
            arguments = (run["config"] or {}).get("arguments") or {}
            if arguments:
                shown = {key: arguments.get(key) for key in ("model", "data", "n", "image_size", "epochs",
                                                             "batch_size", "learning_rate", "no_augment", "seed")
                         if key in arguments}
                self.add("training", "text", text=f"{run['name']}: " + ", ".join(f"{k}={v}" for k, v in shown.items()))

    def classification_section(self) -> None:
        reports = {run["name"]: run["report"] for run in self.runs if run["report"]}
        for run in self.runs:
            if not run["report"]:
                self.note("classification", f"run {run['name']!r}: no report.json in {run['dir']}.")
        if not reports:
            self.note("classification", "Skipped: no training run with a classification report (report.json).")
            return
        first = next(iter(reports.values()))
        self.class_names = self.class_names or list(first["class_names"])
        if len(reports) > 1:
            names = {name: tuple(report["class_names"]) for name, report in reports.items()}
            if len(set(names.values())) > 1:
                raise ReportConfigError(f"the runs have different classes ({names}); compare runs of one data set")
            self.add_figure("classification", figures.f1_bars(reports),
                            "F1 per class and macro average for each model (papers 000/004).")
            self.add("classification", "table", caption="Models compared on the held-out images",
                     header=["run", "accuracy", "macro F1", "weighted F1"],
                     rows=[[name, format_value(r["accuracy"]), format_value(r["macro avg"]["f1-score"]),
                            format_value(r["weighted avg"]["f1-score"])] for name, r in reports.items()])
        else:
            self.add("classification", "text", text="One model: the F1 comparison across models needs several runs.")
        for name, report in reports.items():
            self.add("classification", "heading", text=name)
            rows = [[cls] + [format_value(report[cls][key]) for key in ("precision", "recall", "f1-score")]
                    + [report[cls]["support"]] for cls in report["class_names"]]
            rows.append(["accuracy", "", "", format_value(report["accuracy"]), report["macro avg"]["support"]])
            for average in ("macro avg", "weighted avg"):
                rows.append([average]
                            + [format_value(report[average][key]) for key in ("precision", "recall", "f1-score")]
                            + [report[average]["support"]])
            self.add("classification", "table", caption=f"{name}: classification report (held-out images)",
                     header=["class", "precision", "recall", "F1", "support"], rows=rows)
            self.add_figure("classification", figures.confusion_matrix(report["confusion_matrix"],
                                                                       report["class_names"], name),
                            f"{name}: confusion matrix (rows true class, columns predicted).")

    # provenance -------------------------------------------------------------------------------------
    def provenance_section(self) -> None:
        self.add("provenance", "pre",
                 caption="The report config, as read (after normalising runs/explain/evaluation):",
                 text=json.dumps(self.config, indent=2, default=str))
        self.add("provenance", "table", caption="Package versions that built this report",
                 header=["package", "version"], rows=[[k, v] for k, v in package_versions().items()])
        for run in self.runs:
            if run["config"]:
                self.add("provenance", "pre", caption=f"run {run['name']}: config.json of `xai-tf train`",
                         text=json.dumps(run["config"], indent=2, default=str))
        for key, value in self.provenance.items():
            self.add("provenance", "pre", caption=f"{key}: configuration and versions that produced it",
                     text=json.dumps(value, indent=2, default=str))


def build(config, out=None) -> Path:
    """Write one self-contained HTML report from finished runs and return its path.

    The report reads the folders the config names (train runs, an explain folder, evaluation
    runner folders, a study) and recomputes no saliency map and no metric; every figure is embedded
    in the HTML. The method and denoising grids are also written to ``figures/`` beside the HTML,
    in the config's ``figure_formats`` (default png).

    Parameters
    ----------
    config : dict, str or pathlib.Path
        The report config as a dict, or the path of a ``.yaml``/``.yml``/``.json`` file (schema:
        ``xai_tf.report.config.SCHEMA``, also in ``xai-tf report --help``; relative paths are
        relative to the config file's folder, or to the working directory for a dict).
    out : str or pathlib.Path, optional
        HTML path (``.html`` or ``.htm``); default the config's ``out``, else ``report.html`` beside
        the config file (the working directory for a dict config).

    Returns
    -------
    pathlib.Path
        The path of the written HTML file.

    Raises
    ------
    ReportConfigError
        A ValueError for unknown keys (the valid ones are listed), unknown denoisers, a run trained
        on other data than ``data`` says, explanations or evaluations whose model-weight fingerprint
        matches none of the runs' models, image shapes that differ from the data's, or evaluation
        folders of different configurations.
    ValueError
        If ``out`` does not end in ``.html`` or ``.htm``.
    """
    import jinja2

    import xai_tf

    config, base, config_path = load_config(config)
    builder = _Builder(config, base, config_path)
    builder.data_section()
    builder.read_runs()
    builder.load_models()
    builder.training_section()
    builder.classification_section()
    builder.read_explanations()
    builder.explanation_section()
    builder.denoise_section()
    builder.evaluation_sections()
    if config.get("study"):
        builder.study_section()
    builder.provenance_section()

    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
                                     autoescape=True, undefined=jinja2.StrictUndefined)
    html = environment.get_template("report.html.j2").render(
        title=config.get("title") or "xai-tf report", version=xai_tf.__version__,
        generated=datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S"),
        config_path=str(config_path) if config_path else None, sections=list(builder.sections.values()),
        findings=builder.findings)
    if out is None:
        out = resolve(base, config["out"]) if config.get("out") else base / "report.html"
    out = Path(out)
    if out.suffix.lower() not in (".html", ".htm"):
        raise ValueError(f"out={str(out)!r} must end in .html")
    out.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(out, html.encode("utf-8"))
    if builder.grids:  # the method and denoising grids as files too, for papers and slides
        write_figures(builder.grids, out.parent / "figures", formats=config.get("figure_formats") or ("png",))
    return out
