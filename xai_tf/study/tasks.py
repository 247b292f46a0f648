"""The study's units of work: typed tasks, and the plain functions that run them in-process or on a Dask worker.

- :class:`ModelTask` / :func:`train_task`: one model of the study (built by
  ``xai_tf.study.model_tasks.model_task``); ``train_task`` trains it (``xai_tf.runs.train``) in a
  temporary folder and returns the run folder's files as bytes: the client writes them (one writer,
  and no shared disk needed).
- :class:`ScoreTask` / :func:`score_task`: one chunk of held-out images for one model x method and
  the denoisers whose cells lack it; ``score_task`` explains the chunk, then, for each denoiser,
  denoises the maps (``none`` keeps them) and scores them with the metrics: the evaluation unit's
  own steps (``xai_tf.evaluation.units.UnitScorer``: ``explain`` with the chunk's seed, then
  ``score_maps``). One explanation serves every denoiser cell of the chunk. Returns ``{denoiser
  name: (rows, arrays)}``; it writes nothing.

A backbone registered at run time (``xai_tf.models.register_backbone``) travels with the tasks of the
models built on it (those the study trains, and those it loads, whose backbone layer the client
reads): its record, pickled by reference (:func:`ship_backbone`), is registered again in the
training process and on the workers (:func:`receive_backbone`). Its constructor and
preprocessing must therefore be module-level functions of a module the workers can import (the
client's ``sys.path`` is added to theirs, so a module beside the client's script is found on this
machine; a cluster needs it installed).

Each worker process keeps what it loaded in a small cache (models keyed by path and weight
fingerprint, data sets by their settings, a file-based source by its description, scorers by model
and metric options), so a model is loaded once per worker however many tasks it gets. The results
are pure functions of the task's arguments (seeds come from the study seed and the chunk number),
so a task rerun after a worker died, or run in another process, gives the same rows.
"""
from __future__ import annotations

import json
import pickle
import sys
import tempfile
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

CACHE_SIZE = 4  # models (and data sets) a worker keeps; a study has few models
CACHE: OrderedDict = OrderedDict()


def cached(key, make):
    """``make()`` once per worker process for ``key`` (the least recently used entries go first)."""
    if key in CACHE:
        CACHE.move_to_end(key)
        return CACHE[key]
    value = make()
    CACHE[key] = value
    while len(CACHE) > 3 * CACHE_SIZE:
        CACHE.popitem(last=False)
    return value


def ship_backbone(settings: dict) -> bytes | None:
    """The registered record of the backbone ``settings`` names, pickled for another process; None for no backbone.

    Parameters
    ----------
    settings : dict
        ``xai_tf.runs.train`` settings (``model``: custom-v1, custom-v2, a ViT or a backbone name).

    Returns
    -------
    bytes or None
        ``pickle`` of ``(sys.path, pickle of the record)``: where this process finds the record's
        functions (pickled by reference), then the ``xai_tf.models.BackboneRecord`` itself; None
        when the model is no registered backbone.

    Raises
    ------
    ValueError
        If the record cannot be pickled (a lambda or a function defined inside another): named,
        with what to do.
    """
    from xai_tf.models import backbones

    name = settings.get("model")
    if name not in backbones.RECORDS:
        return None
    try:
        record = pickle.dumps(backbones.RECORDS[name])
    except (pickle.PicklingError, AttributeError, TypeError) as error:
        raise ValueError(f"backbone {name!r} cannot be sent to the study's training process and workers "
                         f"({type(error).__name__}: {error}); give its BackboneRecord a constructor and "
                         "preprocessing defined at module level in an importable module") from error
    return pickle.dumps(([str(path) for path in sys.path], record))


def receive_backbone(shipped: bytes | None) -> None:
    """Register the backbone :func:`ship_backbone` sent, unless this process has one of that name already.

    Parameters
    ----------
    shipped : bytes or None
        :func:`ship_backbone`'s result (None: nothing to do).
    """
    if shipped is None:
        return
    from xai_tf.models import backbones

    path, record = pickle.loads(shipped)
    # the client's folders go after this process's own: they add the record's module, shadow nothing
    sys.path.extend(folder for folder in path if folder not in sys.path)
    record = pickle.loads(record)
    if record.name not in backbones.RECORDS:
        backbones.register(record)


#: What the training process runs: ``argv[1]`` the run folder, ``argv[2]`` the settings (JSON),
#: ``argv[3]`` the backbone record (hex of :func:`ship_backbone`'s bytes; empty for a model that is no backbone).
TRAIN_SCRIPT = ("import json, sys; from xai_tf import runs\n"
                "if sys.argv[3]: from xai_tf.study.tasks import receive_backbone; "
                "receive_backbone(bytes.fromhex(sys.argv[3]))\n"
                "runs.train(sys.argv[1], verbose=0, **json.loads(sys.argv[2]))")


