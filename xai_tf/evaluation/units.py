"""The evaluation unit: plan, resume, explain, score, write. One API for ``evaluate``, studies and the demo.

A unit of work is one chunk of ``chunk_size`` consecutive images explained by one method and scored
by the chosen metrics (:class:`Unit`). Everything that runs evaluations goes through these steps,
in this order, and nothing else decides them:

1. :func:`plan_units`: the units of a configuration (the shard's chunks x the methods);
2. :func:`pending_units`: the units a store still lacks (the one resume rule: a unit is done when
   every image has its row and the chunk's arrays read back; the rows of units to redo are dropped
   first, so the results file never holds two rows for one image);
3. :meth:`UnitScorer.explain`: the unit's maps, with the chunk's seed (:func:`chunk_seed`, the one
   chunk-seed rule) for the stochastic methods;
4. :meth:`UnitScorer.score_maps`: the rows and arrays of the maps (a study scores denoised maps
   here too);
5. ``Store.write_unit``: the arrays, then the rows.

``xai_tf.evaluate`` runs 1-5 in this process; ``xai_tf.study`` runs 1, 2 and 5 on the client and 3-4
in tasks (in-process or on Dask workers), which return values and write nothing.

Every unit is a pure function of its images and of seeds derived from ``(seed, chunk)`` (the
stochastic methods) and ``(seed, image index)`` (PIC's random masks, Max-Sensitivity's noise), so
results do not depend on which shard, process or machine computed them.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from xai_tf._docstrings import fill_doc
from xai_tf._random import seed_for
from xai_tf.evaluation.config import TARGETS
from xai_tf.evaluation.shards import shard_chunks

#: The numpydoc sections of a ``score(unit)`` (:meth:`UnitScorer.score`, the skipping scorer's): ``.format``
#: fills in what the rows and arrays are (a second line of either is indented by 4 in the text given).
SCORED = """
Parameters
----------
unit : Unit
    The chunk and method.

Returns
-------
rows : list of dict
    {rows}
arrays : dict of str to numpy.ndarray
    {arrays}
"""
#: The numpydoc entry of the positions a scorer reads or explains.
POSITIONS = """
indices : numpy.ndarray, shape (B,)
    The images' positions in the data set.
