"""``run(config)``: a whole study (train, explain, denoise, score, summarise), resumable cell by cell.

Folders under ``out``:

- ``models/<model>/``: the train run of each built model (``xai_tf.runs`` format; its ``config.json``
  records the settings it was trained with: a model is retrained only when they change, by the
  rule the demo uses too, ``xai_tf.runs.trained_with``);
- ``cells/<model>__<method>__<denoiser>__<hash>/``: one evaluation store per cell
  (``xai_tf.evaluation.store.Store``: ``config.json``, ``results.jsonl``, ``arrays/``, and its
  ``summary.json`` / ``table.csv``). ``hash`` covers only what decides the cell's results (see
  ``xai_tf.study.model_tasks.cell_config``), so changing one method's parameters gives that
  method's cells new folders and leaves every other cell as it is; an unchanged cell is skipped
  chunk by chunk;
- ``table.csv`` / ``table.json`` (model x method x denoiser: each metric column and the seconds
  the cell cost), ``models.csv`` / ``models.json`` (accuracy and F1 per model from the train runs'
  held-out reports) and ``study.json`` (the checked configuration and every cell's folder, hash,
  images, units computed and seconds). See ``xai_tf.study.output``;
- ``report.yaml`` / ``report.html`` unless the config says ``report: false`` (``xai_tf.study.report``).

The work is typed tasks (``xai_tf.study.model_tasks``): one ``ModelTask`` per model, built once,
trained where it needs training, then planned into its cells' ``ScoreTask``s (one per chunk and
method, serving every denoiser cell that lacks the chunk). ``run`` builds the tasks, submits them to
the engine, collects the results and writes. The client (this process) alone writes these folders;
units computed elsewhere come back as values (``xai_tf.study.tasks``), and each (cell, chunk) is
written once (a result that arrives twice, e.g. a task rerun after its worker died, is ignored).
The cells are evaluation stores filled by the evaluation unit (``xai_tf.evaluation.units``: the
same planning, resuming and writing as ``xai_tf.evaluate``; ``config.json`` from
``xai_tf.evaluation.config.build_config``).

Data: synthetic data (and the layouts only ``xai_tf.data.load`` reads) are loaded in memory here and
on each worker, fingerprinted whole; a file-based source (HDF5, ``.npy``, FITS or image folder) is
only opened here, and each score task carries its description and reads its chunk's rows alone
(``xai_tf.study.sources``), the cells recording the source's cheap fingerprint.
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from xai_tf.evaluation.config import check_data
from xai_tf.evaluation.units import Unit
from xai_tf.study import config as study_config
from xai_tf.study import engine, output, tasks
from xai_tf.study.model_tasks import cell_config, config_hash, model_task, open_data, plan_model, train_models

__all__ = ["cell_config", "config_hash", "run", "score_cells"]


def score_cells(pool, units: dict, cells: list[dict], stores: dict, resources, verbose: int, on_scored) -> int:
    """Run the score tasks on the engine and write each cell's share of a result once, as it arrives.

    Parameters
    ----------
    pool : xai_tf.study.engine.InProcess or xai_tf.study.engine.DaskCluster
        The open engine.
    units : dict
        ``{key: (ScoreTask, {denoiser name: cell hash}, label)}`` (``xai_tf.study.model_tasks.plan_model``).
    cells : list of dict
        The cells; each one's ``computed`` counts the chunks written.
    stores : dict
        ``{cell hash: xai_tf.evaluation.store.Store}``, open.
    resources : dict or None
        The Dask resources each task asks for.
    verbose : int
        0 quiet, 1 one line per task on stderr.
    on_scored : callable
        ``on_scored(key)`` after a task's results are written.

    Returns
    -------
    int
        The tasks computed.
    """
    by_hash = {cell["hash"]: cell for cell in cells}
    written, done = set(), [0]

    def scored(key, results):
        task, cell_hashes, label = units[key]
        for denoiser_name, (rows, arrays) in results.items():
            digest = cell_hashes[denoiser_name]
            if (digest, task.chunk) in written:
                continue  # the same task twice (a rerun after its worker died): written once
            stores[digest].write_unit(Unit(task.chunk, task.method, np.asarray(task.positions, dtype=np.int64)),
                                      rows, arrays)
            written.add((digest, task.chunk))
            by_hash[digest]["computed"] += 1
        done[0] += 1
        engine.say(verbose, f"unit {done[0]}/{len(units)}: {label} chunk {task.chunk} ({', '.join(results)})")
        on_scored(key)

    engine.say(verbose, f"{len(cells)} cells, {len(units)} units to compute "
               f"({sum(c['skipped'] for c in cells)} cell chunks already done)")
    pool.run(tasks.score_task, [(key, task) for key, (task, _, _) in units.items()], scored, resources)
    return done[0]


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
        study's data, a split other than ``all`` is asked for a model without a recorded split, or
        a model is built on a backbone registered here whose record cannot be sent to the training
        process (``xai_tf.study.tasks.ship_backbone``).
    TypeError
        If a configuration value or ``dask`` has the wrong type.
    """
    study = study_config.check_config(study_config.read_config(config))
    engine.check_dask(dask)
    out = Path(out or study["out"] or Path("runs") / "study" / study["name"])
    data = open_data(study)
    check_data(study["metrics"], study["options"], data.dataset, "the study's data")
    for model in study["models"]:
        if "path" in model and not Path(model["path"]).is_file():
            raise ValueError(f"models: {model['name']}: no model file at {model['path']}")
    started = time.perf_counter()
    notify = on_result or (lambda kind, key: None)
    with engine.engine_for(dask, study["resources"]) as pool:
        # 1. train what is not trained yet with these settings
        model_tasks = [model_task(study, model, out) for model in study["models"]]
        trained = []

        def on_trained(task, result):
            trained.append(task.key)
            engine.say(verbose, f"trained {task.name} ({result['seconds']:.0f} s)")
            notify("train", task.key)

        train_models(pool, model_tasks, study["resources"], on_trained)
        # 2. the cells: one store each; what is left to compute, one task per chunk for every denoiser
        cells, stores, units = [], {}, {}
        try:
            for task, model in zip(model_tasks, study["models"]):
                model_cells, model_units = plan_model(task, model, study, data, out, verbose, stores)
                cells += model_cells
                units.update(model_units)
            scored = score_cells(pool, units, cells, stores, study["resources"], verbose,
                                 lambda key: notify("score", key))
            summaries = {cell["hash"]: output.summarize_cell(cell) for cell in cells}
        finally:
            for store in stores.values():
                store.release()
    result = output.write_study(out, study, cells, summaries, seconds=time.perf_counter() - started)
    if study["report"]:  # after study.json: the report's study section reads it
        from xai_tf.study.report import write_report

        engine.say(verbose, f"wrote {write_report(out, study)}")
    result.update(computed={"train": len(trained), "units": scored},
                  skipped={"train": sum(task.settings is not None and task.key is None for task in model_tasks),
                           "cell_chunks": sum(cell["skipped"] for cell in cells)})
    return result
