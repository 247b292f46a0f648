"""Graph utilities: inline nested models, find conv layers, run a model up to its logits.

Keras 3 keeps a nested backbone (``Sequential([VGG16(...), Flatten(), Dense(1, "sigmoid")])``) as
one opaque layer, so its inner layers are unreachable from the outer graph ("Graph disconnected" in
every CAM library). Everything here walks the graph ourselves instead:

- :func:`flatten` rebuilds an equivalent functional model with the nested models inlined; the
  layers (and so the weights) are the same objects, nothing is copied.
- :func:`run_model` executes a model on real tensors (eagerly or inside ``tf.function``), records
  the outputs of named inner layers and can stop at the pre-activation logits of the last layer,
  all without touching the user's model.
- :func:`conv_layer_candidates` lists the layers with 4-D outputs (any of them can be named as a
  CAM layer); :func:`find_last_conv_layer` picks the default CAM layer.

The default CAM layer is the output of the model's last convolution layer (``Conv2D``,
``SeparableConv2D``, ``DepthwiseConv2D``, ``Conv2DTranspose``; its output includes the layer's own
activation, e.g. the ReLU of ``Conv2D(..., activation="relu")``), found in graph order with nested
models expanded. That is tf-keras-vis' rule (``ExtractIntermediateLayerForGradcam`` seeks the last
``Conv`` layer) and the papers' "last convolutional layer" (Selvaraju et al. 2017: VGG16's
``block5_conv3``). Layers after it (BatchNorm, pooling, dropout) are not chosen even though their
outputs are 4-D too; the toolkit chose the last 4-D layer until issue 16 (``block3_dropout`` on the
custom CNN v2). Name another 4-D layer with ``layer=`` (e.g. ``conv5_block3_out`` after a ResNet's
residual add; the last convolution there, ``conv5_block3_3_conv``, comes before BatchNorm and add).
"""
from __future__ import annotations

import keras

from xai_tf._docstrings import fill_doc

#: The numpydoc entry of ``model`` where nested models are searched (``fill_doc(model=NESTED_MODEL)``).
NESTED_MODEL = """
model : keras.Model
    A built model (nested models are expanded; several inputs and outputs allowed).
"""

_PROBABILITY_ACTIVATIONS = ("softmax", "sigmoid")
#: Layer classes that count as a convolution for the default CAM layer (tf-keras-vis' ``Conv``).
CONVOLUTION_LAYERS = (keras.layers.Conv2D, keras.layers.SeparableConv2D, keras.layers.DepthwiseConv2D,
                      keras.layers.Conv2DTranspose)


def _is_model(layer) -> bool:
    return isinstance(layer, keras.Model)


def check_model(model, name: str = "model", *, single: bool = True) -> keras.Model:
    """Return ``model`` when it is a built ``keras.Model`` (single-input, single-output unless
    ``single=False``); else TypeError/ValueError."""
    if not isinstance(model, keras.Model):
        raise TypeError(f"{name} must be a keras.Model; got {type(model).__name__}")
    if not model.built or not getattr(model, "inputs", None):
        raise ValueError(
            f"{name} has no defined input; build it with keras.Input(...) (or call it once on data) first")
    if single and (len(model.inputs) != 1 or len(model.outputs) != 1):
        raise ValueError(f"{name} must have exactly one input and one output; got "
                         f"{len(model.inputs)} input(s) and {len(model.outputs)} output(s)")
    return model


def _call_layer(layer, inputs, training):
    # Pass `training` only to layers that accept it, like keras' own Functional.call does.
    if "training" in getattr(layer, "_call_context_args", ()):
        return layer(inputs, training=training)
    return layer(inputs)


def _output_operation(model, index: int = 0):
    """The layer that produces output ``index`` (default the first, or only) of ``model``."""
    if isinstance(model, keras.Sequential):
        return model.layers[-1]
    return model.outputs[index]._keras_history.operation


