"""Modified backpropagation rules: Guided Backpropagation, Deconvnet, Guided Grad-CAM.

Our own implementation: the ReLU gradient is replaced only inside our compiled gradient function
(``gradient_override_map`` on the ``Relu``/``Relu6`` ops that the model's layers create while it is
traced, see ``base.py``). The user's model is never modified or cloned: its layers, weights and
forward activations stay exactly as they were, and plain gradients elsewhere are unaffected.
Other activations (ELU, GELU, swish) keep their ordinary gradients.
"""
from __future__ import annotations

import numpy as np

from xai_tf.explainers.base import Request, check_upsample, input_gradients, reduce_channels
from xai_tf.explainers.cam import gradcam_layer_maps, to_input_size


def guided_backprop(request: Request, *, channel_reduction: str = "sum") -> np.ndarray:
    """Guided Backpropagation (Springenberg et al. 2015): input gradients with negative signals stopped at every ReLU.

    As in papers 001 and 003: at every ReLU (and ReLU6) only positive gradients flow, and only
    where the forward input was positive. The rule applies inside xai-tf's compiled gradient
    function only; the model is not modified (module docstring). Other activations (ELU, GELU,
    swish) keep their ordinary gradients.

    Parameters
    ----------
    request : xai_tf.explainers.base.Request
        The sanitised call built by :func:`xai_tf.explain`: images ``(N, H, W, C)`` float32 in
        [0, 1] and targets ``(N,)`` int64 (the class explained per image), with ``batch_size``.
    channel_reduction : {"sum", "abs_sum", "l2", "mean"}, optional
        How the per-channel values of a pixel become one value: "sum" (default; keeps the sign),
        "abs_sum" (sum of absolute values, PAIR's ``VisualizeImageGrayscale`` before clipping),
        "l2" (Euclidean norm) or "mean" (Xplique's default ``reducer``).

    Returns
    -------
    numpy.ndarray, shape (N, H, W)
        float32 (float64 with ``channel_reduction="l2"``; :func:`xai_tf.explain` returns float32).
        With "sum" or "mean" the map is signed (the first layer's weights can turn the positive
        backward signal negative at the pixels); a larger magnitude means more influence on the
        target logit. "abs_sum" and "l2" give magnitudes only (>= 0).

    Raises
    ------
    ValueError
        If ``channel_reduction`` is not one of the four names.

    References
    ----------
    J. T. Springenberg, A. Dosovitskiy, T. Brox and M. Riedmiller, "Striving for Simplicity: The
    All Convolutional Net", ICLR Workshop, 2015.
    """
    return reduce_channels(input_gradients(request, mode="guided"), channel_reduction)


def deconvnet(request: Request, *, channel_reduction: str = "sum") -> np.ndarray:
    """Deconvnet (Zeiler & Fergus 2014): input gradients with a ReLU applied to the backward signal.

    Also called "Deconvolution" (paper 001): every ReLU (and ReLU6) passes the positive part of the
    gradient, whatever the forward activation was. The rule applies inside xai-tf's compiled
    gradient function only; the model is not modified (module docstring). Other activations (ELU,
    GELU, swish) keep their ordinary gradients.

    Parameters
    ----------
    request : xai_tf.explainers.base.Request
        The sanitised call built by :func:`xai_tf.explain`: images ``(N, H, W, C)`` float32 in
        [0, 1] and targets ``(N,)`` int64 (the class explained per image), with ``batch_size``.
    channel_reduction : {"sum", "abs_sum", "l2", "mean"}, optional
        How the per-channel values of a pixel become one value: "sum" (default; keeps the sign),
        "abs_sum" (sum of absolute values, PAIR's ``VisualizeImageGrayscale`` before clipping),
        "l2" (Euclidean norm) or "mean" (Xplique's default ``reducer``).

    Returns
    -------
    numpy.ndarray, shape (N, H, W)
        float32 (float64 with ``channel_reduction="l2"``; :func:`xai_tf.explain` returns float32).
        With "sum" or "mean" the map is signed (the first layer's weights can turn the positive
        backward signal negative at the pixels); a larger magnitude means more influence on the
        target logit. "abs_sum" and "l2" give magnitudes only (>= 0).

    Raises
    ------
    ValueError
        If ``channel_reduction`` is not one of the four names.

    References
    ----------
    M. D. Zeiler and R. Fergus, "Visualizing and Understanding Convolutional Networks", ECCV, 2014.
    """
    return reduce_channels(input_gradients(request, mode="deconvnet"), channel_reduction)


def guided_gradcam(request: Request, *, upsample: str = "bilinear", channel_reduction: str = "sum") -> np.ndarray:
    """Guided Grad-CAM (Selvaraju et al. 2017): guided backpropagation times the upsampled Grad-CAM.

    As in papers 001 and 003: the guided-backpropagation input gradients
    (:func:`~xai_tf.explainers.backprop.guided_backprop`) of every channel are multiplied by the
    Grad-CAM map of ``layer`` (default: the last convolution; :func:`xai_tf.explainers.cam.gradcam`)
    upsampled to the input size, then reduced over the colour channels.

    Parameters
    ----------
    request : xai_tf.explainers.base.Request
        The sanitised call built by :func:`xai_tf.explain`: images ``(N, H, W, C)`` float32 in
        [0, 1], targets ``(N,)`` int64 (the class explained per image), ``batch_size`` and
        ``layer`` (``explain(..., layer=)``; None = the model's last convolution layer, nested
        backbones included, :func:`xai_tf.models.find_last_conv_layer`).
    upsample : str, optional
        How the Grad-CAM map is resized to the input: "bilinear" (default, as
        :func:`~xai_tf.explainers.cam.gradcam`) or another ``tf.image.resize`` method
        (``xai_tf.explainers.base.UPSAMPLE_METHODS``).
    channel_reduction : {"sum", "abs_sum", "l2", "mean"}, optional
        How the per-channel values of a pixel become one value: "sum" (default; keeps the sign),
        "abs_sum" (sum of absolute values, PAIR's ``VisualizeImageGrayscale`` before clipping),
        "l2" (Euclidean norm) or "mean" (Xplique's default ``reducer``).

    Returns
    -------
    numpy.ndarray, shape (N, H, W)
        float32 (float64 with ``channel_reduction="l2"``; :func:`xai_tf.explain` returns float32).
        With "sum" or "mean" the map has the sign of the guided gradients (Grad-CAM is >= 0) and is
        0 where Grad-CAM is 0; a larger magnitude means more influence on the target logit.
        "abs_sum" and "l2" give magnitudes only (>= 0).

    Raises
    ------
    ValueError
        If ``request.layer`` is None and the model has no convolution layer (the message lists
        the 4-D layers ``layer=`` could name).
    ValueError
        If ``channel_reduction`` is not one of the four names, or ``upsample`` is not a
        ``tf.image.resize`` method.

    References
    ----------
    R. R. Selvaraju, M. Cogswell, A. Das, R. Vedantam, D. Parikh and D. Batra, "Grad-CAM: Visual
    Explanations from Deep Networks via Gradient-based Localization", ICCV, 2017.
    """
    check_upsample(upsample)
    guided = input_gradients(request, mode="guided")
    cam = to_input_size(request, gradcam_layer_maps(request), upsample)
    return reduce_channels(guided * cam[..., None], channel_reduction)
