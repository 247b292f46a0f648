"""Loading the models people have: ``.keras``, Keras 2 ``.h5``, Keras 2 SavedModel folders and live
``tf_keras`` objects, all returned as one flat Keras 3 model.

What a file is, is read from its first bytes, not its name: a ``.keras`` file is a zip archive, a
Keras 2 ``.h5`` an HDF5 file, a SavedModel a folder with ``saved_model.pb``. Keras 2 models are
rebuilt layer by layer (:mod:`xai_tf.models.keras2`; Keras 3's own ``.h5`` reader breaks on nested
backbones). ``.h5`` files are read with ``h5py`` alone; SavedModel folders need the ``tf-keras``
package (``pip install xai-tf[legacy]``) to read their variables. A SavedModel without Keras
metadata has no layers to rebuild: :func:`wrap_saved_model` serves its signature to the gradient
and perturbation methods instead.
"""
from __future__ import annotations

import json
import os
import weakref
from pathlib import Path

import numpy as np

from xai_tf.models import keras2
from xai_tf.models.graph import flatten

_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
_ZIP_MAGIC = b"PK\x03\x04"
# A converted model whose outputs differ from the original's by more than this is a conversion bug.
_CHECK_TOLERANCE = 1e-4


def is_tf_keras_model(model) -> bool:
    """Whether ``model`` is a Keras 2 object (``tf_keras``, or ``tf.keras`` under TF_USE_LEGACY_KERAS=1).

    Parameters
    ----------
    model : object
        Anything.

    Returns
    -------
    bool
        True when a class in ``type(model).__mro__`` comes from the ``tf_keras`` package.
    """
    return any(klass.__module__.split(".")[0] == "tf_keras" for klass in type(model).__mro__)


def load_model(model, name: str = "model"):
    """One flat Keras 3 model from a saved file or folder, or from a Keras 2 / Keras 3 model object.

    Parameters
    ----------
    model : str, os.PathLike, keras.Model or tf_keras model
        A ``.keras`` file, a Keras 2 ``.h5`` file, a SavedModel folder written by Keras 2
        (``model.save(folder)`` in TensorFlow 2.x), a live ``tf_keras`` model, or a Keras 3 model.
    name : str, default "model"
        Argument name used in error messages (the CLI passes ``"--model"``).

    Returns
    -------
    keras.Model
        Functional Keras 3 model with nested models inlined (see :func:`xai_tf.models.flatten`),
        uncompiled (explaining and scoring need no optimizer); its predictions equal the original's.

    Raises
    ------
    ValueError
        The path does not exist, is not a Keras model (corrupt, text, weights only), or the model
        cannot be converted (the message says why and what still works).
    TypeError
        ``model`` is neither a path nor a model.
    """
    import keras

    if isinstance(model, (str, os.PathLike)):
        return _load_path(Path(model), name)
    if isinstance(model, keras.Model):
        return flatten(model)
    if is_tf_keras_model(model):
        return from_tf_keras(model, name)
    raise TypeError(f"{name} must be a path (.keras, .h5 or SavedModel folder), a keras.Model or a tf_keras "
                    f"model; got {type(model).__name__}")


def _load_path(path: Path, name: str):
    shown = f"{name}={str(path)!r}"
    if not path.exists():
        raise ValueError(f"{shown} does not exist; expected a .keras file, a Keras 2 .h5 file or a SavedModel folder")
    if path.is_dir():
        if (path / "saved_model.pb").is_file() or (path / "saved_model.pbtxt").is_file():
            return _load_saved_model(path, shown)
        raise ValueError(f"{shown} is a folder without saved_model.pb; expected a SavedModel folder, "
                         "a .keras file or a Keras 2 .h5 file")
    with open(path, "rb") as handle:
        head = handle.read(8)
    if head.startswith(_HDF5_MAGIC):
        return _load_h5(path, shown)
    if head.startswith(_ZIP_MAGIC):
        return _load_keras(path, shown)
    if path.name == "saved_model.pb":
        return _load_saved_model(path.parent, f"{name}={str(path.parent)!r}")
    what = "is empty" if not head else ("is a text file" if _looks_like_text(path) else "is not a zip archive")
    raise ValueError(f"{shown} {what}: it is not a Keras model file (a .keras model is a zip archive, a "
                     "Keras 2 .h5 model an HDF5 file); the file is corrupt or of another kind")


