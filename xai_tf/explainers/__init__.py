"""Saliency methods behind one call: ``explain(model, images, method, targets=None, **params)``.

One module per family of methods, named after it (``gradients``, ``integrated``, ``xrai`` with its
regions in ``segmentation``, ``cam``, ``backprop``, ``perturbation``, ``shapley``, ``rise``,
``global_sensitivity``, ``fem``, ``normgrad``, ``random``, ``attention`` (transformers); ``activations``
shows feature maps, ``attention_maps`` a transformer's attention).
Every method is one :class:`~xai_tf.explainers.registry.MethodRecord` in ``registry``:
``list_methods()`` (filters: ``family=``, ``stochastic=``, ``layer=``, ``in_demo_grid=``) and
``describe_methods()`` list them from the records; ``entry`` holds ``explain``, which checks a call
and runs a record's function. ``base`` holds the shared model adapter and batched gradient
functions, ``masking`` the batched scoring of masked copies, ``docblocks`` the docstring blocks the
methods share.
"""
from __future__ import annotations

from xai_tf.explainers.activations import activations
from xai_tf.explainers.attention import attention_maps
from xai_tf.explainers.entry import explain
from xai_tf.explainers.registry import (
    METHODS,
    RECORDS,
    MethodRecord,
    describe_methods,
    list_methods,
    method_parameters,
    method_record,
    register,
    unregister,
)

explain.activations = activations
explain.methods = list_methods

__all__ = ["METHODS", "RECORDS", "MethodRecord", "activations", "attention_maps", "describe_methods", "explain",
           "list_methods", "method_parameters", "method_record", "register", "unregister"]
