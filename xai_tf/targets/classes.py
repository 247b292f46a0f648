"""The class target: :class:`~xai_tf.Classes` and the class rules it shares with the classifier path.

``class_scores``, ``class_probabilities`` and ``predicted_classes`` are THE rules for reading a
class from logits (one unit: a sigmoid's two classes); ``xai_tf.models.head`` uses them too.
"""
from __future__ import annotations

import numpy as np
import tensorflow as tf

from xai_tf.targets.base import Target, check_output_name, spec_options


def class_scores(logits, ids):
    """Score ``(B,)`` of class ``ids`` ``(B,)``: its logit; one unit: ``+logit`` for class 1, ``-logit`` for 0."""
    if logits.shape[-1] == 1:
        sign = tf.cast(2 * ids - 1, logits.dtype)
        return logits[:, 0] * sign
    return tf.gather(logits, ids, axis=1, batch_dims=1)


def class_probabilities(logits, ids):
    """Probability ``(B,)`` of class ``ids``: softmax of the logits, or sigmoid of the signed logit."""
    if logits.shape[-1] == 1:
        return tf.sigmoid(class_scores(logits, ids))
    return tf.gather(tf.nn.softmax(logits, axis=-1), ids, axis=1, batch_dims=1)


def predicted_classes(logits):
    """THE predicted-class rule on logits ``(B, K)``: the argmax; one unit: class 1 when ``logit >= 0``."""
    if logits.shape[-1] == 1:
        return tf.cast(logits[:, 0] >= 0, tf.int32)
    return tf.argmax(logits, axis=1, output_type=tf.int32)


class Classes(Target):
    """A class score: today's rule, the default (``targets=None`` or ints mean ``Classes``).

    Parameters
    ----------
    ids : None, int or array-like of int, shape (N,), optional
        ``None`` (default): the class the model predicts on each image as given; one int for every
        image; or one class per image. A single sigmoid unit has classes 0 and 1 (class 1 scores
        with the logit, class 0 with its negative).
    output : str or int, optional
        Which model output, for a model with several.
    """

    kind = "classes"
    bounded = True

    def __init__(self, ids=None, *, output=None):
        self.ids = ids
        self.output = check_output_name(output, "Classes")

    def check_output(self, shape, name="targets"):
        if len(shape) != 2 or shape[-1] is None:
            raise ValueError(f"{name}: Classes needs an output of class scores (N, classes); the explained output "
                             f"has shape {shape} (choose Regression, Segmentation, Detection or a callable)")

    def needs_outputs(self):
        return self.ids is None

    def resolve(self, outputs, n, image_shape, name="targets"):
        from xai_tf._checks import check_targets

        if self.ids is None:
            ids = predicted_classes(tf.constant(outputs)).numpy()
        else:
            ids = check_targets(self.ids, n, None, name)
        return {"ids": ids.astype(np.int32)}

    def score(self, outputs, params):
        return class_scores(outputs, params["ids"])

    def probability(self, outputs, params):
        return class_probabilities(outputs, params["ids"])

    def spec(self):
        ids = self.ids if self.ids is None or isinstance(self.ids, (int, np.integer)) else "given"
        given = (ids, self.output) != (None, None)
        return "classes" + (":" + spec_options(id=ids, output=self.output) if given else "")

