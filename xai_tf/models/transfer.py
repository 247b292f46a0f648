"""Transfer-learning classifiers on the registered ImageNet backbones, as ONE flat graph.

``build_transfer`` calls the ``keras.applications`` constructor with ``input_tensor`` set to the
output of our own preprocessing layers, so every backbone layer becomes a layer of the returned
model (no nested ``Model``): Grad-CAM and friends can reach e.g. ``block5_conv3`` by name. What
each backbone is (constructor, minimum size, preprocessing, ...) is its record in
``xai_tf.models.backbones``. The classifier head follows papers 002/004: Flatten (or global
average pooling), Dense(512, ReLU), BatchNormalization, Dropout(0.5), output.

Layer naming: ``to_rgb`` (grayscale repetition, only for C=1), ``backbone_preprocessing``, the
backbone's own names, then ``head_pool``, ``head_dense``, ``head_bn``, ``head_dropout``,
``predictions``.
"""
from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from pathlib import Path

import keras

from xai_tf._checks import check_choice
from xai_tf._docstrings import fill_doc
from xai_tf.models._validation import (
    BUILDER_DOCS,
    check_input_shape,
    check_num_classes,
    output_layer,
    seed_weights,
)
from xai_tf.models.backbones import BACKBONES, RECORDS, backbone_record  # noqa: F401  (BACKBONES: compatibility)
from xai_tf.models.layers import BackbonePreprocessing, GrayscaleToRGB

MODES = ("feature_extraction", "fine_tune")
HEADS = ("flatten", "gap")


class _Field(Mapping):
    """Read-only live view ``name -> one field`` of the backbone records (the former per-field dicts)."""

    def __init__(self, field: str):
        self._field = field

    def __getitem__(self, name: str):
        return getattr(RECORDS[name], self._field)

    def __iter__(self) -> Iterator[str]:
        return iter(tuple(RECORDS))

    def __len__(self) -> int:
        return len(RECORDS)


#: Smallest input height/width each backbone accepts (its record's ``min_input_size``), live.
MIN_INPUT_SIZE: Mapping[str, int] = _Field("min_input_size")
#: ImageNet no-top weight files Keras downloads into ~/.keras/models/ (records' ``weight_file``), live.
IMAGENET_WEIGHT_FILES: Mapping[str, str | None] = _Field("weight_file")
#: Default start of fine-tuning, the first layer of each backbone's last block (records' ``fine_tune_at``), live.
#: ("after", name) means "the layer right after `name`" where the block's first layer has no fixed name.
FINE_TUNE_DEFAULT: Mapping[str, str | tuple] = _Field("fine_tune_at")

_HEAD_LAYERS = ("head_pool", "head_dense", "head_bn", "head_dropout", "predictions")
_PREPROCESSING_LAYERS = ("to_rgb", "backbone_preprocessing")


