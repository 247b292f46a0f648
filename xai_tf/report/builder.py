"""One self-contained HTML report from finished runs: ``build(config, out=None)``.

The report reads what ``xai-tf train``, ``xai-tf explain`` (or ``xai_tf.demo``) and the evaluation
runner wrote; it recomputes no saliency map and no metric, so it regenerates in seconds. Only the
data-set summary regenerates its images (the synthetic set draws in well under a second) and the
run models are loaded once, to check by weight fingerprint that the explanations and evaluations
belong to them (the fingerprint is cached in ``.model_fingerprint.json`` beside ``model.keras``, so a
regenerated report need not load TensorFlow models again). Every figure is embedded as a base64 PNG
data URI; there is no external CSS or JS.

Config schema: ``xai_tf.report.config`` (also in ``xai-tf report --help``).

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

import numpy as np

from xai_tf._io import write_atomic, write_json
from xai_tf._versions import package_versions
from xai_tf.report import figures
from xai_tf.report.config import ReportConfigError, load_config, resolve
from xai_tf.report.evaluation_sections import EvaluationSections, format_value
from xai_tf.report.study_sections import StudySections
from xai_tf.viz.figures import figure_uri, write_figures

SECTIONS = (("data", "Data set"), ("training", "Training"), ("classification", "Classification"),
            ("explanations", "Saliency maps per class"), ("denoising", "Denoised saliency maps"),
            ("curves", "Performance curves"), ("metrics", "Metrics"), ("which", "Which method"),
            ("meta", "Can the metrics be trusted"), ("provenance", "Config and versions"))
#: Metric columns of the runner's table, with how to read them.
FINGERPRINT_CACHE = ".model_fingerprint.json"


def _weights_fingerprint(model) -> str:
    # The runner's own fingerprint, so that the two can be compared.
    from xai_tf._io import fingerprint
    return fingerprint(model.get_weights())


def _model_identity(path: Path, load_model) -> tuple[str, tuple]:
    """``(weights fingerprint, input shape)`` of a saved model, cached beside it.

    Loading a model (and importing TensorFlow) takes most of a report's time, so the result is kept in
    ``.model_fingerprint.json`` next to ``model.keras``, keyed by the file's size and modification time
    (a re-saved model is loaded again). A read-only folder just means no cache.
    """
    stat = path.stat()
    key = {"name": path.name, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    cache = path.with_name(FINGERPRINT_CACHE)
    try:
        stored = json.loads(cache.read_text())
        if stored["file"] == key:
            return stored["weights"], tuple(stored["input_shape"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    model = load_model(path)
    fingerprint, shape = _weights_fingerprint(model), tuple(int(v) for v in model.input_shape[1:])
    try:
        write_json(cache, {"file": key, "weights": fingerprint, "input_shape": list(shape)})
    except OSError:
        pass
    return fingerprint, shape


# ------------------------------------------------------------------------------------------ sections
class _Builder(EvaluationSections, StudySections):
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
            run["fingerprint"], run["input_shape"] = _model_identity(path, load_model)
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

    # explanations -----------------------------------------------------------------------------------
    def read_explanations(self) -> None:
        spec = self.config.get("explain")
        if not spec:
            return
        from xai_tf.runs import read_explain_folder

        folder = resolve(self.base, spec["dir"])
        try:
            stored = read_explain_folder(folder)
        except ValueError as error:
            raise ReportConfigError(f"config['explain']['dir']: {error}") from None
        meta, maps, methods, images = stored["meta"], stored["maps"], stored["methods"], stored["images"]
        class_names = list(meta.get("class_names") or self.class_names or [])
        if self.class_names and class_names and class_names != list(self.class_names):
            raise ReportConfigError(f"the explanations in {folder} are of classes {class_names}, the runs/data of "
                                    f"{list(self.class_names)}: they come from another configuration")
        self._check_shape(images.shape[1:], f"the explained images in {folder}")
        fingerprint = meta.get("model_weights") or self._explained_model_fingerprint(meta, folder)
        if fingerprint and self.fingerprints and fingerprint not in self.fingerprints:
            raise ReportConfigError(f"the explanations in {folder} were made with a model (weights {fingerprint}) "
                                    f"that is none of the runs' models ({', '.join(self.fingerprints)}); they come "
                                    "from another configuration")
        model_name = self.fingerprints.get(fingerprint, meta.get("arguments", {}).get("model", "unknown"))
        masks = stored["masks"]
        if masks is None:
            masks = self._masks_from_data(meta, images)
        self.explained = {"folder": folder, "meta": meta, "maps": maps, "methods": methods, "images": images,
                          "labels": stored["labels"], "predictions": stored["predictions"],
                          "masks": masks, "class_names": class_names, "model": model_name}
        self.provenance["explain"] = {"folder": str(folder), "arguments": meta.get("arguments"),
                                      "versions": meta.get("versions")}

    def _explained_model_fingerprint(self, meta: dict, folder: Path) -> str | None:
        """Weights fingerprint of the model ``xai-tf explain`` names (its explain.json has no fingerprint)."""
        named = (meta.get("arguments") or {}).get("model")
        if not named or not self.fingerprints:
            return None
        candidates = [Path(named)] if Path(named).is_absolute() else [Path.cwd() / named, self.base / named]
        existing = [path for path in candidates if path.is_file()]
        if not existing:
            self.note("explanations", f"the model that made these explanations ({named}) is not there any more; "
                                      "they could not be checked against the runs' models")
            return None
        for run in self.runs:
            run_model = run["dir"] / "model.keras"
            if run_model.is_file() and run_model.resolve() == existing[0].resolve():
                return run.get("fingerprint")
        from xai_tf.models import load_model
        return _weights_fingerprint(load_model(existing[0]))

    def _masks_from_data(self, meta: dict, images: np.ndarray):
        """Ground-truth masks of ``xai-tf explain``'s images (the data set's first ones) when the data match."""
        arguments = meta.get("arguments") or {}
        data = self.data
        if data is None or data.masks is None or arguments.get("data") != "synthetic" or len(images) > len(data):
            return None
        if not np.array_equal(data.images[:len(images)], images):
            return None
        return data.masks[:len(images)]

    def _check_shape(self, shape, what: str) -> None:
        shape = tuple(int(v) for v in shape)
        expected = self.input_shape or (self.data.image_shape if self.data is not None else None)
        if expected is not None and shape != tuple(expected):
            raise ReportConfigError(f"{what} have shape {shape} but the model/data expect {tuple(expected)}; they "
                                    "come from another configuration")

    def explanation_section(self) -> None:
        from xai_tf.viz import method_grid

        if self.explained is None:
            self.note("explanations", "Skipped: the config has no `explain` folder.")
            return
        spec = self.config["explain"]
        per_class = int(spec.get("per_class", 2))
        denoised = spec.get("denoised_grid", "tv")
        if denoised is not None:
            from xai_tf._checks import check_choice
            from xai_tf.denoising import denoise
            check_choice(denoised, "config['explain']['denoised_grid']", denoise.methods())
        ex = self.explained
        layer = ex["meta"].get("cam_layer")
        self.add("explanations", "text",
                 text=f"{len(ex['methods'])} methods ({', '.join(ex['methods'])}) on {len(ex['images'])} images, "
                      f"model {ex['model']}; read from {ex['folder']}. Ground truth (where known) outlined in a "
                      "colour absent from the colour map; maps clipped at their 99th percentile of |map| (PAIR)."
                      + (f" CAM methods at layer={layer} (the last convolution)." if layer else ""))
        from xai_tf.explainers.registry import (
            RECORDS,  # the method notes come from the method records
        )

        notes = [[method, RECORDS[method].family, RECORDS[method].description] if method in RECORDS
                 else [method, "?", "not a registered method of this xai-tf version"] for method in ex["methods"]]
        self.add("explanations", "table", caption="The methods (xai_tf.explainers.registry records)",
                 header=["method", "family", "what the map shows"], rows=notes)
        costly = [name for name in RECORDS if name not in ex["methods"] and not RECORDS[name].in_demo_grid]
        if costly:  # the methods a probe grid leaves out by their records, and why
            self.add("explanations", "text", text="Not explained here: " + "; ".join(
                f"{name} ({RECORDS[name].description}, " + ("not for this kind of model)" if RECORDS[name].family
                                                            == "attention" else "too costly for the demo's probe grid)")
                for name in costly)
                + ". Explain them with xai_tf.explain or xai-tf explain.")
        labels = ex["labels"] if ex["labels"] is not None else np.zeros(len(ex["images"]), int)
        for index, name in enumerate(ex["class_names"] or ["all"]):
            rows = np.flatnonzero(labels == index)[:per_class] if ex["class_names"] else np.arange(per_class)
            if rows.size == 0:
                self.note("explanations", f"no explained image of class {name}")
                continue
            kwargs = {"masks": None if ex["masks"] is None else ex["masks"][rows], "labels": labels[rows],
                      "predictions": None if ex["predictions"] is None else ex["predictions"][rows],
                      "class_names": ex["class_names"] or None}
            maps = {method: ex["maps"][method][rows] for method in ex["methods"]}
            self.grids[f"methods_{name}"] = method_grid(ex["images"][rows], maps, **kwargs)
            self.add_figure("explanations", self.grids[f"methods_{name}"],
                            f"Class {name}: every method on {rows.size} image(s) (papers' figures 3/4).")
            if denoised:
                self.grids[f"methods_{name}_{denoised}"] = method_grid(ex["images"][rows], maps, denoise=denoised,
                                                                       **kwargs)
                self.add_figure("explanations", self.grids[f"methods_{name}_{denoised}"],
                                f"Class {name}: the same maps denoised with {denoised} (papers' figures 6/7).")

    def denoise_section(self) -> None:
        from xai_tf.denoising import denoise
        from xai_tf.viz import denoise_grid

        if self.explained is None:
            self.note("denoising", "Skipped: denoised variants are drawn from the `explain` folder, which the "
                                   "config does not name.")
            return
        spec = self.config.get("denoise") or {}
        methods = spec.get("methods") or list(denoise.methods())
        unknown = sorted(set(methods) - set(denoise.methods()))
        if unknown:
            raise ReportConfigError(f"config['denoise']['methods'] has unknown denoisers {unknown}; valid: "
                                    f"{', '.join(denoise.methods())}")
        ex = self.explained
        # Default: a noisy gradient map, the kind denoising is for (paper 002); Grad-CAM is smooth already.
        noisy = [m for m in ("vanilla_gradient", "integrated_gradients") if m in ex["methods"]]
        explanation = spec.get("explanation") or (noisy or ex["methods"])[0]
        if explanation not in ex["methods"]:
            raise ReportConfigError(f"config['denoise']['explanation']={explanation!r} is not among the explained "
                                    f"methods; valid: {', '.join(ex['methods'])}")
        labels = ex["labels"] if ex["labels"] is not None else np.zeros(len(ex["images"]), int)
        for index, name in enumerate(ex["class_names"] or ["all"]):
            rows = np.flatnonzero(labels == index)
            if rows.size == 0:
                continue
            row = rows[0]
            figure = denoise_grid(ex["maps"][explanation][row], methods=methods, image=ex["images"][row],
                                  mask=None if ex["masks"] is None else ex["masks"][row], label=explanation)
            self.grids[f"denoised_{explanation}_{name}"] = figure
            self.add_figure("denoising", figure,
                            f"Class {name}: the {explanation} map and its denoised variants (top; each title gives "
                            "the relative change), superimposed on the image (bottom), on the original's colour "
                            "scale (paper 002).")

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
