"""Rebuild a Keras 2 model (its architecture config and per-layer weights) as one flat Keras 3 model.

Keras 3 reads Keras 2 ``.h5`` files itself, but not the models the papers saved: a nested
backbone inside a ``Sequential`` is revived returning a one-element list, and the next layer fails
("Flatten.call() 'list' object has no attribute 'shape'"); SavedModel folders and live ``tf_keras``
objects it does not read at all. This module therefore walks the Keras 2 config ourselves:

- every leaf layer is created from its own config with the public ``keras.layers.deserialize``
  (Keras 2 and Keras 3 layer configs agree for the layers image classifiers use; the few Keras 2
  keys Keras 3 lacks are dropped only at their no-op values, anything else is an error);
- nested ``Sequential``/functional models are inlined while wiring the graph, so the result is
  already flat (``get_layer("block5_conv3")`` reaches the backbone, CAMs find it) and a layer or
  sub-model used twice stays shared;
- weights are copied by layer name (and by weight name inside a layer where both versions agree
  on the names, else in order), every shape checked.

``TFOpLambda`` layers (``tf.math.*`` calls recorded in a functional model, e.g. an inline
``preprocess_input``) become a small layer calling the same TensorFlow function; Python ``Lambda``
layers cannot be rebuilt (their code is marshalled bytecode) and raise a clear error.
"""
from __future__ import annotations

import numpy as np

# Keras 2 config keys that some Keras 3 layers do not accept, with the values at which dropping them
# changes nothing. A key the Keras 3 class does take is kept; any other value is refused, never ignored.
_NO_OP_KEYS = {
    "fused": (None, True, False),
    "renorm": (False,),
    "renorm_clipping": (None,),
    "renorm_momentum": (0.99, None),
    "virtual_batch_size": (None,),
    "adjustment": (None,),
    "sparse": (False,),
    "ragged": (False,),
    "optional": (False,),
    "groups": (1,),  # Keras 2 DepthwiseConv2D inherits it from Conv; Keras 3's takes none
}
_MODEL_CLASSES = ("Sequential", "Functional", "Model")
_OP_LAYERS = ("TFOpLambda", "SlicingOpLambda")


def is_model_config(entry: dict) -> bool:
    """Whether a Keras 2 layer entry describes a (nested) Sequential or functional model.

    Parameters
    ----------
    entry : dict
        ``{"class_name": ..., "config": {...}}`` as Keras 2 saves each layer.

    Returns
    -------
    bool
        True for ``Sequential``/``Functional``/``Model`` entries that list ``layers``.
    """
    return entry.get("class_name") in _MODEL_CLASSES and "layers" in entry.get("config", {})


def _layer_name(entry: dict) -> str:
    return entry.get("name") or entry["config"]["name"]


def _clean_config(entry: dict, layer_class) -> dict:
    import inspect

    name = _layer_name(entry)
    accepted = inspect.signature(layer_class.__init__).parameters
    config = dict(entry["config"])
    for key in ("batch_input_shape", "input_shape", "batch_size"):
        config.pop(key, None)  # the input is built once, from the model's InputLayer
    if "/" in name:  # Keras 2 allowed "conv1/conv" (DenseNet); Keras 3 names cannot contain "/"
        config["name"] = name.replace("/", "_")
    axis = config.get("axis")
    if isinstance(axis, list) and len(axis) == 1:  # Keras 2 BatchNormalization saved axis as [3]
        config["axis"] = axis[0]
    dtype = config.get("dtype")
    if isinstance(dtype, dict):  # Keras 2 mixed-precision policy {"class_name": "Policy", ...}
        config["dtype"] = dtype.get("config", {}).get("name", "float32")
    for key, harmless in _NO_OP_KEYS.items():
        if key in config and key not in accepted:
            value = config.pop(key)
            if value not in harmless:
                raise ValueError(f"layer {name!r} ({entry['class_name']}) uses {key}={value!r}, which Keras 3 "
                                 "does not implement; this model cannot be converted exactly")
    return config


