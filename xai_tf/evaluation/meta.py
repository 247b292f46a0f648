"""Can the metric be trusted: meta-evaluation of metrics (Hedström et al., TMLR 2023, "MetaQuantus").

A reliable metric (a "quality estimator") is *resilient to noise* (NR): a minor perturbation of the
model or of the input, one that leaves the predictions as they are, should not move its scores nor
the order in which it ranks the explanation methods; and *reactive to adversaries* (AR): a
disruptive perturbation, one that changes the predictions, should move its scores and make every
method's explanations score worse. ``meta_evaluate`` measures both, written from the paper:

- perturbations (Hedström et al., section 4 and appendix): the **model** test multiplies every
  trainable weight by Gaussian noise ``N(1, sigma^2)`` (minor ``sigma = 0.001``, disruptive
  ``sigma = 2.0``, the paper's values for its MNIST-size networks; 0.5 for ImageNet ones); the
  **input** test adds uniform noise ``U(-lambda, lambda)`` to the images (minor ``lambda = 0.001``,
  disruptive ``lambda = 5.0``), clipped to the [0, 1] range of xai-tf's images. Each is drawn
  ``K = 5`` times (the paper's K), seeded with ``xai_tf._random.rng_for(seed, test, kind, k, ...)``.
  The explained classes stay those of the unperturbed model (the paper explains fixed labels).
- scores: for each perturbation the evaluation unit explains every image with every method on the
  perturbed model or images and scores the maps with the metrics (:func:`xai_tf.evaluate` into
  ``<out>/meta_evaluation/<test>_<nr|ar>_<k>``: batched, and resumable by running again).
- criteria (the paper's equations 5-9), with ``Q`` the (images N x methods L) scores, oriented so that
  higher is better (a "lower = better" metric is negated), ``Q'_k`` those of perturbation k and
  ``Q'bar`` their mean over the K perturbations:

  * intra-consistency ``IAC = 1/(K L) sum_k sum_l d(Q[:, l], Q'_k[:, l])``, where ``d`` is the
    p-value ``p`` of the two-sided Wilcoxon signed-rank test of the paired scores for NR (the
    scores should not move: a high p) and ``1 - p`` for AR (they should: a low p);
  * inter-consistency ``IEC = 1/(N L) sum_i sum_l U_il``: for NR, ``U_il = 1`` when method l has the
    same rank on image i under ``Q'bar`` as under ``Q`` (ranks within each image, ties averaged);
    for AR, ``U_il = 1`` when ``Q'bar_il < Q_il`` (the disrupted explanation scores worse);
  * meta-consistency ``MC = m* . m / |m*|`` with ``m = (IAC_NR, IAC_AR, IEC_NR, IEC_AR)`` and the
    ideal ``m* = (1, 1, 1, 1)``: the mean of the four, in [0, 1], 1 for an ideal metric.

The share of images whose prediction stayed the same under the minor perturbations (``nr_kept``) and
changed under the disruptive ones (``ar_changed``) is reported beside each test: the strengths fit
the model when the first is near 1 and the second well above 0. ``meta_evaluation.json`` (everything)
and ``meta_evaluation.csv`` (one row per metric column and test) are written into ``out_dir``.

Sharded (``shard="k/n"`` or ``"auto"``, as :func:`xai_tf.evaluate`'s): every run scores only shard k
of the images, into ``<out>/meta_evaluation/<run>/shard-<k>-of-<n>/`` (the noise is seeded per
perturbation and per image index, and the predictions kept or changed are counted over all images,
so every shard draws the same); the call that finds every shard of every run complete writes the
table from their union, equal to the unsharded one (``xai_tf.evaluation.meta_shards``).
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from xai_tf._checks import check_names, check_number, check_positive, check_seed
from xai_tf._io import csv_text, write_atomic, write_json
from xai_tf._progress import progress
from xai_tf._random import rng_for
from xai_tf.evaluation import statistics as st
from xai_tf.evaluation.config import check_data, check_options
from xai_tf.evaluation.meta_shards import check_layout, incomplete_result, missing_shards, shard_folder, shard_folders
from xai_tf.evaluation.runner import as_data, evaluate
from xai_tf.evaluation.shards import parse_shard
from xai_tf.evaluation.store import json_tree
from xai_tf.evaluation.summary import columns_of, read_shards

JSON_NAME, CSV_NAME, SUBFOLDER = "meta_evaluation.json", "meta_evaluation.csv", "meta_evaluation"
#: The perturbation tests: the model's weights, or the input images.
TESTS = ("model", "input")
#: Hedström et al. (2023): K perturbations per test and failure mode.
PERTURBATIONS = 5
#: (minor, disruptive) standard deviation of the multiplicative N(1, sigma^2) weight noise (the paper's).
MODEL_NOISE = (0.001, 2.0)
#: (minor, disruptive) half-width of the additive U(-lambda, lambda) input noise (the paper's).
INPUT_NOISE = (0.001, 5.0)
CRITERIA = ("iac_nr", "iac_ar", "iec_nr", "iec_ar")
#: The columns of ``meta_evaluation.csv``, one row per metric column and test ("all": the mean over the tests).
CSV_COLUMNS = ["metric", "column", "direction", "test", "mc", *CRITERIA, "nr_kept", "ar_changed", "images", "methods"]


def meta_consistency(unperturbed, minor, disruptive, direction: str = "higher") -> dict:
    """IAC, IEC and MC of one metric from its scores with and without perturbations (Hedström et al. 2023).

    Parameters
    ----------
    unperturbed : array-like, shape (N, L)
        The metric's score of each of N images (rows) and L >= 2 methods (columns).
    minor : array-like, shape (K, N, L)
        The scores under K minor perturbations (noise resilience, NR).
    disruptive : array-like, shape (K', N, L)
        The scores under K' disruptive perturbations (adversary reactivity, AR).
    direction : {"higher", "lower"}, optional
        Which scores are better (default "higher"); "lower" negates every score first.

    Returns
    -------
    dict
        ``iac_nr``, ``iac_ar``, ``iec_nr``, ``iec_ar`` and ``mc`` (their mean) as floats in [0, 1]
        (NaN when no image has every value), ``p_minor`` and ``p_disruptive`` (the Wilcoxon
        p-values, lists of K lists of L) and ``images`` (the images with every value finite, which
        the IEC counts; each IAC test drops only the pairs with a missing value). See
        the module ``xai_tf.evaluation.meta`` for the formulas.

    Raises
    ------
    ValueError
        If the shapes do not fit, fewer than two methods are given, or ``direction`` is neither
        "higher" nor "lower".
    """
    if direction not in ("higher", "lower"):
        raise ValueError(f"direction must be 'higher' or 'lower'; got {direction!r}")
    sign = 1.0 if direction == "higher" else -1.0
    base = sign * np.asarray(unperturbed, dtype=np.float64)
    if base.ndim != 2 or base.shape[1] < 2:
        raise ValueError(f"unperturbed must have shape (N images, L >= 2 methods); got {base.shape}")
    arrays = {}
    for name, values in (("minor", minor), ("disruptive", disruptive)):
        values = sign * np.asarray(values, dtype=np.float64)
        if values.ndim != 3 or values.shape[1:] != base.shape or len(values) == 0:
            raise ValueError(f"{name} must have shape (K >= 1, {base.shape[0]}, {base.shape[1]}); got {values.shape}")
        arrays[name] = values
    p_values = {name: _p_values(base, values) for name, values in arrays.items()}
    complete = np.isfinite(base).all(axis=1)
    for values in arrays.values():
        complete &= np.isfinite(values).all(axis=(0, 2))
    result = {"iac_nr": _mean(p_values["minor"]), "iac_ar": _mean(1.0 - p_values["disruptive"]),
              "iec_nr": np.nan, "iec_ar": np.nan, "images": int(complete.sum())}
    if complete.any():
        reference = base[complete]
        minor_mean, disruptive_mean = arrays["minor"][:, complete].mean(0), arrays["disruptive"][:, complete].mean(0)
        result["iec_nr"] = float(np.mean(st.block_ranks(reference, "higher") == st.block_ranks(minor_mean, "higher")))
        result["iec_ar"] = float(np.mean(disruptive_mean < reference))
    result["mc"] = _mean(np.array([result[name] for name in CRITERIA]))
    result.update(p_minor=p_values["minor"].tolist(), p_disruptive=p_values["disruptive"].tolist())
    return result


def _p_values(base: np.ndarray, perturbed: np.ndarray) -> np.ndarray:
    """(K, L) two-sided Wilcoxon signed-rank p-values of each method's paired scores (NaN pairs dropped)."""
    out = np.full(perturbed.shape[::2], np.nan)
    for k, values in enumerate(perturbed):
        for method in range(base.shape[1]):
            differences = base[:, method] - values[:, method]
            differences = differences[np.isfinite(differences)]
            if differences.size:
                out[k, method] = st.wilcoxon_pair(differences)["p_value"]
    return out


def _mean(values: np.ndarray) -> float:
    finite = values[np.isfinite(values)]
    return float(finite.mean()) if finite.size else float("nan")


def _pair(value, name: str) -> tuple[float, float]:
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__") or len(value) != 2:
        raise TypeError(f"{name} must be a pair (minor, disruptive) of noise strengths; got {value!r}")
    minor, disruptive = (check_number(v, name, 0.0) for v in value)
    if not 0 < minor < disruptive:
        raise ValueError(f"{name} must be (minor, disruptive) with 0 < minor < disruptive; got {tuple(value)!r}")
    return minor, disruptive


def meta_evaluate(model, data, metrics, methods, out_dir, *, tests=TESTS, perturbations: int = PERTURBATIONS,
                  model_noise=MODEL_NOISE, input_noise=INPUT_NOISE, seed: int = 0, chunk_size: int = 8,
                  batch_size: int = 64, targets: str = "predicted", options: dict | None = None,
                  method_params: dict | None = None, verbose: int = 1, shard=None) -> dict:
    """Meta-evaluate metrics: their noise resilience and adversary reactivity (MetaQuantus' IAC, IEC, MC).

    See the module ``xai_tf.evaluation.meta`` for the perturbations, the criteria and the files.

    Parameters
    ----------
    model : keras.Model or path
        The classifier (a saved model is loaded with :func:`xai_tf.models.load_model`).
    data : LabelledImages or ndarray
        The images (``xai_tf.data.load(...)``; masks or boxes for ``pointing_game``), or images
        ``(N, H, W, C)`` in [0, 1]. The Wilcoxon tests need about 6 images or more to reach p < 0.05.
    metrics : str or list of str
        Registered metric names (``xai_tf.metrics.METRICS``); columns without a better direction
        are skipped (listed under ``skipped``).
    methods : str or list of str
        Two or more names from :func:`xai_tf.list_methods` (the IEC ranks them).
    out_dir : path
        Folder of ``meta_evaluation.json``/``.csv`` (an evaluation folder: the report shows the table);
        the perturbed runs go into ``out_dir/meta_evaluation/``.
    tests : str or list of str, optional
        ``"model"`` (weights) and/or ``"input"`` (images); default both.
    perturbations : int, optional
        K, the perturbations per test and failure mode (default 5, Hedström et al. 2023).
    model_noise : (float, float), optional
        Standard deviations of the minor and the disruptive multiplicative weight noise, default
        ``(0.001, 2.0)`` (the paper's; it uses 0.5 as the disruptive one for ImageNet networks).
    input_noise : (float, float), optional
        Half-widths of the minor and disruptive additive uniform input noise, default ``(0.001, 5.0)``.
    seed : int, optional
        Seed of the noise, the stochastic methods and the metrics (default 0).
    chunk_size, batch_size : int, optional
        As for :func:`xai_tf.evaluate` (defaults 8 and 64).
    targets : {"predicted", "label"}, optional
        The classes explained: the unperturbed model's predictions (default) or the labels; the
        same classes are explained under every perturbation.
    options : dict, optional
        Metric options (``xai_tf.metrics.registry.default_options()``).
    method_params : dict, optional
        ``{method: {parameter: value}}`` for :func:`xai_tf.explain`.
    verbose : {0, 1, 2}, optional
        0 silent, 1 a progress bar over the runs on a terminal (default), 2 always.
    shard : None, "k/n", (k, n) or "auto", optional
        Score only shard k of n of the images in every run (1-based; ``"auto"``: this SLURM array
        task's, as :func:`xai_tf.evaluation.parse_shard` reads it), each run's shard in
        ``out_dir/meta_evaluation/<run>/shard-<k>-of-<n>/``; default None, all images in
        ``out_dir/meta_evaluation/<run>/``. Every shard of a meta-evaluation must use the same n
        and settings. The call that finds all n shards of every run complete (their
        ``summary.json`` says so) writes the table, from the union of the shards' rows: the same
        as without shards. Until then nothing is written into ``out_dir`` itself.

    Returns
    -------
    dict
        JSON-ready: the settings, ``methods``, ``images``, ``runs`` (the folders), ``columns``
        (``{column: {"metric", "direction", "tests": {test: criteria}, "mc", "iac_nr", ...}}``, the
        overall criteria being the means over the tests), ``rows`` (those of the CSV), ``skipped``
        and ``files``. Sharded while some shard is not complete: the settings, ``methods``,
        ``metrics``, ``images``, ``runs``, ``shard`` (this one, ``"k/n"``), ``complete`` (False),
        ``missing`` (the shards ``"j/n"`` not complete yet) and ``missing_runs`` (``{"j/n": [run
        names]}``).

    Raises
    ------
    ValueError
        Before any work: an unknown metric or method, fewer than two methods, unknown ``tests``,
        ``perturbations`` < 1, noise strengths not ``0 < minor < disruptive``, ``targets`` other
        than "predicted" or "label", a bad metric option or a bad ``shard``; and what
        :func:`xai_tf.evaluate` raises for the runs.
    TypeError
        If an argument has the wrong type (noise strengths not a pair of numbers, ``data`` neither
        LabelledImages nor an array, ...).
    EvaluationError
        If ``out_dir/meta_evaluation`` holds runs of other settings (another seed, K, strength,
        method or metric: the differing keys are named; use another ``out_dir``), or shards of
        another n or unsharded runs beside this call's (sharded) runs. A ValueError.
    """
    from xai_tf.explainers import list_methods
    from xai_tf.metrics.registry import METRICS

    metrics = list(check_names(metrics, "metrics", METRICS))
    methods = list(check_names(methods, "methods", list_methods()))
    if len(methods) < 2:
        raise ValueError(f"methods: meta-evaluation ranks the methods, so it needs two or more; got {methods}")
    tests = list(check_names(tests, "tests", TESTS))
    check_positive(perturbations, "perturbations", integer=True)
    noise = {"model": _pair(model_noise, "model_noise"), "input": _pair(input_noise, "input_noise")}
    seed = check_seed(seed)
    check_positive(chunk_size, "chunk_size", integer=True)
    check_positive(batch_size, "batch_size", integer=True)
    if targets not in ("predicted", "label"):
        raise ValueError(f"targets must be 'predicted' or 'label' (meta-evaluation explains classes); got {targets!r}")
    options = check_options(metrics, options)
    shard = parse_shard(shard)
    settings = {"tests": tests, "perturbations": perturbations, "model_noise": list(noise["model"]),
                "input_noise": list(noise["input"]), "seed": seed, "targets": targets}
    out = Path(out_dir)
    check_layout(out / SUBFOLDER, shard, settings)
    model = _model(model)
    data = as_data(data)
    if not hasattr(data, "images"):  # a lazy source: the meta-evaluation perturbs the images in memory
        data = data.to_labelled()
    check_data(metrics, options, data)
    fixed, predicted = _fixed_targets(model, data, targets, batch_size)
    run = dict(methods=methods, metrics=metrics, seed=seed, chunk_size=chunk_size, batch_size=batch_size,
               targets="label", options=options, method_params=method_params, verbose=0, shard=shard)
    plan = [("unperturbed", None, None, None)] + [(f"{test}_{kind}_{k + 1}", test, kind, k) for test in tests
                                                  for kind in ("nr", "ar") for k in range(perturbations)]
    bar = progress(total=len(plan), desc="meta-evaluate (runs)", verbose=verbose)
    clone, rows, agree = None, {}, {}
    for name, test, kind, k in plan:
        run_model, run_data = model, fixed
        if test == "model":
            clone = _clone(model) if clone is None else clone
            run_model = _perturb_weights(model, clone, noise["model"][kind == "ar"], (seed, 0, kind == "ar", k))
        elif test == "input":
            run_data = _perturb_images(fixed, noise["input"][kind == "ar"], (seed, 1, kind == "ar", k))
        folder = out / SUBFOLDER / name if shard is None else shard_folder(out / SUBFOLDER / name, shard)
        evaluate(run_model, run_data, out_dir=folder, extra_config={"meta_evaluation": {**settings, "run": name}},
                 **run)
        if shard is None:
            rows[name] = read_shards([folder])[1]
        if test is not None:
            from xai_tf.models.head import head_of

            now = head_of(run_model).targets(run_data.images, None, batch_size, name="labels")
            agree[name] = float(np.mean(now == predicted))
        bar.update(1)
    bar.close()
    if shard is not None:  # the table needs every shard of every run: the last call to find them all writes it
        missing = missing_shards(out / SUBFOLDER, [name for name, *_ in plan], shard)
        if missing:
            head = {**settings, "methods": methods, "metrics": metrics, "images": len(data.images)}
            return incomplete_result(head, out / SUBFOLDER, shard, missing)
        rows = {name: read_shards(shard_folders(out / SUBFOLDER / name, shard[1]))[1] for name, *_ in plan}
    config = {"metrics": metrics, "options": options}
    result = {**settings, "methods": methods, "metrics": metrics, "images": len(data.images),
              "runs": str(out / SUBFOLDER), "columns": {}, "rows": [], "skipped": [], "files": []}
    for column, registered in columns_of(config):
        direction = registered.direction_of(column)
        if direction is None:
            result["skipped"].append(column)
            continue
        scores = {name: _matrix(found, column, methods, len(data.images)) for name, found in rows.items()}
        entry = {"metric": registered.name, "direction": direction, "tests": {}}
        for test in tests:
            stack = {kind: np.stack([scores[f"{test}_{kind}_{k + 1}"] for k in range(perturbations)])
                     for kind in ("nr", "ar")}
            criteria = meta_consistency(scores["unperturbed"], stack["nr"], stack["ar"], direction)
            criteria["nr_kept"] = float(np.mean([agree[f"{test}_nr_{k + 1}"] for k in range(perturbations)]))
            criteria["ar_changed"] = 1.0 - float(np.mean([agree[f"{test}_ar_{k + 1}"] for k in range(perturbations)]))
            entry["tests"][test] = criteria
        for name in ("mc", *CRITERIA, "nr_kept", "ar_changed"):
            entry[name] = _mean(np.array([entry["tests"][test][name] for test in tests]))
        result["columns"][column] = entry
        for test in [*tests, "all"] if len(tests) > 1 else tests:
            values = entry if test == "all" else entry["tests"][test]
            result["rows"].append({"metric": registered.name, "column": column, "direction": direction, "test": test,
                                   **{name: values[name] for name in ("mc", *CRITERIA, "nr_kept", "ar_changed")},
                                   "images": len(data.images), "methods": len(methods)})
    result = json_tree(result)
    out.mkdir(parents=True, exist_ok=True)
    result["files"] = [str(out / JSON_NAME), str(out / CSV_NAME)]
    write_atomic(out / CSV_NAME, csv_text(CSV_COLUMNS, result["rows"]).encode())
    write_json(out / JSON_NAME, result)
    return result


def _model(model):
    import keras

    if isinstance(model, keras.Model):
        return model
    from xai_tf.models import load_model

    return load_model(model, name="model")


def _fixed_targets(model, data, targets: str, batch_size: int):
    """The data with the explained classes as labels (so every run explains them), and the predictions."""
    from xai_tf.models.head import head_of

    head = head_of(model)
    predicted = head.targets(data.images, None, batch_size, name="labels")
    classes = data.labels if targets == "label" else predicted
    names = tuple(data.class_names)
    if classes.size and int(classes.max()) >= len(names):
        names += tuple(f"class {c}" for c in range(len(names), int(classes.max()) + 1))
    return dataclasses.replace(data, labels=np.asarray(classes, np.int64), class_names=names), predicted


def _clone(model):
    import keras

    clone = keras.models.clone_model(model)
    clone.set_weights(model.get_weights())
    return clone


def _perturb_weights(model, clone, sigma: float, keys: tuple):
    """``clone`` with every trainable weight of ``model`` times ``N(1, sigma^2)`` noise (non-trainable ones as is)."""
    weights = []
    for number, variable in enumerate(model.weights):
        value = np.asarray(variable.numpy())
        if variable.trainable:
            value = value * rng_for(keys[0], *keys[1:], number).normal(1.0, sigma, value.shape).astype(value.dtype)
        weights.append(value)
    clone.set_weights(weights)
    return clone


def _perturb_images(data, half_width: float, keys: tuple):
    """``data`` with ``U(-half_width, half_width)`` noise added to each image (drawn per image index), clipped."""
    images = np.stack([image + rng_for(keys[0], *keys[1:], index).uniform(-half_width, half_width, image.shape)
                       for index, image in enumerate(data.images)])
    return dataclasses.replace(data, images=np.clip(images, 0.0, 1.0).astype(np.float32))


def _matrix(rows: list[dict], column: str, methods: list[str], images: int) -> np.ndarray:
    values = np.full((images, len(methods)), np.nan)
    for row in rows:
        value = row.get(column)
        if row["method"] in methods and value is not None and not row.get(f"{column}_excluded"):
            values[int(row["image"]), methods.index(row["method"])] = value
    return values


def text_table(result: dict) -> str:
    """:func:`meta_evaluate`'s result as a text table: per metric column and test, MC and the four criteria.

    Parameters
    ----------
    result : dict
        What :func:`meta_evaluate` returns (or ``meta_evaluation.json`` read back).

    Returns
    -------
    str
        One line per row of ``meta_evaluation.csv`` under a header, then the skipped columns.
    """
    def cell(value) -> str:
        return "n/a" if value is None or not np.isfinite(value) else f"{value:.3f}"

    lines = [f"{'metric':>24} {'test':>6} {'MC':>6} {'IAC_NR':>7} {'IAC_AR':>7} {'IEC_NR':>7} {'IEC_AR':>7} "
             f"{'NR kept':>8} {'AR changed':>10}"]
    for row in result["rows"]:
        lines.append(f"{row['column']:>24} {row['test']:>6} {cell(row['mc']):>6} {cell(row['iac_nr']):>7} "
                     f"{cell(row['iac_ar']):>7} {cell(row['iec_nr']):>7} {cell(row['iec_ar']):>7} "
                     f"{cell(row['nr_kept']):>8} {cell(row['ar_changed']):>10}")
    if result.get("skipped"):
        lines.append(f"skipped (no better direction): {', '.join(result['skipped'])}")
    return "\n".join(lines)
