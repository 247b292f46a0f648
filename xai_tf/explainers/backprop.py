"""Modified backpropagation rules: Guided Backpropagation, Deconvnet, Guided Grad-CAM.

Our own implementation: the ReLU gradient is replaced only inside our compiled gradient function
(``gradient_override_map`` on the ``Relu``/``Relu6`` ops that the model's layers create while it is
traced, see ``base.py``). The user's model is never modified or cloned: its layers, weights and
forward activations stay exactly as they were, and plain gradients elsewhere are unaffected.
Other activations (ELU, GELU, swish) keep their ordinary gradients.
"""
from __future__ import annotations

import numpy as np

from xai_tf._docstrings import fill_doc
from xai_tf.explainers.base import Request, check_upsample, input_gradients, reduce_channels
from xai_tf.explainers.cam import GRADCAM_REFERENCE, NO_CONV_LAYER, gradcam_layer_maps, to_input_size
from xai_tf.explainers.docblocks import (
    CHANNEL_REDUCTION,
    MAPS,
    MAPS_RETURNS,
    PLAIN_PARAMETERS,
    PLAIN_RAISES,
    RAISES_CHANNEL_REDUCTION,
    REQUEST_LAYER,
    UPSAMPLE_BILINEAR,
    join,
    section,
)

#: The Parameters, Returns and Raises sections of the two modified-ReLU rules.
_RELU_RULE = join(PLAIN_PARAMETERS, "", section("Returns", MAPS, """
    With "sum" or "mean" the map is signed (the first layer's weights can turn the positive
    backward signal negative at the pixels); a larger magnitude means more influence on the
    target logit. "abs_sum" and "l2" give magnitudes only (>= 0).
"""), "", PLAIN_RAISES)


@fill_doc(sections=_RELU_RULE)
def guided_backprop(request: Request, *, channel_reduction: str = "sum") -> np.ndarray:
    """Guided Backpropagation (Springenberg et al. 2015): input gradients with negative signals stopped at every ReLU.

    As in papers 001 and 003: at every ReLU (and ReLU6) only positive gradients flow, and only
    where the forward input was positive. The rule applies inside xai-tf's compiled gradient
    function only; the model is not modified (module docstring). Other activations (ELU, GELU,
    swish) keep their ordinary gradients.

    {sections}

    References
    ----------
    J. T. Springenberg, A. Dosovitskiy, T. Brox and M. Riedmiller, "Striving for Simplicity: The
    All Convolutional Net", ICLR Workshop, 2015.
    """
    return reduce_channels(input_gradients(request, mode="guided"), channel_reduction)


@fill_doc(sections=_RELU_RULE)
def deconvnet(request: Request, *, channel_reduction: str = "sum") -> np.ndarray:
    """Deconvnet (Zeiler & Fergus 2014): input gradients with a ReLU applied to the backward signal.

    Also called "Deconvolution" (paper 001): every ReLU (and ReLU6) passes the positive part of the
    gradient, whatever the forward activation was. The rule applies inside xai-tf's compiled
    gradient function only; the model is not modified (module docstring). Other activations (ELU,
    GELU, swish) keep their ordinary gradients.

    {sections}

    References
    ----------
    M. D. Zeiler and R. Fergus, "Visualizing and Understanding Convolutional Networks", ECCV, 2014.
    """
    return reduce_channels(input_gradients(request, mode="deconvnet"), channel_reduction)


@fill_doc(parameters=section("Parameters", REQUEST_LAYER, UPSAMPLE_BILINEAR, CHANNEL_REDUCTION),
          returns=MAPS_RETURNS, raises=section("Raises", NO_CONV_LAYER, RAISES_CHANNEL_REDUCTION),
          references=section("References", GRADCAM_REFERENCE))
def guided_gradcam(request: Request, *, upsample: str = "bilinear", channel_reduction: str = "sum") -> np.ndarray:
    """Guided Grad-CAM (Selvaraju et al. 2017): guided backpropagation times the upsampled Grad-CAM.

    As in papers 001 and 003: the guided-backpropagation input gradients
    (:func:`~xai_tf.explainers.backprop.guided_backprop`) of every channel are multiplied by the
    Grad-CAM map of ``layer`` (default: the last convolution; :func:`xai_tf.explainers.cam.gradcam`)
    upsampled to the input size (``upsample``, as :func:`~xai_tf.explainers.cam.gradcam`), then
    reduced over the colour channels.

    {parameters}

    {returns}
        With "sum" or "mean" the map has the sign of the guided gradients (Grad-CAM is >= 0) and is
        0 where Grad-CAM is 0; a larger magnitude means more influence on the target logit.
        "abs_sum" and "l2" give magnitudes only (>= 0).

    {raises}

    {references}
    """
    check_upsample(upsample)
    guided = input_gradients(request, mode="guided")
    cam = to_input_size(request, gradcam_layer_maps(request), upsample)
    return reduce_channels(guided * cam[..., None], channel_reduction)
