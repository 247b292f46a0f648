"""Vision Transformers (Dosovitskiy et al. 2021) as one flat Keras 3 graph, and transfer from ``keras_hub``.

:func:`build_vit` is the paper's encoder, layer for layer: non-overlapping ``patch x patch`` patches
embedded linearly (a strided convolution, as the reference code), a learned class token prepended,
learned position embeddings added, ``depth`` pre-norm blocks (LayerNorm -> multi-head self-attention
-> residual add, LayerNorm -> MLP with GELU -> residual add), a final LayerNorm and the classifier
on the class token. Attention is ``keras.layers.MultiHeadAttention``, so every attention method of
``xai_tf.explainers.attention`` reads it (``xai_tf.models.tokens``). Preprocessing is inside the
graph as for the CNN builders: raw pixels in [0, 1] are scaled to [-1, 1] (the reference ViT
checkpoints' normalisation) and grayscale is repeated to RGB, so the model takes the same images
as every other model of the toolkit.

Configurations (``VIT_VARIANTS``): ``tiny`` and ``small`` are DeiT's ViT-Ti/16 and ViT-S/16
(Touvron et al. 2021), ``base`` is ViT-B/16 (Dosovitskiy et al. 2021). The patch is the papers' 16
pixels on images of 224 px and more; on smaller images it is a side / 16, a 16 x 16 patch grid (the
synthetic galaxies are 64 px: 4-pixel patches). Measured on them (400 images, a 2-block ViT of
width 32): with 8-pixel patches (an 8 x 8 grid) training stayed at chance for 15 epochs at
learning rates 1e-4 to 1e-3, with 4-pixel patches it reached 0.85 held-out accuracy, and 4 x 4
grids make maps of 16 blobs. Every size can be overridden.

Layer names: ``to_rgb`` (C = 1 only), ``rescale``, ``patch_embedding`` (the convolution),
``patch_tokens``, ``class_token``, ``position_embedding``, then per block ``k`` = 1..depth
``block{k}_norm1``, ``block{k}_attention``, ``block{k}_add1``, ``block{k}_norm2``,
``block{k}_mlp1``, ``block{k}_mlp2``, ``block{k}_add2``; ``encoder_norm``, ``class_token_output``,
``predictions``. The default CAM layer of these models is ``block{depth}_norm1``
(``xai_tf.models.graph.default_token_layer`` says why).
"""
from __future__ import annotations

import keras
from keras import ops

from xai_tf._checks import check_choice, check_positive
from xai_tf._docstrings import fill_doc
from xai_tf.models._validation import (
    BUILDER_DOCS,
    check_input_shape,
    check_num_classes,
    output_layer,
    seed_weights,
)
from xai_tf.models.layers import GrayscaleToRGB

#: variant -> (embedding width, blocks, heads, MLP width): DeiT-Ti/S and ViT-B.
VIT_VARIANTS = {
    "tiny": (192, 12, 3, 768),
    "small": (384, 12, 6, 1536),
    "base": (768, 12, 12, 3072),
}


@keras.saving.register_keras_serializable(package="xai_tf")
class ClassToken(keras.layers.Layer):
    """Prepend one learned token: ``(N, T, D) -> (N, T + 1, D)`` (the ViT's class token)."""

    def build(self, input_shape):
        self.token = self.add_weight(shape=(1, 1, input_shape[-1]), initializer="zeros", name="token")

    def call(self, inputs):
        token = ops.broadcast_to(ops.cast(self.token, inputs.dtype), (ops.shape(inputs)[0], 1, inputs.shape[-1]))
        return ops.concatenate([token, inputs], axis=1)

    def compute_output_shape(self, input_shape):
        tokens = None if input_shape[1] is None else input_shape[1] + 1
        return (input_shape[0], tokens, input_shape[2])


