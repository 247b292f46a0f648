"""FEM, the Feature Explanation Method (Fuad, Martin, Giot, Bourqui, Benois-Pineau & Zemmari 2020).

Our own batched implementation of Xplique's ``FEM`` (its arithmetic, no dependency): gradient-free
and class-agnostic (``targets`` do not change the map). At one convolution layer (default the last,
``xai_tf.models.graph.find_last_conv_layer``; nested backbones included) each channel ``k`` of
the activations ``A_k`` is thresholded with a k-sigma rule over its spatial positions,
``B_k = [A_k >= mean(A_k) + k std(A_k)]`` (population standard deviation, as
``tf.math.reduce_std``), and the binary maps are summed with the channel means as weights,
``sum_k mean(A_k) B_k``; the layer-resolution map is upsampled to the image bicubically
(``tf.image.resize``, as Xplique). Xplique takes the last layer with ``filters`` among the model's
top-level layers; here the last convolution inside nested models is found too.

With ``n`` spatial positions no value can lie more than ``(n - 1) / sqrt(n)`` population standard
deviations above its channel mean, so at a layer with fewer than 6 positions the default ``k = 2``
selects nothing and the map is zero (VGG16's last block at 32 px is 2 x 2). ``fem`` warns then;
pick an earlier ``layer`` or a smaller ``k``.
"""
from __future__ import annotations

import warnings

import numpy as np

from xai_tf._checks import check_number
from xai_tf._docstrings import fill_doc
from xai_tf.explainers.base import Request, check_upsample, chunks, layer_activations
from xai_tf.explainers.base import upsample as resize_maps
from xai_tf.explainers.cam import cam_layer
from xai_tf.explainers.docblocks import REQUEST_LAYER, UPSAMPLE_BICUBIC


def fem_layer_maps(activations: np.ndarray, k: float) -> np.ndarray:
    """FEM at the layer's resolution ``(N, h, w)`` from activations ``(N, h, w, channels)``."""
    activations = np.asarray(activations, np.float32)
    means = activations.mean(axis=(1, 2), keepdims=True)
    stds = activations.std(axis=(1, 2), keepdims=True)
    masks = (activations >= means + np.float32(k) * stds).astype(np.float32)
    return (masks * means).sum(axis=-1)


@fill_doc(request=REQUEST_LAYER, upsample=UPSAMPLE_BICUBIC)
def fem(request: Request, *, k: float = 2.0, upsample: str = "bicubic") -> np.ndarray:
    """FEM (Fuad et al. 2020): k-sigma thresholded channels of a convolution layer weighted by their means.

    Parameters
    ----------
    {request}
        The targets are not used (FEM is class-agnostic).
    k : float, optional
        Standard deviations above the channel mean for a position to count (default 2, the paper's
        and Xplique's k-sigma rule); any real number.
    {upsample}

    Returns
    -------
    ndarray
        ``(N, H, W)`` non-negative maps for non-negative (ReLU) activations.

    Raises
    ------
    ValueError
        ``upsample`` is not a ``tf.image.resize`` method.

    Warns
    -----
    RuntimeWarning
        The layer has too few positions for any value to pass the k-sigma threshold (module docstring).
    """
    k = check_number(k, "k")
    check_upsample(upsample)
    layer = cam_layer(request)
    parts = [fem_layer_maps(layer_activations(request, layer, rows), k)
             for rows in request.progress(chunks(len(request.images), request.batch_size))]
    positions = parts[0].shape[1] * parts[0].shape[2]
    if k > (positions - 1) / np.sqrt(positions):
        warnings.warn(f"fem: layer {layer!r} has {positions} positions, so no activation can reach its channel "
                      f"mean + {k:g} standard deviations and every map is zero; use an earlier layer= or a "
                      "smaller k", RuntimeWarning, stacklevel=2)
    return resize_maps(np.concatenate(parts), request.images.shape[1:3], upsample).numpy()
