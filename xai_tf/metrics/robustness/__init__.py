"""Robustness: do a method's maps stay put when the image, or the model, changes a little?

- ``sensitivity``: Max-Sensitivity (Yeh et al. 2019; paper 001), :func:`xai_tf.metrics.max_sensitivity`,
  and the map normalisation several families share (``normalise_by_max``);
- ``quantus_robustness``: Quantus' Avg-Sensitivity and Local Lipschitz Estimate;
- ``consistency``: Difference of Means across two architectures (paper 003),
  :func:`xai_tf.metrics.difference_of_means`.
"""
