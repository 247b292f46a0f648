"""The backbone records: every ImageNet backbone ``build_transfer`` knows, in ONE table.

Every backbone is one :class:`BackboneRecord` (name, constructor, minimum input size, last
convolution, default start of fine-tuning, ImageNet weight file, preprocessing, a one-line
description). ``build_transfer``, the preprocessing layer, ``xai-tf train --model`` (its help and
its checks), study configs, the guide's backbone table and the tests read :data:`RECORDS`; a new
backbone is one record in the table at the bottom of this file (``register`` does the same at run
time, e.g. in a test or a plug-in).
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import keras

from xai_tf._docstrings import fill_doc
from xai_tf._registry import REGISTER_RETURNS, UNREGISTER_DOC, Registry

#: Preprocessing modes a record may name (``xai_tf.models.layers.BackbonePreprocessing`` applies them to
#: pixels in [0, 1]), with what each does: the modes of ``keras.applications``' ``preprocess_input``.
PREPROCESSING_MODES = {
    "caffe": "RGB to BGR, then the ImageNet mean subtracted per channel on the 0..255 scale",
    "tf": "scaled to [-1, 1]",
    "torch": "standardised per channel with the ImageNet mean and standard deviation",
    "raw255": "scaled to 0..255 (the network normalises inside)",
}

_NAME = re.compile(r"[a-z0-9][a-z0-9_]*")
#: Names ``xai-tf train --model`` gives to other models (``xai_tf.runs.build_model``).
_RESERVED = ("custom", "vit")


@dataclass(frozen=True)
class BackboneRecord:
    """One backbone as ``build_transfer`` knows it.

    Parameters
    ----------
    name : str
        Registry name (``build_transfer(name, ...)``, ``xai-tf train --model name``): lowercase
        letters, digits and underscores.
    constructor : callable
        Builds the backbone without its top the way ``keras.applications`` constructors do:
        ``constructor(include_top=False, weights=weights, input_tensor=tensor, input_shape=(H, W, 3))``
        returns a ``keras.Model`` built on ``tensor`` (so its layers join the caller's graph) whose
        output is the last feature map.
    min_input_size : int
        Smallest height and width the backbone accepts (>= 1).
    last_conv : str
        Name of the layer the papers take Grad-CAM at: the backbone's last convolution (or, for the
        Inceptions, the output of its last block); ``layer=`` of the CAM methods names it.
    fine_tune_at : str or tuple
        Default start of fine-tuning, the first layer of the last block: a layer name, or
        ``("after", name)`` for "the layer right after ``name``" where that layer has no fixed name.
    weight_file : str or None
        File name of the ImageNet no-top weights Keras downloads (named by the offline error), or
        None when the backbone has no ImageNet weights (``weights="imagenet"`` is then refused).
    preprocessing : str or callable
        A key of ``PREPROCESSING_MODES`` (the backbone's ``preprocess_input``), or a function of the
        ``(N, H, W, 3)`` pixels in [0, 1] written with ``keras.ops``.
    description : str
        One line: the architecture and where it comes from.
    """

    name: str
    constructor: Callable
    min_input_size: int
    last_conv: str
    fine_tune_at: str | tuple
    weight_file: str | None
    preprocessing: str | Callable
    description: str

    def __post_init__(self):
        if not isinstance(self.name, str) or not _NAME.fullmatch(self.name) \
                or self.name.split("_")[0] in _RESERVED:
            raise ValueError(f"BackboneRecord name must be lowercase letters, digits and underscores, not "
                             f"starting with {' or '.join(_RESERVED)}; got {self.name!r}")
        where = f"BackboneRecord {self.name!r}"
        if not callable(self.constructor):
            raise TypeError(f"{where}: constructor must be callable; got {self.constructor!r}")
        size = self.min_input_size
        if not isinstance(size, int) or isinstance(size, bool) or size < 1:
            raise ValueError(f"{where}: min_input_size must be an int >= 1; got {size!r}")
        if not isinstance(self.last_conv, str) or not self.last_conv:
            raise ValueError(f"{where}: last_conv must be a layer name; got {self.last_conv!r}")
        start = self.fine_tune_at
        if not (isinstance(start, str) and start) and not (
                isinstance(start, tuple) and len(start) == 2 and start[0] == "after" and isinstance(start[1], str)):
            raise ValueError(f"{where}: fine_tune_at must be a layer name or ('after', name); got {start!r}")
        if self.weight_file is not None and (not isinstance(self.weight_file, str) or not self.weight_file):
            raise ValueError(f"{where}: weight_file must be a file name or None; got {self.weight_file!r}")
        if not callable(self.preprocessing) and self.preprocessing not in PREPROCESSING_MODES:
            raise ValueError(f"{where}: preprocessing must be callable or one of: "
                             f"{', '.join(PREPROCESSING_MODES)}; got {self.preprocessing!r}")
        if not isinstance(self.description, str) or not self.description.strip() or "\n" in self.description:
            raise ValueError(f"{where}: description must be one non-empty line")


#: name -> record of every registered backbone, in registration order (the order of every listing).
RECORDS: Registry[BackboneRecord] = Registry("backbone", BackboneRecord)


@fill_doc(returns=REGISTER_RETURNS.format(kind="backbone", record="~xai_tf.models.BackboneRecord"))
def register(record: BackboneRecord) -> BackboneRecord:
    """Add a backbone's record to ``RECORDS``, so that ``build_transfer`` and every listing know it.

    The backbone is then available to ``xai_tf.models.build_transfer``, ``xai-tf train --model``,
    study configs (``model: name``) and the guide's backbone table under ``record.name``.

    Parameters
    ----------
    record : BackboneRecord
        The backbone's record; its name must not be registered yet (``unregister`` first to
        replace one).

    {returns}
    """
    return RECORDS.add(record)


@fill_doc(unregister=UNREGISTER_DOC.format(kind="backbone", record="BackboneRecord"))
def unregister(name: str) -> BackboneRecord | None:
    """{unregister}"""
    return RECORDS.remove(name)


def list_backbones() -> tuple[str, ...]:
    """Names of the registered backbones, in registration order (the built-in ones first).

    Returns
    -------
    tuple of str
        ``("vgg16", "vgg19", ..., "efficientnetb0")`` plus any backbone registered since.
    """
    return tuple(RECORDS)


def backbone_record(name: str) -> BackboneRecord:
    """The :class:`~xai_tf.models.BackboneRecord` of ``name``; ValueError listing the registered names otherwise.

    Parameters
    ----------
    name : str
        A registered backbone name.

    Returns
    -------
    BackboneRecord
        Its record.

    Raises
    ------
    ValueError
        If ``name`` is not a registered backbone; the message lists the registered ones.
    """
    return RECORDS.record(name, "backbone")


class _Names(Sequence):
    """Read-only live view of the registered names (the former ``BACKBONES`` tuple)."""

    def __getitem__(self, index):
        return tuple(RECORDS)[index]

    def __len__(self) -> int:
        return len(RECORDS)

    def __iter__(self) -> Iterator[str]:
        return iter(tuple(RECORDS))

    def __contains__(self, name) -> bool:
        return name in RECORDS

    def __eq__(self, other) -> bool:
        return isinstance(other, Sequence) and not isinstance(other, str) and tuple(self) == tuple(other)

    def __repr__(self) -> str:
        return repr(tuple(RECORDS))


#: The registered names, live (``name in BACKBONES``, ``tuple(BACKBONES)``); kept for compatibility.
BACKBONES: Sequence[str] = _Names()


# ------------------------------------------------------------------------------ the built-in backbones
_apps = keras.applications
for _record in (
    BackboneRecord("vgg16", _apps.VGG16, 32, "block5_conv3", "block5_conv1",
                   "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5", "caffe",
                   "VGG16, 13 convolutions in five blocks (Simonyan and Zisserman 2015)"),
    BackboneRecord("vgg19", _apps.VGG19, 32, "block5_conv4", "block5_conv1",
                   "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5", "caffe",
                   "VGG19, 16 convolutions in five blocks (Simonyan and Zisserman 2015)"),
    BackboneRecord("resnet50", _apps.ResNet50, 32, "conv5_block3_3_conv", "conv5_block1_1_conv",
                   "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5", "caffe",
                   "ResNet-50, residual bottleneck blocks (He et al. 2016)"),
    BackboneRecord("resnet50v2", _apps.ResNet50V2, 32, "conv5_block3_3_conv", "conv5_block1_preact_bn",
                   "resnet50v2_weights_tf_dim_ordering_tf_kernels_notop.h5", "tf",
                   "ResNet-50 v2, pre-activation residual blocks (He et al. 2016)"),
    BackboneRecord("densenet121", _apps.DenseNet121, 32, "conv5_block16_2_conv", "conv5_block1_0_bn",
                   "densenet121_weights_tf_dim_ordering_tf_kernels_notop.h5", "torch",
                   "DenseNet-121, densely connected blocks (Huang et al. 2017)"),
    BackboneRecord("xception", _apps.Xception, 71, "block14_sepconv2", "block14_sepconv1",
                   "xception_weights_tf_dim_ordering_tf_kernels_notop.h5", "tf",
                   "Xception, depthwise separable convolutions (Chollet 2017)"),
    BackboneRecord("inceptionv3", _apps.InceptionV3, 75, "mixed10", ("after", "mixed9"),
                   "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5", "tf",
                   "Inception v3, factorised inception modules (Szegedy et al. 2016)"),
    BackboneRecord("inceptionresnetv2", _apps.InceptionResNetV2, 75, "conv_7b", ("after", "block8_9_ac"),
                   "inception_resnet_v2_weights_tf_dim_ordering_tf_kernels_notop.h5", "tf",
                   "Inception-ResNet v2, inception modules with residual connections (Szegedy et al. 2017)"),
    BackboneRecord("efficientnetb0", _apps.EfficientNetB0, 32, "top_conv", "block7a_expand_conv",
                   "efficientnetb0_notop.h5", "raw255",
                   "EfficientNet-B0, compound-scaled MBConv blocks (Tan and Le 2019)"),
):
    register(_record)
del _record, _apps
