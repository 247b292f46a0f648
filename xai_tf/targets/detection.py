"""The detection target: :class:`~xai_tf.Detection`, D-RISE's similarity to a given box (Petsiuk et al. 2021)."""
from __future__ import annotations

import numpy as np
import tensorflow as tf

from xai_tf.targets.base import Target, check_output_name, spec_options


class Detection(Target):
    """The D-RISE similarity of a detector's best-matching box to a given box (Petsiuk et al. 2021).

    Parameters
    ----------
    boxes : array-like, shape (N, 4) or (4,)
        One box per image (or one for every image), ``(y0, x0, y1, x1)`` in the detector's output
        coordinates: fractions of the image in [0, 1] (``normalized=True``, default) or pixels.
    class_ids : int or array-like of int, shape (N,)
        The class of each box, an index into the detector's class probabilities.
    objectness : bool, optional
        The single-output layout carries an objectness score after the box (``(N, D, 5 + K)``);
        default False (``(N, D, 4 + K)``).
    normalized : bool, optional
        Boxes are fractions of the image (default True) or pixels.
    output : str or int, optional
        Which model output holds the detections, for a model with several outputs other than the
        two-output (boxes, probabilities) layout.

    Notes
    -----
    The score ``max_j IoU(b, b_j) * p_j[c] / ||p_j|| * o_j`` lies in [0, 1] and is used for both the
    score and the probability: D-RISE defines no logit.
    """

    kind = "detection"
    logits = False
    bounded = True

    def __init__(self, boxes, class_ids, *, objectness: bool = False, normalized: bool = True, output=None):
        self.boxes, self.class_ids = boxes, class_ids
        self.objectness, self.normalized = bool(objectness), bool(normalized)
        self.output = check_output_name(output, "Detection")

    def check_output(self, shape, name="targets"):
        shapes = shape if isinstance(shape, list) else [shape]
        if len(shapes) == 2:
            boxes, probabilities = shapes
            if len(boxes) != 3 or boxes[-1] != 4 or len(probabilities) != 3:
                raise ValueError(f"{name}: Detection with two outputs needs (N, D, 4) boxes and (N, D, K) class "
                                 f"probabilities; got {boxes} and {probabilities}")
            self._classes = probabilities[-1]
            return
        if len(shapes) != 1 or len(shapes[0]) != 3:
            raise ValueError(f"{name}: Detection needs an output (N, D, 4 + K) (or (N, D, 5 + K) with objectness=True) "
                             f"or two outputs (N, D, 4) and (N, D, K); got {shape}")
        self._classes = shapes[0][-1] - (5 if self.objectness else 4)
        if self._classes < 1:
            raise ValueError(f"{name}: Detection output {shapes[0]} has no class probabilities after the box")

    def resolve(self, outputs, n, image_shape, name="targets"):
        from xai_tf._checks import check_targets

        boxes = np.asarray(self.boxes, np.float64)
        if boxes.shape == (4,):
            boxes = np.broadcast_to(boxes, (n, 4))
        if boxes.shape != (n, 4) or not np.all(np.isfinite(boxes)):
            raise ValueError(f"{name}: Detection boxes must be finite with shape ({n}, 4) or (4,); got {boxes.shape}")
        height, width = (1.0, 1.0) if self.normalized else (image_shape[0], image_shape[1])
        inside = ((boxes[:, 0] >= 0) & (boxes[:, 1] >= 0) & (boxes[:, 2] <= height) & (boxes[:, 3] <= width)
                  & (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1]))
        if not inside.all():
            where = "[0, 1]" if self.normalized else f"the {height} x {width} image"
            raise ValueError(f"{name}: Detection boxes {np.flatnonzero(~inside).tolist()} are outside {where} or "
                             "empty (expected y0 < y1, x0 < x1)")
        ids = check_targets(self.class_ids, n, self._classes, f"{name} class_ids")
        return {"boxes": boxes.astype(np.float32), "class_ids": ids.astype(np.int32)}

    def _split(self, outputs):
        if isinstance(outputs, (list, tuple)):
            return outputs[0], outputs[1], None
        start = 5 if self.objectness else 4
        return outputs[..., :4], outputs[..., start:], outputs[..., 4] if self.objectness else None

    def score(self, outputs, params):
        boxes, probabilities, objectness = self._split(outputs)
        target = params["boxes"][:, None, :]
        top = tf.maximum(boxes[..., 0], target[..., 0])
        left = tf.maximum(boxes[..., 1], target[..., 1])
        bottom = tf.minimum(boxes[..., 2], target[..., 2])
        right = tf.minimum(boxes[..., 3], target[..., 3])
        overlap = tf.nn.relu(bottom - top) * tf.nn.relu(right - left)
        area = (boxes[..., 2] - boxes[..., 0]) * (boxes[..., 3] - boxes[..., 1])
        target_area = (target[..., 2] - target[..., 0]) * (target[..., 3] - target[..., 1])
        iou = overlap / tf.maximum(area + target_area - overlap, 1e-12)
        chosen = tf.gather(probabilities, params["class_ids"], axis=2, batch_dims=1)
        cosine = chosen / tf.maximum(tf.norm(probabilities, axis=-1), 1e-12)
        similarity = iou * cosine * (1.0 if objectness is None else objectness)
        return tf.reduce_max(similarity, axis=1)

    def spec(self):
        return "detection:" + spec_options(objectness=self.objectness or None, output=self.output)

