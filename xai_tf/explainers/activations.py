"""Feature maps of convolutional layers, for paper 002's activation grids."""
from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from xai_tf._checks import check_images
from xai_tf.explainers.base import adapter_for
from xai_tf.models import graph

_CONV_TYPES = (keras.layers.Conv2D, keras.layers.SeparableConv2D, keras.layers.DepthwiseConv2D,
               keras.layers.Conv2DTranspose)


def conv_layer_names(model) -> list[str]:
    """Names of the convolution layers of ``model`` (nested backbones included), in graph order."""
    return [layer.name for layer in graph.iter_layers(model) if isinstance(layer, _CONV_TYPES)]


def activations(model, image, layers=None, *, batch_size: int = 32) -> dict[str, np.ndarray]:
    """Feature maps ``{layer_name: array}`` of ``model`` for ``image``, for paper 002's activation grids.

    Parameters
    ----------
    model : keras.Model
        A classifier taking raw [0, 1] NHWC images (the models :func:`xai_tf.explain` accepts,
        nested backbones included).
    image : array-like, shape (H, W, C) or (N, H, W, C)
        One image or a batch, float in [0, 1], of the model's input shape.
    layers : None, str or list of str, optional
        Layer names (any layer with a 4-D output, nested ones included). None (default): all
        convolution layers, or every layer with a 4-D output when the model has no convolution.
    batch_size : int, optional
        Images per forward pass (default 32).

    Returns
    -------
    dict of str to numpy.ndarray
        ``{layer_name: maps}`` in the order of ``layers`` (graph order by default): the
        post-activation layer outputs, ``(h, w, k)`` for one image or ``(N, h, w, k)`` for a
        batch, with ``k`` the layer's channels.

    Raises
    ------
    TypeError
        If ``model`` is not a ``keras.Model``, ``image`` is not numeric or a layer name is not a
        string.
    ValueError
        If ``image`` has the wrong rank or shape, lies outside [0, 1] or holds NaN/Inf, a named
        layer does not exist or has no 4-D output, or (``layers=None``) the model has no layer
        with a 4-D output.
    """
    adapter = adapter_for(model)
    array = np.asarray(image) if not hasattr(image, "numpy") else image.numpy()
    single = array.ndim == 3
    images = check_images(array[None] if single else array, "image", shape=adapter.image_shape)
    if layers is None:
        names = conv_layer_names(model) or graph.conv_layer_candidates(model)
        if not names:
            raise ValueError(f"model {model.name!r} has no layer with a 4-D output to show")
    else:
        if isinstance(layers, str):
            layers = [layers]
        names = [graph.check_layer(model, name) for name in layers]
    function = adapter.activation_function(tuple(names))
    keys = np.zeros(len(images), np.int32)  # the activations need no target: any class id will do
    parts = [function(tf.constant(images[i:i + batch_size]), tf.constant(keys[i:i + batch_size]))
             for i in range(0, len(images), batch_size)]
    result = {name: np.concatenate([part[k].numpy() for part in parts]) for k, name in enumerate(names)}
    return {name: maps[0] if single else maps for name, maps in result.items()}
