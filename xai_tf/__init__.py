"""xai-tf: explain Keras/TensorFlow image classifiers the way the papers do, and score the maps.

The public API is re-exported here and loaded lazily, so ``import xai_tf`` stays cheap and does not
start TensorFlow until a function that needs it is used::

    import xai_tf
    maps = xai_tf.explain(model, images, "gradcam")          # (N, H, W) float32
    clean = xai_tf.denoise(maps, "tv")
    xai_tf.list_methods()
"""
from __future__ import annotations

import importlib

__version__ = "0.1.0"

# public name -> (module, attribute or None for the module itself)
_LAZY = {
    "models": ("xai_tf.models", None),
    "data": ("xai_tf.data", None),
    "metrics": ("xai_tf.metrics", None),
    "viz": ("xai_tf.viz", None),
    "callbacks": ("xai_tf.callbacks", None),
    "report": ("xai_tf.report", None),
    "runs": ("xai_tf.runs", None),
    "study": ("xai_tf.study", None),
    "explainers": ("xai_tf.explainers", None),
    "denoising": ("xai_tf.denoising", None),
    "evaluation": ("xai_tf.evaluation", None),
    "explain": ("xai_tf.explainers", "explain"),
    "list_methods": ("xai_tf.explainers", "list_methods"),
    "denoise": ("xai_tf.denoising", "denoise"),
    "evaluate": ("xai_tf.evaluation", "evaluate"),
    "targets": ("xai_tf.targets", None),
    "Classes": ("xai_tf.targets", "Classes"),
    "Custom": ("xai_tf.targets", "Custom"),
    "Detection": ("xai_tf.targets", "Detection"),
    "Regression": ("xai_tf.targets", "Regression"),
    "Segmentation": ("xai_tf.targets", "Segmentation"),
    "Target": ("xai_tf.targets", "Target"),
}

__all__ = ["Classes", "Custom", "Detection", "Regression", "Segmentation", "Target", "__version__", "callbacks",
           "data", "denoise", "denoising", "evaluate", "evaluation", "explain", "explainers", "list_methods",
           "metrics", "models", "report", "runs", "study", "targets", "viz"]


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module 'xai_tf' has no attribute {name!r}")
    module_name, attribute = _LAZY[name]
    module = importlib.import_module(module_name)
    value = module if attribute is None else getattr(module, attribute)
    globals()[name] = value  # cache: later lookups skip __getattr__
    return value


def __dir__():
    return __all__
