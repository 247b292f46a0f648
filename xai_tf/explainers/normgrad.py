"""NormGrad (Rebuffi et al. 2020), single- and multi-layer, as used in paper 003.

Our own implementation (no maintained TensorFlow one exists), following the paper's code
(``canerozer/explainable-iqa``): at each spatial position of a layer, the saliency is the norm of
the gradient that a virtual identity layer inserted there would receive for its weights:

- ``"scaling"`` (a per-channel scale): ``|| a * g ||`` over channels;
- ``"conv1x1"`` (a 1x1 convolution): ``|| a || * || g ||``;
- ``"conv3x3"`` (a 3x3 convolution): ``|| a over the 3x3 neighbourhood (zero padded) || * || g ||``;

with ``a`` the layer's activation and ``g`` the gradient of the target logit with respect to it.
Each layer's map is upsampled bilinearly to the input (``upsample=`` picks another
``tf.image.resize`` method, :func:`xai_tf.explainers.base.upsample`), min-max scaled to [0, 1] per
image, and several layers are combined by their product (paper 003's "multi" setting).
"""
from __future__ import annotations

import numpy as np

from xai_tf._checks import check_choice
from xai_tf._docstrings import fill_doc
from xai_tf.explainers.base import Request, check_upsample, layer_gradients
from xai_tf.explainers.base import upsample as resize_maps
from xai_tf.explainers.cam import cam_layer
from xai_tf.explainers.docblocks import REQUEST_LAYER, UPSAMPLE_BILINEAR
from xai_tf.models import graph

VARIANTS = ("scaling", "conv1x1", "conv3x3")


def normgrad_layer_maps(acts: np.ndarray, grads: np.ndarray, variant: str) -> np.ndarray:
    """NormGrad of one layer at its resolution, ``(N, h, w)`` from ``(N, h, w, k)`` acts and grads."""
    if variant == "scaling":
        return np.sqrt(((acts * grads) ** 2).sum(axis=-1))
    grad_norm = np.sqrt((grads ** 2).sum(axis=-1))
    squares = (acts ** 2).sum(axis=-1)
    if variant == "conv3x3":
        # sum of squares over the zero-padded 3x3 neighbourhood = the unfolded 3x3xk patch's norm^2
        padded = np.pad(squares, ((0, 0), (1, 1), (1, 1)))
        height, width = squares.shape[1:]
        squares = sum(padded[:, dy:dy + height, dx:dx + width] for dy in range(3) for dx in range(3))
    return np.sqrt(squares) * grad_norm


def _min_max(maps: np.ndarray) -> np.ndarray:
    low = maps.min(axis=(1, 2), keepdims=True)
    span = maps.max(axis=(1, 2), keepdims=True) - low
    return np.where(span > 0, (maps - low) / np.where(span > 0, span, 1.0), 0.0)


@fill_doc(request=REQUEST_LAYER, upsample=UPSAMPLE_BILINEAR)
def normgrad(request: Request, *, variant: str = "conv1x1", layers=None, upsample: str = "bilinear") -> np.ndarray:
    """NormGrad (Rebuffi et al. 2020): norm of the weight gradient of a virtual identity layer, per position.

    ``layers=None`` uses ``layer`` (default: the last convolution, paper 003's "single"); a list of
    layer names gives the product of their maps (paper 003's "multi"). Each layer's map is
    computed at its resolution (module docstring), upsampled to the input (bilinearly by default,
    ``upsample``) and min-max scaled to [0, 1] per image before the product.

    Parameters
    ----------
    {request}
    variant : {"scaling", "conv1x1", "conv3x3"}, optional
        The virtual layer (paper 003's three): "scaling" (a per-channel scale, ``|| a * g ||``),
        "conv1x1" (default, a 1x1 convolution, ``|| a || * || g ||``) or "conv3x3" (a 3x3
        convolution, the activation norm taken over the zero-padded 3x3 neighbourhood).
    layers : None or list of str, optional
        None (default): the single layer ``request.layer``. Otherwise a non-empty list of layer
        names with 4-D outputs, combined by the product of their maps; do not give ``layer=``
        then.
    {upsample}

    Returns
    -------
    numpy.ndarray, shape (N, H, W), float32
        One map per image in [0, 1], larger = more important for the target class; an image
        whose map is constant at one of the layers gets an all-zero map.

    Raises
    ------
    TypeError
        If ``layers`` is a string, an empty list or holds something other than layer names.
    ValueError
        If ``variant`` is unknown, ``upsample`` is not a ``tf.image.resize`` method, both ``layer=``
        and ``layers=`` are given, a name in ``layers`` is not a 4-D layer of the model, or
        ``layers`` and ``request.layer`` are None and the model has no convolution layer.

    References
    ----------
    S.-A. Rebuffi, R. Fong, X. Ji and A. Vedaldi, "There and Back Again: Revisiting Backpropagation
    Saliency Methods", CVPR, 2020.
    """
    check_choice(variant, "variant", VARIANTS)
    check_upsample(upsample)
    if layers is None:
        names = (cam_layer(request),)
    else:
        if isinstance(layers, str) or not all(isinstance(name, str) for name in layers) or not layers:
            raise TypeError(f"layers must be a non-empty list of layer names; got {layers!r}")
        if request.layer is not None:
            raise ValueError("give either layer= or layers= to normgrad, not both")
        names = tuple(graph.check_layer(request.model, name) for name in layers)
    acts, grads = layer_gradients(request, names)
    size = request.images.shape[1:3]
    combined = np.ones((len(request.images), *size), np.float32)
    for layer_acts, layer_grads in zip(acts, grads):
        maps = normgrad_layer_maps(layer_acts.astype(np.float64), layer_grads.astype(np.float64), variant)
        combined *= _min_max(resize_maps(maps.astype(np.float32), size, upsample).numpy())
    return combined



