"""A study's configuration: read (YAML/JSON file, dict or a shipped study's name), checked, normalised.

Format (YAML shown; a dict of the same shape works)::

    name: my-study                   # optional; default the file's stem
    data: {source: synthetic, n: 600, image_size: 64, seed: 0, color: grayscale}   # or source: <path>
    # data: {source: survey.h5, image_size: 64, color: grayscale, options: {masks: masks}}
    split: held-out                  # held-out (default; the train runs' recorded split), train or all
    models:
      - {name: v1, model: custom-v1, epochs: 5}              # trained with xai_tf.runs.train
      - {name: vgg, model: vgg16, mode: fine_tune, weights: null, epochs: 5}
      - {name: mine, path: runs/train/model.keras}          # loaded with xai_tf.models.load_model
    methods:
      - random
      - {integrated_gradients: {steps: 16}}
      - {name: ig64, method: integrated_gradients, params: {steps: 64}}
    denoisers: [none, {gaussian: {sigma: 1.0}}]
    metrics: [sic, aic, pointing_game]
    options: {}                      # the metrics' options (xai_tf.metrics.registry.default_options())
    seed: 0                          # methods' and metrics' seed
    chunk_size: 8                    # images per unit of work
    batch_size: 64
    targets: predicted
    resources: null                  # e.g. {GPU: 1}: Dask resources every model-heavy task asks for
    report: true                     # also write report.html (xai_tf.study.report)

Training settings of a built model are ``xai_tf.runs.TRAIN_DEFAULTS``' keys except the data ones
(``data``, ``n``, ``image_size``, ``color``, ``skip_bad``, ``seed``: the study's ``data`` gives them,
so every model is trained on the same images and split). ``weights: null`` means no pre-trained
weights (nothing is downloaded); ask for ImageNet with ``weights: imagenet``.

``data.source`` is ``synthetic`` or a path ``xai_tf.data.load`` reads: MiraBest batches, figshare
files, Object-CXR, or a file-based source ``xai_tf.data.open`` opens (an HDF5 file, a ``.npy`` array
or a folder with ``images.npy``, a folder of FITS cutouts, a class-folder tree of images).
``data.options`` gives such a source its own options (HDF5: ``images``, ``labels``, ``masks``,
``class_names``; ``.npy``: ``labels``, ``class_names``, ``masks``; FITS: ``catalogue``,
``normalize``, ``sigma``, ``nan``, ``classes``, ...; image folders: ``normalize``, ``classes``);
``image_size``, ``color`` and ``skip_bad`` are the data entry's own keys. A file-based source is
read a chunk at a time by the score tasks (``xai_tf.study.sources``).
"""
from __future__ import annotations

import copy
import json
from importlib import resources as package_resources
from pathlib import Path

from xai_tf._checks import check_bool, check_choice, check_positive, check_seed

DATA_KEYS = ("source", "n", "image_size", "seed", "color", "skip_bad", "options")
DATA_DEFAULTS = {"source": "synthetic", "n": 600, "image_size": 64, "seed": 0, "color": "grayscale",
                 "skip_bad": False}
SPLITS = ("held-out", "train", "all")
TOP_KEYS = ("name", "out", "data", "split", "models", "methods", "denoisers", "metrics", "options", "seed",
            "chunk_size", "batch_size", "targets", "resources", "report")
NOT_PER_MODEL = ("data", "n", "image_size", "color", "skip_bad", "seed")


def shipped_studies() -> tuple[str, ...]:
    """List the names of the studies shipped with xai-tf (``xai-tf study NAME``).

    Returns
    -------
    tuple of str
        The names, sorted: the stems of ``xai_tf/study/studies/*.yaml`` (e.g.
        ``"paper004-synthetic"``).
    """
    folder = package_resources.files("xai_tf.study") / "studies"
    return tuple(sorted(entry.name[:-len(".yaml")] for entry in folder.iterdir() if entry.name.endswith(".yaml")))


