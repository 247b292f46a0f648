"""Randomisation: does a method explain the model and the class, not just the image?

- ``model_randomization``: the model-randomisation sanity check (Adebayo et al. 2018; paper 003),
  :func:`xai_tf.metrics.randomization_check`;
- ``random_logit``: Random Logit (Sixt et al. 2020), the map of another class.
"""