def _looks_like_text(path: Path) -> bool:
    with open(path, "rb") as handle:
        sample = handle.read(512)
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _load_keras(path: Path, shown: str):
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            members = set(archive.namelist())
            broken = archive.testzip()
    except (zipfile.BadZipFile, OSError) as error:
        raise ValueError(f"{shown} is a corrupt zip archive ({error}); expected a .keras model") from error
    if broken is not None:
        raise ValueError(f"{shown} is a corrupt .keras file: member {broken!r} fails its checksum")
    if "config.json" not in members:
        raise ValueError(f"{shown} is a zip archive without config.json: not a .keras model")
    if path.suffix == ".keras":
        return _keras_load(path, shown)
    import tempfile

    with tempfile.TemporaryDirectory(prefix="xai_tf_") as folder:  # Keras picks its reader by extension
        target = Path(folder) / "model.keras"
        os.symlink(path.resolve(), target)
        return _keras_load(target, shown)


def _keras_load(path: Path, shown: str):
    import keras

    try:
        model = keras.models.load_model(path, compile=False)
    except Exception as error:  # Keras raises many types for a damaged or foreign archive
        raise ValueError(f"{shown} is a corrupt or incompatible .keras model: {error}") from error
    return flatten(model)


def _text(value) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def _load_h5(path: Path, shown: str):
    import h5py

    try:
        handle = h5py.File(path, "r")
    except OSError as error:  # a truncated or damaged HDF5 file
        raise ValueError(f"{shown} is a corrupt HDF5 file ({error}); expected a Keras 2 .h5 model") from error
    with handle:
        if "model_config" not in handle.attrs:
            raise ValueError(f"{shown} holds weights only (no model_config): build the architecture in Keras 3 "
                             "and call model.load_weights on it, or save the whole model with model.save")
        version = _text(handle.attrs.get("keras_version", "2"))
        config = json.loads(_text(handle.attrs["model_config"]))
        if isinstance(config.get("config"), list):  # Keras <= 2.2 saved a Sequential's layers as a bare list
            config["config"] = {"name": "sequential", "layers": config["config"]}
        if version.startswith("3"):
            return _load_keras3_h5(path, shown)
        weights = _read_h5_weights(handle.get("model_weights", handle), config, shown)
    return keras2.rebuild(config, weights)[0]


def _load_keras3_h5(path: Path, shown: str):
    import keras

    try:
        return flatten(keras.models.load_model(path, compile=False))
    except Exception as error:
        raise ValueError(f"{shown} (a Keras 3 .h5 file) could not be loaded: {error}") from error


def _leaf_names(entry: dict) -> set:
    names = set()
    for layer in entry["config"]["layers"]:
        if keras2.is_model_config(layer):
            names |= _leaf_names(layer)
        else:
            names.add(layer.get("name") or layer["config"]["name"])
    return names


def _read_h5_weights(group, config: dict, shown: str) -> dict:
    """``leaf layer -> [(weight name, array)]`` from the Keras 2 ``model_weights`` group.

    A nested model's group holds the weights of all its layers, named ``<layer>/<weight>:0``.
    """
    leaves = _leaf_names(config)
    weights: dict = {}
    for group_name in (_text(item) for item in group.attrs.get("layer_names", [])):
        layer_group = group[group_name]
        for weight_name in (_text(item) for item in layer_group.attrs.get("weight_names", [])):
            parts = weight_name.split("/")
            short = parts[-1].split(":")[0]
            if group_name in leaves:
                owner = group_name
            else:
                # the owner is the longest run of name parts ending before the weight's own name
                # ("conv1/conv/kernel:0" -> "conv1/conv"; outer scopes may precede it)
                owner = next(("/".join(parts[start:-1]) for start in range(len(parts) - 1)
                              if "/".join(parts[start:-1]) in leaves), None)
                if owner is None:
                    raise ValueError(f"{shown}: weight {weight_name!r} of {group_name!r} belongs to no layer "
                                     "of the saved architecture; the file is inconsistent")
            weights.setdefault(owner, []).append((short, np.asarray(layer_group[weight_name])))
    return weights


def _load_saved_model(path: Path, shown: str):
    if not (path / "keras_metadata.pb").is_file():
        raise ValueError(
            f"{shown} is a SavedModel without Keras metadata (keras_metadata.pb), so its layers cannot be "
            "rebuilt and CAM methods (which need a conv layer) cannot run on it. Gradient and perturbation "
            "methods still work through its serving signature: xai_tf.models.wrap_saved_model(path, "
            "activation='linear'|'softmax'|'sigmoid') (what the signature returns)")
    tf_keras = _import_tf_keras(shown)
    try:
        original = tf_keras.models.load_model(str(path), compile=False)
    except Exception as error:
        raise ValueError(f"{shown} could not be read by tf_keras: {error}") from error
    return from_tf_keras(original, shown)


