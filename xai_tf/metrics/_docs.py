"""Numpydoc entries that metric functions of several families share (``xai_tf._docstrings.fill_doc``).

Entries tied to one concept live with it (``options.OPTIONS_NOTE``, ``ties.TIES_PARAMETER``); these
are the inputs every metric function reads.
"""
from __future__ import annotations

#: A metric function's model and images, as the functions that check them with
#: ``xai_tf.metrics.perturbation.checked_inputs`` or ``xai_tf.explain`` take them.
MODEL_IMAGES = """
model : keras.Model
    Classifier taking ``[0, 1]`` NHWC images.
images : ndarray
    ``(N, H, W, C)`` in [0, 1].
"""