def _tf_function(path: str, layer_name: str):
    """The TensorFlow function a ``TFOpLambda`` recorded (``"math.truediv"`` -> ``tf.math.truediv``)."""
    import tensorflow as tf

    target = tf
    for part in path.split("."):
        if part.startswith("_") and part != "__operators__":
            raise ValueError(f"layer {layer_name!r} calls tf.{path}, which cannot be rebuilt")
        target = getattr(target, part, None)
        if target is None:
            raise ValueError(f"layer {layer_name!r} calls tf.{path}, which this TensorFlow does not have")
    return target


def _op_layer(entry: dict):
    import keras

    name = _layer_name(entry)
    path = entry["config"]["function"]
    if path.startswith("__operators__."):
        import operator

        function = getattr(operator, path.split(".", 1)[1].strip("_"), None)
        if function is None:
            raise ValueError(f"layer {name!r} applies the operator {path!r}, which cannot be rebuilt")
    else:
        function = _tf_function(path, name)

    class TFOp(keras.layers.Layer):
        """A recorded TensorFlow call; gradients flow through it like through any TF op."""

        def call(self, *args, **kwargs):
            return function(*args, **kwargs)

    return TFOp(name=name.replace("/", "_"))


def _make_layer(entry: dict):
    """A new Keras 3 layer (unbuilt, random weights) from a Keras 2 leaf-layer entry."""
    import keras

    name, class_name = _layer_name(entry), entry["class_name"]
    if class_name in _OP_LAYERS:
        return _op_layer(entry)
    if class_name == "Lambda":
        raise ValueError(f"layer {name!r} is a Lambda layer (Python code saved as bytecode); Keras 3 cannot "
                         "rebuild it: re-create the model in Keras 3 and load the weights by layer name")
    # Keras 2 configs carry no (or a Keras 2) module path: look the class up by name.
    layer_class = getattr(keras.layers, class_name, None) or keras.saving.get_registered_object(
        entry.get("registered_name") or class_name)
    if layer_class is None:
        raise ValueError(f"layer {name!r} is of class {class_name!r}, which Keras 3 does not know; register a "
                         "Keras 3 version of it with keras.saving.register_keras_serializable before loading")
    config = _clean_config(entry, layer_class)
    try:
        return layer_class.from_config(config)
    except Exception as error:  # an argument Keras 3 does not take: name the layer
        raise ValueError(f"layer {name!r} ({class_name}) could not be re-created in Keras 3: {error}") from error


def _input_spec(entry: dict) -> tuple[tuple, str, str]:
    """``(shape without batch, dtype, name)`` of a Keras 2 model config (the first input it declares)."""
    config = entry["config"]
    if entry["class_name"] == "Sequential":
        for layer in config["layers"]:
            if is_model_config(layer):
                return _input_spec(layer)
            shape = layer["config"].get("batch_input_shape") or config.get("build_input_shape")
            if shape is not None:
                dtype = layer["config"].get("dtype", "float32")
                name = _layer_name(layer) if layer["class_name"] == "InputLayer" else f"{_layer_name(layer)}_input"
                return tuple(shape[1:]), dtype if isinstance(dtype, str) else "float32", name.replace("/", "_")
        raise ValueError(f"Sequential model {config.get('name')!r} never declares its input shape; "
                         "build it (call it once or start it with keras.Input) before saving")
    if len(config["input_layers"]) != 1:
        raise ValueError(f"model {config.get('name')!r} has {len(config['input_layers'])} inputs; "
                         "xai-tf explains single-input image classifiers")
    first = _as_refs(config["input_layers"])[0][0]
    for layer in config["layers"]:
        if _layer_name(layer) == first:
            return (tuple(layer["config"]["batch_input_shape"][1:]), layer["config"].get("dtype", "float32"),
                    first.replace("/", "_"))
    raise ValueError(f"input layer {first!r} missing from the config of {config.get('name')!r}")


def _as_refs(value) -> list:
    """``[[name, node, tensor], ...]`` also when Keras saved a single reference un-nested."""
    if value and isinstance(value[0], str):
        return [value]
    return list(value)


