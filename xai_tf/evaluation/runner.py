"""``evaluate``: explain every image with every method, score the maps with every metric, resumably.

The steps are the evaluation unit's (``xai_tf.evaluation.units``): plan the units of the
configuration, skip those the store already holds, explain and score the rest one by one, write
each as soon as it is done. See ``xai_tf.evaluation`` for the folder, the shards and resuming.
"""
from __future__ import annotations

import sys
import time

import numpy as np

from xai_tf._checks import check_choice, check_names, check_positive, check_seed
from xai_tf._io import fingerprint
from xai_tf._progress import progress
from xai_tf.evaluation.config import (
    build_config,
    check_data,
    check_options,
    check_targets,
)
from xai_tf.evaluation.shards import parse_shard
from xai_tf.evaluation.store import EvaluationError, Store
from xai_tf.evaluation.summary import summarize
from xai_tf.evaluation.units import UnitScorer, pending_units, plan_units


def as_data(data):
    """``LabelledImages`` or a lazy ``ImageSource`` as is; an images array as unlabelled images (class "?")."""
    from xai_tf.data import ImageSource, LabelledImages

    if isinstance(data, (LabelledImages, ImageSource)):
        return data
    if isinstance(data, np.ndarray):
        images = np.asarray(data, dtype=np.float32)
        return LabelledImages(images=images, labels=np.zeros(len(images), np.int64), class_names=("?",))
    raise TypeError(f"data must be a LabelledImages (xai_tf.data.load), an ImageSource (xai_tf.data.open) or an images "
                    f"array; got {type(data).__name__}")


def evaluate(model, data, methods, metrics, out_dir, shard=None, *, seed: int = 0, chunk_size: int = 8,
             batch_size: int = 64, targets: str = "predicted", options: dict | None = None,
             method_params: dict | None = None, verbose: int = 1, extra_config: dict | None = None) -> dict:
    """Score ``methods`` with ``metrics`` on every image of ``data`` (or of one shard), resumably.

    Parameters
    ----------
    model : keras.Model, tf_keras model or path
        The classifier, a live tf_keras (Keras 2) model, or a saved model (``.keras``, Keras 2 ``.h5``,
        a SavedModel folder: ``xai_tf.models.load_model``).
    data : LabelledImages, ImageSource or ndarray
        ``xai_tf.data.load(...)`` (masks or boxes needed for ``pointing_game``), a lazy source
        (``xai_tf.data.open(...)``: each unit reads only its chunk's rows; the results are those of
        the same images in memory, ``config.json``'s ``data_fingerprint`` is the source's cheap one)
        or images ``(N, H, W, C)`` in [0, 1].
    methods : str or list of str
        Names from ``xai_tf.list_methods()`` (a list, or one comma-separated string).
    metrics : str or list of str
        Names of ``xai_tf.metrics.METRICS`` (a list, or one comma-separated string).
    out_dir : path
        Output folder (created); see ``xai_tf.evaluation`` for its files.
    shard : None, "k/n" or (k, n)
        Score only the k-th of n shards (1-based); default all images.
    seed : int
        Seed of stochastic methods, PIC random masks, Max-Sensitivity noise and randomised models.
    chunk_size : int
        Consecutive images scored together: the unit of work and of resuming (default 8).
    batch_size : int
        Most images per compiled model call (default 64).
    targets : {"predicted", "label"}, Target or str, optional
        Explain the model's predicted class (default) or the label; or another target
        (``xai_tf.targets``: ``Regression()``, ``Segmentation(1)``, a callable, or its command-line
        form such as ``"regression:0"`` or ``"segmentation:class=1"``), resolved on each image as given.
    options : dict, optional
        Overrides of the metrics' options (``xai_tf.metrics.registry.default_options()``: PIC entropy,
        blur, thresholds, minimum prediction, Max-Sensitivity radius and samples, Pointing Game
        tolerance, randomisation modes, entropy format). Every option is checked before anything is
        written, so a typo leaves the folder usable for the corrected run.
    method_params : dict, optional
        ``{method: {parameter: value}}`` passed to ``xai_tf.explain``.
    verbose : {0, 1, 2}
        0 silent, 1 progress bar on a terminal, 2 always.
    extra_config : dict, optional
        More JSON-able entries recorded (and compared) in ``config.json``.

    Returns
    -------
    dict
        The shard's summary (also written to ``summary.json``, see ``summarize``) with ``computed`` /
        ``skipped`` counts of (chunk, method) units and the problems ``reported`` while resuming.

    Raises
    ------
    ValueError
        Before anything is written: an unknown method, metric, option or ``targets``, a metric that
        does not support the target (AIC/SIC, ROAD and Random Logit need classes), a bad
        ``shard``, ``chunk_size`` or ``batch_size``, an option value out of range, a metric that
        needs masks or boxes the data lacks, or an option that does not fit the images' size.
    TypeError
        Before anything is written: ``method_params`` naming a parameter the method does not take,
        ``data`` that is neither ``LabelledImages`` nor an array, or a value of the wrong type.
    EvaluationError
        If another live process writes ``out_dir``, or ``out_dir`` holds results of a different
        configuration (the differing keys are named). A subclass of ``ValueError``.
    """
    from xai_tf.explainers import list_methods, method_parameters
    from xai_tf.metrics.registry import METRICS

    methods = list(check_names(methods, "methods", list_methods()))
    metrics = list(check_names(metrics, "metrics", METRICS))
    check_positive(chunk_size, "chunk_size", integer=True)
    check_positive(batch_size, "batch_size", integer=True)
    seed = check_seed(seed)
    targets = check_targets(targets, metrics)
    options = check_options(metrics, options)
    shard = parse_shard(shard)
    method_params = {key: dict(value) for key, value in (method_params or {}).items()}
    for method, params in method_params.items():
        check_choice(method, "method_params", methods)
        unknown = sorted(set(params) - set(method_parameters(method)) - {"layer"})
        if unknown:
            raise TypeError(f"method_params[{method!r}] has unexpected parameter(s) {unknown}; {method} accepts: "
                            f"{', '.join(method_parameters(method)) or '(none)'}")

    model, model_name = _load(model)
    data = as_data(data)
    check_data(metrics, options, data)
    config = build_config(
        methods=methods, metrics=metrics, options=options, method_params=method_params, seed=seed,
        chunk_size=chunk_size, batch_size=batch_size, targets=targets if isinstance(targets, str) else targets.spec(),
        shard=shard,
        model_weights=fingerprint(model.get_weights()), data_images=len(data), data_shape=data.image_shape,
        data_fingerprint=data.fingerprint() if hasattr(data, "read") else fingerprint([data.images, data.labels]),
        model=model_name, **(extra_config or {}))
    store = Store(out_dir, verbose)
    store.open(config, config["shard"] or "all")
    try:
        scorer = UnitScorer(model, data, metrics, options, seed, batch_size, method_params, targets)
        units = plan_units(len(data), chunk_size, methods, shard)
        if getattr(data, "skip_bad", False):  # a lazy source's bad images: left out, listed in skipped.json
            from xai_tf.evaluation.skipping import SkippingScorer

            scorer = SkippingScorer(scorer, store.root)
            units = scorer.planned(units)
        counts = _run(store, scorer, units, verbose)
        summary = summarize([store.root], write_to=store.root)
    finally:
        store.release()
    summary.update(counts, reported=store.reports)
    return summary