def _import_tf_keras(shown: str):
    try:
        import tf_keras
    except ImportError as error:
        import tensorflow as tf

        family = ".".join(tf.__version__.split(".")[:2])
        raise ValueError(f"{shown} is a Keras 2 SavedModel; reading its variables needs the tf-keras package: "
                         f"pip install 'xai-tf[legacy]' (or pip install 'tf-keras~={family}.0')") from error
    return tf_keras


def _tf_keras_weights(model, weights: dict) -> dict:
    for layer in model.layers:
        if hasattr(layer, "layers") and hasattr(layer, "get_config") and layer.__class__.__name__ in (
                "Sequential", "Functional", "Model"):
            _tf_keras_weights(layer, weights)
        else:
            weights[layer.name] = [(w.name.split("/")[-1].split(":")[0], w.numpy()) for w in layer.weights]
    return weights


def from_tf_keras(model, name: str = "model"):
    """Convert a live ``tf_keras`` (Keras 2) Sequential or functional model to one flat Keras 3 model.

    Parameters
    ----------
    model : tf_keras.Model
        A built Sequential or functional model (subclassed models have no config to rebuild from).
    name : str, default "model"
        Argument name used in error messages.

    Returns
    -------
    keras.Model
        Flat functional Keras 3 model; its outputs are checked against ``model``'s on two random
        images (RuntimeError above 1e-4, which would be a conversion bug).
    """
    return _from_tf_keras(model, name)[0]


def _from_tf_keras(model, name: str):
    kind = model.__class__.__name__
    if kind != "Sequential" and (kind not in ("Functional", "Model") or not getattr(model, "_is_graph_network", False)):
        raise ValueError(f"{name} is a subclassed tf_keras model ({kind}); only Sequential and functional "
                         "models have an architecture config to rebuild in Keras 3")
    if not model.built:
        raise ValueError(f"{name} is an unbuilt tf_keras model; call it once on data (or give it an Input) first")
    converted, layers = keras2.rebuild(_tf_keras_config(model), _tf_keras_weights(model, {}))
    _check_same_outputs(model, converted, name)
    return converted, layers


def _tf_keras_config(model) -> dict:
    kind = "Sequential" if model.__class__.__name__ == "Sequential" else "Functional"
    return {"class_name": kind, "config": model.get_config()}


# tf_keras model -> (converted model, its layers by Keras 2 name, the config it was built from)
_CONVERSIONS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def as_keras_model(model, name: str = "model"):
    """The Keras 3 model to run: ``model`` itself, or the conversion of a live tf_keras model.

    A tf_keras model is converted once and cached; each call copies its current weights in (a
    notebook user may train it between calls), so the converted model's compiled explainers stay
    valid. A changed architecture is converted anew. Anything else is returned unchanged (the
    caller's own type check names it).

    Parameters
    ----------
    model : keras.Model, tf_keras model or anything
        The model given by the user.
    name : str, default "model"
        Argument name used in error messages.

    Returns
    -------
    keras.Model or the input
        A Keras 3 model for Keras 3 and tf_keras models; other objects unchanged.
    """
    if not is_tf_keras_model(model):
        return model
    config = json.dumps(_tf_keras_config(model), sort_keys=True, default=str)
    cached = _CONVERSIONS.get(model)
    if cached is not None and cached[2] == config:
        converted, layers, _ = cached
        keras2.assign_weights(layers, _tf_keras_weights(model, {}))
        return converted
    converted, layers = _from_tf_keras(model, name)
    _CONVERSIONS[model] = (converted, layers, config)
    return converted


def _check_same_outputs(original, converted, name: str) -> None:
    shape = (2, *converted.inputs[0].shape[1:])
    images = np.random.default_rng(0).uniform(0.0, 1.0, shape).astype(np.float32)
    expected = np.asarray(original(images, training=False))
    got = np.asarray(converted(images, training=False))
    difference = float(np.max(np.abs(expected - got))) if expected.shape == got.shape else np.inf
    if not difference <= _CHECK_TOLERANCE * max(1.0, float(np.max(np.abs(expected)))):
        raise RuntimeError(f"converting {name} changed its outputs (max |difference| {difference:.3g}); "
                           "please report this model's config as an xai-tf bug")
