"""Quantitative scores for saliency maps: AIC/SIC, Max-Sensitivity, XAI entropy, Pointing Game,
randomisation sanity checks and Difference of Means; Xplique's fidelity metrics (``fidelity``:
Deletion, Insertion, MuFidelity, Average Drop/Increase/Gain) and Quantus' (``faithfulness``, ``road``,
``irof``, ``axiomatic``, ``robustness``, ``random_logit``, ``complexity``, ``relevance_localization``,
``focus``), batched through ``perturbation``. One module per metric family; the runner's metrics
are listed in ``registry.METRICS``. The issue-21 functions are imported from their modules (several
share a name with their module, e.g. ``complexity.complexity``, so they are not re-exported here)."""
from xai_tf._lazy import lazy_exports

# Imported eagerly: the function ``pic`` shares its name with the submodule ``metrics/pic.py``, and
# Python binds a submodule to its package attribute when it is first imported, so a lazy export
# would hand out the module instead of the function after the first submodule import.
from xai_tf.metrics.pic import PicResult, pic

_EXPORTS = {
    "max_sensitivity": "sensitivity",
    "xai_entropy": "complexity",
    "pointing_game": "localization",
    "randomization_check": "randomization",
    "difference_of_means": "consistency",
    # the protocol a new metric implements, and the registry it joins
    "Chunk": "protocol",
    "CurveMetric": "protocol",
    "MapsMetric": "protocol",
    "Metric": "protocol",
    "MethodMetric": "protocol",
    "Option": "protocol",
    "METRICS": "registry",
    "register": "registry",
    "unregister": "registry",
}
__all__ = [
    "METRICS",
    "Chunk",
    "CurveMetric",
    "MapsMetric",
    "MethodMetric",
    "Metric",
    "Option",
    "PicResult",
    "difference_of_means",
    "max_sensitivity",
    "pic",
    "pointing_game",
    "randomization_check",
    "register",
    "unregister",
    "xai_entropy",
]
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
