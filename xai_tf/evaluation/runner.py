"""The runner: explain every image with every method, score the maps with every metric, resumably.

Units of work are (chunk, method): ``chunk_size`` consecutive images explained by one method and
scored by each metric of ``xai_tf.metrics.registry.METRICS`` that was asked for. Each unit is a pure
function of its images and of seeds derived from ``(seed, chunk)`` (the stochastic methods) and
``(seed, image index)`` (PIC's random masks, Max-Sensitivity's noise), so results do not depend on
which shard or process computed them (see ``xai_tf.evaluation`` for the folder and the shards).
"""
from __future__ import annotations

import sys
import time

import numpy as np

from xai_tf._checks import check_choice, check_names, check_positive, check_seed
from xai_tf._progress import progress
from xai_tf._random import seed_for
from xai_tf.evaluation.store import EvaluationError, Store, fingerprint, json_value

TARGETS = ("predicted", "label")


def parse_shard(shard) -> tuple[int, int] | None:
    """``None``, ``"k/n"``, ``(k, n)`` or ``"auto"`` -> ``(k, n)`` with ``1 <= k <= n``.

    ``"auto"`` reads a SLURM array job's environment: ``n = SLURM_ARRAY_TASK_COUNT`` and
    ``k = (SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN) // SLURM_ARRAY_TASK_STEP + 1`` (MIN defaults to
    0 and STEP to 1 when unset), so ``--array=0-3`` and ``--array=1-4`` both give shards 1/4 ... 4/4.
    """
    if shard is None:
        return None
    if isinstance(shard, str) and shard.strip() == "auto":
        return _slurm_shard()
    if isinstance(shard, str):
        parts = shard.split("/")
        if len(parts) != 2 or not all(p.strip().isdigit() for p in parts):
            raise ValueError(f"shard must look like 'k/n' (e.g. 2/4) or 'auto'; got {shard!r}")
        shard = (int(parts[0]), int(parts[1]))
    k, n = (int(v) for v in shard)
    if not 1 <= k <= n:
        raise ValueError(f"shard must be k/n with 1 <= k <= n; got {k}/{n}")
    return k, n


def _slurm_shard() -> tuple[int, int]:
    """The (k, n) of this SLURM array task (see ``parse_shard``); ValueError outside an array job."""
    import os

    names = ("SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_COUNT")
    missing = [name for name in names if not os.environ.get(name)]
    if missing:
        raise ValueError(f"shard='auto' needs {' and '.join(missing)} (set by `sbatch --array`); use shard='k/n' "
                         "outside a SLURM array job")
    values = {}
    for name, default in (("SLURM_ARRAY_TASK_ID", None), ("SLURM_ARRAY_TASK_COUNT", None),
                          ("SLURM_ARRAY_TASK_MIN", "0"), ("SLURM_ARRAY_TASK_STEP", "1")):
        text = os.environ.get(name) or default
        if not text.strip().isdigit():
            raise ValueError(f"shard='auto': {name}={text!r} is not a non-negative integer")
        values[name] = int(text)
    step = values["SLURM_ARRAY_TASK_STEP"] or 1
    k = (values["SLURM_ARRAY_TASK_ID"] - values["SLURM_ARRAY_TASK_MIN"]) // step + 1
    return parse_shard((k, values["SLURM_ARRAY_TASK_COUNT"]))


def shard_chunks(n: int, chunk_size: int, shard) -> list[tuple[int, np.ndarray]]:
    """The (chunk number, image indices) a shard scores: chunks of consecutive images, ``c % n == k - 1``."""
    chunks = [(c, np.arange(start, min(start + chunk_size, n))) for c, start in enumerate(range(0, n, chunk_size))]
    if shard is None:
        return chunks
    k, count = shard
    return [(c, indices) for c, indices in chunks if c % count == k - 1]


def check_options(metrics, options: dict | None) -> dict:
    """All options of the registered metrics: defaults overridden by ``options``, each checked.

    Raises ValueError for an option no registered metric has (the valid ones are listed), and the
    option's own TypeError/ValueError for a bad value; nothing is written before this passes.
    """
    from xai_tf.metrics.registry import all_options

    known = all_options()
    unknown = sorted(set(options or {}) - set(known))
    if unknown:
        raise ValueError(f"options {unknown} are unknown; valid: {', '.join(known)}")
    given = dict(options or {})
    checked = {}
    for name, option in known.items():
        try:
            checked[name] = option.check(given.get(name, option.default))
        except (TypeError, ValueError) as error:
            if name in str(error):
                raise
            raise type(error)(f"options[{name!r}]: {error}") from None
    return checked