def _walk(model, inputs, *, taps, head, training, last, output_index: int = 0):
    """Run ``model`` on ``inputs`` layer by layer, descending into nested models.

    taps: dict filled with ``layer.name -> output`` for every layer run (inner layers included).
    head: callable replacing the final layer of the outermost model when ``last`` (logits), or None.
    """
    def run(layer, layer_inputs, is_last):
        if _is_model(layer):
            output = _walk(layer, layer_inputs, taps=taps, head=head, training=training, last=is_last)
        elif is_last and head is not None:
            output = head(layer, layer_inputs)
        else:
            output = _call_layer(layer, layer_inputs, training)
        taps[layer.name] = output
        return output

    if isinstance(model, keras.Sequential):
        x = inputs
        layers = model.layers
        for index, layer in enumerate(layers):
            x = run(layer, x, last and index == len(layers) - 1)
        return x

    output_op = _output_operation(model, output_index)

    def operation_fn(operation):
        def call(*args, **kwargs):
            kwargs.pop("training", None)
            if kwargs.get("mask", 0) is None:  # a nested model called with mask=None (keras_hub backbones)
                kwargs.pop("mask")
            layer_inputs = args[0] if len(args) == 1 and not kwargs else args
            if kwargs or len(args) != 1:  # multi-input layers (Add, Concatenate) take a list
                if _is_model(operation):
                    raise ValueError(f"nested model {operation.name!r} with several inputs is not supported")
                if "training" in getattr(operation, "_call_context_args", ()):
                    kwargs["training"] = training
                output = operation(*args, **kwargs)
                taps[operation.name] = output
                return output
            return run(operation, layer_inputs, last and operation is output_op)
        return call

    return model._run_through_graph(inputs, operation_fn=operation_fn)


def _linear_head(layer, inputs):
    """Output of ``layer`` with a softmax/sigmoid activation replaced by identity (logits).

    A shallow copy of the layer (a new object whose attribute dict is a copy of the layer's) shares
    the very same variables; only the copy's activation is changed, so the user's layer is never
    mutated. (``copy.copy`` would serialise and clone the weights through Keras' ``__reduce__``.)
    """
    if isinstance(layer, keras.layers.Softmax):
        return inputs
    activation = getattr(layer, "activation", None)
    if activation is not None and getattr(activation, "__name__", "") in _PROBABILITY_ACTIVATIONS:
        linear = object.__new__(type(layer))
        linear.__dict__.update(layer.__dict__)
        linear.__dict__["activation"] = keras.activations.linear
        return linear(inputs)
    return layer(inputs)


def final_layer(model):
    """The layer that produces the model's output, descending into a nested final model."""
    layer = _output_operation(check_model(model))
    while _is_model(layer):
        layer = _output_operation(layer)
    return layer


def output_activation(model) -> str:
    """Name of the activation of the model's final layer ("softmax", "sigmoid", "linear", ...).

    Descends into a nested final model (e.g. a Sequential head).
    """
    layer = final_layer(model)
    if isinstance(layer, keras.layers.Softmax):
        return "softmax"
    activation = getattr(layer, "activation", None)
    return getattr(activation, "__name__", "linear") if activation is not None else "linear"


def run_model(model, images, *, layers=(), logits=True, training=False, output_index: int = 0):
    """Run ``model`` on real tensors; return ``(output, {layer_name: activation})``.

    images: ``(N, H, W, C)`` tensor, or the list of a multi-input model's inputs in ``model.inputs``
    order. layers: names of (possibly nested) layers whose outputs to return. logits: replace the
    final softmax/sigmoid of output ``output_index`` by identity (pre-activation logits), without
    mutating the model; a multi-output model returns its outputs' structure (dict or list). Usable
    inside ``tf.function`` and ``tf.GradientTape``.
    """
    taps: dict = {}
    head = _linear_head if logits else None
    output = _walk(model, images, taps=taps, head=head, training=training, last=True, output_index=output_index)
    missing = [name for name in layers if name not in taps]
    if missing:
        raise ValueError(f"layer(s) {missing} not found in model {model.name!r}")
    return output, {name: taps[name] for name in layers}


def flatten(model) -> keras.Model:
    """Return an equivalent functional model with nested models inlined (weights shared).

    Parameters
    ----------
    model : keras.Model
        Any single-input single-output model (functional, Sequential, with nested
        Sequential/functional models at any depth).

    Returns
    -------
    keras.Model
        A functional model calling the very same layer objects, so its outputs equal the
        original's and ``get_layer("block5_conv3")`` reaches layers of a nested backbone.

    Raises
    ------
    ValueError
        Two inlined layers share a name.
    """
    check_model(model)
    inputs = keras.Input(shape=model.inputs[0].shape[1:], dtype=model.inputs[0].dtype)
    taps: dict = {}
    outputs = _walk(model, inputs, taps=taps, head=None, training=None, last=True)
    try:
        return keras.Model(inputs, outputs, name=f"{model.name}_flat")
    except ValueError as error:
        if "unique" in str(error):
            raise ValueError(f"cannot flatten {model.name!r}: after inlining nested models two layers "
                             f"share a name ({error})") from error
        raise


