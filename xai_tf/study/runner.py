"""``run(config)``: a whole study (train, explain, denoise, score, summarise), resumable cell by cell.

Folders under ``out``:

- ``models/<model>/``: the train run of each built model (``xai_tf.runs`` format; its ``config.json``
  records the settings it was trained with: a model is retrained only when they change, by the
  rule the demo uses too, ``xai_tf.runs.trained_with``);
- ``cells/<model>__<method>__<denoiser>__<hash>/``: one evaluation store per cell
  (``xai_tf.evaluation.store.Store``: ``config.json``, ``results.jsonl``, ``arrays/``, and its
  ``summary.json`` / ``table.csv``). ``hash`` covers only what decides the cell's results (see
  :func:`cell_config`), so changing one method's parameters gives that method's cells new folders
  and leaves every other cell as it is; an unchanged cell is skipped chunk by chunk;
- ``table.csv`` / ``table.json`` (model x method x denoiser: each metric column and the seconds
  the cell cost), ``models.csv`` / ``models.json`` (accuracy and F1 per model from the train runs'
  held-out reports) and ``study.json`` (the checked configuration and every cell's folder, hash,
  images, units computed and seconds). See ``xai_tf.study.output``;
- ``report.yaml`` / ``report.html`` unless the config says ``report: false`` (``xai_tf.study.report``).

The client (this process) alone writes these folders; units computed elsewhere come back as values
(``xai_tf.study.tasks``), and each (cell, chunk) is written once (a result that arrives twice, e.g. a
task rerun after its worker died, is ignored). The cells are evaluation stores filled by the
evaluation unit (``xai_tf.evaluation.units``: the same planning, resuming and writing as
``xai_tf.evaluate``; ``config.json`` from ``xai_tf.evaluation.config.build_config``).

Data: synthetic data (and the layouts only ``xai_tf.data.load`` reads) are loaded in memory here and
on each worker, fingerprinted whole; a file-based source (HDF5, ``.npy``, FITS or image folder) is
only opened here, and each score task carries its description and reads its chunk's rows alone
(``xai_tf.study.sources``), the cells recording the source's cheap fingerprint.
"""
from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import numpy as np

from xai_tf._io import fingerprint, write_atomic
from xai_tf.evaluation.config import TARGETS, build_config, check_data
from xai_tf.evaluation.store import Store
from xai_tf.evaluation.units import Unit, pending_units, plan_units
from xai_tf.study import config as study_config
from xai_tf.study import engine, output, tasks
from xai_tf.study import sources as study_sources


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


