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
    """Feature maps ``{layer_name: array}`` of ``model`` for ``image``.

    image: one image ``(H, W, C)`` (maps are then ``(h, w, k)``) or a batch ``(N, H, W, C)`` (maps
    ``(N, h, w, k)``), float in [0, 1]. layers: layer names (any layer with a 4-D output, nested
    ones included); default all convolution layers. Maps are post-activation layer outputs.
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
    parts = [function(tf.constant(images[i:i + batch_size])) for i in range(0, len(images), batch_size)]
    result = {name: np.concatenate([part[k].numpy() for part in parts]) for k, name in enumerate(names)}
    return {name: maps[0] if single else maps for name, maps in result.items()}
