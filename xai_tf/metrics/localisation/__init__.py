"""Localisation: does a map's relevance fall on the object (the data's masks or boxes)?

- ``pointing_game``: the Pointing Game (Zhang et al. 2018; paper 003), :func:`xai_tf.metrics.pointing_game`;
- ``relevance``: Quantus' Relevance Mass / Rank Accuracy and Top-k Intersection;
- ``focus``: Focus (Arias-Duart et al. 2022), on 2x2 mosaics of images instead of ground truth.
"""
