"""``explain``: the single entry point of the saliency methods.

``explain`` sanitises everything once (model, images, targets, batch size, seed, layer, method
parameters), binds the model to its target and hands a :class:`~xai_tf.explainers.base.Request`
to the function of the method's record (:mod:`xai_tf.explainers.registry`); it checks the maps
that come back.
"""
from __future__ import annotations

import numpy as np

from xai_tf._checks import check_positive, check_seed
from xai_tf.explainers.base import Request
from xai_tf.explainers.registry import list_methods, method_record
from xai_tf.models import graph
from xai_tf.models.binding import bind
from xai_tf.models.loading import as_keras_model
from xai_tf.targets import as_target


def explain(model, images, method: str, targets=None, *, explain_input: str | None = None, batch_size: int = 64,
            verbose: int = 1, seed: int = 0, layer: str | None = None, **params) -> np.ndarray:
    """Saliency maps of ``model`` for ``images`` with ``method``.

    Parameters
    ----------
    model : keras.Model or tf_keras model
        A classifier (functional, Sequential, nested backbones; softmax, sigmoid or linear head), a
        regressor, a segmentation model or a detector, with one or several inputs and outputs,
        taking raw ``[0, 1]`` NHWC images, or a live ``tf_keras`` (Keras 2) model, converted once
        (``xai_tf.models.as_keras_model``; layer names with "/" get "_").
    images : array-like, shape (N, H, W, C), or dict
        Float in [0, 1] (raw pixels, NHWC) matching the model input; grayscale has C = 1. For a
        model with several inputs, ``{input name: (N, ...) array}``: the inputs other than
        ``explain_input`` are held fixed (perturbations touch only the explained one).
    method : str
        One of :func:`~xai_tf.list_methods` (``describe_methods()`` lists them by family; see each
        method's docstring for its parameters and the paper its defaults come from).
    targets : None, int, array-like of int, shape (N,), Target or callable, optional
        What is explained (``xai_tf.targets``). ``None`` (default: the predicted class,
        ``xai_tf.models.head``'s rule), one int for every image, or ints ``(N,)``, one class per
        image (a single sigmoid unit has classes 0 and 1); or ``Regression(...)``,
        ``Segmentation(...)``, ``Detection(...)``, ``Classes(..., output=...)`` or any
        TensorFlow callable ``outputs -> (N,)``.
    explain_input : str, optional
        The explained input of a model with several inputs (default: its only 4-D input).
    batch_size : int, optional
        Most model evaluations per compiled call (memory bound); default 64.
    verbose : {0, 1, 2}, optional
        0 silent, 1 progress bar on a terminal (default), 2 always.
    seed : int, optional
        Seed of the stochastic methods (``list_methods(stochastic=True)``); default 0. Draws are
        keyed by ``(seed, image position)``, so maps do not depend on ``batch_size``.
    layer : str, optional
        Conv layer of the layer methods (``list_methods(layer=True)``; any layer with a 4-D
        output; default None: the last convolution, nested backbones searched too).
    **params
        Method parameters, e.g. ``steps=128`` for integrated_gradients
        (:func:`~xai_tf.explainers.method_parameters`).

    Returns
    -------
    numpy.ndarray, shape (N, H, W), float32
        One finite map per image, larger = more important (signed methods keep their sign; each
        method's docstring says what its values and their sign mean).

    Raises
    ------
    ValueError
        An unknown method, a target that does not fit the model's output (or a method that needs a
        probability, with a target without one), an ``explain_input`` that is not an input, bad
        images (rank, shape, range, NaN/Inf), targets out of range or not one per image,
        ``batch_size < 1``, ``verbose`` not 0, 1 or 2, ``layer=`` for a method that does not take
        it or naming no 4-D layer, a layer method on a model without convolution layer, or a
        method parameter out of range (each names the argument and what was expected).
    TypeError
        An unknown method parameter, a model that is not a Keras model, non-numeric images,
        non-integer targets, ``batch_size`` or ``seed``, or a method parameter of the wrong type.
    RuntimeError
        If the method returns maps of another shape than ``(N, H, W)`` or non-finite values (a bug
        in the method, or a model whose output is not finite).
    """
    record = method_record(method)
    model = as_keras_model(model)  # a live tf_keras model: its cached Keras 3 conversion, current weights
    check_positive(batch_size, "batch_size", integer=True)
    if verbose not in (0, 1, 2) or isinstance(verbose, bool):
        raise ValueError(f"verbose must be 0, 1 or 2; got {verbose!r}")
    seed = check_seed(seed)
    if layer is not None:
        if not record.layer:
            raise ValueError(f"layer= applies only to {', '.join(list_methods(layer=True))}; method {method!r} "
                             "works on the input")
        layer = graph.check_layer(model, layer)
    elif record.layer:
        graph.default_cam_layer(model)  # clear error when a CAM is asked of a model without conv layers
    accepted = record.defaults
    unknown = sorted(set(params) - set(accepted))
    if unknown:
        raise TypeError(f"{method} got unexpected parameter(s) {unknown}; it accepts: "
                        f"{', '.join(accepted) if accepted else '(none)'}")
    target = as_target(targets)
    if record.needs_probability and target is not None and not target.bounded:
        raise ValueError(f"{method} needs a score in [0, 1] (a class probability); the target {target.spec()!r} has "
                         f"none: choose one of list_methods(target=...) ({', '.join(list_methods(target=target))})")
    adapter, images, targets = bind(model, images, targets, explain_input=explain_input, batch_size=batch_size)
    request = Request(adapter=adapter, images=images, targets=targets, batch_size=int(batch_size),
                      verbose=verbose, seed=int(seed), layer=layer, method=method)
    maps = np.asarray(record.function(request, **params), dtype=np.float32)
    expected = images.shape[:3]
    if maps.shape != expected:
        raise RuntimeError(f"{method} returned maps of shape {maps.shape}; expected {expected} (a bug)")
    if not np.all(np.isfinite(maps)):
        raise RuntimeError(f"{method} produced non-finite values (a bug, or a model whose output is not finite)")
    return maps
