"""Quantitative scores for saliency maps, one sub-package per family, the families the docs list:

- ``information_curves``: AIC/SIC (Performance Information Curves, :func:`pic`);
- ``faithfulness``: Xplique's fidelity metrics (``fidelity``: Deletion, Insertion, MuFidelity,
  Average Drop/Increase/Gain) and Quantus' (``pixel_flipping``, ``correlation``, ``infidelity``,
  ``sufficiency``, ``road``, ``irof``);
- ``robustness``: Max-Sensitivity (``sensitivity``), Quantus' Avg-Sensitivity and Local Lipschitz
  (``quantus_robustness``), Difference of Means (``consistency``);
- ``localisation``: Pointing Game (``pointing_game``), Quantus' ``relevance`` and ``focus``;
- ``complexity``: XAI entropy (``entropy``) and Quantus' (``quantus_complexity``);
- ``randomisation``: the model-randomisation check (``model_randomization``) and ``random_logit``;
- ``axiomatic``: Quantus' Completeness and Non-Sensitivity (``axioms``).

The machinery they share stays here: the protocol a metric implements (``protocol``, ``options``,
``chunk``, ``curve_metric``), the registry of the runner's metrics (``registry.METRICS``), the
batched perturbations (``perturbation``) and the tie rule of ranked metrics (``ties``). The issue-21
functions are imported from their modules (several share a name with their module, e.g.
``complexity.quantus_complexity.complexity``, so they are not re-exported here). No family package
is named after a function exported here (``pic`` is the function, ``information_curves`` its
package), so a submodule import never replaces an export."""
from xai_tf._deprecation import moved_modules
from xai_tf._lazy import lazy_exports

_EXPORTS = {
    "pic": "information_curves.pic",
    "PicResult": "information_curves.curves",
    "max_sensitivity": "robustness.sensitivity",
    "xai_entropy": "complexity.entropy",
    "pointing_game": "localisation.pointing_game",
    "randomization_check": "randomisation.model_randomization",
    "difference_of_means": "robustness.consistency",
    # the protocol a new metric implements, and the registry it joins
    "Chunk": "chunk",
    "CurveMetric": "curve_metric",
    "MapsMetric": "protocol",
    "Metric": "protocol",
    "MethodMetric": "protocol",
    "Option": "options",
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

# The flat modules of xai-tf 0.1 import with one FutureWarning until the next release (``metrics.pic``
# is left out: that name is the function; its module is ``information_curves.pic``).
moved_modules("0.2", {f"xai_tf.metrics.{old}": f"xai_tf.metrics.{new}" for old, new in {
    "fidelity": "faithfulness.fidelity", "road": "faithfulness.road", "irof": "faithfulness.irof",
    "blur": "information_curves.blur", "pic_curves": "information_curves.curves",
    "pic_metric": "information_curves.metric", "delaunay": "information_curves.delaunay",
    "information": "information_curves.information", "focus": "localisation.focus",
    "localization": "localisation.pointing_game", "relevance_localization": "localisation.relevance",
    "randomization": "randomisation.model_randomization", "random_logit": "randomisation.random_logit",
    "consistency": "robustness.consistency", "sensitivity": "robustness.sensitivity",
}.items()})
