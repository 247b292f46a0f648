"""Token models (Vision Transformers and hybrids): their attention layers, attention capture and patch grids.

A *token model* is any model with a ``keras.layers.MultiHeadAttention`` layer, in its functional
graph or inside a layer of its own (a ``keras_hub`` encoder block, a user's custom block). Nothing
here changes the user's model:

- :func:`capture_attention` records the attention probabilities ``(B, heads, T, T)`` of every
  attention layer *while the model runs* (inside ``tf.function`` and ``GradientTape``): each layer's
  ``_compute_attention`` (Keras' documented extension point of ``MultiHeadAttention``) is shadowed
  on the instance for the duration of the call, asked for its scores, and restored afterwards. The
  recorded probabilities are the very tensors the layer multiplies into its values, so gradients of
  the target score with respect to them are exact. Layers are recorded in the order they run.
- :func:`token_grid` and :func:`to_grid` turn a token sequence ``(N, T, D)`` into the patch grid
  ``(N, h, w, D)``: the extra tokens (class, distillation, register tokens) are taken to sit
  *before* the patch tokens, as in Dosovitskiy et al. (2021), DeiT and ``keras_hub``; their number
  is inferred as the one of :data:`EXTRA_TOKEN_COUNTS` that leaves a grid of the image's aspect
  ratio, and an ambiguous or impossible count is a named error.

Finding the attention layers and the default CAM layer of a token model (the tokens entering its
last attention layer) is graph work: :func:`xai_tf.models.graph.attention_layers`,
:func:`xai_tf.models.graph.default_token_layer`.
"""
from __future__ import annotations

import contextlib
import math

from xai_tf.models.graph import attention_layers

#: Numbers of extra tokens (before the patch tokens) recognised without being told: none (a pooled
#: head), a class token, class + distillation token (DeiT), 4 registers (+ class token) (Darcet et
#: al. 2024).
EXTRA_TOKEN_COUNTS = (0, 1, 2, 4, 5)


def check_attention(model, who: str = "attention methods") -> list:
    """The attention layers of ``model`` (:func:`attention_layers`); ValueError naming ``who`` when it
    has none, or when a layer runs Keras' flash attention (which computes no probabilities)."""
    layers = attention_layers(model)
    if not layers:
        raise ValueError(f"{who}: model {model.name!r} has no keras.layers.MultiHeadAttention layer; attention "
                         "methods explain transformers (Vision Transformers, hybrids)")
    for layer in layers:
        if getattr(layer, "_flash_attention", False):
            raise ValueError(f"{who}: attention layer {layer.name!r} uses flash attention, which computes no "
                             "attention probabilities; call keras.config.disable_flash_attention() before building "
                             "the model")
    return layers


@contextlib.contextmanager
def capture_attention(model, record: list):
    """While inside, every attention layer of ``model`` appends ``(layer, probabilities)`` to ``record``.

    ``probabilities`` is ``(B, heads, T_query, T_key)``, the softmax the layer multiplies into its
    values (before attention dropout, which is inactive at inference). The layers' own outputs are
    unchanged; the instances are restored on exit, also after an error.

    Raises
    ------
    ValueError
        If ``model`` has no attention layer, or one runs Keras' flash attention (which computes no
        probabilities: ``keras.config.disable_flash_attention()``).
    """
    layers = check_attention(model)

    def shadow(layer):
        original = layer._compute_attention

        def compute_attention(query, key, value, attention_mask=None, training=None,
                              return_attention_scores=False, **kwargs):
            kwargs.pop("use_causal_mask", None)  # scores requested: Keras builds the causal mask itself
            output, scores = original(query, key, value, attention_mask, training, True)
            record.append((layer, scores))
            return output, scores if return_attention_scores else None
        return compute_attention

    for layer in layers:
        object.__setattr__(layer, "_compute_attention", shadow(layer))
    try:
        yield record
    finally:
        for layer in layers:
            if "_compute_attention" in layer.__dict__:
                object.__delattr__(layer, "_compute_attention")


def token_grid(n_tokens: int, image_size, extra_tokens: int | None = None) -> tuple[int, int, int]:
    """``(extra, h, w)``: how ``n_tokens`` tokens split into extra tokens and an ``h x w`` patch grid.

    Parameters
    ----------
    n_tokens : int
        Tokens of the sequence ``T``.
    image_size : tuple of int
        ``(H, W)`` of the image: the grid has its aspect ratio (``h / w == H / W``).
    extra_tokens : int, optional
        Tokens before the patches; None (default) infers it among :data:`EXTRA_TOKEN_COUNTS`.

    Returns
    -------
    tuple of int
        ``(extra, h, w)`` with ``extra + h * w == n_tokens``.

    Raises
    ------
    ValueError
        If no count (or ``extra_tokens``) leaves a grid of the image's aspect ratio, or several
        inferred counts do.
    """
    height, width = (int(v) for v in image_size)

    def grid(patches):
        if patches <= 0:
            return None
        rows = math.isqrt(patches * height // width) if patches * height % width == 0 else 0
        for h in (rows, rows + 1):
            if h > 0 and patches % h == 0 and h * width == (patches // h) * height:
                return h, patches // h
        return None

    counts = EXTRA_TOKEN_COUNTS if extra_tokens is None else (int(extra_tokens),)
    fits = [(extra, *grid(n_tokens - extra)) for extra in counts if grid(n_tokens - extra)]
    if len(fits) == 1:
        return fits[0]
    shape = f"{height}x{width}"
    if not fits:
        told = f"{extra_tokens} extra token(s)" if extra_tokens is not None else \
            f"{', '.join(map(str, EXTRA_TOKEN_COUNTS))} extra tokens"
        raise ValueError(f"a sequence of {n_tokens} tokens is not {told} plus a patch grid of the {shape} image's "
                         "aspect ratio; name a layer whose output is the patch tokens (+ class/register tokens first)")
    raise ValueError(f"a sequence of {n_tokens} tokens splits into extra tokens + patch grid in several ways "
                     f"({', '.join(f'{e} + {h}x{w}' for e, h, w in fits)}) for the {shape} image")


def to_grid(tokens, image_size):
    """Patch tokens ``(N, T, D)`` as a grid ``(N, h, w, D)`` (extra tokens dropped, :func:`token_grid`).

    A NumPy array in, a NumPy array out; 4-D arrays (convolution feature maps) pass through.
    """
    if tokens.ndim != 3:
        return tokens
    extra, height, width = token_grid(tokens.shape[1], image_size)
    return tokens[:, extra:].reshape(tokens.shape[0], height, width, tokens.shape[2])


