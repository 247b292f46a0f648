"""Complexity: how simple or concentrated a map is, from the map alone.

- ``entropy``: XAI entropy, the compressed size of the rendered map (paper 001);
- ``quantus_complexity``: Quantus' Sparseness, Complexity and Effective Complexity.
"""
from xai_tf._deprecation import moved_names

# The names of the xai-tf 0.1 module ``xai_tf.metrics.complexity``, which this package replaced, with one
# FutureWarning until the next release.
__getattr__ = moved_names("0.2", __name__, {
    **dict.fromkeys(("FORMATS", "SCALINGS", "render_8bit", "xai_entropy", "XAIEntropyMetric", "XAI_ENTROPY"),
                    "xai_tf.metrics.complexity.entropy"),
    **dict.fromkeys(("sparseness", "complexity", "effective_complexity", "SparsenessMetric", "ComplexityMetric",
                     "EffectiveComplexityMetric", "SPARSENESS", "COMPLEXITY", "EFFECTIVE_COMPLEXITY"),
                    "xai_tf.metrics.complexity.quantus_complexity"),
})
