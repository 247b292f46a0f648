"""The two custom CNNs of paper 002 (GAMA elliptical-vs-other galaxies), layer for layer.

v1: [Conv(32) - MaxPool] [Conv(64) - MaxPool] [Conv(128) - MaxPool] Flatten Dense(512) Dropout(0.5) out
v2: [Conv - BatchNorm - MaxPool - Dropout(0.25)] x 3 with 32/64/128 filters, Flatten,
    Dense(512) - BatchNorm - Dropout(0.5), out.
``head="gap"`` (not in the paper) replaces Flatten by global average pooling, as
``build_transfer``'s option of the same name: the class score is then a sum over locations of the
last convolution, so Grad-CAM's channel weights are the head's own and its map is rarely all zero
(``tools/choose_demo_model.py`` measures it).
All convolutions are 3x3 ReLU with Keras' default 'valid' padding; pools are 2x2. The slides' layer
count for v2 says 3 BatchNormalization layers but its listing shows 4 (one after Dense(512)): the
listing is followed. Input is raw pixels in [0, 1] (the paper divides by 255 beforehand).
"""
from __future__ import annotations

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
from xai_tf.models.transfer import HEADS

VARIANTS = ("v1", "v2")
_FILTERS = (32, 64, 128)


@fill_doc(**BUILDER_DOCS)
def build_custom_cnn(input_shape, num_classes: int, variant: str = "v2", binary_head: bool = False,
                     batchnorm_momentum: float = 0.9, name: str | None = None, seed: int | None = 0,
                     head: str = "flatten") -> keras.Model:
    """Build paper 002's custom CNN (uncompiled functional model).

    Parameters
    ----------
    input_shape : tuple of int
        ``(H, W, C)``, C = 1 or 3; H, W >= 22 (three valid 3x3 convs and 2x2 pools).
    num_classes : int
        >= 2. With ``binary_head=True`` (needs num_classes=2) the output is the papers'
        Dense(1, sigmoid); otherwise Dense(num_classes, softmax).
    variant : {"v1", "v2"}
        "v1" (no BatchNorm, no conv dropout) or "v2" (default; BatchNorm + dropout, paper 002's
        second model).
    {binary_head}
    batchnorm_momentum : float
        Momentum of v2's moving statistics, default 0.9. The paper does not set it (Keras' default
        is 0.99); with 0.99 the inference-time statistics need hundreds of steps to settle, so a
        model trained a few epochs on a few hundred images predicts one class at test time. 0.9
        settles in a few dozen steps and changes nothing else.
    name : str, optional
        Model name (default ``custom_cnn_v1`` / ``custom_cnn_v2``).
    {seed}
    head : {"flatten", "gap"}, optional
        "flatten" (default, paper 002) or "gap": global average pooling of the last block
        (layer ``gap`` instead of ``flatten``), then the same Dense(512) head.

    Returns
    -------
    keras.Model
        Layers ``block{k}_conv``, ``block{k}_bn``, ``block{k}_pool``, ``block{k}_dropout``,
        ``flatten``, ``fc``, ``fc_bn``, ``fc_dropout``, ``predictions``; output ``(N, num_classes)``
        or ``(N, 1)``.
    """
    check_choice(variant, "variant", VARIANTS)
    check_choice(head, "head", HEADS)
    shape = check_input_shape(input_shape, min_size=22)
    check_num_classes(num_classes, binary_head)
    seed_weights(seed)
    layers = keras.layers
    inputs = keras.Input(shape, name="image")
    x = inputs
    for block, filters in enumerate(_FILTERS, start=1):
        x = layers.Conv2D(filters, 3, activation="relu", name=f"block{block}_conv")(x)
        if variant == "v2":
            x = layers.BatchNormalization(momentum=batchnorm_momentum, name=f"block{block}_bn")(x)
        x = layers.MaxPooling2D(2, name=f"block{block}_pool")(x)
        if variant == "v2":
            x = layers.Dropout(0.25, name=f"block{block}_dropout")(x)
    x = layers.Flatten(name="flatten")(x) if head == "flatten" else layers.GlobalAveragePooling2D(name="gap")(x)
    x = layers.Dense(512, activation="relu", name="fc")(x)
    if variant == "v2":
        x = layers.BatchNormalization(momentum=batchnorm_momentum, name="fc_bn")(x)
    x = layers.Dropout(0.5, name="fc_dropout")(x)
    outputs = output_layer(num_classes, binary_head, layers)(x)
    return keras.Model(inputs, outputs, name=name or f"custom_cnn_{variant}")