def read_config(config) -> dict:
    """Read the raw study configuration: a dict as is (copied), a ``.yaml``/``.json`` path, or a shipped name.

    Nothing is checked here but the top-level type; :func:`check_config` checks and normalises.

    Parameters
    ----------
    config : dict, str or pathlib.Path
        A configuration dict (deep-copied), the path of a ``.json`` file or of a YAML file (any
        other suffix is read as YAML), or the name of a shipped study (:func:`shipped_studies`).
        The format is described in the module docstring (``xai_tf.study.config``).

    Returns
    -------
    dict
        The configuration as read; for a file or shipped study ``name`` defaults to the file's stem.

    Raises
    ------
    TypeError
        If ``config`` is neither a dict, a str nor a path, or the file does not hold a mapping at
        the top level.
    ValueError
        If ``config`` is neither an existing file nor a shipped study's name (the shipped ones are
        listed), or a ``.json`` file is not valid JSON.
    """
    if isinstance(config, dict):
        return copy.deepcopy(config)
    if not isinstance(config, (str, Path)):
        raise TypeError(f"config must be a dict, a .yaml/.json path or a shipped study name; got "
                        f"{type(config).__name__}")
    path = Path(config)
    if not path.is_file():
        if str(config) in shipped_studies():
            path = Path(str(package_resources.files("xai_tf.study") / "studies" / f"{config}.yaml"))
        else:
            raise ValueError(f"config {str(config)!r} is neither a file nor a shipped study "
                             f"({', '.join(shipped_studies())})")
    text = path.read_text()
    if path.suffix == ".json":
        raw = json.loads(text)
    else:
        import yaml
        raw = yaml.safe_load(text)
    if not isinstance(raw, dict):
        raise TypeError(f"config {path} must hold a mapping at the top level; got {type(raw).__name__}")
    raw.setdefault("name", path.stem)
    return raw


def _named(entry, what: str, index: int) -> tuple[str, str, dict]:
    """``"x"``, ``{x: {params}}`` or ``{name:, <kind>:, params:}`` -> ``(label, registry name, params)``."""
    key = "method" if what == "methods" else "denoiser"
    if isinstance(entry, str):
        return entry, entry, {}
    if isinstance(entry, dict) and "name" in entry:
        unknown = sorted(set(entry) - {"name", key, "params"})
        if unknown:
            raise ValueError(f"{what}[{index}] has unknown key(s) {unknown}; expected name, {key}, params")
        params = entry.get("params") or {}
        if not isinstance(params, dict):
            raise TypeError(f"{what}[{index}].params must be a mapping; got {type(params).__name__}")
        return str(entry["name"]), str(entry.get(key, entry["name"])), dict(params)
    if isinstance(entry, dict) and len(entry) == 1:
        (name, params), = entry.items()
        if params is not None and not isinstance(params, dict):
            raise TypeError(f"{what}[{index}] {name}: parameters must be a mapping; got {type(params).__name__}")
        return str(name), str(name), dict(params or {})
    raise TypeError(f"{what}[{index}] must be a name, {{name: {{params}}}} or {{name:, {key}:, params:}}; "
                    f"got {entry!r}")


def _unique(labels, what: str) -> None:
    repeated = sorted({label for label in labels if labels.count(label) > 1})
    if repeated:
        raise ValueError(f"{what} names must be unique; {repeated} appear twice (give one a `name:`)")


def _check_model(entry, index: int) -> dict:
    from xai_tf.runs import TRAIN_DEFAULTS, model_choices_help, model_names

    if not isinstance(entry, dict) or not entry.get("name"):
        raise TypeError(f"models[{index}] must be a mapping with a name; got {entry!r}")
    entry = dict(entry)
    name = str(entry.pop("name"))
    if "/" in name or name.startswith("."):
        raise ValueError(f"models[{index}].name {name!r} must be a plain folder name")
    if "path" in entry:
        if len(entry) != 1:
            raise ValueError(f"models[{index}] ({name}) gives a path and training settings "
                             f"{sorted(set(entry) - {'path'})}; a loaded model takes only name and path")
        return {"name": name, "path": str(entry["path"])}
    if "model" not in entry:
        raise ValueError(f"models[{index}] ({name}) needs `model:` (custom-v1, custom-v2 or a backbone) or `path:`")
    if entry["model"] not in model_names():
        raise ValueError(f"models[{index}] ({name}) model {entry['model']!r} is not valid; expected "
                         f"{model_choices_help()}")
    per_data = sorted(set(entry) & set(NOT_PER_MODEL))
    if per_data:
        raise ValueError(f"models[{index}] ({name}) sets {per_data}: the study's `data` gives these to every model")
    unknown = sorted(set(entry) - set(TRAIN_DEFAULTS))
    if unknown:
        raise ValueError(f"models[{index}] ({name}) has unknown training setting(s) {unknown}; valid: "
                         f"{', '.join(k for k in TRAIN_DEFAULTS if k not in NOT_PER_MODEL)}")
    if entry.get("weights", "absent") is None:
        entry["weights"] = "none"  # null: no pre-trained weights (xai_tf.runs maps None to imagenet)
    entry.setdefault("weights", "none")
    return {"name": name, "train": entry}