@fill_doc(**BUILDER_DOCS)
def build_transfer(backbone: str, input_shape, num_classes: int, mode: str = "feature_extraction",
                   fine_tune_at=None, weights="imagenet", head: str = "flatten", dropout: float = 0.5,
                   binary_head: bool = False, dense_units: int = 512, seed: int | None = 0) -> keras.Model:
    """Build an ImageNet backbone with a new classifier head as one flat functional model (uncompiled).

    ``keras.applications``' constructor is called with ``input_tensor`` set to the output of
    xai-tf's own preprocessing layers, so every backbone layer becomes a layer of the returned model
    and Grad-CAM can reach e.g. ``block5_conv3`` by name. The classifier head follows papers
    002/004: Flatten (or global average pooling), Dense(512, ReLU), BatchNormalization,
    Dropout(0.5), output. Layer names: ``to_rgb`` (grayscale repetition, only for C = 1),
    ``backbone_preprocessing``, the backbone's own names, then ``head_pool``, ``head_dense``,
    ``head_bn``, ``head_dropout``, ``predictions``.

    Parameters
    ----------
    backbone : str
        A registered backbone (``xai_tf.models.list_backbones()``): ``"vgg16"``, ``"vgg19"``,
        ``"resnet50"``, ``"resnet50v2"``, ``"densenet121"``, ``"xception"``, ``"inceptionv3"``,
        ``"inceptionresnetv2"``, ``"efficientnetb0"`` and any added with
        ``xai_tf.models.register_backbone``.
    input_shape : tuple of int
        ``(H, W, C)`` raw pixels in [0, 1]; C = 1 is repeated to RGB inside the model.
        H, W >= the record's ``min_input_size`` (32; 71 for Xception; 75 for the Inceptions).
    num_classes : int
        >= 2; ``binary_head=True`` (num_classes=2) gives the papers' Dense(1, sigmoid).
    mode : {"feature_extraction", "fine_tune"}, optional
        "feature_extraction" (default: backbone frozen, head trainable) or "fine_tune" (backbone
        layers from ``fine_tune_at`` on trainable; BatchNormalization stays frozen in inference mode).
    fine_tune_at : str or int, optional
        Layer name or index into the backbone's layers; default: the backbone's last block
        (the record's ``fine_tune_at``). Only used with mode="fine_tune".
    weights : "imagenet", None or path, optional
        "imagenet" (default; downloads through Keras when online; offline, a ``FileNotFoundError``
        says which file to put where; only for a backbone whose record names a ``weight_file``),
        ``None`` (random init), or a path to a no-top weights file.
    head : {"flatten", "gap"}, optional
        "flatten" (default, papers 002/004) or "gap" (global average pooling, fewer parameters).
    dropout : float, optional
        Rate of the head's dropout in [0, 1), default 0.5 (paper 002).
    {binary_head}
    dense_units : int, optional
        Width of the head's hidden Dense layer, default 512 (paper 002).
    {seed}

    Returns
    -------
    keras.Model
        One flat graph (no nested Model: ``get_layer("block5_conv3")`` works) whose input is raw
        ``(N, H, W, C)`` pixels and output ``(N, num_classes)`` or ``(N, 1)``.

    Raises
    ------
    ValueError
        If ``backbone``, ``mode`` or ``head`` is not one of the choices, ``input_shape`` is not
        ``(H, W, C)`` with C in {1, 3} or is smaller than the backbone's minimum, ``num_classes``
        < 2 (or not 2 with ``binary_head``), ``dropout`` is outside [0, 1), a weights path does not
        exist, ``weights="imagenet"`` for a backbone without ImageNet weights, or ``fine_tune_at``
        names no backbone layer or is out of range.
    TypeError
        If ``input_shape`` is not a tuple of ints, ``num_classes`` is not an int, ``weights`` is
        neither "imagenet", None nor a path, or ``fine_tune_at`` is neither a name, an index nor
        None.
    FileNotFoundError
        If the ImageNet weights cannot be downloaded; the message names the file to place in
        Keras' cache.
    """
    record = backbone_record(backbone)
    check_choice(mode, "mode", MODES)
    check_choice(head, "head", HEADS)
    min_size = record.min_input_size
    height, width, channels = check_input_shape(input_shape)
    if min(height, width) < min_size:
        raise ValueError(f"input_shape={tuple(input_shape)} is too small for {backbone}: height and "
                         f"width must be at least {min_size}")
    check_num_classes(num_classes, binary_head)
    if not 0.0 <= float(dropout) < 1.0:
        raise ValueError(f"dropout must lie in [0, 1); got {dropout!r}")
    weights = _resolve_weights(record, weights)
    seed_weights(seed)

    layers = keras.layers
    inputs = keras.Input((height, width, channels), name="image")
    x = GrayscaleToRGB(name="to_rgb")(inputs) if channels == 1 else inputs
    x = BackbonePreprocessing(backbone, name="backbone_preprocessing")(x)
    features = _construct_backbone(record, x, (height, width, 3), weights).output
    pool = layers.Flatten if head == "flatten" else layers.GlobalAveragePooling2D
    x = pool(name="head_pool")(features)
    x = layers.Dense(dense_units, activation="relu", name="head_dense")(x)
    x = layers.BatchNormalization(name="head_bn")(x)
    x = layers.Dropout(dropout, name="head_dropout")(x)
    outputs = output_layer(num_classes, binary_head, layers)(x)
    model = keras.Model(inputs, outputs, name=f"{backbone}_{mode}")
    set_trainable(model, mode, fine_tune_at)
    return model


def _resolve_weights(record, weights):
    if weights == "imagenet" and record.weight_file is None:
        raise ValueError(f"backbone {record.name!r} has no ImageNet weights; pass weights=None or the path of "
                         "its weights file")
    if weights is None or weights == "imagenet":
        return weights
    if not isinstance(weights, (str, os.PathLike)):
        raise TypeError(f"weights must be 'imagenet', None or a path; got {weights!r}")
    path = Path(weights).expanduser()
    if not path.is_file():
        raise ValueError(f"weights={str(weights)!r} does not exist; expected 'imagenet', None or the path "
                         f"of a {record.name} no-top weights file"
                         + (f" such as {record.weight_file}" if record.weight_file else ""))
    return str(path)


