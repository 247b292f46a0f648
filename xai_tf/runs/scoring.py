"""The scoring recipes over a saved model: score methods (``evaluate_run``), trust metrics (``meta_evaluate_run``).

Each loads the model once (``xai_tf.models.load_model``), picks its images
(:func:`xai_tf.runs.data_for_model`, or :func:`xai_tf.runs.lazy_source_for_model` for a source
read a chunk at a time), says on stderr what it scores and hands both to the evaluation package
(``xai_tf.evaluation.evaluate``, ``xai_tf.evaluation.meta_evaluate``). ``xai-tf evaluate`` and
``xai-tf meta-evaluate`` are these functions with their flags as arguments (``xai_tf.cli``).
"""
from __future__ import annotations

import sys

from xai_tf._docstrings import fill_doc
from xai_tf.runs.model_data import DATA_SETTINGS, MODEL_OUT_DATA, VERBOSE

_VERBOSE = VERBOSE.format(doing="scoring")


@fill_doc(model_out_data=MODEL_OUT_DATA.format(what="one per shard"), verbose=_VERBOSE, data_settings=DATA_SETTINGS)
def evaluate_run(model, out, *, data: str, methods, metrics, shard=None, seed: int = 0, targets="predicted",
                 verbose: int = 1, n: int | None = None, image_size: int | None = None, color: str | None = None,
                 skip_bad: bool = False, split: str | None = None, data_seed: int | None = None, masks=None,
                 class_names=None, data_options: dict | None = None, **settings) -> dict:
    """Score ``methods`` with ``metrics`` on a saved model's images, resumably (``xai_tf.evaluation.evaluate``).

    An HDF5 file, a zarr store, a ``.npy`` array or a FITS folder read whole is opened as a lazy
    source (:func:`xai_tf.runs.lazy_source_for_model`: every image, read a chunk at a time); other
    data, or a split to pick, are loaded by :func:`xai_tf.runs.data_for_model`. Prints ``scoring N
    images (<split> split of <data>)`` on stderr; the model path, data, split and image indices are
    recorded in ``config.json``.

    Parameters
    ----------
    {model_out_data}
    methods, metrics : str or sequence of str
        The methods and metrics (comma-separated or a list), as ``xai_tf.evaluation.evaluate`` takes them.
    shard : str or tuple of int, optional
        ``"k/n"``, ``"auto"`` or ``(k, n)``: score only that shard (default None: all).
    seed : int, optional
        Seed of the methods and metrics, and of synthetic data without a train run (default 0).
    targets : {"predicted", "label"} or xai_tf.targets.Target, optional
        What is explained (default "predicted"); a target that is not a class needs no class count.
    {verbose}
    {data_settings}
    **settings
        More keywords of ``xai_tf.evaluation.evaluate``: ``chunk_size``, ``batch_size``, ``options``
        (the metric options), ``method_params``.

    Returns
    -------
    dict
        The evaluation's summary (``xai_tf.evaluation.evaluate``): ``computed``, ``skipped``,
        ``methods``, ``metrics``, ...

    Raises
    ------
    ValueError
        If ``masks`` or ``class_names`` are given for data read as an array source; from the
        loaders and the runner, data that do not fit the model or bad settings.
    """
    from xai_tf.evaluation.runner import evaluate
    from xai_tf.models import load_model
    from xai_tf.runs.model_data import data_for_model, lazy_source_for_model

    loaded = load_model(model, name="--model")  # flattened once: the source check and the runner get this object
    classes = isinstance(targets, str) or targets.kind == "classes"
    # an HDF5 file, a .npy array or a FITS folder is read a chunk at a time (xai_tf.data.open); the rest as before
    source = lazy_source_for_model(loaded, data, model, skip_bad=skip_bad, split=split, classes=classes,
                                   source_options=data_options)
    if source is not None:
        for flag, value in (("--masks", masks), ("--classes", class_names)):
            if value is not None:
                raise ValueError(f"{flag} is for a class-folder tree; {data} is read as an array source")
        indices, split = None, "all"
    else:
        source, indices, split = data_for_model(
            loaded, model, data=data, n=n, image_size=image_size, color=color, skip_bad=skip_bad,
            data_seed=data_seed, seed=seed, split=split, verbose=verbose, classes=classes, masks=masks,
            class_names=class_names, data_options=data_options)
        indices = indices.tolist()
    print(f"scoring {len(source)} images ({split} split of {data})", file=sys.stderr)
    return evaluate(loaded, source, methods, metrics, out, shard, seed=seed, targets=targets, verbose=verbose,
                    extra_config={"model_path": str(model), "data_source": data, "split": split,
                                  "data_indices": indices}, **settings)


@fill_doc(model_out_data=MODEL_OUT_DATA.format(what="e.g. the evaluation folder of the same model"),
          verbose=_VERBOSE, data_settings=DATA_SETTINGS)
def meta_evaluate_run(model, out, *, data: str, metrics, methods, limit: int | None = None, seed: int = 0,
                      verbose: int = 1, n: int | None = None, image_size: int | None = None, color: str | None = None,
                      skip_bad: bool = False, split: str | None = None, data_seed: int | None = None, masks=None,
                      class_names=None, data_options: dict | None = None, **settings) -> dict:
    """Meta-evaluate ``metrics`` on a saved model's images (``xai_tf.evaluation.meta_evaluate``).

    The images are those of :func:`xai_tf.runs.data_for_model`, at most ``limit`` of them (an even
    number per class, :func:`xai_tf.runs.per_class`). Prints ``meta-evaluating on N images ...`` on
    stderr.

    Parameters
    ----------
    {model_out_data}
    metrics, methods : str or sequence of str
        The metrics to meta-evaluate and the methods (two or more) they score.
    limit : int, optional
        Score at most this many images (>= 2), an even number per class drawn with ``seed``;
        default None: every image of the split.
    seed : int, optional
        Seed of the noise, methods, metrics and the pick per class (default 0).
    {verbose}
    {data_settings}
    **settings
        More keywords of ``xai_tf.evaluation.meta_evaluate``: ``tests``, ``perturbations``,
        ``model_noise``, ``input_noise``, ``chunk_size``, ``batch_size``, ``targets``, ``shard``, ...

    Returns
    -------
    dict
        ``xai_tf.evaluation.meta_evaluate``'s result: the table and its ``files``, or for a shard
        while others are missing ``{"complete": False, "shard", "runs", "missing"}``.

    Raises
    ------
    ValueError
        If ``limit`` is below 2; from the loaders and ``meta_evaluate``, data or settings that do not fit.
    """
    from xai_tf.evaluation.meta import meta_evaluate
    from xai_tf.models import load_model
    from xai_tf.runs.model_data import data_for_model, per_class

    if limit is not None and limit < 2:
        raise ValueError(f"--limit must be >= 2 (the Wilcoxon tests need several images); got {limit}")
    loaded = load_model(model, name="--model")  # flattened once: every later step gets this object
    images, _, split = data_for_model(
        loaded, model, data=data, n=n, image_size=image_size, color=color, skip_bad=skip_bad, data_seed=data_seed,
        seed=seed, split=split, verbose=verbose, masks=masks, class_names=class_names, data_options=data_options)
    of = ""
    if limit is not None and limit < len(images):
        of = f" of {len(images)}, an even number per class (--limit {limit}, seeded)"
        images = images.subset(per_class(images.labels, limit, seed))
    print(f"meta-evaluating on {len(images)} images{of} ({split} split of {data})", file=sys.stderr)
    return meta_evaluate(loaded, images, metrics, methods, out, seed=seed, verbose=verbose, **settings)