def as_data(data):
    """``LabelledImages`` as is; an images array as unlabelled images (class "?")."""
    from xai_tf.data import LabelledImages

    if isinstance(data, LabelledImages):
        return data
    if isinstance(data, np.ndarray):
        images = np.asarray(data, dtype=np.float32)
        return LabelledImages(images=images, labels=np.zeros(len(images), np.int64), class_names=("?",))
    raise TypeError(f"data must be a LabelledImages (xai_tf.data.load) or an images array; got {type(data).__name__}")


class ChunkScorer:
    """Scores one chunk of images for one method with the chosen metrics; pure given the chunk's seeds."""

    def __init__(self, model, data, metrics, options, seed, batch_size, method_params, targets_from):
        from xai_tf.metrics.registry import METRICS

        self.model, self.data, self.options = model, data, options
        self.metrics = [METRICS[name] for name in metrics]
        self.seed, self.batch_size, self.method_params = seed, batch_size, method_params
        self.targets_from = targets_from
        self._randomized = {}

    def randomized(self, mode: str):
        """The model with re-initialised weights (``"full"`` or ``"semi"``), made once per run."""
        if mode not in self._randomized:
            from xai_tf.metrics.randomization import randomized_copy
            self._randomized[mode] = randomized_copy(self.model, mode, self.seed)
        return self._randomized[mode]

    def targets(self, indices: np.ndarray) -> np.ndarray:
        """The explained classes of the images at ``indices`` (the model head's targets rule), int64."""
        from xai_tf.models.head import head_of

        given = self.data.labels[indices] if self.targets_from == "label" else None
        return head_of(self.model).targets(self.data.images[indices], given, self.batch_size, name="labels")

    def score(self, chunk: int, method: str, indices: np.ndarray) -> tuple[list[dict], dict]:
        """``(rows, arrays)`` of one unit: one row per image, and the arrays saved beside the rows."""
        from xai_tf.explainers import explain

        images = self.data.images[indices]
        targets = self.targets(indices)
        params = dict(self.method_params.get(method, {}))
        maps = explain(self.model, images, method, targets, batch_size=self.batch_size, verbose=0,
                       seed=seed_for(self.seed, chunk), **params)
        return self.score_maps(chunk, method, indices, targets, maps)

    def score_maps(self, chunk: int, method: str, indices: np.ndarray, targets: np.ndarray,
                   maps: np.ndarray) -> tuple[list[dict], dict]:
        """``(rows, arrays)`` of one unit whose maps are given (e.g. denoised maps of ``method``).

        Parameters
        ----------
        chunk : int
            The chunk number (its seed is ``seed_for(seed, chunk)``, as in :meth:`score`).
        method : str
            The method that made ``maps``; metrics with ``scores == "method"`` re-run it as it is.
        indices : ndarray
            ``(B,)`` positions of the chunk's images in the data.
        targets : ndarray
            ``(B,)`` int64 explained classes (:meth:`targets`).
        maps : ndarray
            ``(B, H, W)`` maps scored by the metrics with ``scores == "maps"``.

        Returns
        -------
        tuple
            ``(rows, arrays)`` exactly as :meth:`score` returns for the maps the method made.
        """
        from xai_tf.metrics.protocol import Chunk

        images = self.data.images[indices]
        chunk_seed = seed_for(self.seed, chunk)
        params = dict(self.method_params.get(method, {}))
        unit = Chunk(model=self.model, method=method, images=images, indices=indices, targets=targets, maps=maps,
                     seed=self.seed, chunk_seed=chunk_seed, batch_size=self.batch_size, params=params,
                     masks=None if self.data.masks is None else self.data.masks[indices],
                     boxes=None if not self.data.boxes else [self.data.boxes[i] for i in indices],
                     randomized=self.randomized)
        columns: dict[str, list] = {}
        arrays = {"indices": indices, "targets": targets, "maps": maps}
        if unit.masks is not None:  # the ground truth beside the maps: findings need no data reload
            arrays["masks"] = unit.masks.astype(bool)
        for metric in self.metrics:
            metric_columns, metric_arrays = metric.score(unit, self.options)
            columns.update(metric_columns)
            arrays.update(metric_arrays)
        rows = []
        for position, index in enumerate(indices):
            row = {"image": int(index), "method": method, "chunk": chunk, "target": int(targets[position]),
                   "label": int(self.data.labels[index])}
            row.update({name: json_value(values[position]) for name, values in columns.items()})
            rows.append(row)
        return rows, arrays


