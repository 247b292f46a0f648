"""Transformer methods read from attention: attention rollout and gradient-weighted attention (Chefer et al.).

Written from the papers (no reference package exists for Keras; the PyTorch code of the authors
was read, not used). Both read the attention probabilities ``A`` ``(N, heads, T, T)`` of every
``keras.layers.MultiHeadAttention`` self-attention layer of the model, in the order the layers run
(``xai_tf.models.tokens.capture_attention``; nothing in the model changes), and propagate a
token-to-token relevance ``R`` ``(T, T)`` from the input tokens to the output, starting at the
identity:

- **Attention rollout** (Abnar & Zuidema 2020): per layer the heads are fused (mean, the paper's;
  or max / min), the identity is added for the residual connection and the rows are normalised,
  ``Â = (fuse(A) + I) / rowsum``; then ``R <- Â R``. With the mean this is the paper's
  ``0.5 A + 0.5 I``. Class-agnostic: the target does not change the map.
- **Transformer attribution** (Chefer, Gur & Wolf, ICCV 2021, "Generic attention-model
  explainability", the self-attention rule): ``Ā = mean_heads((∇A ⊙ A)^+)`` with ``∇A`` the
  gradient of the target score (the logit, as everywhere in xai-tf) w.r.t. ``A``; then
  ``R <- R + Ā R``.

The map is the class token's row of ``R`` over the patch tokens, reshaped to the patch grid and
upsampled bilinearly (half-pixel centres) to the image, as the CAM family (attention rollout's
``upsample=`` picks another ``tf.image.resize`` method). Extra tokens (class,
distillation, register tokens) sit before the patch tokens; their number is inferred
(``xai_tf.models.tokens.token_grid``) or given as ``extra_tokens=``. A model without extra
tokens (a pooled head) has no class token: the rows of all tokens are averaged instead.
"""
from __future__ import annotations

import numpy as np
import tensorflow as tf

from xai_tf._checks import check_choice, check_positive
from xai_tf._docstrings import fill_doc
from xai_tf.explainers.base import Request, check_upsample, chunks
from xai_tf.explainers.base import upsample as resize_maps
from xai_tf.explainers.docblocks import UPSAMPLE_BILINEAR
from xai_tf.models import tokens
from xai_tf.models.binding import bind
from xai_tf.models.loading import as_keras_model

HEAD_FUSIONS = ("mean", "max", "min")

#: The docstring blocks of the two attention methods (``xai_tf._docstrings.fill_doc``).
_ATTENTION = {
    "request": """
request : xai_tf.explainers.base.Request
    The sanitised call built by :func:`xai_tf.explain` on a transformer (a model with
    ``keras.layers.MultiHeadAttention`` layers): images ``(N, H, W, C)`` float32 in [0, 1],
    targets ``(N,)`` (the explained class, or any other target; attention rollout ignores them),
    ``batch_size``.
""",
    "extra_tokens": """
extra_tokens : int, optional
    Tokens before the patch tokens (class, distillation, register tokens); None (default)
    infers it (``xai_tf.models.tokens.token_grid``: one of 0, 1, 2, 4, 5 leaving a grid
    of the image's aspect ratio).
""",
    "raises": """
ValueError
    If the model has no attention layer, its attention layers are not self-attention over one
    token count, or the token count is not ``extra_tokens`` plus a grid of the image's aspect
    ratio.
""",
}


def captured_attention(request: Request, rows: slice, *, gradients: bool = False):
    """Attention ``[(n, heads, T, T)]`` and their gradients (empty unless ``gradients``) for the
    request's images ``rows``, one array per self-attention layer in the order the layers run,
    float64. ValueError when a layer is not self-attention over one token count."""
    function = request.adapter.attention_function(gradients)
    maps, grads, _, _ = function(tf.constant(request.images[rows]),
                                 tf.constant(request.targets[rows].astype(np.int32)))
    maps = [m.numpy().astype(np.float64) for m in maps]
    counts = {m.shape[-2:] for m in maps}
    if len(counts) != 1 or any(t_query != t_key for t_query, t_key in counts):
        raise ValueError(f"{request.method}: the model's attention layers must all be self-attention over one token "
                         f"sequence; their (query, key) token counts are {sorted(counts)}")
    return maps, [g.numpy().astype(np.float64) for g in grads]


