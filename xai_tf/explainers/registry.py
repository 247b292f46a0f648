"""Method names -> explainer functions, and ``explain``: the single entry point.

``explain`` sanitises everything once (model, images, targets, batch size, seed, layer, method
parameters) and hands a :class:`~xai_tf.explainers.base.Request` to the method's function.
"""
from __future__ import annotations

import inspect

import numpy as np

from xai_tf._checks import check_choice, check_positive, check_seed
from xai_tf.explainers import (
    backprop,
    cam,
    gradients,
    integrated,
    normgrad,
    perturbation,
    random,
    xrai,
)
from xai_tf.explainers.base import Request, adapter_for
from xai_tf.models import graph
from xai_tf.models.loading import as_keras_model

METHODS = {
    "vanilla_gradient": gradients.vanilla_gradient,
    "smoothgrad": gradients.smoothgrad,
    "input_x_gradient": gradients.input_x_gradient,
    "integrated_gradients": integrated.integrated_gradients,
    "smoothgrad_ig": integrated.smoothgrad_ig,
    "guided_ig": integrated.guided_ig,
    "blur_ig": integrated.blur_ig,
    "smooth_blur_ig": integrated.smooth_blur_ig,
    "xrai": xrai.xrai,
    "fast_xrai": xrai.fast_xrai,
    "gradcam": cam.gradcam,
    "gradcam_pp": cam.gradcam_pp,
    "scorecam": cam.scorecam,
    "faster_scorecam": cam.faster_scorecam,
    "guided_backprop": backprop.guided_backprop,
    "deconvnet": backprop.deconvnet,
    "guided_gradcam": backprop.guided_gradcam,
    "occlusion": perturbation.occlusion,
    "lime": perturbation.lime,
    "normgrad": normgrad.normgrad,
    "random": random.random_map,
}

# Methods that look inside the network at one conv layer (``layer=`` applies to them).
LAYER_METHODS = frozenset({"gradcam", "gradcam_pp", "scorecam", "faster_scorecam", "guided_gradcam", "normgrad"})
# Methods that draw random numbers (``seed=`` changes them).
STOCHASTIC_METHODS = frozenset({"smoothgrad", "smoothgrad_ig", "smooth_blur_ig", "lime", "random"})


def list_methods() -> tuple[str, ...]:
    """Sorted names of every registered saliency method."""
    return tuple(sorted(METHODS))


def method_parameters(method: str) -> dict[str, object]:
    """Keyword parameters of ``method`` with their defaults (beyond the common ones of ``explain``)."""
    check_choice(method, "method", list_methods())
    signature = inspect.signature(METHODS[method])
    return {name: p.default for name, p in signature.parameters.items() if p.kind is p.KEYWORD_ONLY}


def explain(model, images, method: str, targets=None, *, batch_size: int = 64, verbose: int = 1, seed: int = 0,
            layer: str | None = None, **params) -> np.ndarray:
    """Saliency maps of ``model`` for ``images`` with ``method``.

    Parameters
    ----------
    model : keras.Model or tf_keras model
        A classifier (functional, Sequential, nested backbones; softmax, sigmoid or linear head)
        taking raw ``[0, 1]`` NHWC images, or a live ``tf_keras`` (Keras 2) model, converted once
        (``xai_tf.models.as_keras_model``; layer names with "/" get "_").
    images : array-like
        ``(N, H, W, C)`` float in [0, 1] matching the model input.
    method : str
        One of :func:`list_methods` (see each method's docstring for its parameters and the paper
        its defaults come from).
    targets : None, int or array of int
        ``None`` (the predicted class, ``xai_tf.models.head``'s rule), one int, or ints ``(N,)``; a
        single sigmoid unit has classes 0 and 1.
    batch_size : int
        Most model evaluations per compiled call (memory bound); default 64.
    verbose : {0, 1, 2}
        0 silent, 1 progress bar on a terminal (default), 2 always.
    seed : int
        Seed of stochastic methods (smoothgrad, smoothgrad_ig, smooth_blur_ig, lime, random); default 0.
    layer : str, optional
        Conv layer for gradcam, gradcam_pp, scorecam, faster_scorecam, guided_gradcam, normgrad
        (default: the last convolution, nested backbones searched too).
    **params
        Method parameters, e.g. ``steps=128`` for integrated_gradients (:func:`method_parameters`).

    Returns
    -------
    ndarray
        ``(N, H, W)`` float32 maps, finite, larger = more important (signed methods keep their sign).
    """
    check_choice(method, "method", list_methods())
    model = as_keras_model(model)  # a live tf_keras model: its cached Keras 3 conversion, current weights
    adapter = adapter_for(model)
    images = adapter.head.check_images(images, "images")
    check_positive(batch_size, "batch_size", integer=True)
    if verbose not in (0, 1, 2) or isinstance(verbose, bool):
        raise ValueError(f"verbose must be 0, 1 or 2; got {verbose!r}")
    seed = check_seed(seed)
    if layer is not None:
        if method not in LAYER_METHODS:
            raise ValueError(f"layer= applies only to {', '.join(sorted(LAYER_METHODS))}; method {method!r} "
                             "works on the input")
        layer = graph.check_layer(model, layer)
    elif method in LAYER_METHODS:
        graph.find_last_conv_layer(model)  # clear error when a CAM is asked of a model without conv layers
    accepted = method_parameters(method)
    unknown = sorted(set(params) - set(accepted))
    if unknown:
        raise TypeError(f"{method} got unexpected parameter(s) {unknown}; it accepts: "
                        f"{', '.join(accepted) if accepted else '(none)'}")
    targets = adapter.head.targets(images, targets, batch_size)
    request = Request(adapter=adapter, images=images, targets=targets, batch_size=int(batch_size),
                      verbose=verbose, seed=int(seed), layer=layer, method=method)
    maps = np.asarray(METHODS[method](request, **params), dtype=np.float32)
    expected = images.shape[:3]
    if maps.shape != expected:
        raise RuntimeError(f"{method} returned maps of shape {maps.shape}; expected {expected} (a bug)")
    if not np.all(np.isfinite(maps)):
        raise RuntimeError(f"{method} produced non-finite values (a bug, or a model whose output is not finite)")
    return maps
