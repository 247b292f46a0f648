"""A SavedModel without Keras metadata, served through its signature as a Keras 3 model.

Such a folder (``tf.saved_model.save`` of a ``tf.Module``, Keras 3's ``model.export``) has no layers
to rebuild, so CAM methods, which need a convolutional layer, cannot run on it. Gradient and
perturbation methods only need a differentiable function of the image, which the serving signature
is: :func:`wrap_saved_model` puts it in a one-layer functional Keras 3 model. When the signature
returns probabilities, say so (``activation``): the wrapper then exposes their logarithm (softmax)
or log-odds (sigmoid) as the logits the explainers differentiate, and the probabilities as output.
"""
from __future__ import annotations

from pathlib import Path

_ACTIVATIONS = ("linear", "softmax", "sigmoid")


def wrap_saved_model(path, endpoint: str = "serving_default", activation: str = "linear", name: str = "path"):
    """Wrap a SavedModel's signature as a Keras 3 model (for gradient and perturbation methods).

    A SavedModel without Keras metadata (``tf.saved_model.save`` of a ``tf.Module``, Keras 3's
    ``model.export``) has no layers to rebuild, so CAM methods, which need a convolutional layer,
    cannot run on it; gradient and perturbation methods only need a differentiable function of the
    image, which the serving signature is. When the signature returns probabilities, say so
    (``activation``): the wrapper then exposes their logarithm (softmax) or log-odds (sigmoid) as
    the logits the explainers differentiate, and the probabilities as output.

    Parameters
    ----------
    path : str or os.PathLike
        SavedModel folder (with ``saved_model.pb``).
    endpoint : str, default "serving_default"
        Signature to call; it must take one ``(None, H, W, C)`` image tensor and return one tensor.
    activation : {"linear", "softmax", "sigmoid"}, default "linear"
        What the signature's output is: logits ("linear") or probabilities.
    name : str, default "path"
        Argument name used in error messages.

    Returns
    -------
    keras.Model
        Functional model ``(None, H, W, C) -> (None, classes)`` whose one layer calls the signature.

    Raises
    ------
    ValueError
        If ``activation`` is not one of the choices, ``path`` is not a SavedModel folder,
        ``endpoint`` is not one of its signatures, or the signature does not take one
        ``(None, H, W, C)`` image tensor of fixed size and return one tensor.
    """
    import keras
    import tensorflow as tf

    from xai_tf._checks import check_choice

    check_choice(activation, "activation", _ACTIVATIONS)
    path = Path(path)
    if not (path / "saved_model.pb").is_file():
        raise ValueError(f"{name}={str(path)!r} is not a SavedModel folder (no saved_model.pb)")
    loaded = tf.saved_model.load(str(path))
    if endpoint not in loaded.signatures:
        raise ValueError(f"endpoint={endpoint!r} is not a signature of {str(path)!r}; it has: "
                         f"{', '.join(loaded.signatures) or '(none)'}")
    function = loaded.signatures[endpoint]
    inputs_spec = function.structured_input_signature[1]
    outputs_spec = function.structured_outputs
    if len(inputs_spec) != 1 or len(outputs_spec) != 1:
        raise ValueError(f"signature {endpoint!r} of {str(path)!r} takes {len(inputs_spec)} input(s) and returns "
                         f"{len(outputs_spec)} output(s); expected one image in and one tensor out")
    (input_name, spec), = inputs_spec.items()
    output_name = next(iter(outputs_spec))
    shape = tuple(spec.shape)
    if len(shape) != 4 or any(side is None for side in shape[1:]):
        raise ValueError(f"signature {endpoint!r} takes shape {shape}; "
                         "expected (None, H, W, C) images with a fixed size")

    class SavedModelSignature(keras.layers.Layer):
        """Calls the signature; with probabilities, ``activation`` turns logits back into them."""

        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.activation = getattr(keras.activations, activation)

        def call(self, images):
            output = function(**{input_name: tf.cast(images, spec.dtype)})[output_name]
            if activation == "softmax":  # softmax(log p) = p, so log p serves as logits
                output = tf.math.log(tf.maximum(output, 1e-12))
            elif activation == "sigmoid":  # sigmoid(log(p / (1 - p))) = p
                output = tf.clip_by_value(output, 1e-7, 1.0 - 1e-7)
                output = tf.math.log(output) - tf.math.log1p(-output)
            return self.activation(output)

        def compute_output_shape(self, input_shape):
            return (input_shape[0], *tuple(outputs_spec[output_name].shape)[1:])

    layer = SavedModelSignature(name="saved_model_signature")
    layer.saved_model = loaded  # keeps the restored variables alive as long as the model
    images = keras.Input(shape=shape[1:], dtype=spec.dtype.name)
    return keras.Model(images, layer(images), name=f"{path.name}_signature")