def attention_maps(model, images, targets=None, *, gradients: bool = False, explain_input: str | None = None,
                   batch_size: int = 32):
    """The attention probabilities of every ``MultiHeadAttention`` layer of ``model``, per head, for a batch.

    Read while the model runs (``xai_tf.models.tokens.capture_attention``); the model is not
    changed. With ``gradients=True`` also the gradients of the target score (the logit of the
    explained class, or any ``xai_tf.targets`` target) with respect to them.

    Parameters
    ----------
    model : keras.Model
        A transformer (a model with ``keras.layers.MultiHeadAttention`` layers, in its graph or
        inside its own layers, e.g. a ``keras_hub`` encoder block).
    images : array-like, shape (N, H, W, C), or dict
        Float in [0, 1], as for :func:`xai_tf.explain`.
    targets : None, int, array-like of int, Target or callable, optional
        What the gradients are of (as :func:`xai_tf.explain`; default the predicted class).
        Unused without ``gradients``.
    gradients : bool, optional
        Also return the gradients (default False).
    explain_input : str, optional
        The image input of a model with several inputs.
    batch_size : int, optional
        Images per model call (default 32).

    Returns
    -------
    dict of str to numpy.ndarray, or tuple of two such dicts
        ``{layer name: (N, heads, T_query, T_key) float32}`` in the order the layers run (rows sum
        to 1); with ``gradients=True`` ``(attention, gradients)`` with the same keys and shapes.
        A name that repeats (layers inside several custom blocks) gets ``#2``, ``#3``, ...

    Raises
    ------
    ValueError
        If the model has no attention layer or one uses flash attention, or the images or targets
        do not fit the model (as :func:`xai_tf.explain`).
    """
    model = as_keras_model(model)
    check_positive(batch_size, "batch_size", integer=True)
    layers = tokens.check_attention(model, "attention_maps")
    binding, images, keys = bind(model, images, targets, explain_input=explain_input, batch_size=batch_size)
    function = binding.attention_function(bool(gradients))
    parts, order = [], None
    for rows in chunks(len(images), batch_size):
        maps, grads, _, order = function(tf.constant(images[rows]), tf.constant(keys[rows].astype(np.int32)))
        parts.append(([m.numpy() for m in maps], [g.numpy() for g in grads]))
    names, seen = [], {}
    for index in order.numpy():  # the layers in the order they ran; a repeated name gets #2, #3, ...
        name = layers[index].name
        seen[name] = seen.get(name, 0) + 1
        names.append(name if seen[name] == 1 else f"{name}#{seen[name]}")
    attention = {name: np.concatenate([maps[i] for maps, _ in parts]) for i, name in enumerate(names)}
    if not gradients:
        return attention
    return attention, {name: np.concatenate([grads[i] for _, grads in parts]) for i, name in enumerate(names)}


def _check_model(request: Request, extra_tokens):
    """Named errors before any work: no attention layer, a bad extra_tokens."""
    tokens.check_attention(request.model, request.method)
    if extra_tokens is not None:
        check_positive(extra_tokens, "extra_tokens", integer=True, allow_zero=True)


def relevance_to_maps(request: Request, relevance: np.ndarray, extra_tokens, upsample: str = "bilinear") -> np.ndarray:
    """Rows of ``relevance`` ``(n, T, T)`` read out as maps ``(n, H, W)``: the class token's row over
    the patch tokens (the mean row without extra tokens), as the patch grid, upsampled (bilinearly by
    default, :func:`xai_tf.explainers.base.upsample`)."""
    size = request.images.shape[1:3]
    extra, height, width = tokens.token_grid(relevance.shape[-1], size, extra_tokens)
    rows = relevance[:, 0] if extra else relevance.mean(axis=1)
    grid = rows[:, extra:].reshape(len(relevance), height, width).astype(np.float32)
    return resize_maps(grid, size, upsample).numpy()


def _relevance_maps(request: Request, extra_tokens, relevance_of, *, gradients: bool = False,
                    upsample: str = "bilinear") -> np.ndarray:
    """Maps ``(N, H, W)`` of ``relevance_of(attention, gradients) -> (n, T, T)`` on the captured attention
    (and its gradients when ``gradients``), chunk by chunk of ``batch_size`` images."""
    parts = []
    for rows in request.progress(chunks(len(request.images), request.batch_size)):
        attention, grads = captured_attention(request, rows, gradients=gradients)
        parts.append(relevance_to_maps(request, relevance_of(attention, grads), extra_tokens, upsample))
    return np.concatenate(parts)


