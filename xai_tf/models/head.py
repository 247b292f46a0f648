"""The model's output side, in one place: ``head_of(model)`` -> :class:`ModelHead`.

Every part of xai-tf that asks "how many classes does this model have, which class does it
predict, what are its logits, what are its probabilities" asks the model's :class:`ModelHead`:
the explainers, AIC/SIC, the callbacks, training, the classification report, the randomisation
check and the evaluation runner. The rules (docs/architecture.md, "Conventions"):

- A single output unit is a two-class model: class 1 scores with the unit's logit, class 0 with
  its negative; ``K >= 2`` units are ``K`` classes.
- The output activation is read from the final layer (nested final models and a
  ``keras.layers.Softmax`` layer included): ``softmax``/``sigmoid`` heads output probabilities,
  a ``linear`` head outputs logits. For any other final layer the first outputs decide: values in
  [0, 1] (rows summing to 1 for several units) are probabilities, anything else logits.
- The predicted class is ONE rule: the argmax of the class probabilities; for one unit, class 1
  when ``p >= 0.5`` (equivalently ``logit >= 0``).
- The explained class is ONE rule, :meth:`ModelHead.targets`: ``None`` means the predicted class
  of the float images as given (never of a quantised or perturbed copy), ints are checked against
  the number of classes, one per image or one for all. ``explain``, AIC/SIC, Max-Sensitivity, the
  randomisation check, the callbacks and the evaluation runner all resolve targets through it, so
  with ``targets=None`` a metric scores the class the method explained.

The compiled functions (``tf.function`` with a free batch dimension, traced once per model) live
in one cache per model, shared with the explainers' gradient functions (:meth:`ModelHead.cached`).
"""
from __future__ import annotations

import weakref

import keras
import numpy as np
import tensorflow as tf

from xai_tf.models import graph
from xai_tf.targets import class_probabilities, class_scores

PROBABILITY_ACTIVATIONS = ("softmax", "sigmoid")


