"""The metric protocol: what every metric the evaluation runner can score declares.

A metric is an object with

- ``name``: the name used by ``evaluate(metrics=...)``, ``xai-tf evaluate --metrics`` and the report;
- ``scores``: ``"maps"`` (it scores the maps the method made: AIC/SIC, XAI entropy, Pointing Game)
  or ``"method"`` (it re-runs the method: Max-Sensitivity on perturbed images, randomisation on a
  re-initialised model);
- ``ground_truth``: ``None``, or ``"masks or boxes"`` when it needs the data's localisation truth;
- ``options``: :class:`~xai_tf.metrics.options.Option` s (name, default, check, CLI flag, help), prefixed by the metric
  (``pic_entropy``, ``sensitivity_radius``); options may be shared by several metrics (SIC and AIC);
- ``columns(options)``: the per-image result columns it writes (default ``[name]``), and
  ``notes``: how to read each column (the report's table headers);
- ``score(chunk, options)``: ``(columns, arrays)`` for one chunk of images of one method, where
  ``columns`` maps each column to one JSON value per image and ``arrays`` holds anything to keep
  beside the maps (saved in the chunk's ``.npz``);
- ``summarize(column, values, stored)``: the method's summary entry of one column (default: mean,
  standard deviation and count of the finite values), plus an optional detail stored in the
  summary under ``details_key`` (default ``"details"``; AIC/SIC use ``"pic"``);
- ``reference``: the paper and the reference implementation whose arithmetic it reproduces (the
  README's metric table and the docs read it);
- ``direction``: ``"higher"`` or ``"lower"`` (which values of its columns are better), or ``None``
  where neither is (a diagnostic), so the report and the findings can read any metric generically;
- ``evidence``: how the report's Findings judge its per-image values beside a baseline method scored
  on the same images: ``"mean"`` (default; Student-t interval of the mean, better when the interval
  of the paired per-image difference lies on the ``direction_of(column)`` side of 0; columns
  without a direction are reported, not judged), ``"hits"`` (0/1 per image: Wilson interval of the
  hit rate, one-sided exact McNemar test against the baseline) or ``"sanity"`` (a similarity to
  the maps of a randomised model: passes, fails or is inconclusive against the metric's
  ``threshold``, on the ``direction_of(column)`` side). A row whose ``<column>_excluded`` holds a
  reason is left out of ``column`` and the reason counted.

Two kinds, as Xplique's ``ExplanationMetric`` / ``ExplainerMetric``: :class:`MapsMetric` scores the
maps it is given (Deletion, Sparseness, Relevance Mass), :class:`MethodMetric` re-runs the method
through ``chunk.method`` / ``chunk.params`` (Avg-Sensitivity, Random Logit).
:class:`~xai_tf.metrics.curve_metric.CurveMetric` (module ``curve_metric``) is a maps metric that
measures one curve per image (a model score against how much of the image was perturbed) and
reports an area under it: SIC/AIC, Deletion, Insertion, Pixel-Flipping, ROAD, IROF. It stores each
chunk's curves beside the maps and aggregates them in the summary.

``xai_tf.metrics.registry.METRICS`` lists them; the runner, its CLI flags, the report's notes and
the demo read that table, so adding a metric is one new module (a :class:`Metric` subclass) plus
one line in the registry. Everything a metric needs for one chunk is in :class:`~xai_tf.metrics.chunk.Chunk`.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

import numpy as np

from xai_tf._deprecation import moved_names
from xai_tf.metrics.chunk import Chunk
from xai_tf.metrics.options import Option
from xai_tf.targets import KINDS

SCORES = ("maps", "method")
DIRECTIONS = ("higher", "lower")
#: How the Findings judge a metric's per-image values (see the module docstring).
EVIDENCE = ("mean", "hits", "sanity")


class Metric:
    """Base class of the metric protocol: what every metric the evaluation runner scores declares.

    A metric is an instance of a subclass (:class:`MapsMetric`, :class:`MethodMetric` or
    :class:`~xai_tf.metrics.curve_metric.CurveMetric`) that sets the class attributes below and
    implements :meth:`score`; :func:`xai_tf.metrics.register` adds it to ``xai_tf.metrics.METRICS``, which the runner
    (:func:`xai_tf.evaluate`), the flags of ``xai-tf evaluate``, the summary, the report and
    ``MetricCallback`` read. See the module ``xai_tf.metrics.protocol`` for the whole protocol.

    Attributes
    ----------
    name : str
        The metric's name in ``evaluate(metrics=...)``, ``xai-tf evaluate --metrics`` and the
        report; non-empty and unique among the registered metrics.
    scores : {"maps", "method"}
        ``"maps"``: it scores the maps it is given (``chunk.maps``); ``"method"``: it re-runs the
        method (``chunk.method``, ``chunk.params``).
    ground_truth : str or None
        None, or ``"masks or boxes"`` when it needs the data's localisation truth (``chunk.masks``
        or ``chunk.boxes``); the runner refuses data without it before writing anything.
    options : tuple of Option
        Its options, named with the metric as prefix (``pic_entropy``, ``sensitivity_radius``);
        an option may be shared by several metrics (SIC and AIC share the same objects).
    notes : dict of str to str
        How to read each column (the report's table headers); see :meth:`note`.
    details_key : str
        Key of the summary under which :meth:`summarize`'s details are stored (default
        ``"details"``; AIC/SIC use ``"pic"``).
    reference : str
        The paper and the reference implementation whose arithmetic it reproduces (the README's
        metric table and the docs read it).
    direction : {"higher", "lower"} or None
        Which values of its columns are better; None for a diagnostic where neither is.
    column_directions : dict of str to str
        Per-column exceptions to ``direction`` (see :meth:`direction_of`).
    evidence : {"mean", "hits", "sanity"}
        How the report's Findings judge its per-image values beside a baseline method scored on
        the same images: ``"mean"`` (default; Student-t interval of the mean of the paired
        per-image differences), ``"hits"`` (0/1 per image: Wilson interval of the hit rate and a
        one-sided exact McNemar test) or ``"sanity"`` (a similarity to the maps of a randomised
        model, judged against ``threshold``).
    threshold : float or None
        The pass/fail cut-off of an ``evidence="sanity"`` metric, on the ``direction_of(column)``
        side; None otherwise.
    targets : tuple of str
        The kinds of target (``xai_tf.targets.KINDS``) it is defined for; default all of them.
        Metrics defined on classes (AIC/SIC: softmax and accuracy; ROAD: the predicted class; Random
        Logit, Sufficiency, Focus) say ``("classes",)``; the runner refuses the others before any work.

    Notes
    -----
    A row whose ``<column>_excluded`` holds a reason (a string) is left out of ``column`` by the
    Findings and the reason counted; AIC/SIC write such columns for the images PIC excludes.
    Every per-image value must be a pure function of the chunk's images, maps and seeds
    (``rng_for(chunk.seed, image index)`` for the metric's own draws), so it does not depend on
    how the images were cut into chunks or shards.

    Examples
    --------
    A metric of the maps (the share of each map's absolute mass in its brightest 10% of pixels),
    registered so that ``evaluate(..., metrics=["top_mass"])`` scores it:

    >>> import numpy as np
    >>> from xai_tf.metrics import MapsMetric, register
    >>> class TopMass(MapsMetric):
    ...     name = "top_mass"
    ...     direction = "higher"
    ...     reference = "example"
    ...     notes = {"top_mass": "share of |map| in its top 10% pixels (higher = more concentrated)"}
    ...     def score(self, chunk, options):
    ...         flat = np.sort(np.abs(chunk.maps).reshape(len(chunk.maps), -1), axis=1)[:, ::-1]
    ...         top = flat[:, :max(1, flat.shape[1] // 10)].sum(axis=1)
    ...         return {self.name: [float(v) for v in top / np.maximum(flat.sum(axis=1), 1e-12)]}, {}
    >>> metric = register(TopMass())
    """

    name: str = ""
    scores: str = "maps"
    ground_truth: str | None = None
    targets: tuple[str, ...] = KINDS
    options: tuple[Option, ...] = ()
    notes: ClassVar[dict[str, str]] = {}
    details_key: str = "details"
    reference: str = ""  # the paper and the reference implementation it matches (README, docs)
    direction: str | None = None
    column_directions: ClassVar[dict[str, str]] = {}
    evidence: str = "mean"
    threshold: float | None = None

    def direction_of(self, column: str) -> str | None:
        """Say which values of ``column`` are better.

        Parameters
        ----------
        column : str
            One of the metric's result columns (:meth:`columns`).

        Returns
        -------
        str or None
            ``column_directions[column]`` when set, else ``direction``: ``"higher"``, ``"lower"``,
            or None when neither is better (a diagnostic, reported but not judged).
        """
        return self.column_directions.get(column, self.direction)

    def columns(self, options: dict) -> list[str]:
        """List the result columns this metric writes into each row with ``options``.

        Override it when the columns depend on the options (the randomisation check writes one
        column per mode: ``randomization_full``, ``randomization_semi``). An extra
        ``<column>_excluded`` column that :meth:`score` writes beside a column is not listed.

        Parameters
        ----------
        options : dict
            ``{option name: checked value}`` of every registered option (the run's options, see
            ``xai_tf.evaluation.check_options``).

        Returns
        -------
        list of str
            The column names, in order; default ``[name]``.
        """
        return [self.name]

    def note(self, column: str) -> str:
        """Say how to read ``column`` (the report's and the summary's header).

        Parameters
        ----------
        column : str
            One of the metric's result columns.

        Returns
        -------
        str
            ``notes[column]``, or the column's name when ``notes`` has no entry for it.
        """
        return self.notes.get(column, column)

    def score(self, chunk: Chunk, options: dict) -> tuple[dict[str, list], dict[str, np.ndarray]]:
        """Score one chunk of images explained by one method: the method every metric implements.

        Parameters
        ----------
        chunk : Chunk
            The chunk's model, method, images, indices, targets, maps, seeds, batch size, method
            parameters and ground truth.
        options : dict
            ``{option name: checked value}`` of every registered option (read your own by name).

        Returns
        -------
        columns : dict of str to list
            ``{column: values}`` with one JSON-able value per image of the chunk (B values, in
            the chunk's image order) for every column of :meth:`columns`; NaN or None where an
            image has no value (stored as ``null``). It may add a ``<column>_excluded`` list: None,
            or the reason the image was left out.
        arrays : dict of str to numpy.ndarray
            Arrays kept beside the maps in the chunk's ``.npz`` (readable with
            ``allow_pickle=False``; names other than ``indices``, ``targets``, ``maps`` and
            ``masks``, which the runner writes); ``{}`` for none. :meth:`summarize` reads them back.

        Raises
        ------
        NotImplementedError
            Always, in the base class: a subclass implements it.
        """
        raise NotImplementedError

    def check_shape(self, options: dict, shape: tuple) -> None:
        """Check that ``options`` can score images of ``shape``; the base class accepts every shape.

        For options whose validity depends on the data (Top-k's ``k`` against the pixels of an
        image, a segmentation of 1-pixel images): a runner calls it with the data's image shape
        before writing anything; :meth:`score` calls it too.

        Parameters
        ----------
        options : dict
            ``{option name: checked value}`` of every registered option.
        shape : tuple of int
            ``(H, W, C)`` of the images to score.

        Raises
        ------
        ValueError
            In a subclass, naming the option, when it cannot score images of ``shape``.
        """

    def summarize(self, column: str, values: np.ndarray, stored: Callable[[], list]) -> tuple[dict, dict | None]:
        """Summarise one column of one method over every image scored: its entries in the summary table.

        Default: the mean, standard deviation and count of the finite ``values``, no detail.
        Metrics whose summary is not a mean (AIC/SIC: the AUC of the aggregated curve) override
        it and read their stored arrays.

        Parameters
        ----------
        column : str
            One of the metric's result columns.
        values : numpy.ndarray, shape (N,)
            float64, the column's value on each image the method was scored on (all chunks and
            shards), NaN where a row holds no value.
        stored : callable
            ``stored()`` (no argument) returns the method's saved chunk arrays, ``[(first image
            index, {array name: numpy.ndarray})]`` one per chunk (the maps left out), read from the
            folders on the first call.

        Returns
        -------
        entries : dict
            The method's table entries: default ``{column: mean, column + "_std": standard
            deviation, column + "_n": count}`` of the finite values (mean and standard deviation
            None when there is none).
        detail : dict or None
            JSON-able detail stored in ``summary[details_key][column][method]``; None (default)
            for none.
        """
        finite = values[np.isfinite(values)]
        entry = {column: float(finite.mean()) if len(finite) else None,
                 f"{column}_std": float(finite.std()) if len(finite) else None,
                 f"{column}_n": len(finite)}
        return entry, None


class MapsMetric(Metric):
    """A metric of the maps the method made (Xplique's ``ExplanationMetric``): ``scores = "maps"``.

    Its :meth:`~Metric.score` reads ``chunk.maps`` (Deletion, Sparseness, Relevance Mass); a study
    that denoises maps scores the denoised maps with it. Subclass it, set the class attributes of
    :class:`Metric` and implement ``score``.
    """

    scores = "maps"


class MethodMetric(Metric):
    """A metric that re-runs the method (Xplique's ``ExplainerMetric``): ``scores = "method"``.

    ``score`` calls ``xai_tf.explain(chunk.model, ..., chunk.method, ..., **chunk.params)`` with
    seeds from ``chunk.chunk_seed`` (stochastic methods) and ``rng_for(chunk.seed, image index)``
    (the metric's own draws).
    """

    scores = "method"


# Names of the xai-tf 0.1 protocol module that moved to their own modules: one FutureWarning each until
# the next release (``Chunk`` and ``Option`` are imported here and stay).
__getattr__ = moved_names("0.2", __name__, {
    **dict.fromkeys(("MAX_SUMMARY_POINTS", "CurveMetric", "trapezoid_rows"), "xai_tf.metrics.curve_metric"),
    **dict.fromkeys(("choice", "number", "fraction", "count", "flag", "parse_bool", "parse_list"),
                    "xai_tf.metrics.options"),
})