def rollout(attention: list[np.ndarray], head_fusion: str = "mean") -> np.ndarray:
    """Attention rollout ``(n, T, T)`` of per-layer attention ``[(n, heads, T, T)]`` in layer order."""
    fuse = {"mean": np.mean, "max": np.max, "min": np.min}[head_fusion]
    identity = np.eye(attention[0].shape[-1])
    relevance = np.broadcast_to(identity, attention[0].shape[:1] + identity.shape)
    for layer in attention:
        mixed = fuse(layer, axis=1) + identity
        mixed = mixed / mixed.sum(axis=-1, keepdims=True)
        relevance = mixed @ relevance
    return relevance


def gradient_weighted_relevance(attention: list[np.ndarray], gradients: list[np.ndarray]) -> np.ndarray:
    """Chefer et al.'s relevance ``(n, T, T)``: ``R <- R + mean_heads((grad * A)^+) R`` through the layers."""
    identity = np.eye(attention[0].shape[-1])
    relevance = np.broadcast_to(identity, attention[0].shape[:1] + identity.shape)
    for layer, grad in zip(attention, gradients):
        weighted = np.maximum(grad * layer, 0.0).mean(axis=1)
        relevance = relevance + weighted @ relevance
    return relevance


@fill_doc(**_ATTENTION, upsample=UPSAMPLE_BILINEAR)
def attention_rollout(request: Request, *, head_fusion: str = "mean", extra_tokens: int | None = None,
                      upsample: str = "bilinear") -> np.ndarray:
    """Attention rollout (Abnar & Zuidema 2020): attention multiplied through the layers, residual included.

    Per self-attention layer, in the order the layers run, the heads' attention probabilities are
    fused (``head_fusion``), the identity is added for the residual connection and each row is
    normalised to sum 1; the layers' matrices are multiplied, ``R = Â_L ... Â_1``. The map is the
    class token's row of ``R`` over the patch tokens (module docstring), upsampled to the image
    (bilinearly by default, ``upsample``). Class-agnostic: every target gives the same map.

    Parameters
    ----------
    {request}
    head_fusion : {"mean", "max", "min"}, optional
        How the heads of a layer are combined (default "mean", the paper's; max and min are the
        variants of the widely used ``vit-explain`` code).
    {extra_tokens}
    {upsample}

    Returns
    -------
    numpy.ndarray, shape (N, H, W), float32
        One map per image, >= 0: the share of the class token's (rolled-out) attention that flows
        from each patch.

    Raises
    ------
    {raises}
    ValueError
        If ``head_fusion`` is unknown or ``upsample`` is not a ``tf.image.resize`` method.

    References
    ----------
    S. Abnar and W. Zuidema, "Quantifying Attention Flow in Transformers", ACL, 2020.
    """
    check_choice(head_fusion, "head_fusion", HEAD_FUSIONS)
    check_upsample(upsample)
    _check_model(request, extra_tokens)
    return _relevance_maps(request, extra_tokens, lambda attention, _: rollout(attention, head_fusion),
                           upsample=upsample)


@fill_doc(**_ATTENTION)
def transformer_attribution(request: Request, *, extra_tokens: int | None = None) -> np.ndarray:
    """Gradient-weighted attention relevance (Chefer, Gur & Wolf 2021) for the target score.

    The relevance ``R`` starts at the identity; per self-attention layer, in the order the layers
    run, ``R <- R + Ā R`` with ``Ā = mean_heads((∇A ⊙ A)^+)``: the attention probabilities ``A``
    times the gradient of the target score (the logit) with respect to them, positive part,
    averaged over the heads (the paper's rule for self-attention, Eq. 6 with Eq. 5). The map is the
    class token's row of ``R`` over the patch tokens (module docstring), upsampled bilinearly.

    Parameters
    ----------
    {request}
    {extra_tokens}

    Returns
    -------
    numpy.ndarray, shape (N, H, W), float32
        One map per image, >= 0, larger = more relevant to the target score.

    Raises
    ------
    {raises}

    References
    ----------
    H. Chefer, S. Gur and L. Wolf, "Generic Attention-model Explainability for Interpreting
    Bi-Modal and Encoder-Decoder Transformers", ICCV, 2021.
    """
    _check_model(request, extra_tokens)
    return _relevance_maps(request, extra_tokens, gradient_weighted_relevance, gradients=True)
