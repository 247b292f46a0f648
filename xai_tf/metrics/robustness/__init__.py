"""Robustness: do a method's maps stay put when the image, or the model, changes a little?

- ``sensitivity``: Max-Sensitivity (Yeh et al. 2019; paper 001), :func:`xai_tf.metrics.max_sensitivity`,
  and the map normalisation several families share (``normalise_by_max``);
- ``quantus_robustness``: Quantus' Avg-Sensitivity and Local Lipschitz Estimate;
- ``consistency``: Difference of Means across two architectures (paper 003),
  :func:`xai_tf.metrics.difference_of_means`.
"""
from xai_tf._deprecation import moved_names

# The names of the xai-tf 0.1 module ``xai_tf.metrics.robustness``, which this package replaced, with one
# FutureWarning until the next release.
__getattr__ = moved_names("0.2", __name__, {
    **dict.fromkeys(("noisy_copies", "avg_sensitivity", "local_lipschitz_estimate", "AvgSensitivityMetric",
                     "LocalLipschitzMetric", "AVG_SENSITIVITY", "LOCAL_LIPSCHITZ"),
                    "xai_tf.metrics.robustness.quantus_robustness"),
})
