"""Faithfulness: does the map rank the pixels the model relies on? One module per metric (or pair).

- ``fidelity``: Xplique's Deletion, Insertion, MuFidelity, Average Drop / Increase / Gain;
- Quantus' faithfulness family (``quantus.metrics.faithfulness``, commit 85bc29d, read, not
  installed: its TensorFlow extra pins ``keras<3``): ``pixel_flipping`` (Pixel-Flipping,
  Monotonicity), ``correlation`` (Faithfulness Correlation), ``infidelity``, ``sufficiency``,
  ``road`` (ROAD) and ``irof`` (IROF).

All are batched through :mod:`xai_tf.metrics.perturbation`: all perturbations of a chunk go
through one compiled forward function, ``batch_size`` copies at a time, where Quantus calls
``model.predict`` once per step.

Common rules of the Quantus metrics, as Quantus: maps are divided by their largest ``|value|`` (``normalise=True``;
Quantus divides by the largest of the whole batch it is given, here of each map, which only matters
for Infidelity, whose default is ``normalise=False`` anyway); ``"black"`` is each image's minimum
(Quantus' ``"black"`` is ``arr.min()``, not 0); a feature is a pixel with all its channels (Quantus
flattens channels into separate features with the map repeated over them, so it equals this on
single-channel images). Ties in a map's order (Quantus' ``np.argsort`` is not stable) follow the
option ``ties`` (``xai_tf.metrics.ties``; Faithfulness Correlation has no order, see ``correlation``).
Scores are the target probability where Quantus' default is ``softmax=True`` (Pixel-Flipping,
Monotonicity) and the target logit where it is ``softmax=False`` (Faithfulness Correlation,
Infidelity); for a single sigmoid unit the probability is ``p`` / ``1 - p`` and the logit
``+z`` / ``-z``.
"""
from xai_tf._deprecation import moved_names

# The names of the xai-tf 0.1 module ``xai_tf.metrics.faithfulness``, which this package replaced, with one
# FutureWarning until the next release (the functions ``infidelity`` and ``sufficiency`` are now the names of
# their modules: ``from xai_tf.metrics.faithfulness.infidelity import infidelity``).
__getattr__ = moved_names("0.2", __name__, {
    **dict.fromkeys(("ordered_curves", "PixelFlippingMetric", "MonotonicityMetric", "PIXEL_FLIPPING", "MONOTONICITY"),
                    "xai_tf.metrics.faithfulness.pixel_flipping"),
    **dict.fromkeys(("random_subsets", "faithfulness_correlation", "FaithfulnessCorrelationMetric",
                     "FAITHFULNESS_CORRELATION"),
                    "xai_tf.metrics.faithfulness.correlation"),
    **dict.fromkeys(("patch_keys", "InfidelityMetric", "INFIDELITY"),
                    "xai_tf.metrics.faithfulness.infidelity"),
    **dict.fromkeys(("SufficiencyMetric", "SUFFICIENCY"),
                    "xai_tf.metrics.faithfulness.sufficiency"),
})