def iter_layers(model):
    """All non-model layers of ``model`` in graph order, nested models expanded."""
    for layer in model.layers:
        if _is_model(layer):
            yield from iter_layers(layer)
        else:
            yield layer


def output_rank(layer) -> int | None:
    """Rank of ``layer``'s output (4 for ``(N, h, w, k)``), or None for a layer without one defined output."""
    try:
        return len(layer.output.shape)
    except (AttributeError, ValueError):  # a layer without a single defined output
        return None


@fill_doc(model=NESTED_MODEL)
def conv_layer_candidates(model) -> list[str]:
    """List the layers with 4-D outputs ``(N, h, w, k)``, nested models included, in graph order.

    Any of them can be named as the CAM layer (``layer=``).

    Parameters
    ----------
    {model}

    Returns
    -------
    list of str
        The layer names, in graph order (input layers left out).

    Raises
    ------
    TypeError
        If ``model`` is not a ``keras.Model``.
    ValueError
        If ``model`` has no defined input.
    """
    check_model(model, single=False)
    return [layer.name for layer in iter_layers(model)
            if not isinstance(layer, keras.layers.InputLayer) and output_rank(layer) == 4]


def convolution_layers(model) -> list[str]:
    """Names of the convolution layers (``CONVOLUTION_LAYERS``) with 4-D outputs, nested models included,
    in graph order."""
    check_model(model, single=False)
    return [layer.name for layer in iter_layers(model)
            if isinstance(layer, CONVOLUTION_LAYERS) and output_rank(layer) == 4]


@fill_doc(model=NESTED_MODEL)
def find_last_conv_layer(model) -> str:
    """Find the last convolution layer, the default CAM layer.

    The default CAM layer is the output of the model's last convolution layer (``Conv2D``,
    ``SeparableConv2D``, ``DepthwiseConv2D``, ``Conv2DTranspose``; its output includes the layer's
    own activation, e.g. the ReLU of ``Conv2D(..., activation="relu")``), found in graph order with
    nested models expanded. That is tf-keras-vis' rule (``ExtractIntermediateLayerForGradcam``
    seeks the last ``Conv`` layer) and the papers' "last convolutional layer" (Selvaraju et al.
    2017: VGG16's ``block5_conv3``). Layers after it (BatchNorm, pooling, dropout) are not chosen
    even though their outputs are 4-D too; the toolkit chose the last 4-D layer until issue 16
    (``block3_dropout`` on the custom CNN v2). Name another 4-D layer with ``layer=`` (e.g.
    ``conv5_block3_out`` after a ResNet's residual add; the last convolution there,
    ``conv5_block3_3_conv``, comes before BatchNorm and add).

    Parameters
    ----------
    {model}

    Returns
    -------
    str
        Name of the last convolution layer with a 4-D output, in graph order.

    Raises
    ------
    ValueError
        If the model has no convolution layer (the message lists the 4-D layers that ``layer=``
        could name) or no 4-D layer at all, or has no defined input.
    TypeError
        If ``model`` is not a ``keras.Model``.
    """
    convolutions = convolution_layers(model)
    if convolutions:
        return convolutions[-1]
    candidates = conv_layer_candidates(model)
    if not candidates:
        raise ValueError(f"model {model.name!r} has no layer with a 4-D output (N, h, w, channels); "
                         "CAM methods need a convolutional layer")
    raise ValueError(f"model {model.name!r} has no convolution layer "
                     f"({', '.join(c.__name__ for c in CONVOLUTION_LAYERS)}) "
                     f"to take as the default CAM layer; pass layer= one of its 4-D layers: {', '.join(candidates)}")


# -- transformers: attention layers and token layers ---------------------------------------------
def _all_layers(layer):
    """``layer``'s sublayers, depth first, nested models and custom layers' own sublayers included."""
    for child in getattr(layer, "_layers", None) or getattr(layer, "layers", ()):
        yield child
        yield from _all_layers(child)