class ModelHead:
    """What a classifier outputs, with its compiled forward functions.

    Parameters
    ----------
    model : keras.Model
        Single-input, single-output classifier with an NHWC image input and ``(N, K)`` outputs.

    Attributes
    ----------
    image_shape : tuple
        ``(H, W, C)`` the model takes (``None`` entries free).
    units : int
        Output units ``K``.
    binary : bool
        ``K == 1``: one sigmoid (or linear) unit = two classes.
    num_classes : int
        ``2`` for one unit, else ``K``.
    activation : str
        Name of the final layer's activation ("softmax", "sigmoid", "linear", ...).
    """

    def __init__(self, model):
        graph.check_model(model)
        input_shape = tuple(model.inputs[0].shape)
        output_shape = tuple(model.outputs[0].shape)
        if len(input_shape) != 4:
            raise ValueError(f"model must take NHWC images (4-D input); its input shape is {input_shape}")
        if len(output_shape) != 2 or output_shape[-1] is None:
            raise ValueError(f"model must output class scores of shape (N, classes); its output shape is "
                             f"{output_shape}")
        self.model = model
        self.image_shape = input_shape[1:]
        self.units = int(output_shape[-1])
        self.binary = self.units == 1
        self.num_classes = 2 if self.binary else self.units
        self.activation = graph.output_activation(model)
        if self.activation in PROBABILITY_ACTIVATIONS:
            self._outputs = "probabilities"
        elif self.activation == "linear":
            self._outputs = "logits"
        else:
            self._outputs = None  # decided by the first outputs seen (see the module docstring)
        self.image_spec = tf.TensorSpec([None, *self.image_shape], tf.float32)
        self.target_spec = tf.TensorSpec([None], tf.int32)
        self._functions: dict = {}

    # -- checks -----------------------------------------------------------------------------------
    def check_images(self, images, name: str = "images") -> np.ndarray:
        """``images`` as float32 ``(N, H, W, C)`` in [0, 1] of the model's input shape; else ValueError."""
        from xai_tf._checks import check_images

        return check_images(images, name, shape=self.image_shape)

    def check_targets(self, targets, n: int, name: str = "targets") -> np.ndarray | None:
        """``None``, one int or ints ``(n,)`` in ``[0, num_classes)`` -> int64 ``(n,)`` (or None)."""
        from xai_tf._checks import check_targets

        return check_targets(targets, n, self.num_classes, name)

    # -- symbolic scores (usable inside tf.function and GradientTape) ---------------------------
    def logits(self, images, *, layers=()):
        """Pre-activation outputs ``(B, K)`` and the named inner activations, on real tensors."""
        return graph.run_model(self.model, images, layers=layers, logits=True)

    def scores(self, logits, targets):
        """Target logit ``(B,)``; for a single unit, ``+logit`` for class 1 and ``-logit`` for class 0."""
        return class_scores(logits, targets)

    def target_probabilities(self, logits, targets):
        """Target probability ``(B,)``: softmax of the logits, or sigmoid of the signed logit."""
        return class_probabilities(logits, targets)

    # -- the one cache of compiled functions ----------------------------------------------------
    def cached(self, key, build):
        """The compiled function stored under ``key``, built by ``build()`` on first use."""
        if key not in self._functions:
            self._functions[key] = build()
        return self._functions[key]

    def forward_function(self):
        """``model(images, training=False)``: the raw outputs, compiled with a free batch dimension.

        (``predict_on_batch`` retraces for every new batch size, the last partial batch included.)
        """
        def build():
            model = self.model
            return tf.function(lambda images: model(images, training=False), input_signature=[self.image_spec])
        return self.cached("forward", build)

    def logits_function(self):
        """``images -> (B, K)`` logits, compiled."""
        def build():
            @tf.function(input_signature=[self.image_spec])
            def logits(images):
                return self.logits(images)[0]
            return logits
        return self.cached("logits", build)

    # -- host-side batched evaluation ---------------------------------------------------------------
    def outputs(self, images, batch_size: int = 64) -> np.ndarray:
        """Raw model outputs ``(N, K)`` float64 of float images ``(N, H, W, C)`` (array or tensor)."""
        images = tf.convert_to_tensor(images, tf.float32)
        forward = self.forward_function()
        parts = [np.asarray(forward(images[start:start + batch_size]))
                 for start in range(0, int(images.shape[0]), batch_size)]
        return np.concatenate(parts).astype(np.float64)

    def probabilities_from_outputs(self, outputs: np.ndarray) -> np.ndarray:
        """Class probabilities ``(N, K)`` float64 from raw outputs (softmax/sigmoid applied to logits)."""
        outputs = np.asarray(outputs, np.float64)
        if self._outputs is None:
            looks_like = (outputs.min() >= 0 and outputs.max() <= 1
                          and (self.binary or np.allclose(outputs.sum(axis=1), 1.0, atol=1e-3)))
            self._outputs = "probabilities" if looks_like else "logits"
        if self._outputs == "probabilities":
            return outputs
        if self.binary:
            return 1.0 / (1.0 + np.exp(-outputs))
        shifted = np.exp(outputs - outputs.max(axis=1, keepdims=True))
        return shifted / shifted.sum(axis=1, keepdims=True)

    def probabilities(self, images, batch_size: int = 64) -> np.ndarray:
        """Class probabilities ``(N, K)`` float64 of ``images``; for one unit, ``p`` of class 1."""
        return self.probabilities_from_outputs(self.outputs(images, batch_size))

    def classes_from_probabilities(self, probabilities: np.ndarray) -> np.ndarray:
        """THE predicted-class rule: argmax; for one unit, class 1 when ``p >= 0.5``. int64 ``(N,)``."""
        probabilities = np.asarray(probabilities)
        if self.binary:
            return (probabilities[:, 0] >= 0.5).astype(np.int64)
        return np.argmax(probabilities, axis=1).astype(np.int64)

    def predicted_classes(self, images, batch_size: int = 64) -> np.ndarray:
        """The class the model predicts on each image (inference mode), int64 ``(N,)``."""
        return self.classes_from_probabilities(self.probabilities(images, batch_size))

    def targets(self, images, targets=None, batch_size: int = 64, name: str = "targets") -> np.ndarray:
        """THE targets rule: the class each image is explained and scored for, int64 ``(N,)``.

        Parameters
        ----------
        images : ndarray
            ``(N, H, W, C)`` float images in [0, 1], as the method sees them.
        targets : None, int or array of int
            ``None``: the predicted class of ``images`` (:meth:`predicted_classes`); one int: that
            class for every image; ``(N,)`` ints: one class per image.
        batch_size : int
            Images per model call when the prediction is needed (default 64).
        name : str
            The argument's name in error messages.

        Returns
        -------
        ndarray
            ``(N,)`` int64 classes in ``[0, num_classes)``.

        Raises
        ------
        TypeError
            ``targets`` are not integers.
        ValueError
            A class outside ``[0, num_classes)``, or not one class per image.
        """
        if targets is None:
            return self.predicted_classes(images, batch_size)
        return self.check_targets(targets, len(images), name)

    def class_probability(self, probabilities: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """Probability of each row's ``targets`` class ``(N,)`` (one unit: ``p`` or ``1 - p``)."""
        probabilities = np.asarray(probabilities)
        if self.binary:
            return np.where(targets == 1, probabilities[:, 0], 1.0 - probabilities[:, 0])
        return probabilities[np.arange(len(targets)), targets]

    def predict_logits(self, images: np.ndarray, batch_size: int = 64) -> np.ndarray:
        """Logits ``(N, K)`` float32 of ``images``, batched."""
        function = self.logits_function()
        return np.concatenate([function(tf.constant(images[i:i + batch_size])).numpy()
                               for i in range(0, len(images), batch_size)])


_HEADS: weakref.WeakKeyDictionary[keras.Model, ModelHead] = weakref.WeakKeyDictionary()


def head_of(model) -> ModelHead:
    """The cached :class:`ModelHead` of ``model`` (built on first use).

    Raises
    ------
    TypeError
        ``model`` is not a ``keras.Model``.
    ValueError
        It has no defined input, several inputs/outputs, a non-image input or non-class outputs.
    """
    if not isinstance(model, keras.Model):
        raise TypeError(f"model must be a keras.Model; got {type(model).__name__}")
    head = _HEADS.get(model)
    if head is None:
        head = ModelHead(model)
        _HEADS[model] = head
    return head
