"""``MetricCallback``: registered metrics of saliency methods on probe images every n-th epoch.

It scores through the evaluation unit (``xai_tf.evaluation.units``), so what it logs is what
``xai_tf.evaluate`` would put into its summary table for the probe images with that epoch's weights.
"""
from __future__ import annotations

import warnings

import numpy as np

from xai_tf._checks import check_names
from xai_tf._docstrings import fill_doc
from xai_tf._random import kept_global_random_state
from xai_tf.callbacks.probes import ProbeCallback, read_probes
from xai_tf.models.binding import bind
from xai_tf.summaries import write_scalar_summary
from xai_tf.targets import Target

__all__ = ["MetricCallback"]

_DIRECTION_TEXT = {"higher": "higher is better", "lower": "lower is better", None: "a diagnostic, neither "
                   "direction is better"}


def _probe_data(images: np.ndarray, labels, masks, boxes, class_names=None):
    """The probe images as the ``LabelledImages`` the evaluation unit reads (labels: class "?" as ``evaluate``)."""
    from xai_tf.data import LabelledImages

    if class_names is not None:  # a probe source's own labels and classes
        labels = np.asarray(labels)
    elif labels is None:
        labels, class_names = np.zeros(len(images), np.int64), ("?",)
    else:
        labels = np.asarray(labels)
        top = int(labels.max()) if labels.size and np.issubdtype(labels.dtype, np.integer) else 0
        class_names = tuple(str(label) for label in range(max(top + 1, 1)))
    return LabelledImages(images=images, labels=labels, class_names=class_names, masks=masks, boxes=boxes)


#: The numpydoc Parameters of ``log_key`` and ``tag`` (here and in ``PICCallback``): what is logged
#: (``key``, described by ``key_doc``) and for which method; then the Returns type, whose description
#: each docstring gives on the line after the placeholder.
KEY_DOCS = """
Parameters
----------
{key} : str
    {key_doc}
method : str
    A saliency method name, e.g. ``"gradcam"``.

Returns
-------
str
"""
COLUMN_KEYS = KEY_DOCS.format(key="column",
                              key_doc='A result column of a metric (``metric.columns(options)``), e.g. ``"deletion"``.')


