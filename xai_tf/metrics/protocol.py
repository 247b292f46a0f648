"""The metric protocol: what every metric the evaluation runner can score declares.

A metric is an object with

- ``name``: the name used by ``evaluate(metrics=...)``, ``xai-tf evaluate --metrics`` and the report;
- ``scores``: ``"maps"`` (it scores the maps the method made: AIC/SIC, XAI entropy, Pointing Game)
  or ``"method"`` (it re-runs the method: Max-Sensitivity on perturbed images, randomisation on a
  re-initialised model);
- ``ground_truth``: ``None``, or ``"masks or boxes"`` when it needs the data's localisation truth;
- ``options``: :class:`Option` s (name, default, check, CLI flag, help), prefixed by the metric
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
through ``chunk.method`` / ``chunk.params`` (Avg-Sensitivity, Random Logit). :class:`CurveMetric`
is a maps metric that measures one curve per image (a model score against how much of the image
was perturbed) and reports an area under it: SIC/AIC, Deletion, Insertion, Pixel-Flipping, ROAD,
IROF. It stores each chunk's curves beside the maps and aggregates them in the summary.

``xai_tf.metrics.registry.METRICS`` lists them; the runner, its CLI flags, the report's notes and
the demo read that table, so adding a metric is one new module (a :class:`Metric` subclass) plus
one line in the registry. Everything a metric needs for one chunk is in :class:`Chunk`.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from xai_tf.targets import KINDS

SCORES = ("maps", "method")
DIRECTIONS = ("higher", "lower")
#: How the Findings judge a metric's per-image values (see the module docstring).
EVIDENCE = ("mean", "hits", "sanity")
#: Most points of an aggregated curve kept in the summary (evenly spaced; the chunks' arrays keep all).
MAX_SUMMARY_POINTS = 1001


@dataclass(frozen=True)
class Option:
    """One option of a metric.

    Parameters
    ----------
    name : str
        Key in ``evaluate(options={...})`` and in the run's ``config.json``.
    default : object
        JSON-able default (the papers').
    check : callable
        ``value -> checked value`` (JSON-able); raises ``TypeError``/``ValueError`` naming the option.
    help : str
        One line for ``xai-tf evaluate --help``.
    parse : callable
        CLI string -> value handed to ``check`` (default: the string itself).
    flag : str or None
        CLI flag; default ``--`` + the name with ``-`` for ``_``.
    """

    name: str
    default: object
    check: Callable[[object], object]
    help: str
    parse: Callable[[str], object] = str
    flag: str | None = None

    @property
    def cli_flag(self) -> str:
        """The ``xai-tf evaluate`` flag: ``flag``, else ``--`` + the name with ``-`` for ``_``."""
        return self.flag or "--" + self.name.replace("_", "-")

    def from_cli(self, text: str):
        """Read and check the option's value from its command-line string.

        ``parse`` turns the string into a value, then ``check`` validates it.

        Parameters
        ----------
        text : str
            The flag's value as typed (``"0.05"``, ``"full,semi"``, ``"true"``).

        Returns
        -------
        object
            The checked value (JSON-able), what ``check(parse(text))`` returns.

        Raises
        ------
        ValueError
            If ``parse`` cannot read ``text`` (the message names ``cli_flag`` and repeats the
            option's help), or if ``check`` rejects the value.
        TypeError
            If ``check`` rejects the value's type (naming the option).
        """
        try:
            value = self.parse(text)
        except (TypeError, ValueError) as error:
            raise ValueError(f"{self.cli_flag}={text!r} could not be read ({error}); {self.help}") from None
        return self.check(value)


@dataclass
class Chunk:
    """One unit of work handed to :meth:`Metric.score`: a chunk of images explained by one method.

    The runner (``xai_tf.evaluation.UnitScorer.score_maps``) builds one per (chunk, method); a
    metric reads what it needs and must not modify the arrays. B is the number of images in the
    chunk (``chunk_size``, fewer in the last chunk).

    Parameters
    ----------
    model : keras.Model
        The classifier the maps explain (taking ``[0, 1]`` NHWC images).
    method : str
        Name of the saliency method that made ``maps`` (one of ``xai_tf.list_methods()``); a
        :class:`MethodMetric` re-runs it with ``xai_tf.explain(model, ..., method, ..., **params)``.
    images : numpy.ndarray, shape (B, H, W, C)
        float32 in [0, 1], the chunk's images.
    indices : numpy.ndarray, shape (B,)
        int64, the images' positions in the data set. Per-image random draws are keyed on them
        (``rng_for(seed, index)``), so a result does not depend on the chunk or shard an image is in.
    targets : numpy.ndarray, shape (B,)
        int64, the class explained on each image.
    maps : numpy.ndarray, shape (B, H, W)
        The method's maps of ``images`` (float32, larger = more important; a study passes denoised
        maps here).
    seed : int
        The run's seed, for the metric's own per-image draws (``rng_for(seed, index)``).
    chunk_seed : int
        The chunk's seed (``xai_tf.evaluation.chunk_seed(seed, chunk)``), to pass as ``seed=`` when
        re-running a stochastic method.
    batch_size : int
        Most images per compiled model call.
    params : dict, optional
        The method's parameters ``{parameter: value}`` (default empty), to pass on to
        ``xai_tf.explain`` when re-running the method.
    masks : numpy.ndarray, shape (B, H, W), bool, optional
        Ground-truth object masks (True on the object), or None (default) when the data has none.
    boxes : list of list of tuple, optional
        Per image a list of ``(y0, x0, y1, x1)`` end-exclusive boxes, or None (default) when the
        data has none.
    randomized : callable, optional
        ``randomized(mode)`` returns ``model`` with re-initialised weights (``mode`` ``"full"`` or
        ``"semi"``, see :func:`xai_tf.metrics.randomization_check`), made once per run and cached;
        None (default) outside the runner.
    """

    model: object
    method: str
    images: np.ndarray
    indices: np.ndarray
    targets: np.ndarray
    maps: np.ndarray
    seed: int
    chunk_seed: int
    batch_size: int
    params: dict = field(default_factory=dict)
    masks: np.ndarray | None = None
    boxes: list | None = None
    randomized: Callable | None = None


class Metric:
    """Base class of the metric protocol: what every metric the evaluation runner scores declares.

    A metric is an instance of a subclass (:class:`MapsMetric`, :class:`MethodMetric` or
    :class:`CurveMetric`) that sets the class attributes below and implements :meth:`score`;
    :func:`xai_tf.metrics.register` adds it to ``xai_tf.metrics.METRICS``, which the runner
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


class CurveMetric(MapsMetric):
    """A maps metric measured as one curve per image and reported as the area under it.

    Subclasses set ``name``, ``direction`` (``"higher"``: a larger area is better, as Insertion;
    ``"lower"``, as Deletion), ``label`` (what the curve's x axis is, for figures) and
    ``options``, and implement :meth:`curves`. The default :meth:`~Metric.score` writes the per-image
    area (:meth:`area`) in the column ``name`` and stores the curves in the chunk's arrays as
    ``curve_<name>`` ``(B, T)`` float64 (NaN-padded where images have fewer points) and
    ``curve_<name>_x`` ``(T,)``; :meth:`~Metric.summarize` returns the mean, standard deviation and count
    of the areas. The evaluation summary stores every curve metric's aggregated curve under
    ``summary["curves"][column][method]`` (:meth:`curve_detail`: the curve of
    :meth:`aggregate_curves`, by default the mean over images at each x, NaN ignored, at most
    ``MAX_SUMMARY_POINTS`` evenly spaced points, with ``direction``, ``label`` and ``ylabel``), from
    which ``table.csv``'s figures, the report and the studies draw the curves.
    """

    direction: str = "higher"
    label: str = "fraction of the image perturbed"
    ylabel: str = "target class probability"

    def curves(self, chunk: Chunk, options: dict) -> tuple[np.ndarray, np.ndarray]:
        """Measure the curve of every image of one chunk: the method a curve metric implements.

        Parameters
        ----------
        chunk : Chunk
            The chunk's images, maps, targets and seeds (see :meth:`Metric.score`).
        options : dict
            ``{option name: checked value}`` of every registered option.

        Returns
        -------
        x : numpy.ndarray, shape (T,)
            The increasing points the curves are measured at (e.g. the fraction of the image
            perturbed).
        curves : numpy.ndarray, shape (B, T)
            One curve per image (e.g. the target class probability at each ``x``), NaN-padded at
            the end where an image has fewer points.

        Raises
        ------
        NotImplementedError
            Always, in the base class: a subclass implements it.
        """
        raise NotImplementedError

    def area(self, x: np.ndarray, curves: np.ndarray, options: dict) -> np.ndarray:
        """Compute the area under each image's curve, the value :meth:`~Metric.score` writes per image.

        Default: the trapezoidal rule over ``x`` with NaN points (padding) dropped; Deletion and
        Insertion override it with Xplique's mean of the trapezoids.

        Parameters
        ----------
        x : numpy.ndarray, shape (T,)
            float64, the points of :meth:`curves`.
        curves : numpy.ndarray, shape (B, T)
            float64, one curve per image.
        options : dict
            ``{option name: checked value}`` of every registered option (unused by the default).

        Returns
        -------
        numpy.ndarray, shape (B,), float64
            The area under each curve; NaN for a curve with fewer than two finite points.
        """
        return trapezoid_rows(x, curves)

    def score(self, chunk: Chunk, options: dict):
        x, curves = self.curves(chunk, options)
        curves = np.asarray(curves, dtype=np.float64)
        areas = self.area(np.asarray(x, dtype=np.float64), curves, options)
        return ({self.name: [float(value) for value in areas]},
                {f"curve_{self.name}": curves, f"curve_{self.name}_x": np.asarray(x, dtype=np.float64)})

    def aggregate_curves(self, stored: Callable[[], list]) -> tuple[np.ndarray, np.ndarray, int] | None:
        """Aggregate one method's curves over every stored chunk into one curve.

        Chunks whose curves have different lengths (e.g. IROF's segment counts) are NaN-padded to the
        longest; each point is the mean over the images that have it.

        Parameters
        ----------
        stored : callable
            ``stored()`` returns the method's saved chunk arrays ``[(first image index, {array name:
            numpy.ndarray})]`` (see :meth:`Metric.summarize`); the curves are read from
            ``curve_<name>`` and ``curve_<name>_x``.

        Returns
        -------
        tuple of (numpy.ndarray, numpy.ndarray, int) or None
            ``(x, curve, images)``: ``x`` ``(T,)`` float64, the points of the longest curve;
            ``curve`` ``(T,)`` float64, the mean over images at each point (NaN where no image has
            a finite value); ``images``, the number of images aggregated. None when no chunk
            stored this metric's curves.
        """
        key = f"curve_{self.name}"
        parts = [(first, arrays[key], arrays[f"{key}_x"]) for first, arrays in stored() if key in arrays]
        if not parts:
            return None
        length = max(curves.shape[1] for _, curves, _ in parts)
        x = max((xs for _, _, xs in parts), key=len)
        padded = np.full((sum(len(curves) for _, curves, _ in parts), length), np.nan)
        row = 0
        for _, curves, _ in sorted(parts, key=lambda part: part[0]):
            padded[row:row + len(curves), :curves.shape[1]] = curves
            row += len(curves)
        counts = np.sum(np.isfinite(padded), axis=0)
        with np.errstate(invalid="ignore"):
            mean = np.where(counts > 0, np.nansum(padded, axis=0) / np.maximum(counts, 1), np.nan)
        return np.asarray(x, dtype=np.float64), mean, len(padded)

    def curve_detail(self, stored: Callable[[], list]) -> dict | None:
        """Give the aggregated curve of one method for the summary (``summary["curves"][column][method]``).

        The summary stores it for every curve metric, so figures and reports read curves alike.

        Parameters
        ----------
        stored : callable
            ``stored()`` returns the method's saved chunk arrays (see :meth:`aggregate_curves`).

        Returns
        -------
        dict or None
            JSON-ready ``{"x", "curve", "images", "direction", "label", "ylabel"}``: the curve of
            :meth:`aggregate_curves` as lists of floats (non-finite points as None), thinned to at
            most ``MAX_SUMMARY_POINTS`` (1001) evenly spaced points, with the number of images,
            ``direction`` and the axis labels. None when nothing was stored.
        """
        aggregated = self.aggregate_curves(stored)
        if aggregated is None:
            return None
        x, curve, images = aggregated
        if len(x) > MAX_SUMMARY_POINTS:  # one point per pixel (Pixel-Flipping at 224 px): keep the summary small
            keep = np.unique(np.round(np.linspace(0, len(x) - 1, MAX_SUMMARY_POINTS)).astype(int))
            x, curve = x[keep], curve[keep]
        return {"x": [float(v) for v in x], "curve": [None if not np.isfinite(v) else float(v) for v in curve],
                "images": images, "direction": self.direction, "label": self.label, "ylabel": self.ylabel}


def trapezoid_rows(x: np.ndarray, curves: np.ndarray) -> np.ndarray:
    """Trapezoidal area of each row of ``curves`` ``(B, T)`` over ``x`` ``(T,)``; NaN points (padding) dropped.

    A row with fewer than two finite points has area NaN (nothing to integrate).
    """
    x = np.asarray(x, dtype=np.float64)
    curves = np.atleast_2d(np.asarray(curves, dtype=np.float64))
    finite = np.isfinite(curves)
    if finite.all():
        return np.sum((curves[:, 1:] + curves[:, :-1]) * np.diff(x) / 2.0, axis=1)
    areas = np.full(len(curves), np.nan)
    for i, (row, keep) in enumerate(zip(curves, finite)):
        if keep.sum() >= 2:
            areas[i] = float(np.sum((row[keep][1:] + row[keep][:-1]) * np.diff(x[keep]) / 2.0))
    return areas


def choice(name: str, choices) -> Callable[[object], object]:
    """An option check: the value must be one of ``choices``."""
    from xai_tf._checks import check_choice

    return lambda value: check_choice(value, name, choices)


def number(name: str, low=None, high=None, *, integer: bool = False) -> Callable[[object], object]:
    """An option check: a number in ``[low, high]`` (an integer when ``integer``)."""
    from xai_tf._checks import check_number

    def check(value):
        if integer and (isinstance(value, bool) or not isinstance(value, (int, np.integer))):
            raise TypeError(f"{name} must be an integer; got {value!r}")
        checked = check_number(value, name, low, high)
        return int(checked) if integer else checked
    return check


def fraction(name: str) -> Callable[[object], object]:
    """An option check: a number in ``(0, 1]`` (a fraction of the image; 0 would perturb nothing)."""
    from xai_tf._checks import check_number

    def check(value):
        checked = check_number(value, name, 0.0, 1.0)
        if checked == 0.0:
            raise ValueError(f"{name} must lie in (0, 1]; got {value!r}")
        return checked
    return check


def count(name: str, low: int = 1) -> Callable[[object], object]:
    """An option check: an integer ``>= low`` (steps, samples, runs)."""
    return number(name, low, integer=True)


def flag(name: str) -> Callable[[object], object]:
    """An option check: True or False."""
    from xai_tf._checks import check_bool

    return lambda value: check_bool(value, name)


def parse_bool(text: str) -> bool:
    """CLI string -> bool (``true/false``, ``yes/no``, ``1/0``)."""
    lowered = text.strip().lower()
    if lowered in ("true", "yes", "1"):
        return True
    if lowered in ("false", "no", "0"):
        return False
    raise ValueError("expected true or false")


def parse_list(text: str) -> list[str]:
    """CLI string ``"a,b"`` -> ``["a", "b"]``."""
    return [part.strip() for part in text.split(",") if part.strip()]