@dataclass(frozen=True)
class ModelTask:
    """One model of a study: its name, its file and, for a model built here, how to train it.

    Built once per model by ``xai_tf.study.model_tasks.model_task``; trained by :func:`train_task`
    (when ``key`` is set), then its cells are planned by ``xai_tf.study.model_tasks.plan_model``.

    Parameters
    ----------
    name : str
        The model's name in the study.
    path : str
        Its ``.keras`` file (for a built model, ``<out>/models/<name>/model.keras``).
    settings : dict or None
        ``xai_tf.runs.train`` settings of a built model; None for a loaded one.
    folder : pathlib.Path or None
        The train run folder of a built model; None for a loaded one.
    key : str or None
        The training task's key, ``xai-tf-train-<name>-<settings hash>``; None when there is
        nothing to train (a loaded model, or one trained with these settings already).
    backbone : bytes or None
        The backbone record its tasks carry (:func:`ship_backbone`); None when the model is no
        backbone.
    """

    name: str
    path: str
    settings: dict | None = None
    folder: Path | None = None
    key: str | None = None
    backbone: bytes | None = None


def train_task(task: ModelTask) -> dict:
    """Train one model as ``task.settings`` (``xai_tf.runs.TRAIN_DEFAULTS``' keys) say, in a fresh Python process.

    A fresh process because training inside a Dask worker gave other weights than the same
    settings in a plain process (seen with Keras 3 / TensorFlow 2 on CPU: the worker's threads and
    environment change the random streams), and a study must give the same models wherever it runs.
    The backbone the task carries is registered there first (:func:`receive_backbone`).

    Parameters
    ----------
    task : ModelTask
        A model built here (``settings`` set).

    Returns
    -------
    dict
        ``{"files": {file name: bytes}, "report": classification report, "seconds": float}``.
    """
    import subprocess

    settings = task.settings
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="xai-tf-train-") as folder:
        done = subprocess.run([sys.executable, "-c", TRAIN_SCRIPT, folder, json.dumps(settings),
                               (task.backbone or b"").hex()], check=False, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"training {settings.get('model')} failed (exit {done.returncode}):\n"
                               f"{done.stderr[-3000:]}")
        files = {path.name: path.read_bytes() for path in Path(folder).iterdir() if path.is_file()}
    report = json.loads(files["report.json"])
    return {"files": files, "report": report, "seconds": time.perf_counter() - started}


def checked(key, make, expected: str, mismatch) -> object:
    """``make() -> (value, fingerprint)``'s value, cached for ``key``; RuntimeError unless it is ``expected``.

    Parameters
    ----------
    key : tuple
        The cache key (:func:`cached`).
    make : callable
        ``make()`` returns ``(value, its fingerprint on this worker)``.
    expected : str
        The client's fingerprint.
    mismatch : callable
        ``mismatch(found)``: the error message when the fingerprints differ.

    Returns
    -------
    object
        The value.
    """
    value, found = cached(key, make)
    if found != expected:
        raise RuntimeError(mismatch(found))
    return value


def load_data(settings: dict, expected_fingerprint: str):
    """The study's data set (cached per worker), checked against the client's fingerprint."""
    from xai_tf import runs
    from xai_tf._io import fingerprint

    def make():
        dataset = runs.load_data(settings, verbose=0)
        return dataset, fingerprint([dataset.images, dataset.labels])

    return checked(("data", json.dumps(settings, sort_keys=True)), make, expected_fingerprint, lambda found: (
        f"this worker loaded data with fingerprint {found}, the client {expected_fingerprint}: "
        "the data source differs between machines"))


def load_source(description: dict, expected_fingerprint: str):
    """The study's lazy source reopened from its description (cached per worker), checked by cheap fingerprint.

    Only metadata is read here; the rows are read a chunk at a time by the scorer
    (``xai_tf.study.sources.StudySource``).
    """
    from xai_tf.study.sources import open_study_source

    def make():
        source = open_study_source(description)
        return source, source.fingerprint()

    return checked(("source", json.dumps(description, sort_keys=True)), make, expected_fingerprint, lambda found: (
        f"this worker opened data with fingerprint {found}, the client {expected_fingerprint}: "
        "the data source differs between machines (the workers need the files at the same path)"))


def load_model(path: str, weights: str):
    """The model saved at ``path`` (cached per worker), checked against the client's weight fingerprint."""
    from xai_tf._io import fingerprint
    from xai_tf.models import load_model as load

    def make():
        model = load(path, name="model")
        return model, fingerprint(model.get_weights())

    return checked(("model", path, weights), make, weights, lambda found: (
        f"the model at {path} has weight fingerprint {found} on this worker, {weights} on the "
        "client: the workers need the study's output folder on a shared file system"))