def check_config(raw: dict) -> dict:
    """Check and normalise a study configuration, filling in every default.

    Everything is checked before anything is trained or written.

    Parameters
    ----------
    raw : dict
        The configuration as :func:`read_config` returns it (the format is described in the module
        docstring, ``xai_tf.study.config``).

    Returns
    -------
    dict
        ``{"name", "out", "data", "split", "models", "methods", "denoisers", "metrics", "options",
        "seed", "chunk_size", "batch_size", "targets", "resources", "report"}``: ``data`` with every
        key of ``DATA_DEFAULTS`` (and ``options``, a file-based source's options, when given);
        ``models`` a list of ``{"name", "train": settings}`` (built models;
        ``weights`` ``"none"`` unless given) or ``{"name", "path"}`` (loaded models); ``methods`` a
        list of ``{"name", "method", "params"}``; ``denoisers`` a list of ``{"name", "denoiser",
        "params"}`` with the denoiser's full parameters (default ``[none]``); ``metrics`` a list of
        names; ``options`` every option of those metrics (defaults overridden); the defaults are
        ``split`` ``"held-out"``, ``seed`` 0, ``chunk_size`` 8, ``batch_size`` 64, ``targets``
        ``"predicted"``, ``resources`` None and ``report`` True.

    Raises
    ------
    ValueError
        Naming the entry: an unknown key, model, method, denoiser, metric or option, a bad value, a
        ``data.source`` path that does not exist, a ``data.options`` key the source does not take, names
        that repeat, no model, method or metric, a model with both ``path`` and training settings
        (or neither ``model`` nor ``path``), or metrics that re-run the method next to a denoiser
        other than ``none``.
    TypeError
        Naming the entry: a value of the wrong type (a section that is not a mapping, parameters a
        method or denoiser does not take, ``resources`` that are not a mapping of numbers).
    """
    from xai_tf import denoising
    from xai_tf.evaluation.config import check_options
    from xai_tf.explainers import list_methods, method_parameters
    from xai_tf.metrics.registry import METRICS

    unknown = sorted(set(raw) - set(TOP_KEYS))
    if unknown:
        raise ValueError(f"config has unknown key(s) {unknown}; valid: {', '.join(TOP_KEYS)}")
    data = raw.get("data") or {}
    if not isinstance(data, dict):
        raise TypeError(f"config data must be a mapping ({', '.join(DATA_KEYS)}); got {data!r}")
    bad = sorted(set(data) - set(DATA_KEYS))
    if bad:
        raise ValueError(f"config data has unknown key(s) {bad}; valid: {', '.join(DATA_KEYS)}")
    data = {**DATA_DEFAULTS, **data}
    check_positive(data["n"], "data.n", integer=True)
    check_positive(data["image_size"], "data.image_size", integer=True)
    data["seed"] = check_seed(data["seed"])
    check_choice(data["color"], "data.color", ("grayscale", "rgb"))
    data["source"], options = _check_source(data["source"], data.pop("options", None))
    if options:  # only when given: a study without options keeps the checked data it always had
        data["options"] = options

    models = [_check_model(entry, i) for i, entry in enumerate(raw.get("models") or [])]
    if not models:
        raise ValueError("config models must list at least one model")
    _unique([m["name"] for m in models], "models")

    methods = []
    for index, entry in enumerate(raw.get("methods") or []):
        label, method, params = _named(entry, "methods", index)
        check_choice(method, f"methods[{index}]", list_methods())
        accepted = set(method_parameters(method)) | {"layer"}
        wrong = sorted(set(params) - accepted)
        if wrong:
            raise TypeError(f"methods[{index}] ({label}) has unexpected parameter(s) {wrong}; {method} accepts: "
                            f"{', '.join(sorted(accepted))}")
        methods.append({"name": label, "method": method, "params": params})
    if not methods:
        raise ValueError("config methods must list at least one method")
    _unique([m["name"] for m in methods], "methods")

    denoisers = []
    for index, entry in enumerate(raw.get("denoisers") or ["none"]):
        label, denoiser, params = _named(entry, "denoisers", index)
        if denoiser == "none":
            if params:
                raise TypeError(f"denoisers[{index}]: 'none' takes no parameters; got {sorted(params)}")
            denoisers.append({"name": label, "denoiser": "none", "params": {}})
            continue
        check_choice(denoiser, f"denoisers[{index}]", ("none",) + denoising.methods())
        # the full parameters (defaults filled, each checked) are what the cell's hash sees
        wrong = sorted(set(params) - set(denoising.defaults(denoiser)))
        if wrong:
            raise TypeError(f"denoisers[{index}] ({label}) has unknown parameter(s) {wrong}; {denoiser} accepts: "
                            f"{', '.join(denoising.defaults(denoiser))}")
        denoisers.append({"name": label, "denoiser": denoiser, "params": {**denoising.defaults(denoiser), **params}})
    _unique([d["name"] for d in denoisers], "denoisers")

    metrics = raw.get("metrics") or []
    if isinstance(metrics, str):
        metrics = [part.strip() for part in metrics.split(",") if part.strip()]
    if not metrics:
        raise ValueError(f"config metrics must list at least one of {', '.join(METRICS)}")
    for index, name in enumerate(metrics):
        check_choice(name, f"metrics[{index}]", tuple(METRICS))
    rerun = [name for name in metrics if METRICS[name].scores == "method"]
    if rerun and any(d["denoiser"] != "none" for d in denoisers):
        raise ValueError(f"metrics {rerun} re-run the method, which knows nothing of the denoiser: on a denoised cell "
                         "they would compare denoised maps with raw ones. Score them in a study whose denoisers are "
                         "[none]")
    options = check_options(metrics, raw.get("options"))
    chunk_size = int(check_positive(raw.get("chunk_size", 8), "chunk_size", integer=True))
    batch_size = int(check_positive(raw.get("batch_size", 64), "batch_size", integer=True))
    resources = raw.get("resources")
    if resources is not None and (not isinstance(resources, dict)
                                  or not all(isinstance(v, (int, float)) for v in resources.values())):
        raise TypeError(f"resources must be a mapping like {{GPU: 1}}; got {resources!r}")
    return {
        "name": str(raw.get("name") or "study"), "out": raw.get("out"), "data": data,
        "split": check_choice(raw.get("split", "held-out"), "split", SPLITS), "models": models,
        "methods": methods, "denoisers": denoisers, "metrics": list(metrics), "options": options,
        "seed": check_seed(raw.get("seed", 0)), "chunk_size": chunk_size, "batch_size": batch_size,
        "targets": _targets(raw.get("targets", "predicted"), metrics), "resources": resources,
        "report": check_bool(raw.get("report", True), "report"),
    }