def evaluate(model, data, methods, metrics, out_dir, shard=None, *, seed: int = 0, chunk_size: int = 8,
             batch_size: int = 64, targets: str = "predicted", options: dict | None = None,
             method_params: dict | None = None, verbose: int = 1, extra_config: dict | None = None) -> dict:
    """Score ``methods`` with ``metrics`` on every image of ``data`` (or of one shard), resumably.

    Parameters
    ----------
    model : keras.Model, tf_keras model or path
        The classifier, a live tf_keras (Keras 2) model, or a saved model (``.keras``, Keras 2 ``.h5``,
        a SavedModel folder: ``xai_tf.models.load_model``).
    data : LabelledImages or ndarray
        ``xai_tf.data.load(...)`` (masks or boxes needed for ``pointing_game``) or images ``(N, H, W, C)``
        in [0, 1].
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
    targets : {"predicted", "label"}
        Explain the model's predicted class (default) or the label.
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
    """
    from xai_tf.evaluation.summary import summarize
    from xai_tf.explainers import list_methods, method_parameters
    from xai_tf.metrics.registry import METRICS

    methods = list(check_names(methods, "methods", list_methods()))
    metrics = list(check_names(metrics, "metrics", METRICS))
    check_positive(chunk_size, "chunk_size", integer=True)
    check_positive(batch_size, "batch_size", integer=True)
    seed = check_seed(seed)
    targets = check_choice(targets, "targets", TARGETS)
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
    for name in metrics:
        if METRICS[name].ground_truth and data.masks is None and not data.boxes:
            raise ValueError(f"metric {name!r} needs ground truth ({METRICS[name].ground_truth}): the data has "
                             "neither masks nor boxes")
    config = {
        "methods": methods, "metrics": metrics, "seed": seed, "chunk_size": int(chunk_size),
        "batch_size": int(batch_size), "targets": targets, "options": options, "method_params": method_params,
        "shard": None if shard is None else f"{shard[0]}/{shard[1]}",
        "model": model_name, "model_weights": fingerprint(model.get_weights()),
        "data_images": len(data.images), "data_shape": list(data.images.shape[1:]),
        "data_fingerprint": fingerprint([data.images, data.labels]), **(extra_config or {}),
    }
    store = Store(out_dir, verbose)
    store.root.mkdir(parents=True, exist_ok=True)
    store.acquire(config["shard"] or "all")
    try:
        store.check_config(config)
        counts = _run(store, ChunkScorer(model, data, metrics, options, seed, batch_size, method_params, targets),
                      len(data.images), methods, config, shard, verbose)
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


def _run(store: Store, scorer: ChunkScorer, n: int, methods, config, shard, verbose) -> dict:
    rows = store.read_rows()
    done_rows = {(row["image"], row["method"]) for row in rows}
    chunks = shard_chunks(n, config["chunk_size"], shard)
    todo = []
    for chunk, indices in chunks:
        for method in methods:
            have_rows = all((int(i), method) in done_rows for i in indices)
            arrays = store.read_arrays(chunk, method, indices) if have_rows else None
            if have_rows and arrays is not None:
                continue
            todo.append((chunk, method, indices))
    # Rows of units that will be redone go now, so the file never holds two rows for one image.
    redo = {(int(i), method) for _, method, indices in todo for i in indices}
    if redo & done_rows:
        store.rewrite([row for row in rows if (row["image"], row["method"]) not in redo])
    total = sum(len(indices) for _, indices in chunks) * len(methods)
    bar = progress(total=total, desc="evaluate (images x methods)", verbose=verbose)
    bar.update(total - sum(len(indices) for _, _, indices in todo))
    # Without a terminal (a batch job's log) the bar is off: one line per unit of work instead.
    lines = verbose >= 1 and not sys.stderr.isatty()
    for number, (chunk, method, indices) in enumerate(todo, start=1):
        started = time.perf_counter()
        new_rows, arrays = scorer.score(chunk, method, indices)
        store.write_arrays(chunk, method, arrays)
        store.append(new_rows)
        bar.update(len(indices))
        if lines:
            print(f"xai-tf evaluate: unit {number}/{len(todo)} done: chunk {chunk}, {method}, {len(indices)} images, "
                  f"{time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
    bar.close()
    return {"computed": len(todo), "skipped": len(chunks) * len(methods) - len(todo)}


__all__ = ["EvaluationError", "evaluate", "parse_shard", "shard_chunks"]
