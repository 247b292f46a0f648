"""Modified backpropagation rules: Guided Backpropagation, Deconvnet, Guided Grad-CAM.

Our own implementation: the ReLU gradient is replaced only inside our compiled gradient function
(``gradient_override_map`` on the ``Relu``/``Relu6`` ops that the model's layers create while it is
traced, see ``base.py``). The user's model is never modified or cloned: its layers, weights and
forward activations stay exactly as they were, and plain gradients elsewhere are unaffected.
Other activations (ELU, GELU, swish) keep their ordinary gradients.
"""
from __future__ import annotations

import numpy as np

from xai_tf.explainers.base import Request, input_gradients, reduce_channels
from xai_tf.explainers.cam import gradcam_layer_maps, to_input_size


def guided_backprop(request: Request, *, channel_reduction: str = "sum") -> np.ndarray:
    """Guided Backpropagation (Springenberg et al. 2015), as in papers 001 and 003: at every ReLU
    only positive gradients flow, and only where the forward input was positive."""
    return reduce_channels(input_gradients(request, mode="guided"), channel_reduction)


def deconvnet(request: Request, *, channel_reduction: str = "sum") -> np.ndarray:
    """Deconvnet / "Deconvolution" (Zeiler & Fergus 2014; paper 001): every ReLU passes the
    positive part of the gradient, whatever the forward activation was."""
    return reduce_channels(input_gradients(request, mode="deconvnet"), channel_reduction)


def guided_gradcam(request: Request, *, channel_reduction: str = "sum") -> np.ndarray:
    """Guided Grad-CAM (Selvaraju et al. 2017; papers 001, 003): guided backpropagation times the
    upsampled Grad-CAM of ``layer`` (default: the last convolution)."""
    guided = input_gradients(request, mode="guided")
    cam = to_input_size(request, gradcam_layer_maps(request))
    return reduce_channels(guided * cam[..., None], channel_reduction)