def _check_source(source, options) -> tuple[str, dict]:
    """``data.source`` ("synthetic" or an existing path) and ``data.options`` (the lazy source's options)."""
    from xai_tf.study.sources import source_option_names, study_kind

    if not source or not isinstance(source, (str, Path)):
        raise ValueError(f"data.source must be 'synthetic' or a data set path; got {source!r}")
    source = str(source)
    if source != "synthetic" and not Path(source).exists():
        raise ValueError(f"data.source: no file or folder at {source!r}; expected 'synthetic' or the path of a data "
                         "set (an HDF5 file, a .npy array, a folder of FITS cutouts or of class sub-folders, ...)")
    if options is None or options == {}:
        return source, {}
    if not isinstance(options, dict):
        raise TypeError(f"data.options must be a mapping of the data source's options; got {options!r}")
    kind = study_kind(source)
    if kind is None:
        raise ValueError(f"data.options is for a file-based source (HDF5, .npy, FITS or image folder); "
                         f"data.source {source!r} is not one")
    own = sorted(set(options) & {"image_size", "color", "skip_bad"})
    if own:
        raise ValueError(f"data.options sets {own}: give them as data.{own[0]} (the data entry's own keys)")
    valid = source_option_names(kind)
    unknown = sorted(set(options) - set(valid))
    if unknown:
        raise ValueError(f"data.options has unknown key(s) {unknown} for a {kind} source; valid: {', '.join(valid)}")
    return source, dict(options)


def _targets(value, metrics) -> str:
    """A study's ``targets``: "predicted", "label" or a target's command-line form ("regression:0", ...)."""
    from xai_tf.evaluation.config import check_targets

    if not isinstance(value, str):
        raise TypeError(f"targets must be 'predicted', 'label' or a target such as 'regression:0'; got {value!r}")
    check_targets(value, metrics)
    return value


def train_settings_of(config: dict, model: dict) -> dict:
    """The ``xai_tf.runs.train`` settings of a built model: the study's data plus the model's own."""
    data = config["data"]
    options = {"data_options": data["options"]} if data.get("options") else {}  # only when given
    return {"data": data["source"], "n": data["n"], "image_size": data["image_size"], "color": data["color"],
            "skip_bad": data["skip_bad"], "seed": data["seed"], **options, **model["train"]}


def load_settings(config: dict) -> dict:
    """The ``xai_tf.runs.load_data`` settings of the study's data (``TRAIN_DEFAULTS``' keys)."""
    from xai_tf.runs import train_settings

    data = config["data"]
    options = {"data_options": data["options"]} if data.get("options") else {}  # only when given
    return train_settings(data=data["source"], n=data["n"], image_size=data["image_size"], color=data["color"],
                          skip_bad=data["skip_bad"], seed=data["seed"], **options)