def _construct_backbone(record, tensor, shape, weights) -> keras.Model:
    """Call the record's (keras.applications) constructor on ``tensor`` so its layers join our graph."""
    backbone, weight_file = record.name, record.weight_file
    try:
        return record.constructor(include_top=False, weights=weights, input_tensor=tensor, input_shape=shape)
    except Exception as error:
        if weights != "imagenet" or not _looks_like_download_failure(error):
            raise
        cache = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")) / "models"
        raise FileNotFoundError(
            f"Could not download the ImageNet weights for {backbone} ({error.__class__.__name__}: {error}). "
            f"Offline, place the file {weight_file!r} in {cache}/ (Keras' cache), or pass "
            f"weights='/path/to/{weight_file}', or weights=None for random init."
        ) from error


def _looks_like_download_failure(error: Exception) -> bool:
    text = f"{type(error).__name__} {error}".lower()
    return any(word in text for word in ("url", "fetch", "connect", "resolve", "network", "http", "download"))


def backbone_name(model: keras.Model) -> str:
    """The backbone a ``build_transfer`` model wraps (read from its preprocessing layer)."""
    for layer in model.layers:
        if isinstance(layer, BackbonePreprocessing):
            return layer.backbone
    raise ValueError(f"model {model.name!r} was not built by build_transfer (no BackbonePreprocessing layer)")


def backbone_layers(model: keras.Model) -> list:
    """The layers of a ``build_transfer`` model that belong to the backbone, in graph order."""
    backbone_name(model)  # validates the model's origin
    return [layer for layer in model.layers
            if not isinstance(layer, keras.layers.InputLayer)
            and layer.name not in _HEAD_LAYERS + _PREPROCESSING_LAYERS]


def resolve_fine_tune_at(model: keras.Model, fine_tune_at=None) -> int:
    """Index into ``backbone_layers(model)`` where fine-tuning starts (layer name, index or default)."""
    inner = backbone_layers(model)
    names = [layer.name for layer in inner]
    if fine_tune_at is None:
        default = backbone_record(backbone_name(model)).fine_tune_at
        if isinstance(default, tuple):
            return names.index(default[1]) + 1
        return names.index(default)
    if isinstance(fine_tune_at, str):
        if fine_tune_at not in names:
            raise ValueError(f"fine_tune_at={fine_tune_at!r} is not a backbone layer; expected one of "
                             f"{names[0]!r} ... {names[-1]!r} ({len(names)} layers)")
        return names.index(fine_tune_at)
    if isinstance(fine_tune_at, int) and not isinstance(fine_tune_at, bool):
        if not -len(inner) <= fine_tune_at < len(inner):
            raise ValueError(f"fine_tune_at={fine_tune_at} is out of range for {len(inner)} backbone layers")
        return fine_tune_at % len(inner)
    raise TypeError(f"fine_tune_at must be a layer name, an index or None; got {fine_tune_at!r}")


def set_trainable(model: keras.Model, mode: str, fine_tune_at=None) -> keras.Model:
    """Freeze a ``build_transfer`` model for ``mode`` in place (recompile afterwards) and return it.

    The head is always trainable.

    Parameters
    ----------
    model : keras.Model
        A model built by :func:`~xai_tf.models.build_transfer`.
    mode : {"feature_extraction", "fine_tune"}
        ``"feature_extraction"``: every backbone layer frozen. ``"fine_tune"``: backbone layers from
        ``fine_tune_at`` on trainable, except BatchNormalization, which stays frozen so it keeps
        running in inference mode with its ImageNet statistics (a trainable BN on small batches
        wrecks them).
    fine_tune_at : str, int or None, optional
        Where fine-tuning starts: a backbone layer name, or an index into the backbone's layers
        (negative counts from the end); None (default) is the first layer of the backbone's last
        block (the backbone record's ``fine_tune_at``). Ignored for ``"feature_extraction"``.

    Returns
    -------
    keras.Model
        ``model`` itself, its layers' ``trainable`` flags set.

    Raises
    ------
    ValueError
        If ``mode`` is not one of the choices, ``model`` was not built by ``build_transfer``, or
        ``fine_tune_at`` names no backbone layer or is out of range.
    TypeError
        If ``fine_tune_at`` is neither a name, an index nor None.
    """
    check_choice(mode, "mode", MODES)
    inner = backbone_layers(model)
    start = len(inner) if mode == "feature_extraction" else resolve_fine_tune_at(model, fine_tune_at)
    for index, layer in enumerate(inner):
        unfrozen = index >= start and not isinstance(layer, keras.layers.BatchNormalization)
        layer.trainable = unfrozen
    for name in _HEAD_LAYERS:
        try:
            model.get_layer(name).trainable = True
        except ValueError:
            pass
    return model
