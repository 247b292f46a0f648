"""The study's units of work, as plain functions that run in-process or on a Dask worker.

- :func:`train_task`: train one model (``xai_tf.runs.train``) in a temporary folder and return the
  run folder's files as bytes: the client writes them (one writer, and no shared disk needed).
- :func:`score_task`: explain one chunk of held-out images for one model x method, then, for each
  denoiser asked for, denoise the maps (``none`` keeps them) and score them with the metrics: the
  evaluation unit's own steps (``xai_tf.evaluation.units.UnitScorer``: ``explain`` with the chunk's
  seed, then ``score_maps``). One explanation serves every denoiser cell of the chunk. Returns
  ``{denoiser name: (rows, arrays)}``; it writes nothing.

Each worker process keeps what it loaded in a small cache (models keyed by path and weight
fingerprint, data sets by their settings, a file-based source by its description, scorers by model
and metric options), so a model is loaded once per worker however many tasks it gets. The results
are pure functions of the task's arguments (seeds come from the study seed and the chunk number),
so a task rerun after a worker died, or run in another process, gives the same rows.
"""
from __future__ import annotations

import json
import tempfile
import time
from collections import OrderedDict
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


TRAIN_SCRIPT = ("import json, sys; from xai_tf import runs; "
                "runs.train(sys.argv[1], verbose=0, **json.loads(sys.argv[2]))")


def train_task(settings: dict) -> dict:
    """Train one model as ``settings`` (``xai_tf.runs.TRAIN_DEFAULTS``' keys) say, in a fresh Python process.

    A fresh process because training inside a Dask worker gave other weights than the same
    settings in a plain process (seen with Keras 3 / TensorFlow 2 on CPU: the worker's threads and
    environment change the random streams), and a study must give the same models wherever it runs.

    Parameters
    ----------
    settings : dict
        ``xai_tf.runs.train`` settings.

    Returns
    -------
    dict
        ``{"files": {file name: bytes}, "report": classification report, "seconds": float}``.
    """
    import subprocess
    import sys

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="xai-tf-train-") as folder:
        done = subprocess.run([sys.executable, "-c", TRAIN_SCRIPT, folder, json.dumps(settings)],
                              check=False, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"training {settings.get('model')} failed (exit {done.returncode}):\n"
                               f"{done.stderr[-3000:]}")
        files = {path.name: path.read_bytes() for path in Path(folder).iterdir() if path.is_file()}
    report = json.loads(files["report.json"])
    return {"files": files, "report": report, "seconds": time.perf_counter() - started}


def load_data(settings: dict, expected_fingerprint: str):
    """The study's data set (cached per worker), checked against the client's fingerprint."""
    from xai_tf import runs
    from xai_tf._io import fingerprint

    def make():
        dataset = runs.load_data(settings, verbose=0)
        return dataset, fingerprint([dataset.images, dataset.labels])

    dataset, found = cached(("data", json.dumps(settings, sort_keys=True)), make)
    if found != expected_fingerprint:
        raise RuntimeError(f"this worker loaded data with fingerprint {found}, the client {expected_fingerprint}: "
                           "the data source differs between machines")
    return dataset


def load_source(description: dict, expected_fingerprint: str):
    """The study's lazy source reopened from its description (cached per worker), checked by cheap fingerprint.

    Only metadata is read here; the rows are read a chunk at a time by the scorer
    (``xai_tf.study.sources.StudySource``).
    """
    from xai_tf.study.sources import open_study_source

    def make():
        source = open_study_source(description)
        return source, source.fingerprint()

    source, found = cached(("source", json.dumps(description, sort_keys=True)), make)
    if found != expected_fingerprint:
        raise RuntimeError(f"this worker opened data with fingerprint {found}, the client {expected_fingerprint}: "
                           "the data source differs between machines (the workers need the files at the same path)")
    return source


def load_model(path: str, weights: str):
    """The model saved at ``path`` (cached per worker), checked against the client's weight fingerprint."""
    from xai_tf._io import fingerprint
    from xai_tf.models import load_model as load

    def make():
        model = load(path, name="model")
        return model, fingerprint(model.get_weights())

    model, found = cached(("model", path, weights), make)
    if found != weights:
        raise RuntimeError(f"the model at {path} has weight fingerprint {found} on this worker, {weights} on the "
                           "client: the workers need the study's output folder on a shared file system")
    return model


def score_task(unit: dict) -> dict:
    """Explain, denoise and score one chunk for one model x method and the denoisers it names.

    Parameters
    ----------
    unit : dict
        ``model_path``, ``model_weights`` (fingerprint), ``data`` (load settings), ``data_fingerprint``,
        ``indices`` (the cell's images: indices into the data set), or for a file-based source
        ``data_source`` (its description, ``xai_tf.study.sources``), ``cell_rows`` (a digest of the
        cell's indices), ``cell_size`` and ``rows`` (the chunk's rows in the source: only these are
        read, and no unit carries the whole cell), ``chunk``, ``positions`` (the
        chunk's positions in ``indices``), ``method``, ``params``, ``denoisers`` (``[{"name",
        "denoiser", "params"}]``), ``metrics``, ``options``, ``seed``, ``batch_size``, ``targets``.

    Returns
    -------
    dict
        ``{denoiser name: (rows, arrays)}``; ``arrays["seconds"]`` is ``[explain, denoise + score]``
        seconds of that cell's share.
    """
    from xai_tf.denoising import denoise
    from xai_tf.evaluation.units import Unit, UnitScorer

    model = load_model(unit["model_path"], unit["model_weights"])
    if unit.get("data_source") is not None:  # a file-based source: the chunk's rows only, read by the scorer
        source = load_source(unit["data_source"], unit["data_fingerprint"])
        # the cell's positions, filled with their source rows as this worker's units arrive (one view per cell)
        view = cached(("cell", unit["data_fingerprint"], unit["cell_rows"]),
                      lambda: source.positions_view(unit["cell_size"]))
        view.fill(unit["positions"], unit["rows"])
        cell, make_data = unit["cell_rows"], lambda: view
    else:
        dataset = load_data(unit["data"], unit["data_fingerprint"])
        indices = np.asarray(unit["indices"], dtype=np.int64)
        cell, make_data = unit["indices"], lambda: dataset.subset(indices)

    def make_scorer():
        return UnitScorer(model, make_data(), unit["metrics"], unit["options"], unit["seed"], unit["batch_size"],
                           {unit["method"]: unit["params"]}, unit["targets"])

    scorer_key = ("scorer", unit["model_path"], unit["model_weights"], unit["data_fingerprint"],
                  json.dumps([cell, unit["metrics"], unit["options"], unit["seed"], unit["batch_size"],
                              unit["method"], unit["params"], unit["targets"]], sort_keys=True))
    scorer = cached(scorer_key, make_scorer)
    work = Unit(int(unit["chunk"]), unit["method"], np.asarray(unit["positions"], dtype=np.int64))
    started = time.perf_counter()
    targets = scorer.targets(work.indices)
    maps = scorer.explain(work, targets)
    explain_seconds = time.perf_counter() - started
    results = {}
    for entry in unit["denoisers"]:
        started = time.perf_counter()
        cell_maps = maps if entry["denoiser"] == "none" else denoise(maps, entry["denoiser"], workers=1, verbose=0,
                                                                     **entry["params"])
        rows, arrays = scorer.score_maps(work, targets, cell_maps)
        arrays["seconds"] = np.array([explain_seconds, time.perf_counter() - started])
        results[entry["name"]] = (rows, arrays)
    return results