@keras.saving.register_keras_serializable(package="xai_tf")
class PositionEmbedding(keras.layers.Layer):
    """Add a learned embedding per token position: ``(N, T, D) -> (N, T, D)``."""

    def build(self, input_shape):
        self.embedding = self.add_weight(shape=(1, input_shape[1], input_shape[2]),
                                         initializer=keras.initializers.TruncatedNormal(stddev=0.02),
                                         name="embedding")

    def call(self, inputs):
        return inputs + ops.cast(self.embedding, inputs.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape


@keras.saving.register_keras_serializable(package="xai_tf")
class TokenOutput(keras.layers.Layer):
    """The token at ``index`` of a sequence: ``(N, T, D) -> (N, D)`` (default 0, the class token)."""

    def __init__(self, index: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.index = int(index)

    def call(self, inputs):
        return inputs[:, self.index]

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[2])

    def get_config(self):
        return {**super().get_config(), "index": self.index}


def default_patch_size(image_size) -> int:
    """The papers' 16 pixels on images of 224 px and more, else ``min(H, W) // 16`` (at least 1)."""
    side = min(int(v) for v in image_size)
    return 16 if side >= 224 else max(1, side // 16)


@fill_doc(**BUILDER_DOCS)
def build_vit(input_shape, num_classes: int, variant: str = "tiny", *, patch_size: int | None = None,
              dim: int | None = None, depth: int | None = None, heads: int | None = None,
              mlp_dim: int | None = None, dropout: float = 0.0, binary_head: bool = False,
              name: str | None = None, seed: int | None = 0) -> keras.Model:
    """Build a Vision Transformer classifier (uncompiled functional model, one flat graph).

    Parameters
    ----------
    input_shape : tuple of int
        ``(H, W, C)``, C = 1 or 3; H and W multiples of the patch size.
    num_classes : int
        >= 2. With ``binary_head=True`` (needs num_classes=2) the output is one sigmoid unit;
        otherwise Dense(num_classes, softmax), on the class token.
    variant : {"tiny", "small", "base"}
        The configuration of ``VIT_VARIANTS`` (default "tiny": width 192, 12 blocks, 3 heads, MLP
        768, DeiT-Ti).
    patch_size : int, optional
        Patch side in pixels; None (default): 16, or ``min(H, W) // 16`` below 224 px
        (``default_patch_size``).
    dim, depth, heads, mlp_dim : int, optional
        Override the variant's embedding width, number of blocks, attention heads (``dim`` must be
        a multiple of ``heads``) and MLP width (small models for tests and small data sets).
    dropout : float, optional
        Dropout after the attention and MLP of each block, in [0, 1) (default 0.0: none; the
        paper uses 0.1 for ImageNet-21k pre-training, DeiT 0.0).
    {binary_head}
    name : str, optional
        Model name (default ``vit_<variant>``).
    {seed}

    Returns
    -------
    keras.Model
        Input ``(N, H, W, C)`` raw pixels in [0, 1]; output ``(N, num_classes)`` or ``(N, 1)``;
        layers named as in the module docstring.

    Raises
    ------
    ValueError
        If ``variant`` is unknown, ``input_shape`` is not ``(H, W, 1|3)`` with H and W multiples of
        the patch, ``dim`` is not a multiple of ``heads``, a size is < 1 or ``dropout`` is outside
        [0, 1).
    TypeError
        If a size is not an integer.

    References
    ----------
    A. Dosovitskiy et al., "An Image is Worth 16x16 Words: Transformers for Image Recognition at
    Scale", ICLR, 2021. H. Touvron et al., "Training data-efficient image transformers &
    distillation through attention", ICML, 2021.
    """
    check_choice(variant, "variant", VIT_VARIANTS)
    shape = check_input_shape(input_shape)
    check_num_classes(num_classes, binary_head)
    defaults = dict(zip(("dim", "depth", "heads", "mlp_dim"), VIT_VARIANTS[variant]))
    given = {"dim": dim, "depth": depth, "heads": heads, "mlp_dim": mlp_dim, "patch_size": patch_size}
    sizes = {key: check_positive(value, key, integer=True) for key, value in given.items() if value is not None}
    dim, depth, heads, mlp_dim = (sizes.get(key, defaults[key]) for key in ("dim", "depth", "heads", "mlp_dim"))
    patch = sizes.get("patch_size", default_patch_size(shape[:2]))
    if dim % heads:
        raise ValueError(f"dim={dim} must be a multiple of heads={heads}")
    if shape[0] % patch or shape[1] % patch:
        raise ValueError(f"input_shape={shape}: height and width must be multiples of patch_size={patch}")
    if not 0.0 <= float(dropout) < 1.0:
        raise ValueError(f"dropout must be in [0, 1); got {dropout!r}")
    seed_weights(seed)
    layers = keras.layers
    inputs = keras.Input(shape, name="image")
    x = GrayscaleToRGB(name="to_rgb")(inputs) if shape[2] == 1 else inputs
    x = layers.Rescaling(2.0, offset=-1.0, name="rescale")(x)
    x = layers.Conv2D(dim, patch, strides=patch, name="patch_embedding")(x)
    x = layers.Reshape(((shape[0] // patch) * (shape[1] // patch), dim), name="patch_tokens")(x)
    x = ClassToken(name="class_token")(x)
    x = PositionEmbedding(name="position_embedding")(x)
    for block in range(1, depth + 1):
        h = layers.LayerNormalization(epsilon=1e-6, name=f"block{block}_norm1")(x)
        h = layers.MultiHeadAttention(heads, dim // heads, name=f"block{block}_attention")(h, h)
        if dropout:
            h = layers.Dropout(dropout, name=f"block{block}_dropout1")(h)
        x = layers.Add(name=f"block{block}_add1")([x, h])
        h = layers.LayerNormalization(epsilon=1e-6, name=f"block{block}_norm2")(x)
        h = layers.Dense(mlp_dim, activation="gelu", name=f"block{block}_mlp1")(h)
        h = layers.Dense(dim, name=f"block{block}_mlp2")(h)
        if dropout:
            h = layers.Dropout(dropout, name=f"block{block}_dropout2")(h)
        x = layers.Add(name=f"block{block}_add2")([x, h])
    x = layers.LayerNormalization(epsilon=1e-6, name="encoder_norm")(x)
    x = TokenOutput(0, name="class_token_output")(x)
    outputs = output_layer(num_classes, binary_head, layers)(x)
    return keras.Model(inputs, outputs, name=name or f"vit_{variant}")


@fill_doc(**BUILDER_DOCS)
def vit_from_backbone(backbone, num_classes: int, *, channels: int = 3, rescale=(2.0, -1.0),
                      binary_head: bool = False, name: str = "vit_classifier"):
    """A classifier on a ``keras_hub`` ViT backbone's class token (transfer learning).

    The backbone is nested whole (its weights shared, not copied); raw pixels in [0, 1] are
    rescaled (default to [-1, 1], the original ViT checkpoints' normalisation) and grayscale is
    repeated to RGB in front of it. Fine-tune as any model (``xai_tf.models.fit``); every method reads its
    attention through ``xai_tf.models.tokens``.

    Parameters
    ----------
    backbone : keras.Model or str
        A ``keras_hub.models.ViTBackbone`` (e.g. built with random weights), or a ``keras_hub``
        preset name loaded with ``ViTBackbone.from_preset`` (the user's own download; needs the
        optional ``keras_hub`` package).
    num_classes : int
        >= 2 (``binary_head=True``: 2, as one sigmoid unit).
    channels : {3, 1}, optional
        Channels of the images the classifier takes (default 3; 1 = grayscale, repeated to RGB).
    rescale : tuple of float, optional
        ``(scale, offset)`` applied to the [0, 1] pixels (default ``(2.0, -1.0)``: [-1, 1]). Match
        your preset's image converter (``keras_hub.layers.ViTImageConverter.from_preset(name)``;
        its scale and offset act on 0..255 pixels, so multiply its scale by 255).
    {binary_head}
    name : str, optional
        Model name (default "vit_classifier").

    Returns
    -------
    keras.Model
        Input ``(N, H, W, C)`` in [0, 1] with the backbone's image size, C = 1 or 3; output
        ``(N, num_classes)`` or ``(N, 1)``.

    Raises
    ------
    ImportError
        If ``backbone`` is a preset name and ``keras_hub`` is not installed.
    TypeError
        If ``backbone`` is neither a ``keras.Model`` nor a string.
    ValueError
        If the backbone's output is not a token sequence ``(N, T, D)``, or ``channels`` is not 1 or 3.
    """
    if isinstance(backbone, str):
        try:
            import keras_hub
        except ImportError as error:
            raise ImportError("vit_from_backbone(preset) needs the optional keras_hub package "
                              "(pip install keras-hub)") from error
        backbone = keras_hub.models.ViTBackbone.from_preset(backbone)
    if not isinstance(backbone, keras.Model):
        raise TypeError(f"backbone must be a keras.Model or a keras_hub preset name; got {type(backbone).__name__}")
    check_num_classes(num_classes, binary_head)
    if len(backbone.outputs[0].shape) != 3:
        raise ValueError(f"backbone {backbone.name!r} must output a token sequence (N, tokens, dim); "
                         f"its output has shape {tuple(backbone.outputs[0].shape)}")
    height, width = backbone.inputs[0].shape[1:3]
    shape = check_input_shape((height, width, channels))
    inputs = keras.Input(shape, name="image")
    x = GrayscaleToRGB(name="to_rgb")(inputs) if channels == 1 else inputs
    scale, offset = (float(v) for v in rescale)
    x = keras.layers.Rescaling(scale, offset=offset, name="rescale")(x)
    x = backbone(x)
    x = TokenOutput(0, name="class_token_output")(x)
    outputs = output_layer(num_classes, binary_head, keras.layers)(x)
    return keras.Model(inputs, outputs, name=name)
