"""Model builders (custom CNNs, transfer learning, Vision Transformers), graph utilities, loading (``.keras``, Keras 2
``.h5``, SavedModel folders, live tf_keras models), training and reports.

Importing this package registers xai-tf's preprocessing layers with Keras, so ``.keras`` files
saved from ``build_transfer`` models load with ``keras.models.load_model``.
"""
from xai_tf.models import layers as _layers  # noqa: F401  (registers the custom layers)
from xai_tf.models import vit as _vit  # noqa: F401  (registers the ViT's layers)
from xai_tf.models.backbones import (
    BACKBONES,
    BackboneRecord,
    backbone_record,
    list_backbones,
)
from xai_tf.models.backbones import register as register_backbone
from xai_tf.models.backbones import unregister as unregister_backbone
from xai_tf.models.classification_report import (
    classification_report,
    format_report,
    report_from_predictions,
)
from xai_tf.models.custom_cnn import VARIANTS, build_custom_cnn
from xai_tf.models.graph import attention_layers, conv_layer_candidates, find_last_conv_layer, flatten
from xai_tf.models.loading import (
    as_keras_model,
    from_tf_keras,
    is_tf_keras_model,
    load_model,
)
from xai_tf.models.signature import wrap_saved_model
from xai_tf.models.training import (
    TrainingResult,
    balanced_class_weights,
    fine_tune,
    fit,
    step_decay,
)
from xai_tf.models.transfer import (
    MIN_INPUT_SIZE,
    build_transfer,
    set_trainable,
)
from xai_tf.models.vit import VIT_VARIANTS, build_vit, vit_from_backbone

__all__ = [
    "BACKBONES",
    "MIN_INPUT_SIZE",
    "VARIANTS",
    "VIT_VARIANTS",
    "BackboneRecord",
    "TrainingResult",
    "as_keras_model",
    "attention_layers",
    "backbone_record",
    "balanced_class_weights",
    "build_custom_cnn",
    "build_transfer",
    "build_vit",
    "classification_report",
    "conv_layer_candidates",
    "find_last_conv_layer",
    "fine_tune",
    "fit",
    "flatten",
    "format_report",
    "from_tf_keras",
    "is_tf_keras_model",
    "list_backbones",
    "load_model",
    "register_backbone",
    "report_from_predictions",
    "set_trainable",
    "step_decay",
    "unregister_backbone",
    "vit_from_backbone",
    "wrap_saved_model",
]