def attention_layers(model) -> list:
    """The ``keras.layers.MultiHeadAttention`` layers of ``model``, searched through nested models and
    the sublayers of custom layers (a ``keras_hub`` encoder block), in the order they were found.

    Parameters
    ----------
    model : keras.Model
        Any built model.

    Returns
    -------
    list of keras.layers.MultiHeadAttention
        Empty for a model without attention (a CNN).
    """
    found, seen = [], set()
    for layer in _all_layers(model):
        if isinstance(layer, keras.layers.MultiHeadAttention) and id(layer) not in seen:
            seen.add(id(layer))
            found.append(layer)
    return found


def is_token_model(model) -> bool:
    """True when ``model`` has at least one ``MultiHeadAttention`` layer (:func:`attention_layers`)."""
    return bool(attention_layers(model))


def token_layer_candidates(model) -> list[str]:
    """Layers of ``model``'s graph (nested models included) whose output is a token sequence ``(N, T, D)``."""
    return [layer.name for layer in iter_layers(model)
            if not isinstance(layer, keras.layers.InputLayer) and output_rank(layer) == 3]


def _contains_attention(layer) -> bool:
    return isinstance(layer, keras.layers.MultiHeadAttention) or any(
        isinstance(child, keras.layers.MultiHeadAttention) for child in _all_layers(layer))


def default_token_layer(model) -> str:
    """The default CAM layer of a token model: the layer whose output enters the last attention layer.

    After the last attention layer only the class token reaches a class-token head, so the patch
    tokens of any later layer have zero gradient and every CAM would be blank; before it, each
    patch token still feeds the class token through attention (the layer ``pytorch-grad-cam``
    users are told to pick for a ViT, ``blocks[-1].norm1``). E.g. ``block12_norm1`` of
    :func:`~xai_tf.models.build_vit`'s tiny variant; on a ``keras_hub`` backbone, whose encoder is
    one layer, the patch embedding that enters it.

    Parameters
    ----------
    model : keras.Model
        A token model (:func:`is_token_model`).

    Returns
    -------
    str
        The name of the graph layer producing the token sequence ``(N, T, D)`` that the last
        attention layer (or the last layer holding one, e.g. a ``keras_hub`` encoder block) reads.

    Raises
    ------
    ValueError
        If no such layer exists (the message lists the token-sequence layers ``layer=`` can name).
    """
    holders = [layer for layer in iter_layers(model) if _contains_attention(layer)]
    candidates = token_layer_candidates(model)
    for holder in reversed(holders):
        for node in getattr(holder, "_inbound_nodes", ()):
            for tensor in node.input_tensors:
                source = tensor._keras_history.operation
                if source.name in candidates:
                    return source.name
    raise ValueError(f"model {model.name!r}: no token-sequence layer (N, tokens, dim) enters its last attention "
                     f"layer; pass layer= one of: {', '.join(candidates) if candidates else '(none)'}")


def default_cam_layer(model) -> str:
    """The layer methods' default layer: the last convolution (:func:`find_last_conv_layer`), or on a
    transformer (a model with ``MultiHeadAttention``) the tokens entering its last attention layer
    (:func:`default_token_layer`, which says why)."""
    if is_token_model(model):
        return default_token_layer(model)
    return find_last_conv_layer(model)


def check_layer(model, layer) -> str:
    """Return ``layer`` (a name) when it is a 4-D layer of ``model`` (or, on a transformer, a
    token-sequence ``(N, T, D)`` layer); else ValueError listing the candidates."""
    candidates = conv_layer_candidates(model)
    kinds, wrong = "4-D layers", "has no 4-D output"
    if is_token_model(model):
        candidates = candidates + token_layer_candidates(model)
        kinds, wrong = "4-D or token-sequence (N, tokens, dim) layers", "has no 4-D or token-sequence output"
    if not isinstance(layer, str):
        raise TypeError(f"layer must be a layer name (str); got {type(layer).__name__}")
    if layer not in candidates:
        names = {item.name for item in iter_layers(model)}
        why = wrong if layer in names else "does not exist"
        raise ValueError(f"layer={layer!r} {why} in model {model.name!r}; {kinds}: "
                         f"{', '.join(candidates) if candidates else '(none)'}")
    return layer