class _Builder:
    """Wires the Keras 3 graph; ``layers`` holds every leaf layer by name (shared across calls)."""

    def __init__(self):
        self.layers: dict = {}

    def leaf(self, entry: dict):
        name = _layer_name(entry)
        if name not in self.layers:
            self.layers[name] = _make_layer(entry)
        return self.layers[name]

    def apply(self, entry: dict, inputs: list, kwargs: dict | None = None):
        """Call the (leaf or model) layer ``entry`` on ``inputs``; a failure names the layer."""
        if is_model_config(entry):
            return self.model(entry, inputs)
        layer = self.leaf(entry)
        try:
            if entry["class_name"] in _OP_LAYERS:
                return layer(*inputs, **(kwargs or {}))
            return layer(inputs[0] if len(inputs) == 1 else inputs, **(kwargs or {}))
        except Exception as error:  # shapes or arguments Keras 3 rejects: say which layer
            raise ValueError(f"layer {_layer_name(entry)!r} ({entry['class_name']}) could not be applied in "
                             f"Keras 3: {error}") from error

    def model(self, entry: dict, inputs: list):
        """Outputs of the (nested) model ``entry`` applied to Keras 3 tensors ``inputs``."""
        config = entry["config"]
        if entry["class_name"] == "Sequential":
            x = inputs[0]
            for layer in config["layers"]:
                if layer["class_name"] != "InputLayer":
                    x = self.apply(layer, [x])
            return x
        return self.functional(config, inputs)

    def functional(self, config: dict, inputs: list):
        name = config.get("name")
        input_refs = _as_refs(config["input_layers"])
        if len(input_refs) != len(inputs):
            raise ValueError(f"model {name!r} expects {len(input_refs)} input(s); it was called with {len(inputs)}")
        # outputs[layer][node] = tensor(s) produced by that call of the layer, in creation order
        outputs = {ref[0]: [tensor] for ref, tensor in zip(input_refs, inputs)}
        for layer in config["layers"]:
            if is_model_config(layer) and _owns_input_node(layer):
                # Keras 2 numbers a nested model's calls from 1: node 0 is the model's own Input
                outputs[_layer_name(layer)] = [None]
        pending = [(layer, index, node) for layer in config["layers"] if layer["class_name"] != "InputLayer"
                   for index, node in enumerate(layer.get("inbound_nodes", []))]

        def resolve(value):
            if isinstance(value, list) and len(value) == 3 and isinstance(value[0], str) and value[0] in outputs:
                result = outputs[value[0]][value[1]]
                return result[value[2]] if isinstance(result, (list, tuple)) else result
            return value

        def ready(node) -> bool:
            refs = _node_refs(node)
            return all(ref[0] in outputs and len(outputs[ref[0]]) > ref[1] for ref in refs)

        done: dict = {}
        while pending:
            progress = False
            for item in list(pending):
                layer, index, node = item
                # a layer's calls are replayed in their saved order, so node numbers stay valid
                if index != done.get(_layer_name(layer), 0) or not ready(node):
                    continue
                args, kwargs = _node_arguments(node)
                tensors = [resolve(ref) for ref in args]
                kwargs = {key: (resolve(value) if isinstance(value, list) else value)
                          for key, value in kwargs.items() if key != "name"}
                result = self.apply(layer, tensors, kwargs)
                outputs.setdefault(_layer_name(layer), []).append(result)
                pending.remove(item)
                done[_layer_name(layer)] = index + 1
                progress = True
            if not progress:
                stuck = sorted({_layer_name(layer) for layer, _, _ in pending})
                raise ValueError(f"the config of model {name!r} cannot be wired: layers {stuck} wait for inputs "
                                 "that no layer produces")
        results = [resolve(list(ref)) for ref in _as_refs(config["output_layers"])]
        if len(results) != 1:
            raise ValueError(f"model {name!r} has {len(results)} outputs; xai-tf explains single-output classifiers")
        return results[0]


def _owns_input_node(entry: dict) -> bool:
    """Whether Keras 2 gave this nested model a node of its own (its InputLayer) before any call."""
    if entry["class_name"] != "Sequential":
        return True
    layers = entry["config"]["layers"]
    return bool(layers) and layers[0]["class_name"] == "InputLayer"


