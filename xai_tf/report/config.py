"""The report config: its schema, ``load_config`` (validates every key) and path resolution.

The schema is ``SCHEMA`` below (also printed by ``xai-tf report --help``); ``make demo`` writes an
example to ``runs/demo/report.yaml``.
"""
from __future__ import annotations

import json
from pathlib import Path

SCHEMA = """Config schema (a dict, or a ``.yaml``/``.yml``/``.json`` file; relative paths are relative to the
config file's folder, or to the working directory for a dict)::

    title: "Synthetic radio galaxies"        # optional, default "xai-tf report"
    out: report.html                         # optional HTML path (default report.html beside the config)
    figure_formats: [png, pdf]               # the grids are also written to figures/ beside the HTML
                                             #   (default [png]; add pdf for print)
    data:                                    # data-set summary: class counts, sample images, PCA
      source: synthetic                      #   "synthetic" or a data-set path (xai_tf.data.load)
      n: 600                                 #   options passed to xai_tf.data.load
      image_size: 64
      seed: 0
      color: grayscale                       #   folders only
      samples_per_class: 4                   #   sample images shown per class (default 4)
    runs:                                    # training folders of `xai-tf train`
      - {name: custom-v2, dir: train}        #   (a plain string is a dir named by its folder)
    explain:                                 # folder of `xai-tf explain` / the demo (or just the dir)
      dir: explain
      per_class: 2                           #   images per class in the method grids (default 2)
      denoised_grid: tv                      #   also show the grids with this denoiser (null: no)
    denoise:                                 # denoised variants of one map per class
      methods: [tv, bilateral, median, wavelet, nlm, gaussian]   # default: all denoisers
      explanation: gradcam                   #   which method's map (default gradcam, else the first)
    evaluation: [eval]                       # evaluation runner folders (shards of one run are merged)
    study: study_out                         # a study's output folder (xai_tf.study): its cells' tables
"""

TOP_KEYS = ("title", "out", "data", "runs", "explain", "denoise", "evaluation", "figure_formats", "study")
DATA_KEYS = ("source", "n", "image_size", "seed", "color", "samples_per_class")
RUN_KEYS = ("name", "dir")
EXPLAIN_KEYS = ("dir", "per_class", "denoised_grid")
DENOISE_KEYS = ("methods", "explanation")


class ReportConfigError(ValueError):
    """A report config that cannot be used (unknown keys, mismatching folders).

    A subclass of ValueError, raised by :func:`load_config` and :func:`build` with a message that
    names the key or folder at fault.
    """


# ------------------------------------------------------------------------------------------- config
def check_keys(section: dict, valid, name: str) -> None:
    if not isinstance(section, dict):
        raise ReportConfigError(f"{name} must be a mapping with keys {', '.join(valid)}; got {type(section).__name__}")
    unknown = sorted(set(section) - set(valid))
    if unknown:
        raise ReportConfigError(f"{name} has unknown keys {unknown}; valid keys: {', '.join(valid)}")


def load_config(config) -> tuple[dict, Path, Path | None]:
    """Read a report config and validate every key (the schema is ``SCHEMA``).

    ``runs`` entries that are plain strings become ``{"name": <folder name>, "dir": ...}``, an
    ``explain`` string becomes ``{"dir": ...}`` and an ``evaluation`` string a one-folder list.

    Parameters
    ----------
    config : dict, str or pathlib.Path
        The config as a dict, or the path of a ``.yaml``/``.yml``/``.json`` file (an empty file is
        an empty config).

    Returns
    -------
    config : dict
        The validated config, normalised as above (a copy: a given dict is not modified).
    base : pathlib.Path
        The folder relative paths in the config are relative to: the config file's folder, or the
        working directory for a dict.
    path : pathlib.Path or None
        The config file, or None for a dict.

    Raises
    ------
    ReportConfigError
        A subclass of ValueError: the file does not exist, has another suffix or is not valid
        YAML/JSON, it does not hold a mapping, a section has unknown keys (the valid ones are
        listed) or the wrong type, a run or ``explain`` has no ``dir``, or run names repeat.
    TypeError
        If ``config`` is neither a dict nor a path.
    """
    path = None
    if isinstance(config, (str, Path)):
        path = Path(config)
        if not path.is_file():
            raise ReportConfigError(f"config={str(config)!r} is not a file; expected a .yaml, .yml or .json")
        text = path.read_text()
        if path.suffix.lower() in (".yaml", ".yml"):
            import yaml
            try:
                config = yaml.safe_load(text)
            except yaml.YAMLError as error:
                raise ReportConfigError(f"config {path} is not valid YAML: {error}") from None
        elif path.suffix.lower() == ".json":
            try:
                config = json.loads(text)
            except ValueError as error:
                raise ReportConfigError(f"config {path} is not valid JSON: {error}") from None
        else:
            raise ReportConfigError(f"config={str(path)!r} must end in .yaml, .yml or .json")
        base = path.parent
    elif isinstance(config, dict):
        base = Path.cwd()
    else:
        raise TypeError(f"config must be a dict or a path to a .yaml/.json file; got {type(config).__name__}")
    if config is None:
        config = {}
    if not isinstance(config, dict):
        raise ReportConfigError(f"config must be a mapping of the keys {', '.join(TOP_KEYS)}; "
                                f"{path or 'the config'} holds a {type(config).__name__}")
    config = dict(config)
    check_keys(config, TOP_KEYS, "config")
    if config.get("data") is not None:
        check_keys(config["data"], DATA_KEYS, "config['data']")
    runs = config.get("runs")
    if runs is not None:
        if isinstance(runs, (str, dict)) or not isinstance(runs, list):
            raise ReportConfigError("config['runs'] must be a list of {name, dir} (or of folder paths)")
        normalised = []
        for index, run in enumerate(runs):
            if isinstance(run, str):
                run = {"dir": run}
            check_keys(run, RUN_KEYS, f"config['runs'][{index}]")
            if "dir" not in run:
                raise ReportConfigError(f"config['runs'][{index}] needs a 'dir' (a folder written by xai-tf train)")
            normalised.append({"name": str(run.get("name") or Path(run["dir"]).name), "dir": run["dir"]})
        names = [run["name"] for run in normalised]
        if len(set(names)) != len(names):
            raise ReportConfigError(f"config['runs'] repeats names {names}; give each run its own name")
        config["runs"] = normalised
    if isinstance(config.get("explain"), str):
        config["explain"] = {"dir": config["explain"]}
    if config.get("explain") is not None:
        check_keys(config["explain"], EXPLAIN_KEYS, "config['explain']")
        if "dir" not in config["explain"]:
            raise ReportConfigError("config['explain'] needs a 'dir' (a folder written by xai-tf explain)")
    if config.get("denoise") is not None:
        check_keys(config["denoise"], DENOISE_KEYS, "config['denoise']")
    evaluation = config.get("evaluation")
    if isinstance(evaluation, str):
        config["evaluation"] = [evaluation]
    elif evaluation is not None and not isinstance(evaluation, list):
        raise ReportConfigError("config['evaluation'] must be a folder or a list of folders")
    return config, base, path


def resolve(base: Path, value) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else base / path
