"""One model's work in a study, as typed tasks: build it (:func:`model_task`), train it, plan its cells.

The client opens the study's data once (:func:`open_data`, a :class:`StudyData`).

For each model of the study the client builds one ``xai_tf.study.tasks.ModelTask`` (:func:`model_task`:
its file, and for a model built here its train settings, run folder and training key, or no key when
it is trained with these settings already). :func:`train_models` runs the training tasks on the
engine and writes each train run as it arrives; :func:`plan_model` then loads the model, checks it
against the data, opens one store per method x denoiser cell (:func:`cell_config` /
:func:`config_hash` name its folder) and returns the ``xai_tf.study.tasks.ScoreTask`` of every chunk
a cell still lacks, one per chunk and method whatever the number of denoisers that need it.

The study's model entries (``study["models"]``, which ``study.json`` records) are filled in here as
before: ``folder``, ``path`` and ``settings`` of a built model by :func:`model_task`, ``weights``
and ``data_shape`` by :func:`plan_model`.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, fields
from pathlib import Path

import numpy as np

from xai_tf._io import write_atomic
from xai_tf.evaluation.config import TARGETS, build_config
from xai_tf.evaluation.store import Store
from xai_tf.evaluation.units import pending_units, plan_units
from xai_tf.study import config as study_config
from xai_tf.study import sources as study_sources
from xai_tf.study.tasks import ModelTask, ScoreTask, ship_backbone, train_task


@dataclass(frozen=True)
class StudyData:
    """The study's data as the client opened it once (:func:`open_data`), for every model's cells.

    Parameters
    ----------
    settings : dict
        The data load settings (``xai_tf.study.config.load_settings``).
    dataset : LabelledImages or xai_tf.study.sources.StudySource
        The data in memory, or a file-based source only opened (then ``lazy`` is the same object).
    fingerprint : str
        Of the data as loaded (images and labels), or a file-based source's cheap fingerprint.
    lazy : xai_tf.study.sources.StudySource or None, optional
        The file-based source, whose rows the workers read; None (default) for data in memory.
    description : dict or None, optional
        What every score task names to its worker: the file-based source's description
        (``StudySource.describe``); None (default) for data in memory.
    full_fingerprints : dict, optional
        Full fingerprints of a file-based source, computed once when a recorded split is checked
        (``xai_tf.study.sources.split_indices``); default empty.
    """

    settings: dict
    dataset: object
    fingerprint: str
    lazy: object = None
    description: dict | None = None
    full_fingerprints: dict = field(default_factory=dict)


def open_data(study: dict) -> StudyData:
    """Open the study's data once: a file-based source only opened, anything else loaded in memory.

    Parameters
    ----------
    study : dict
        The checked study configuration.

    Returns
    -------
    StudyData
        Synthetic data and the layouts only ``xai_tf.data.load`` reads in memory, fingerprinted
        whole; a file-based source (HDF5, ``.npy``, FITS, image folder) with its cheap fingerprint.
    """
    from xai_tf._io import fingerprint
    from xai_tf.runs import load_data

    settings = study_config.load_settings(study)
    lazy = study_sources.open_study_data(study["data"])  # a file-based source: its rows are read by the workers
    if lazy is None:  # synthetic data and the layouts only xai_tf.data.load reads: in memory, as always
        dataset = load_data(settings, verbose=0)
        return StudyData(settings, dataset, fingerprint([dataset.images, dataset.labels]))
    return StudyData(settings, lazy, lazy.fingerprint(), lazy, lazy.describe())


def cell_config(study: dict, model: dict, method: dict, denoiser: dict, data_fingerprint: str,
                indices: np.ndarray) -> dict:
    """Return what decides one cell's results, in the evaluation store's ``config.json`` format.

    The model enters by its weights' fingerprint (not its name or path), the data by its
    fingerprint and the images' indices; then the method and its parameters, the denoiser and its
    full parameters, the metrics and all their options, the seed, chunk size, batch size and targets.
    :func:`config_hash` of it names the cell's folder.

    Parameters
    ----------
    study : dict
        The checked study configuration (:func:`xai_tf.study.check_config`); reads ``metrics``,
        ``options``, ``seed``, ``chunk_size``, ``batch_size`` and ``targets``.
    model : dict
        One of the study's models, with ``weights`` (the weights' fingerprint,
        ``xai_tf._io.fingerprint(model.get_weights())``) and ``data_shape`` (``[H, W, C]`` of its
        input) filled in.
    method : dict
        One of the study's methods: ``{"name", "method", "params"}``.
    denoiser : dict
        One of the study's denoisers: ``{"name", "denoiser", "params"}`` (full parameters).
    data_fingerprint : str
        Fingerprint of the study's data set as loaded (images and labels, 16 hex digits), or of a
        file-based source (its cheap fingerprint, ``xai_tf.study.sources.StudySource.fingerprint``).
    indices : numpy.ndarray, shape (M,), int
        Indices into the data set of the images the cell scores (the model's split).

    Returns
    -------
    dict
        The evaluation store's configuration (``xai_tf.evaluation.config.build_config``) of this
        one method, with the denoiser and its parameters.
    """
    return build_config(
        methods=[method["method"]], metrics=study["metrics"], options=study["options"],
        method_params={method["method"]: method["params"]}, seed=study["seed"], chunk_size=study["chunk_size"],
        batch_size=study["batch_size"], targets=study["targets"], shard=None, model_weights=model["weights"],
        data_images=len(indices), data_shape=model["data_shape"], data_fingerprint=data_fingerprint,
        data_indices=[int(i) for i in indices], denoiser=denoiser["denoiser"], denoiser_params=denoiser["params"])


def config_hash(config: dict) -> str:
    """Hash a configuration: 12 hex digits of SHA-256 over its canonical JSON.

    Canonical: ``json.dumps(config, sort_keys=True)``, so the order of keys does not matter.

    Parameters
    ----------
    config : dict
        A JSON-serialisable configuration, e.g. :func:`cell_config`'s result or a model's train
        settings.

    Returns
    -------
    str
        The first 12 hex digits of the SHA-256 digest.
    """
    return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()[:12]


def model_task(study: dict, model: dict, out: Path) -> ModelTask:
    """Build the task of one model of the study; a built model's entry gets its ``folder``, ``path`` and ``settings``.

    Parameters
    ----------
    study : dict
        The checked study configuration.
    model : dict
        One of ``study["models"]``: ``{"name", "train"}`` (built here) or ``{"name", "path"}`` (loaded).
    out : pathlib.Path
        The study's output folder (a built model's run goes to ``out/models/<name>``).

    Returns
    -------
    xai_tf.study.tasks.ModelTask
        Its ``key`` is None when nothing is to train: a loaded model, or one whose run folder
        records these settings (``xai_tf.runs.trained_with``).

    Raises
    ------
    ValueError
        If the model is built on a backbone whose record cannot be sent to other processes
        (``xai_tf.study.tasks.ship_backbone``).
    """
    from xai_tf.runs import trained_with

    if "train" not in model:
        return ModelTask(model["name"], model["path"])
    model["folder"] = out / "models" / model["name"]
    model["path"] = str(model["folder"] / "model.keras")
    model["settings"] = settings = study_config.train_settings_of(study, model)
    key = None if trained_with(model["folder"], settings) else \
        f"xai-tf-train-{model['name']}-{config_hash(settings)}"
    return ModelTask(model["name"], model["path"], settings, model["folder"], key, ship_backbone(settings))


def write_train_run(folder: Path, result: dict) -> None:
    """Write a train run computed elsewhere into ``folder``; its ``config.json`` last (``runs.trained_with``).

    Parameters
    ----------
    folder : pathlib.Path
        The model's run folder (created).
    result : dict
        ``xai_tf.study.tasks.train_task``'s result: ``files`` (``{name: bytes}``, with ``config.json``).
    """
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").unlink(missing_ok=True)  # a half-written folder is retrained next time
    files = dict(result["files"])
    record = json.loads(files.pop("config.json"))
    record.setdefault("arguments", {})["out"] = str(folder)  # it trained in a temporary folder: where it lives now
    for name, data in files.items():
        write_atomic(folder / name, data)
    write_atomic(folder / "config.json", json.dumps(record, indent=2, default=str).encode())


def train_models(pool, tasks: list[ModelTask], resources, on_trained) -> None:
    """Train the models whose task has a key, on the engine; write each run as it arrives.

    Parameters
    ----------
    pool : xai_tf.study.engine.InProcess or xai_tf.study.engine.DaskCluster
        The open engine.
    tasks : list of xai_tf.study.tasks.ModelTask
        :func:`model_task`'s results.
    resources : dict or None
        The Dask resources each training asks for (the study's ``resources``).
    on_trained : callable
        ``on_trained(task, result)`` after the task's run folder is written.
    """
    todo = {task.key: task for task in tasks if task.key is not None}

    def trained(key, result):
        write_train_run(todo[key].folder, result)
        on_trained(todo[key], result)

    pool.run(train_task, list(todo.items()), trained, resources)


def _backbone_of(keras_model) -> str | None:
    """The backbone a loaded model is built on (its ``BackbonePreprocessing`` layer, nested or not), or None."""
    from xai_tf.models.layers import BackbonePreprocessing

    layers = list(keras_model.layers)
    while layers:
        layer = layers.pop()
        if isinstance(layer, BackbonePreprocessing):
            return layer.backbone
        layers.extend(getattr(layer, "layers", []))
    return None


def _model_indices(model: dict, study: dict, data: StudyData) -> tuple[np.ndarray, str | None]:
    """Load the model, fill in its ``weights`` and ``data_shape``, check it fits the data.

    Returns the indices it scores and the backbone it is built on (None: no backbone).
    """
    from xai_tf._io import fingerprint
    from xai_tf.models import load_model
    from xai_tf.models.head import head_of
    from xai_tf.runs import run_folder_of, split_of

    dataset = data.dataset
    keras_model = load_model(model["path"], name=f"models: {model['name']}")
    model["weights"] = fingerprint(keras_model.get_weights())
    model["data_shape"] = [int(v) for v in keras_model.input_shape[1:]]
    if tuple(model["data_shape"]) != tuple(dataset.image_shape):
        raise ValueError(f"models: {model['name']} takes images {model['data_shape']}; the study's data "
                         f"are {list(dataset.image_shape)} (set data.image_size / data.color)")
    explains_classes = study["targets"] in TARGETS  # not a regression, segmentation, ... target
    if explains_classes and head_of(keras_model).num_classes != len(dataset.class_names):
        raise ValueError(f"models: {model['name']} predicts {head_of(keras_model).num_classes} classes; "
                         f"the data has {len(dataset.class_names)}")
    backbone = _backbone_of(keras_model)
    folder = run_folder_of(model["path"])
    if study["split"] != "all" and folder is None:
        raise ValueError(f"models: {model['name']}: split {study['split']!r} needs the split its train run "
                         f"recorded (no split.json beside {model['path']}); use split: all")
    if folder is None:
        return np.arange(len(dataset), dtype=np.int64), backbone
    if data.lazy is not None:
        return study_sources.split_indices(folder, data.lazy, study["split"], data.full_fingerprints), backbone
    return split_of(folder, dataset, study["split"])[1], backbone


def score_key(task: ScoreTask, cells: dict, model_name: str, method_name: str) -> str:
    """The score task's key: its model, method and chunk, and a hash of all it holds but the data settings.

    Parameters
    ----------
    task : xai_tf.study.tasks.ScoreTask
        The task.
    cells : dict
        ``{denoiser name: cell hash}`` of the cells it fills.
    model_name, method_name : str
        The names the study gives the model and the method.

    Returns
    -------
    str
        ``xai-tf-score-<model>-<method>-<chunk>-<hash>``.
    """
    held = {item.name: getattr(task, item.name) for item in fields(task)
            if item.name not in ("data", "backbone") and getattr(task, item.name) is not None}
    return f"xai-tf-score-{model_name}-{method_name}-{task.chunk}-{config_hash({**held, 'cells': cells})}"


def plan_model(task: ModelTask, model: dict, study: dict, data: StudyData, out: Path, verbose: int,
               stores: dict) -> tuple[list[dict], dict]:
    """Open the model's cells and plan the score tasks they lack.

    Parameters
    ----------
    task : xai_tf.study.tasks.ModelTask
        The model's task (trained by now).
    model : dict
        Its entry in ``study["models"]``; ``weights`` and ``data_shape`` are filled in.
    study : dict
        The checked study configuration.
    data : StudyData
        The study's data.
    out : pathlib.Path
        The study's output folder (cells go to ``out/cells``).
    verbose : int
        The stores' verbosity.
    stores : dict
        ``{cell hash: xai_tf.evaluation.store.Store}``, filled with each cell's store as it is
        opened (the caller releases them, whatever happens).

    Returns
    -------
    cells : list of dict
        Per cell: ``model``, ``method``, ``denoiser``, ``hash``, ``folder``, ``registry_method``,
        ``images``, ``computed`` (0) and ``skipped`` (the chunks already stored).
    units : dict
        ``{key: (ScoreTask, {denoiser name: cell hash}, label)}`` (:func:`score_key`), in order.
    """
    indices, backbone = _model_indices(model, study, data)
    # a loaded model (``path:``) on a backbone registered here carries its record to the workers too
    shipped = task.backbone if task.backbone is not None or backbone is None else ship_backbone({"model": backbone})
    # once per model: every task refers to this one list (a file-based source's tasks carry only their
    # own rows and the list's digest, so no task is the size of the data set)
    index_list = [int(i) for i in indices]
    rows_digest = None if data.lazy is None else \
        hashlib.sha256(np.asarray(indices, np.int64).tobytes()).hexdigest()[:16]
    cells, units = [], {}
    for method in study["methods"]:
        chunks = {}  # chunk -> (positions, denoisers, {denoiser name: cell hash}): one task serves every denoiser
        for denoiser in study["denoisers"]:
            cfg = cell_config(study, model, method, denoiser, data.fingerprint, indices)
            digest = config_hash(cfg)
            cell = {"model": model["name"], "method": method["name"], "denoiser": denoiser["name"], "hash": digest,
                    "folder": out / "cells" / f"{model['name']}__{method['name']}__{denoiser['name']}__{digest}",
                    "registry_method": method["method"], "images": len(indices)}
            store = Store(cell["folder"], verbose)
            store.open(cfg, "study")
            stores[digest] = store
            planned = plan_units(len(indices), study["chunk_size"], [method["method"]])
            todo = pending_units(store, planned)
            cell.update(computed=0, skipped=len(planned) - len(todo))
            cells.append(cell)
            for unit in todo:
                entry = chunks.setdefault(int(unit.chunk), ([int(p) for p in unit.indices], [], {}))
                entry[1].append(denoiser)
                entry[2][denoiser["name"]] = digest
        for chunk, (positions, denoisers, cell_hashes) in chunks.items():
            where = {"indices": index_list} if data.lazy is None else {  # the chunk's rows only: nothing else read
                "data_source": data.description, "cell_rows": rows_digest, "cell_size": len(index_list),
                "rows": [index_list[p] for p in positions]}
            score = ScoreTask(
                model_path=str(Path(model["path"]).resolve()), model_weights=model["weights"], data=data.settings,
                data_fingerprint=data.fingerprint, chunk=chunk, positions=positions, method=method["method"],
                params=method["params"], denoisers=denoisers, metrics=study["metrics"], options=study["options"],
                seed=study["seed"], batch_size=study["batch_size"], targets=study["targets"],
                backbone=shipped, **where)
            units[score_key(score, cell_hashes, model["name"], method["name"])] = (
                score, cell_hashes, f"{model['name']} x {method['name']}")
    return cells, units