def _node_arguments(node) -> tuple[list, dict]:
    """Keras 2 node ``[[name, node, tensor, kwargs], ...]`` -> (tensor references, keyword arguments)."""
    if isinstance(node, dict):  # Keras 3 style {"args": ..., "kwargs": ...}: not written by Keras 2
        raise ValueError("this config was written by Keras 3; load it with keras.models.load_model")  # noqa: TRY004
    if node and isinstance(node[0], str):  # TFOpLambda nodes are saved as one un-nested reference
        node = [node]
    refs = [list(ref[:3]) for ref in node]
    kwargs = node[-1][3] if node and len(node[-1]) > 3 else {}
    return refs, dict(kwargs or {})


def _node_refs(node) -> list:
    refs, kwargs = _node_arguments(node)
    for value in kwargs.values():  # a second tensor passed by keyword (``tf.math.add(x, y=other)``)
        if isinstance(value, list) and len(value) == 3 and isinstance(value[0], str) and isinstance(value[1], int):
            refs.append(value)
    return refs


def _assign(layer, arrays: list[tuple[str, np.ndarray]]) -> None:
    """Set ``layer``'s weights from Keras 2 ``(weight name, array)`` pairs; ValueError on any mismatch."""
    targets = layer.weights
    if len(targets) != len(arrays):
        raise ValueError(f"layer {layer.name!r}: the file has {len(arrays)} weight(s) "
                         f"({', '.join(name for name, _ in arrays) or 'none'}) but the rebuilt layer has "
                         f"{len(targets)} ({', '.join(w.name for w in targets) or 'none'})")
    by_name = dict(arrays)
    if len(by_name) == len(arrays) and set(by_name) == {w.name for w in targets}:
        ordered = [by_name[w.name] for w in targets]
    else:  # names differ between versions (e.g. depthwise_kernel vs kernel): keep the saved order
        ordered = [array for _, array in arrays]
    for weight, array in zip(targets, ordered):
        if tuple(weight.shape) != tuple(array.shape):
            raise ValueError(f"layer {layer.name!r}: weight {weight.name!r} has shape {tuple(weight.shape)} "
                             f"in the rebuilt model but {tuple(array.shape)} in the file")
    layer.set_weights(ordered)


def assign_weights(layers: dict, weights: dict) -> None:
    """Copy Keras 2 weights into rebuilt layers, by layer name; ValueError on any mismatch.

    Parameters
    ----------
    layers : dict
        Keras 2 leaf-layer name -> Keras 3 layer (as returned by :func:`rebuild`).
    weights : dict
        Keras 2 leaf-layer name -> ``[(weight name, array), ...]`` in the layer's saved order.
        Within a layer, arrays go by weight name when both versions use the same names, else in order.
    """
    unused = sorted({layer for layer, arrays in weights.items() if arrays} - set(layers))
    if unused:
        raise ValueError(f"the file holds weights for layer(s) {unused} that its architecture does not use")
    for layer_name, layer in layers.items():
        _assign(layer, weights.get(layer_name, []))


def rebuild(entry: dict, weights: dict, name: str | None = None):
    """One flat Keras 3 functional model from a Keras 2 model config and its weights.

    Parameters
    ----------
    entry : dict
        Keras 2 model config ``{"class_name": "Sequential"|"Functional"|"Model", "config": {...}}``
        (the ``model_config`` attribute of an ``.h5`` file, or ``{"class_name": ..., "config":
        model.get_config()}`` of a ``tf_keras`` model).
    weights : dict
        ``leaf layer name -> [(weight name, array), ...]`` in the layer's saved order; layers without
        weights may be absent.
    name : str, optional
        Name of the returned model; default the config's name.

    Returns
    -------
    keras.Model
        Functional model with nested models inlined, inputs ``(None, *input shape)``.
    dict
        Keras 2 leaf-layer name -> its Keras 3 layer (for :func:`assign_weights`).
    """
    import keras

    if not is_model_config(entry):
        raise ValueError(f"expected a Keras 2 model config (Sequential or Functional); got class "
                         f"{entry.get('class_name')!r}")
    shape, dtype, input_name = _input_spec(entry)
    inputs = keras.Input(shape=shape, dtype=dtype, name=input_name)
    builder = _Builder()
    outputs = builder.model(entry, [inputs])
    model = keras.Model(inputs, outputs, name=name or entry["config"].get("name") or "converted")
    assign_weights(builder.layers, weights)
    return model, builder.layers