@dataclass(frozen=True)
class ScoreTask:
    """One chunk of one model x method, for the denoiser cells that lack it: what a worker needs to score it.

    Built by ``xai_tf.study.model_tasks.plan_model``; run by :func:`score_task`. Every field is a
    plain value (JSON-able but ``backbone``), so the task pickles small and hashes into its key.

    Parameters
    ----------
    model_path : str
        The model's file (resolved).
    model_weights : str
        Its weights' fingerprint on the client (a worker checks its own against it).
    data : dict
        The study's data load settings (``xai_tf.runs.load_data``).
    data_fingerprint : str
        The data's fingerprint on the client (of a file-based source: its cheap fingerprint).
    chunk : int
        The chunk number.
    positions : list of int
        The chunk's positions in the cell's images.
    method : str
        The registry method.
    params : dict
        Its parameters.
    denoisers : list of dict
        ``[{"name", "denoiser", "params"}]``: the denoisers whose cells lack the chunk, in the study's order.
    metrics : list of str
        The metrics.
    options : dict
        Every option of the metrics.
    seed : int
        The study's seed.
    batch_size : int
        Most images per model call.
    targets : str
        What is explained (``"predicted"``, ``"label"`` or a target's command-line form).
    indices : list of int or None
        The cell's images (indices into the data set), for data held in memory; None for a file-based source.
    data_source : dict or None
        A file-based source's description (``xai_tf.study.sources``); None for data in memory.
    cell_rows : str or None
        With ``data_source``: a digest of the cell's indices (no task carries the whole cell).
    cell_size : int or None
        With ``data_source``: the cell's number of images.
    rows : list of int or None
        With ``data_source``: the chunk's rows in the source (only these are read).
    backbone : bytes or None
        The model's backbone record (:func:`ship_backbone`), for workers that must load it.
    """

    model_path: str
    model_weights: str
    data: dict
    data_fingerprint: str
    chunk: int
    positions: list
    method: str
    params: dict
    denoisers: list
    metrics: list
    options: dict
    seed: int
    batch_size: int
    targets: str
    indices: list | None = None
    data_source: dict | None = None
    cell_rows: str | None = None
    cell_size: int | None = None
    rows: list | None = None
    backbone: bytes | None = None


def score_task(unit: ScoreTask) -> dict:
    """Explain, denoise and score one chunk for one model x method and the denoisers it names.

    Parameters
    ----------
    unit : ScoreTask
        The chunk, its model, method, denoisers and metrics.

    Returns
    -------
    dict
        ``{denoiser name: (rows, arrays)}``; ``arrays["seconds"]`` is ``[explain, denoise + score]``
        seconds of that cell's share.
    """
    from xai_tf.denoising import denoise
    from xai_tf.evaluation.units import Unit, UnitScorer

    receive_backbone(unit.backbone)
    model = load_model(unit.model_path, unit.model_weights)
    if unit.data_source is not None:  # a file-based source: the chunk's rows only, read by the scorer
        source = load_source(unit.data_source, unit.data_fingerprint)
        # the cell's positions, filled with their source rows as this worker's units arrive (one view per cell)
        view = cached(("cell", unit.data_fingerprint, unit.cell_rows),
                      lambda: source.positions_view(unit.cell_size))
        view.fill(unit.positions, unit.rows)
        cell, make_data = unit.cell_rows, lambda: view
    else:
        dataset = load_data(unit.data, unit.data_fingerprint)
        indices = np.asarray(unit.indices, dtype=np.int64)
        cell, make_data = unit.indices, lambda: dataset.subset(indices)

    def make_scorer():
        return UnitScorer(model, make_data(), unit.metrics, unit.options, unit.seed, unit.batch_size,
                          {unit.method: unit.params}, unit.targets)

    scorer_key = ("scorer", unit.model_path, unit.model_weights, unit.data_fingerprint,
                  json.dumps([cell, unit.metrics, unit.options, unit.seed, unit.batch_size,
                              unit.method, unit.params, unit.targets], sort_keys=True))
    scorer = cached(scorer_key, make_scorer)
    work = Unit(int(unit.chunk), unit.method, np.asarray(unit.positions, dtype=np.int64))
    started = time.perf_counter()
    targets = scorer.targets(work.indices)
    maps = scorer.explain(work, targets)
    explain_seconds = time.perf_counter() - started
    results = {}
    for entry in unit.denoisers:
        started = time.perf_counter()
        cell_maps = maps if entry["denoiser"] == "none" else denoise(maps, entry["denoiser"], workers=1, verbose=0,
                                                                     **entry["params"])
        rows, arrays = scorer.score_maps(work, targets, cell_maps)
        arrays["seconds"] = np.array([explain_seconds, time.perf_counter() - started])
        results[entry["name"]] = (rows, arrays)
    return results
