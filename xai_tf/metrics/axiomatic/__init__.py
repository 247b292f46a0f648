"""Axioms a map should satisfy: Quantus' Completeness and Non-Sensitivity (``axioms``)."""
from xai_tf._deprecation import moved_names

# The names of the xai-tf 0.1 module ``xai_tf.metrics.axiomatic``, which this package replaced, with one
# FutureWarning until the next release.
__getattr__ = moved_names("0.2", __name__, {
    **dict.fromkeys(("completeness", "CompletenessMetric", "non_sensitivity", "NonSensitivityMetric",
                     "COMPLETENESS", "NON_SENSITIVITY"),
                    "xai_tf.metrics.axiomatic.axioms"),
})