def _write_train_run(folder: Path, result: dict) -> None:
    """Write a train run computed elsewhere into ``folder``; its ``config.json`` last (``runs.trained_with``)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").unlink(missing_ok=True)  # a half-written folder is retrained next time
    files = dict(result["files"])
    record = json.loads(files.pop("config.json"))
    record.setdefault("arguments", {})["out"] = str(folder)  # it trained in a temporary folder: where it lives now
    for name, data in files.items():
        write_atomic(folder / name, data)
    write_atomic(folder / "config.json", json.dumps(record, indent=2, default=str).encode())


def run(config, out=None, dask=None, *, verbose: int = 1, on_result=None) -> dict:
    """Run a study: train its models, then score every model x method x denoiser cell.

    Parameters
    ----------
    config : dict, str or pathlib.Path
        The study (``xai_tf.study.config`` describes the format): a dict, a ``.yaml``/``.json`` file
        or a shipped study's name (``xai_tf.study.shipped_studies()``).
    out : str or pathlib.Path, optional
        Output folder; default the config's ``out``, else ``runs/study/<name>``.
    dask : None, str or distributed.Client, optional
        Where the units run (``xai_tf.study.engine``): None (default) in this process,
        ``"local:N"`` a ``LocalCluster`` of N processes, ``"tcp://host:port"`` a running
        scheduler, or a ``distributed.Client`` used as it is.
    verbose : int, optional
        0 quiet, 1 (default) one line per unit of work on stderr.
    on_result : callable, optional
        ``on_result(kind, key)`` after each unit's results are written (``kind`` "train" or "score").

    Returns
    -------
    dict
        ``study.json``'s content: ``config``, ``cells`` (per cell: model, method, denoiser, hash,
        folder, registry method, images, computed and skipped chunks), ``models`` (accuracy and F1
        per model), ``table`` (the rows of ``table.csv``), ``seconds`` (wall time), ``out``; plus the
        ``computed`` (``{"train", "units"}``) and ``skipped`` (``{"train", "cell_chunks"}``) totals,
        which ``study.json`` does not hold.

    Raises
    ------
    ValueError
        If the configuration or ``dask`` is invalid (:func:`xai_tf.study.check_config`), a loaded
        model's file is missing, a model's input shape or number of classes does not fit the
        study's data, or a split other than ``all`` is asked for a model without a recorded split.
    TypeError
        If a configuration value or ``dask`` has the wrong type.
    """
    from xai_tf.models import load_model
    from xai_tf.models.head import head_of
    from xai_tf.runs import load_data, run_folder_of, split_of, trained_with

    study = study_config.check_config(study_config.read_config(config))
    engine.check_dask(dask)
    out = Path(out or study["out"] or Path("runs") / "study" / study["name"])
    settings = study_config.load_settings(study)
    lazy = study_sources.open_study_data(study["data"])  # a file-based source: its rows are read by the workers
    if lazy is None:  # synthetic data and the layouts only xai_tf.data.load reads: in memory, as always
        dataset = load_data(settings, verbose=0)
        data_fingerprint = fingerprint([dataset.images, dataset.labels])
    else:
        dataset, data_fingerprint, full_fingerprints = lazy, lazy.fingerprint(), {}
    description = None if lazy is None else lazy.describe()  # what every unit names to its worker
    check_data(study["metrics"], study["options"], dataset, "the study's data")
    for model in study["models"]:
        if "path" in model and not Path(model["path"]).is_file():
            raise ValueError(f"models: {model['name']}: no model file at {model['path']}")
    started = time.perf_counter()
    counts = {"train": [0, 0], "score": [0, 0]}
    with engine.engine_for(dask, study["resources"]) as pool:
        # 1. train what is not trained yet with these settings
        to_train = {}
        for model in study["models"]:
            if "train" in model:
                model["folder"] = out / "models" / model["name"]
                model["path"] = str(model["folder"] / "model.keras")
                model["settings"] = study_config.train_settings_of(study, model)
                if trained_with(model["folder"], model["settings"]):
                    counts["train"][1] += 1
                else:
                    to_train[f"xai-tf-train-{model['name']}-{config_hash(model['settings'])}"] = model

        def trained(key, result):
            model = to_train[key]
            _write_train_run(model["folder"], result)
            counts["train"][0] += 1
            engine.say(verbose, f"trained {model['name']} ({result['seconds']:.0f} s)")
            if on_result is not None:
                on_result("train", key)

        pool.run(tasks.train_task, [(key, m["settings"]) for key, m in to_train.items()], trained, study["resources"])

        # 2. the cells: one store each; what is left to compute, grouped so one explanation serves every denoiser
        cells, stores, groups = [], {}, {}
        try:
            for model in study["models"]:
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
                folder = run_folder_of(model["path"])
                if study["split"] != "all" and folder is None:
                    raise ValueError(f"models: {model['name']}: split {study['split']!r} needs the split its train run "
                                     f"recorded (no split.json beside {model['path']}); use split: all")
                if folder is None:
                    indices = np.arange(len(dataset), dtype=np.int64)
                elif lazy is not None:
                    indices = study_sources.split_indices(folder, lazy, study["split"], full_fingerprints)
                else:
                    indices = split_of(folder, dataset, study["split"])[1]
                del keras_model
                # once per model: every unit refers to this one list (a file-based source's units carry only
                # their own rows and the list's digest, so no unit is the size of the data set)
                index_list = [int(i) for i in indices]
                rows_digest = None if lazy is None else \
                    hashlib.sha256(np.asarray(indices, np.int64).tobytes()).hexdigest()[:16]
                for method in study["methods"]:
                    for denoiser in study["denoisers"]:
                        cfg = cell_config(study, model, method, denoiser, data_fingerprint, indices)
                        digest = config_hash(cfg)
                        cell = {"model": model["name"], "method": method["name"], "denoiser": denoiser["name"],
                                "hash": digest, "folder": out / "cells" /
                                f"{model['name']}__{method['name']}__{denoiser['name']}__{digest}",
                                "registry_method": method["method"], "images": len(indices)}
                        store = Store(cell["folder"], verbose)
                        store.open(cfg, "study")
                        stores[digest] = store
                        units = plan_units(len(indices), study["chunk_size"], [method["method"]])
                        todo = pending_units(store, units)
                        cell.update(computed=0, skipped=len(units) - len(todo))
                        cells.append(cell)
                        for unit in todo:
                            chunk, positions = unit.chunk, unit.indices
                            group = groups.setdefault((model["name"], method["name"], chunk), {
                                "model_path": str(Path(model["path"]).resolve()), "model_weights": model["weights"],
                                "data": settings, "data_fingerprint": data_fingerprint,
                                "chunk": int(chunk),
                                "positions": [int(p) for p in positions], "method": method["method"],
                                "params": method["params"], "denoisers": [], "metrics": study["metrics"],
                                "options": study["options"], "seed": study["seed"],
                                "batch_size": study["batch_size"], "targets": study["targets"], "cells": {}})
                            if lazy is not None:  # the chunk's rows only: a worker reads nothing else
                                group.update(data_source=description, cell_rows=rows_digest,
                                             cell_size=len(index_list), rows=[index_list[p] for p in positions])
                            else:
                                group["indices"] = index_list
                            group["denoisers"].append(denoiser)
                            group["cells"][denoiser["name"]] = digest
            by_hash = {cell["hash"]: cell for cell in cells}
            units, labels, written = {}, {}, set()
            for (model_name, method_name, chunk), group in groups.items():
                digest = config_hash({key: value for key, value in group.items() if key != "data"})
                key = f"xai-tf-score-{model_name}-{method_name}-{chunk}-{digest}"
                units[key], labels[key] = group, f"{model_name} x {method_name}"

            def scored(key, results):
                group = units[key]
                for denoiser_name, (rows, arrays) in results.items():
                    digest = group["cells"][denoiser_name]
                    if (digest, group["chunk"]) in written:
                        continue  # the same unit twice (a rerun task): written once
                    unit = Unit(group["chunk"], group["method"], np.asarray(group["positions"], dtype=np.int64))
                    stores[digest].write_unit(unit, rows, arrays)
                    written.add((digest, group["chunk"]))
                    by_hash[digest]["computed"] += 1
                counts["score"][0] += 1
                engine.say(verbose, f"unit {counts['score'][0]}/{len(units)}: {labels[key]} chunk {group['chunk']} "
                           f"({', '.join(results)})")
                if on_result is not None:
                    on_result("score", key)

            engine.say(verbose, f"{len(cells)} cells, {len(units)} units to compute "
                       f"({sum(c['skipped'] for c in cells)} cell chunks already done)")
            pool.run(tasks.score_task, [(key, {k: v for k, v in group.items() if k != "cells"})
                                        for key, group in units.items()], scored, study["resources"])
            counts["score"][1] = sum(cell["skipped"] for cell in cells)
            summaries = {cell["hash"]: output.summarize_cell(cell) for cell in cells}
        finally:
            for store in stores.values():
                store.release()
    result = output.write_study(out, study, cells, summaries, seconds=time.perf_counter() - started)
    if study["report"]:  # after study.json: the report's study section reads it
        from xai_tf.study.report import write_report

        engine.say(verbose, f"wrote {write_report(out, study)}")
    result.update(computed={"train": counts["train"][0], "units": counts["score"][0]},
                  skipped={"train": counts["train"][1], "cell_chunks": counts["score"][1]})
    return result