def _load(model):
    """A ``keras.Model`` as is, or the model saved at a path (one loader: ``xai_tf.models.load_model``)."""
    import keras

    if isinstance(model, keras.Model):
        return model, getattr(model, "name", type(model).__name__)
    from xai_tf.models import load_model

    return load_model(model, name="model"), str(getattr(model, "name", model))


def _run(store: Store, scorer: UnitScorer, units, verbose) -> dict:
    """Compute the units the store lacks, writing each as it finishes; ``{"computed", "skipped"}``."""
    todo = pending_units(store, units)
    total = sum(len(unit.indices) for unit in units)
    bar = progress(total=total, desc="evaluate (images x methods)", verbose=verbose)
    bar.update(total - sum(len(unit.indices) for unit in todo))
    # Without a terminal (a batch job's log) the bar is off: one line per unit of work instead.
    lines = verbose >= 1 and not sys.stderr.isatty()
    for number, unit in enumerate(todo, start=1):
        started = time.perf_counter()
        upcoming = next((later.indices for later in todo[number:] if later.chunk != unit.chunk), None)
        if upcoming is not None and hasattr(scorer, "prefetch"):  # a lazy source reads the next chunk meanwhile
            scorer.prefetch(upcoming)
        rows, arrays = scorer.score(unit)
        if rows:  # none when every image of the unit was skipped (skip_bad)
            store.write_unit(unit, rows, arrays)
        bar.update(len(unit.indices))
        if lines:
            print(f"xai-tf evaluate: unit {number}/{len(todo)} done: chunk {unit.chunk}, {unit.method}, "
                  f"{len(unit.indices)} images, {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
    bar.close()
    return {"computed": len(todo), "skipped": len(units) - len(todo)}


__all__ = ["EvaluationError", "evaluate"]
