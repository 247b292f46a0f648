"""Preprocessing layers that live inside the models, so every model takes raw pixels in [0, 1].

Keeping preprocessing in the graph (instead of in a data pipeline) is what lets explainers and
metrics work in the pixel space a person sees: gradients flow back through the backbone's own
scaling, and maps line up with the input image. Both layers are registered Keras serialisables, so a
model saved as ``.keras`` reloads once ``xai_tf.models`` is imported.
"""
from __future__ import annotations

import keras
from keras import ops

from xai_tf.models.backbones import backbone_record

# Per-mode constants of keras.applications' preprocess_input, applied to pixels on the 0..255 scale.
_CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)
_TORCH_MEAN = (0.485, 0.456, 0.406)
_TORCH_STD = (0.229, 0.224, 0.225)


@keras.saving.register_keras_serializable(package="xai_tf")
class GrayscaleToRGB(keras.layers.Layer):
    """Repeat a single channel three times: ``(N, H, W, 1) -> (N, H, W, 3)``; 3 channels pass through."""

    def call(self, inputs):
        if inputs.shape[-1] == 1:
            return ops.repeat(inputs, 3, axis=-1)
        return inputs

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], 3)


@keras.saving.register_keras_serializable(package="xai_tf")
class BackbonePreprocessing(keras.layers.Layer):
    """The preprocessing of ``backbone`` (its record's ``preprocessing``) for RGB input in [0, 1].

    For a mode of ``xai_tf.models.backbones.PREPROCESSING_MODES`` it equals
    ``keras.applications.<module>.preprocess_input(255 * x)``; a record's own function is called on
    the pixels in [0, 1]. The backbone name is kept in the layer's config, so a saved model still
    knows which backbone it wraps (used to pick the default fine-tuning layer); loading it needs
    that backbone registered.
    """

    def __init__(self, backbone: str, **kwargs):
        super().__init__(**kwargs)
        self.backbone = backbone_record(backbone).name
        self.mode = backbone_record(backbone).preprocessing

    def call(self, inputs):
        if callable(self.mode):
            return self.mode(inputs)
        pixels = inputs * 255.0
        if self.mode == "caffe":  # RGB -> BGR, then subtract the ImageNet mean per channel
            bgr = ops.flip(pixels, axis=-1)
            return bgr - ops.convert_to_tensor(_CAFFE_MEAN_BGR, dtype=inputs.dtype)
        if self.mode == "tf":  # scale to [-1, 1]
            return pixels / 127.5 - 1.0
        if self.mode == "torch":  # scale to [0, 1], then standardise per channel
            mean = ops.convert_to_tensor(_TORCH_MEAN, dtype=inputs.dtype)
            std = ops.convert_to_tensor(_TORCH_STD, dtype=inputs.dtype)
            return (inputs - mean) / std
        return pixels

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "backbone": self.backbone}
