"""TensorBoard summaries written with TensorFlow alone: image and scalar events for the callbacks.

``tf.summary.image`` and ``tf.summary.scalar`` are implemented by the ``tensorboard`` package; these
write the same events with TensorFlow's own ``tf.summary.write`` in exactly the format of
TensorBoard's image and scalar plugins (so writing needs no TensorBoard; viewing does). Both write
into the default summary writer (``with writer.as_default(): ...``).
"""
from __future__ import annotations

import numpy as np
import tensorflow as tf
from tensorflow.core.framework import summary_pb2


def _summary_metadata(plugin_name: str, data_class: int, description: str) -> summary_pb2.SummaryMetadata:
    """TensorBoard plugin metadata; ``content`` stays empty = the plugins' version-0 data proto."""
    metadata = summary_pb2.SummaryMetadata(summary_description=description, data_class=data_class)
    metadata.plugin_data.plugin_name = plugin_name
    return metadata




def write_image_summary(tag: str, images: np.ndarray, step: int, description: str = "") -> None:
    """What ``tf.summary.image`` writes, into the default writer: ``[width, height, png, ...]`` strings.

    images: ``(N, H, W, 3)`` uint8 RGB. TensorBoard's images plugin reads the tag (one slider per step).
    """
    height, width = int(images.shape[1]), int(images.shape[2])
    encoded = [tf.io.encode_png(image) for image in images]
    tensor = tf.stack([tf.constant(str(width)), tf.constant(str(height)), *encoded])
    metadata = _summary_metadata("images", summary_pb2.DATA_CLASS_BLOB_SEQUENCE, description)
    tf.summary.write(tag, tensor, step=step, metadata=metadata)




def write_scalar_summary(tag: str, value: float, step: int, description: str = "") -> None:
    """What ``tf.summary.scalar`` writes, into the default writer: a float32 scalar for the scalars plugin."""
    metadata = _summary_metadata("scalars", summary_pb2.DATA_CLASS_SCALAR, description)
    tf.summary.write(tag, tf.constant(value, tf.float32), step=step, metadata=metadata)