class MetricCallback(ProbeCallback):
    """Score saliency methods on probe images with registered metrics every n-th epoch, as ``evaluate`` does.

    At the end of every n-th epoch each method explains all the probe images and every named metric
    of ``xai_tf.metrics.registry.METRICS`` scores them, through the evaluation unit
    (``xai_tf.evaluation.units.UnitScorer``: one unit per method holding every probe, chunk 0). So a
    logged value is what ``xai_tf.evaluate(model, probes, methods, metrics, seed=seed,
    chunk_size >= N, options=options)`` puts in its summary table with the weights of that epoch: the
    stochastic methods get the unit's seed ``chunk_seed(seed, 0)`` (not ``seed`` itself) and the
    per-image draws (PIC's random masks, noise) key on ``(seed, image index)``.

    Parameters
    ----------
    images : ndarray, xai_tf.data.ImageSource, str or pathlib.Path
        ``(N, H, W, C)`` float in [0, 1], finite, the model's input shape (checked when training
        starts); or a lazy source (``xai_tf.data.open``: a source, a path to an HDF5 file, a ``.npy``
        array, a FITS or image folder, or a source's description), read whole once, here, with its
        labels, class names and masks unless ``labels`` / ``masks`` are given. Keep N small: every
        logged epoch explains and scores them all.
    methods : str or sequence of str
        Names from ``xai_tf.list_methods()`` (one name, ``"a,b"`` or a list).
    metrics : str or sequence of str
        Names from ``xai_tf.metrics.registry.METRICS`` (one name, ``"a,b"`` or a list).
    every_n_epochs : int, optional
        Work after epochs n, 2n, ... (1-based); default 1.
    log_dir : str or pathlib.Path, optional
        Folder for TensorBoard scalars, tag ``metrics/<column>/<method>``, step = the 0-based epoch,
        with the column's note (``metric.note``) and direction as description. Default ``None``:
        ``logs`` and ``history`` only.
    seed : int, optional
        The evaluation's seed (default 0), the same every epoch, so that changes between epochs come
        from the weights.
    targets : None, int, array of int, Target or callable, optional
        ``None`` (default): the class the model head predicts at that epoch, computed once per epoch
        and used for the maps and the scores alike; one int, or ints ``(N,)`` (e.g. the true labels);
        or another target (``xai_tf.Regression()``, ``xai_tf.Segmentation(1)``, ...), resolved on the
        probes once per epoch. Metrics defined on classes (AIC/SIC, ROAD, ...) refuse other targets.
    labels : array of int, optional
        ``(N,)`` class indices, recorded with the scores (no registered metric reads them; pass
        ``targets=labels`` to explain the true class). Default: unlabelled.
    masks : ndarray, optional
        ``(N, H, W)`` bool ground truth for the metrics that need it (Pointing Game, Relevance Mass, ...).
    boxes : list of list of tuple, optional
        Per image ``(y0, x0, y1, x1)`` boxes, end exclusive; the alternative ground truth to ``masks``.
    options : dict, optional
        Overrides of the registered metrics' options (``xai_tf.metrics.registry.default_options()``),
        as ``evaluate(options=...)``; every option is checked here, before training.
    method_params : dict, optional
        ``{method: {parameter: value}}`` passed to ``explain`` (``batch_size`` there sets that
        method's unit's batch size).
    batch_size : int, optional
        Most images per compiled model call, in the explainers and in the metrics (default 64).

    Raises
    ------
    ValueError
        Bad images, an unknown method, metric or option, a bad option value (named), a metric that
        needs ground truth without ``masks``/``boxes``, masks or boxes or labels that do not fit the
        images, ``every_n_epochs < 1``, a metric that does not support the target; when training
        starts: probe images that do not fit the model, targets out of the model's classes, or a
        target that does not fit the model's output.
    TypeError
        A value of the wrong type (seed, method parameters, option values).

    Notes
    -----
    At the end of a logged epoch ``logs[f"{column}_{method}"]`` gets the column's summary value
    (``metric.summarize`` over the unit's rows and arrays, as ``evaluate``'s summary table: the mean
    over the probes for most columns, the area of the aggregated curve for AIC/SIC; NaN when no
    probe could be scored, with a ``RuntimeWarning``). Place the callback BEFORE
    ``CSVLogger``/``EarlyStopping`` (Keras hands them the same ``logs``); with ``every_n_epochs > 1``
    read ``history`` (``{epoch: {key: value}}``) rather than ``CSVLogger``, which fixes its columns
    at the first epoch. ``table`` keeps the latest ``{method: summary entries}`` (with ``_std`` and
    ``_n``) and ``last_epoch`` its epoch. The model runs in inference mode only and the global random
    streams are kept, so a fit with the callback gives the same weights as without it.
    """

    def __init__(self, images, methods, metrics, every_n_epochs: int = 1, log_dir=None, seed: int = 0,
                 targets=None, labels=None, masks=None, boxes=None, options=None, method_params=None, *,
                 batch_size: int = 64):
        from xai_tf.evaluation.config import check_data, check_options
        from xai_tf.metrics.registry import METRICS

        images, labels, masks, class_names = read_probes(images, labels, masks)  # a source: read whole, once
        super().__init__(images, methods, targets, every_n_epochs, log_dir, seed, method_params, batch_size)
        self.metrics = check_names(metrics, "metrics", METRICS)
        kind = self.targets.kind if isinstance(self.targets, Target) else "classes"
        unsupported = [name for name in self.metrics if kind not in METRICS[name].targets]
        if unsupported:
            raise ValueError(f"metrics {unsupported} do not support a {kind} target (they are defined on classes)")
        self.options = check_options(self.metrics, options)
        self.data = _probe_data(self.images, labels, masks, boxes, class_names)
        check_data(self.metrics, self.options, self.data, "the probe images (pass masks= or boxes=)")
        self.columns = [(column, METRICS[name]) for name in self.metrics
                        for column in METRICS[name].columns(self.options)]
        self.history: dict[int, dict[str, float]] = {}
        self.table: dict[str, dict] = {}
        self.last_epoch: int | None = None

    @staticmethod
    @fill_doc(keys=COLUMN_KEYS)
    def log_key(column: str, method: str) -> str:
        """The ``logs`` key of one column's value for one method, e.g. ``deletion_gradcam``.

        {keys}
            ``"<column>_<method>"``, the key the value gets in Keras' ``logs`` and in ``history``.
        """
        return f"{column}_{method}"

    @fill_doc(keys=COLUMN_KEYS)
    def tag(self, column: str, method: str) -> str:
        """The TensorBoard tag of one column's value for one method, e.g. ``metrics/deletion/gradcam``.

        {keys}
            ``"metrics/<column>/<method>"``, the tag of the scalar summary written to ``log_dir``.
        """
        return f"metrics/{column}/{method}"

    def score_units(self) -> dict[str, tuple[list[dict], dict]]:
        """Explain and score the probes with the model's current weights, one evaluation unit per method.

        Returns
        -------
        dict
            ``{method: (rows, arrays)}``: ``UnitScorer.score_maps``' one row per probe image and the
            arrays the runner would store for the unit (maps, targets, the metrics' arrays).
        """
        from xai_tf.evaluation.units import Unit, UnitScorer

        params = {method: {key: value for key, value in given.items() if key != "batch_size"}
                  for method, given in self.method_params.items()}
        scorers: dict[int, UnitScorer] = {}  # one per batch size; a scorer caches randomised models
        scored = {}
        with kept_global_random_state():
            binding, _, keys = bind(self.model, self.images, self.targets, batch_size=self.batch_size)
            targets = binding.freeze(keys)  # class ids on a classifier, else the target resolved on the probes
            for method in self.methods:
                batch_size = int(self.method_params.get(method, {}).get("batch_size", self.batch_size))
                if batch_size not in scorers:
                    scorers[batch_size] = UnitScorer(self.model, self.data, list(self.metrics), self.options,
                                                     self.seed, batch_size, params, "predicted")
                unit = Unit(0, method, np.arange(len(self.images), dtype=np.int64))
                maps = scorers[batch_size].explain(unit, targets)
                scored[method] = scorers[batch_size].score_maps(unit, targets, maps)
        return scored

    def summarize(self, scored) -> dict[str, dict]:
        """Summarise :meth:`score_units`' result per method and column, as ``evaluate``'s summary table.

        Each column is summarised by its metric (``metric.summarize(column, values, stored)``) over
        the rows' values and the unit's arrays as the runner reads them back (without the maps).

        Parameters
        ----------
        scored : dict
            ``{method: (rows, arrays)}`` as :meth:`score_units` returns it: one row dict per probe
            image and the unit's arrays.

        Returns
        -------
        dict of str to dict
            ``{method: {column: value, ...}}``: for each method the summary entries of every column
            (the mean over the probes for most columns, the area of the aggregated curve for
            AIC/SIC; NaN when no probe could be scored), with ``<column>_std`` and ``<column>_n``
            entries where the metric gives them.
        """
        table = {}
        for method, (rows, arrays) in scored.items():
            kept = {key: np.asarray(value) for key, value in arrays.items() if key != "maps"}
            entry: dict = {}
            for column, metric in self.columns:
                values = np.array([np.nan if row.get(column) is None else row[column] for row in rows], float)
                found, _ = metric.summarize(column, values, lambda kept=kept: [(0, kept)])
                entry.update(found)
            table[method] = entry
        return table

    def _logged(self, scored) -> list[tuple[str, str, float, str]]:
        """``(column, method, value, description)`` of every value one epoch logs."""
        self.table = self.summarize(scored)
        logged = []
        for method, entry in self.table.items():
            for column, metric in self.columns:
                value = entry.get(column)
                value = float("nan") if value is None else float(value)
                description = (f"{metric.note(column)}: {method} on {len(self.images)} probe images "
                               f"({_DIRECTION_TEXT[metric.direction_of(column)]})")
                logged.append((column, method, value, description))
        return logged

    def _warn_nan(self, column: str, method: str, epoch: int) -> None:
        warnings.warn(f"{type(self).__name__}: {self.log_key(column, method)} is NaN at epoch {epoch} (no probe "
                      "image could be scored; see score_units()' rows)", RuntimeWarning, stacklevel=3)

    def on_epoch_end(self, epoch, logs=None):
        if not self.runs_on(epoch):
            return
        epoch = int(epoch)
        logged = self._logged(self.score_units())
        values = {self.log_key(column, method): value for column, method, value, _ in logged}
        self.history[epoch], self.last_epoch = values, epoch
        for column, method, value, _ in logged:
            if np.isnan(value):
                self._warn_nan(column, method, epoch)
        if logs is not None:
            logs.update(values)
        if self._writer is not None:
            with self._writer.as_default():
                for column, method, value, description in logged:
                    write_scalar_summary(self.tag(column, method), value, epoch, description=description)
            self._writer.flush()