"""


@dataclass(frozen=True)
class Unit:
    """One unit of work: one chunk of consecutive images explained by one method.

    Parameters
    ----------
    chunk : int
        The chunk number (chunk ``c`` holds images ``c * chunk_size ...``).
    method : str
        The saliency method's name.
    indices : numpy.ndarray, shape (B,)
        int64, the images' positions in the data set.
    """

    chunk: int
    method: str
    indices: np.ndarray


def chunk_seed(seed: int, chunk: int) -> int:
    """Give the seed the stochastic methods get for one chunk of a run: THE chunk-seed rule.

    Parameters
    ----------
    seed : int
        The run's seed.
    chunk : int
        The chunk number.

    Returns
    -------
    int
        A non-negative 63-bit seed, ``xai_tf._random.seed_for(seed, chunk)``: the same for the
        same run seed and chunk, whatever shard, process or machine computes it.
    """
    return seed_for(seed, chunk)


def plan_units(count: int, chunk_size: int, methods, shard=None) -> list[Unit]:
    """The units of a configuration, chunk by chunk, each chunk's methods in order.

    Parameters
    ----------
    count : int
        Images in the data.
    chunk_size : int
        Consecutive images per unit.
    methods : list of str
        Method names (a study cell has one).
    shard : None or (k, n)
        Only the chunks of shard ``k`` of ``n`` (``xai_tf.evaluation.shards``).

    Returns
    -------
    list of Unit
        One unit per (chunk, method): chunk by chunk, each chunk's methods in the order given.
    """
    return [Unit(chunk, method, indices) for chunk, indices in shard_chunks(count, chunk_size, shard)
            for method in methods]


def pending_units(store, units: list[Unit]) -> list[Unit]:
    """The units ``store`` still lacks; the rows of units to redo are removed from its results first.

    A unit is done when every one of its images has a row for its method and its arrays file reads
    back with the same image indices; a corrupt arrays file is reported and removed by the store.

    Parameters
    ----------
    store : xai_tf.evaluation.store.Store
        The output folder (already opened).
    units : list of Unit
        :func:`plan_units`' result.

    Returns
    -------
    list of Unit
        The units to compute, in plan order.
    """
    rows = store.read_rows()
    done = {(row["image"], row["method"]) for row in rows}
    todo = [unit for unit in units
            if not (all((int(i), unit.method) in done for i in unit.indices)
                    and store.read_arrays(unit.chunk, unit.method, unit.indices) is not None)]
    redo = {(int(i), unit.method) for unit in todo for i in unit.indices}
    if redo & done:
        store.rewrite([row for row in rows if (row["image"], row["method"]) not in redo])
    return todo


class UnitScorer:
    """Explains and scores units of one model and data set with the chosen metrics; pure given the seeds.

    Parameters
    ----------
    model : keras.Model
        The classifier.
    data : LabelledImages or xai_tf.data.ImageSource
        The images (and labels, masks, boxes) the units' indices point into; a source is read a
        chunk at a time (:meth:`rows`).
    metrics : list of str
        Registered metric names.
    options : dict
        Every metric option, checked (``xai_tf.evaluation.config.check_options``).
    seed : int
        The run's seed.
    batch_size : int
        Most images per compiled model call.
    method_params : dict
        ``{method: {parameter: value}}`` for ``xai_tf.explain``.
    targets_from : {"predicted", "label"}, str or Target
        Explain the predicted class or the label (resolved by the model head's targets rule), or
        another target (a :class:`~xai_tf.Target`, or its command-line form such as "regression:0").
    """

    def __init__(self, model, data, metrics, options, seed, batch_size, method_params, targets_from):
        from xai_tf.metrics.registry import METRICS

        self.model, self.data, self.options = model, data, options
        self.metrics = [METRICS[name] for name in metrics]
        self.seed, self.batch_size, self.method_params = seed, batch_size, method_params
        if isinstance(targets_from, str) and targets_from not in TARGETS:
            from xai_tf.targets import parse_target

            targets_from = parse_target(targets_from)
        self.targets_from = targets_from
        self._randomized = {}
        self._last_rows = None
        self._prefetched = {}  # {key: future} of the chunks read in the background (prefetch)

    @fill_doc(positions=POSITIONS)
    def rows(self, indices: np.ndarray):
        """Read the images (labels, masks, boxes) at ``indices`` once; the unit's steps share the read.

        A ``LabelledImages`` is indexed in memory (fresh arrays at every call); an
        ``xai_tf.data.ImageSource`` reads only these rows from disk (the last chunk read is kept, so
        a chunk's methods and steps read it once; :meth:`prefetch` reads the next one ahead).

        Parameters
        ----------
        {positions}

        Returns
        -------
        xai_tf.data.sources.ChunkRows
            ``images``, ``labels``, ``masks`` and ``boxes`` of those rows.
        """
        from xai_tf.data.sources import ImageSource, read_chunk

        if not isinstance(self.data, ImageSource):  # in memory: fresh arrays for every step, as always
            return read_chunk(self.data, indices)
        key = np.asarray(indices, np.int64).tobytes()
        if self._last_rows is None or self._last_rows[0] != key:
            pending = self._prefetched.pop(key, None)
            rows = pending.result() if pending is not None else read_chunk(self.data, indices)
            self._last_rows = (key, rows)
        return self._last_rows[1]

    def prefetch(self, indices: np.ndarray) -> None:
        """Start reading the rows at ``indices`` in a background thread while the current unit is scored.

        Only a lazy source is read ahead (a ``LabelledImages`` is in memory already); the next
        :meth:`rows` of the same indices waits for that read instead of starting its own, and gets
        its error if it failed.

        Parameters
        ----------
        indices : numpy.ndarray, shape (B,)
            The next chunk's positions in the data set.
        """
        from xai_tf.data.sources import ImageSource, read_chunk

        key = np.asarray(indices, np.int64).tobytes()
        if not isinstance(self.data, ImageSource) or (self._last_rows is not None and self._last_rows[0] == key):
            return
        if key in self._prefetched:
            return
        if not hasattr(self, "_reader"):
            from concurrent.futures import ThreadPoolExecutor

            self._reader = ThreadPoolExecutor(1, thread_name_prefix="xai-tf-prefetch")
        while len(self._prefetched) >= 2:  # at most two chunks ahead in memory
            self._prefetched.pop(next(iter(self._prefetched))).cancel()
        self._prefetched[key] = self._reader.submit(read_chunk, self.data, np.asarray(indices, np.int64))

    def randomized(self, mode: str):
        """Give the model with re-initialised weights, made once per run and mode (``Chunk.randomized``).

        Parameters
        ----------
        mode : {"full", "semi"}
            Which weights are re-initialised (see :func:`xai_tf.metrics.randomization_check`),
            seeded by the run's seed.

        Returns
        -------
        keras.Model
            A re-initialised copy of the model (the model itself is untouched).
        """
        if mode not in self._randomized:
            from xai_tf.metrics.randomisation.model_randomization import randomized_copy
            self._randomized[mode] = randomized_copy(self.model, mode, self.seed)
        return self._randomized[mode]

    def readable(self, indices: np.ndarray) -> np.ndarray:
        """Read the rows at ``indices`` that a ``skip_bad`` source can read; keep them for the unit's steps.

        Parameters
        ----------
        indices : numpy.ndarray, shape (B,)
            The images' positions in the source (an ``xai_tf.data.ImageSource`` opened with
            ``skip_bad=True``, which records the others in its ``skipped``).

        Returns
        -------
        numpy.ndarray, shape (K,), int64
            The indices read, in order; :meth:`rows` of them reads nothing again.
        """
        from xai_tf.data.sources import ChunkRows

        kept, images, labels, masks = self.data.read_good(indices)
        if kept.size:
            self._last_rows = (kept.tobytes(), ChunkRows(images=images, labels=labels, masks=masks))
        return kept

    @fill_doc(positions=POSITIONS)
    def targets(self, indices: np.ndarray) -> np.ndarray:
        """Give the classes explained on the images at ``indices``.

        Parameters
        ----------
        {positions}

        Returns
        -------
        numpy.ndarray, shape (B,), int64
            The labels (``targets_from="label"``) or the model's predicted classes, resolved by
            the model head's targets rule.
        """
        from xai_tf.models.binding import bind
        from xai_tf.models.head import head_of

        if not isinstance(self.targets_from, str):  # a Target: resolved on the images as given, then frozen
            binding, _, keys = bind(self.model, self.rows(indices).images, self.targets_from,
                                    batch_size=self.batch_size)
            return binding.freeze(keys)
        rows = self.rows(indices)
        given = rows.labels if self.targets_from == "label" else None
        return head_of(self.model).targets(rows.images, given, self.batch_size, name="labels")

    def explain(self, unit: Unit, targets: np.ndarray) -> np.ndarray:
        """Explain the unit's images with its method, seeded by :func:`chunk_seed`.

        Parameters
        ----------
        unit : Unit
            The chunk and method.
        targets : numpy.ndarray, shape (B,)
            int64, the classes to explain (:meth:`targets`).

        Returns
        -------
        numpy.ndarray, shape (B, H, W), float32
            The maps (``xai_tf.explain`` with the method's ``method_params``).
        """
        from xai_tf.explainers import explain

        params = dict(self.method_params.get(unit.method, {}))
        return explain(self.model, self.rows(unit.indices).images, unit.method, targets, batch_size=self.batch_size,
                       verbose=0, seed=chunk_seed(self.seed, unit.chunk), **params)

    @fill_doc(scored=SCORED.format(
        rows="One JSON row per image (``image``, ``method``, ``chunk``, ``target``, ``label`` and\n"
             "    the metrics' columns).",
        arrays="The arrays stored beside them (``indices``, ``targets``, ``maps``, ground-truth\n"
               "    ``masks`` when the data has them, the metrics' arrays)."))
    def score(self, unit: Unit) -> tuple[list[dict], dict]:
        """Score one unit: explain its images, then score the maps (:meth:`score_maps`).

        {scored}
        """
        targets = self.targets(unit.indices)
        return self.score_maps(unit, targets, self.explain(unit, targets))

    def score_maps(self, unit: Unit, targets: np.ndarray, maps: np.ndarray) -> tuple[list[dict], dict]:
        """``(rows, arrays)`` of one unit whose maps are given (the method's, or denoised ones).

        Parameters
        ----------
        unit : Unit
            The chunk and method; metrics with ``scores == "method"`` re-run the method as it is.
        targets : ndarray
            ``(B,)`` int64 explained classes (:meth:`targets`).
        maps : ndarray
            ``(B, H, W)`` maps scored by the metrics with ``scores == "maps"``.

        Returns
        -------
        tuple
            ``(rows, arrays)``: one JSON row per image (``image``, ``method``, ``chunk``, ``target``,
            ``label``, the metrics' columns and, when a ranked metric (one with the ``ties`` option)
            is scored, ``tie_fraction``: the share of the map's pixels tied with another,
            ``xai_tf.metrics.ties.tie_fractions``) and the arrays stored beside them (``indices``,
            ``targets``, ``maps``, ground-truth ``masks`` when the data has them, the metrics' arrays).
        """
        from xai_tf.evaluation.store import json_value
        from xai_tf.metrics.chunk import Chunk
        from xai_tf.metrics.ties import TIES, tie_fractions

        indices = unit.indices
        params = dict(self.method_params.get(unit.method, {}))
        data = self.rows(indices)
        chunk = Chunk(model=self.model, method=unit.method, images=data.images, indices=indices,
                      targets=targets, maps=maps, seed=self.seed, chunk_seed=chunk_seed(self.seed, unit.chunk),
                      batch_size=self.batch_size, params=params,
                      masks=data.masks, boxes=data.boxes,
                      randomized=self.randomized)
        columns: dict[str, list] = {}
        # A target other than class ids (regression, a region, ...) has no class: -1 in the rows.
        classes = targets if isinstance(targets, np.ndarray) else np.full(len(indices), -1, np.int64)
        arrays = {"indices": indices, "targets": classes, "maps": maps}
        if chunk.masks is not None:  # the ground truth beside the maps: findings need no data reload
            arrays["masks"] = chunk.masks.astype(bool)
        for metric in self.metrics:
            metric_columns, metric_arrays = metric.score(chunk, self.options)
            columns.update(metric_columns)
            arrays.update(metric_arrays)
        if any(option is TIES for metric in self.metrics for option in metric.options):
            # a ranked metric ran: how much of each map is tied, beside its scores (not a metric column)
            columns["tie_fraction"] = [float(v) for v in tie_fractions(maps)]
        rows = []
        for position, index in enumerate(indices):
            row = {"image": int(index), "method": unit.method, "chunk": unit.chunk,
                   "target": int(classes[position]), "label": int(data.labels[position])}
            row.update({name: json_value(values[position]) for name, values in columns.items()})
            rows.append(row)
        return rows, arrays
