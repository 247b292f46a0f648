"""The segmentation target: :class:`~xai_tf.Segmentation`, one class's logit summed over a region."""
from __future__ import annotations

import numpy as np
import tensorflow as tf

from xai_tf.targets.base import Target, check_output_name, spec_options


class Segmentation(Target):
    """The summed logit of one class over a region of a segmentation output ``(N, H', W', K)``.

    Parameters
    ----------
    class_id : int
        The class whose score is summed; with one output channel (a sigmoid mask), class 1 scores
        with the logit and class 0 with its negative.
    region : array-like of {0, 1}, shape (N, H', W') or (H', W'), optional
        The pixels summed, per image (or one region for every image), at the output's resolution.
        Default None: the pixels the model assigns to ``class_id`` on each image as given (Seg-Grad-CAM,
        Vinogradova et al. 2020); an image where it assigns none explains an empty region (a zero
        score) with a warning.
    output : str or int, optional
        Which model output, for a model with several.

    Raises
    ------
    ValueError
        ``class_id`` is not an int >= 0.
    TypeError
        ``output`` is neither a name nor a position.
    """

    kind = "segmentation"
    bounded = True

    def __init__(self, class_id: int, region=None, *, output=None):
        if isinstance(class_id, bool) or not isinstance(class_id, (int, np.integer)) or class_id < 0:
            raise ValueError(f"Segmentation: class_id must be an int >= 0; got {class_id!r}")
        self.class_id, self.region = int(class_id), region
        self.output = check_output_name(output, "Segmentation")

    def check_output(self, shape, name="targets"):
        if len(shape) != 4 or shape[-1] is None:
            raise ValueError(f"{name}: Segmentation needs an output of shape (N, H', W', classes); the explained "
                             f"output has shape {shape}")
        classes = 2 if shape[-1] == 1 else shape[-1]
        if self.class_id >= classes:
            raise ValueError(f"{name}: Segmentation class_id={self.class_id} does not exist; the output has "
                             f"{classes} classes")

    def needs_outputs(self):
        return True

    def resolve(self, outputs, n, image_shape, name="targets"):
        import warnings

        spatial = outputs.shape[1:3]
        if self.region is None:
            if outputs.shape[-1] == 1:
                region = (outputs[..., 0] >= 0) == bool(self.class_id)
            else:
                region = np.argmax(outputs, axis=-1) == self.class_id
            empty = np.flatnonzero(~region.reshape(n, -1).any(axis=1))
            if len(empty):
                warnings.warn(f"{name}: the model assigns no pixel to class {self.class_id} on image(s) "
                              f"{empty.tolist()}; their score is 0 (give region= to choose the pixels)", stacklevel=4)
        else:
            region = np.asarray(self.region)
            if region.ndim == 2:
                region = np.broadcast_to(region, (n, *region.shape))
            if region.shape != (n, *spatial):
                raise ValueError(f"{name}: Segmentation region must have shape ({n}, {spatial[0]}, {spatial[1]}) or "
                                 f"({spatial[0]}, {spatial[1]}), the output's resolution; got {region.shape}")
            if not np.isin(region, (0, 1)).all():
                raise ValueError(f"{name}: Segmentation region must hold 0/1 (or bool) values")
        return {"region": region.astype(np.float32)}

    def _logit(self, outputs):
        if outputs.shape[-1] == 1:
            return outputs[..., 0] * (1.0 if self.class_id else -1.0)
        return outputs[..., self.class_id]

    def score(self, outputs, params):
        return tf.reduce_sum(self._logit(outputs) * params["region"], axis=[1, 2])

    def probability(self, outputs, params):
        if outputs.shape[-1] == 1:
            probabilities = tf.sigmoid(self._logit(outputs))
        else:
            probabilities = tf.nn.softmax(outputs, axis=-1)[..., self.class_id]
        area = tf.maximum(tf.reduce_sum(params["region"], axis=[1, 2]), 1.0)
        return tf.reduce_sum(probabilities * params["region"], axis=[1, 2]) / area

    def spec(self):
        return "segmentation:" + spec_options(**{"class": self.class_id, "output": self.output,
                                                 "region": None if self.region is None else "given"})

