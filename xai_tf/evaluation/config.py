"""What decides an evaluation's results: the one builder of ``config.json`` and the checks before it.

``build_config`` is the only place the content of an evaluation store's ``config.json`` is put
together: ``xai_tf.evaluate`` (one folder per run or shard) and ``xai_tf.study`` (one folder per
model x method x denoiser cell, hashed) both call it, so the two cannot drift apart. The store
compares it with the folder's recorded one before resuming (``Store.open``).

The checks every caller runs before anything is written live here too: ``check_options`` (the
registered metrics' options), ``check_data`` (metrics that need masks or boxes, options that do
not fit the images' size) and ``check_targets``.
"""
from __future__ import annotations

#: ``targets=`` of an evaluation: explain the model's predicted class or the data's label.
TARGETS = ("predicted", "label")


def check_targets(targets, metrics):
    """What an evaluation explains, checked against its metrics before any work.

    Parameters
    ----------
    targets : {"predicted", "label"}, str, Target or callable
        A class rule of :data:`TARGETS`; or another target (``xai_tf.targets``), as an object or in
        its command-line form (``"regression:0"``, ``"segmentation:class=1"``, ``"classes:2"``).
    metrics : list of str
        The registered metrics asked for.

    Returns
    -------
    str or Target
        ``"predicted"`` / ``"label"`` as given, else the :class:`~xai_tf.Target`.

    Raises
    ------
    ValueError
        An unknown rule or target form, or a metric that does not support the target's kind
        (``Metric.targets``: AIC/SIC, ROAD, Random Logit, ... are defined on classes).
    TypeError
        ``targets`` is neither a string, a target nor a callable.
    """
    from xai_tf._checks import check_choice
    from xai_tf.metrics.registry import METRICS
    from xai_tf.targets import as_target, parse_target

    if isinstance(targets, str) and targets.partition(":")[0] not in ("classes", "regression", "segmentation"):
        return check_choice(targets, "targets", TARGETS)  # "predicted", "label", or a named error
    target = parse_target(targets) if isinstance(targets, str) else as_target(targets)
    if target is None:
        raise TypeError(f"targets must be 'predicted', 'label', a Target or a callable; got {targets!r}")
    unsupported = [name for name in metrics if target.kind not in METRICS[name].targets]
    if unsupported:
        raise ValueError(f"metrics {unsupported} do not support a {target.kind} target (they are defined on "
                         f"classes); choose among the others for targets={target.spec()!r}")
    return target


def check_options(metrics, options: dict | None) -> dict:
    """All options of the registered metrics: defaults overridden by ``options``, each checked.

    Parameters
    ----------
    metrics : list of str
        The metrics asked for (their names are checked by the caller).
    options : dict or None
        ``{option name: value}`` overrides of ``xai_tf.metrics.registry.default_options()``.

    Returns
    -------
    dict
        ``{option name: checked value}`` for every registered option.

    Raises
    ------
    ValueError
        An option no registered metric has (the valid ones are listed), or a bad value.
    TypeError
        A value of the wrong type (the option's own check, naming the option).
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


def check_data(metrics, options: dict, data, what: str = "the data") -> None:
    """ValueError when the metrics cannot score ``data``: missing ground truth, or options that do not fit.

    Parameters
    ----------
    metrics : list of str
        Registered metric names.
    options : dict
        The checked options (:func:`check_options`).
    data : LabelledImages or xai_tf.data.ImageSource
        The images scored (their shape and whether they have ``masks`` or ``boxes`` are read).
    what : str
        How the error names the data (default "the data").

    Raises
    ------
    ValueError
        A metric needs localisation truth (masks or boxes) that ``data`` lacks, or one of its options
        cannot score images of this size (``Metric.check_shape``: a top-k larger than the image, a
        segmentation of 1-pixel images), before anything is written.
    """
    from xai_tf.metrics.registry import METRICS

    # a lazy source (xai_tf.data.ImageSource) says whether it has masks without reading them
    has_truth = data.has_masks if hasattr(data, "has_masks") else data.masks is not None or bool(data.boxes)
    for name in metrics:
        if METRICS[name].ground_truth and not has_truth:
            raise ValueError(f"metric {name!r} needs ground truth ({METRICS[name].ground_truth}): {what} has "
                             "neither masks nor boxes")
        METRICS[name].check_shape(options, tuple(data.image_shape))


def build_config(*, methods, metrics, options: dict, method_params: dict, seed: int, chunk_size: int,
                 batch_size: int, targets: str, shard, model_weights: str, data_images: int, data_shape,
                 data_fingerprint: str, **extra) -> dict:
    """The content of an evaluation store's ``config.json``: everything that decides its results.

    Parameters
    ----------
    methods, metrics : list of str
        Method and metric names, in order.
    options : dict
        Every metric option, checked (:func:`check_options`).
    method_params : dict
        ``{method: {parameter: value}}``.
    seed, chunk_size, batch_size : int
        The run's seed (methods' and metrics' randomness), images per unit of work, images per
        compiled model call.
    targets : {"predicted", "label"}
        The explained class.
    shard : None or (k, n)
        The shard this folder holds (``None``: all images).
    model_weights : str
        Fingerprint of the model's weights (``xai_tf._io.fingerprint``).
    data_images : int
        Number of images in the scored data.
    data_shape : sequence of int
        ``(H, W, C)`` of the images.
    data_fingerprint : str
        Fingerprint of the data set's images and labels.
    **extra
        More JSON-able entries that decide or describe the results (the model's name and path, the
        data's source and indices, a study cell's denoiser), recorded and compared like the rest.

    Returns
    -------
    dict
        JSON-able; two runs resume each other exactly when their configs are equal.
    """
    return {
        "methods": list(methods), "metrics": list(metrics), "seed": int(seed), "chunk_size": int(chunk_size),
        "batch_size": int(batch_size), "targets": targets, "options": options,
        "method_params": {method: dict(params) for method, params in method_params.items()},
        "shard": None if shard is None else f"{shard[0]}/{shard[1]}",
        "model_weights": model_weights, "data_images": int(data_images), "data_shape": [int(v) for v in data_shape],
        "data_fingerprint": data_fingerprint, **extra,
    }
