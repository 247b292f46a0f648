"""Saliency methods behind one call: ``explain(model, images, method, targets=None, **params)``.

One module per family: ``gradients`` (vanilla, SmoothGrad, Input x Gradient), ``integrated`` (IG,
SmoothGrad-IG, Guided IG, Blur IG, Smooth Blur IG), ``xrai`` (XRAI, Fast XRAI; their regions in
``segmentation``), ``cam`` (Grad-CAM, Grad-CAM++, Score-CAM, Faster Score-CAM), ``backprop``
(guided backpropagation, deconvnet, guided Grad-CAM), ``perturbation`` (occlusion, LIME),
``normgrad``, ``random`` (baseline), ``activations`` (feature maps). ``registry`` maps names to functions; ``base`` holds the shared
model adapter, targets, scores and batched gradient functions.
"""
from __future__ import annotations

from xai_tf.explainers.activations import activations
from xai_tf.explainers.registry import METHODS, explain, list_methods, method_parameters

explain.activations = activations
explain.methods = list_methods

__all__ = ["METHODS", "activations", "explain", "list_methods", "method_parameters"]
