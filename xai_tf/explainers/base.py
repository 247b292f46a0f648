"""The shared core of every explainer: the request, and batched gradients and scores.

Everything method-specific lives in its own module; the model side (outputs, the target score,
probabilities, the compiled gradient functions) is the request's binding
(``request.adapter``, a :class:`~xai_tf.models.binding.ModelBinding`): methods pass images and
the request's *keys* (``request.targets``: class ids on a classifier, image rows otherwise) and
never know which task (classes, regression, segmentation, detection) they explain. The compiled
functions have fixed input signatures (``None`` batch dimension), so they are traced once per model
and target signature and reused for every later call.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import tensorflow as tf

from xai_tf._progress import progress
from xai_tf.models.binding import ModelBinding, classic
from xai_tf.models.tokens import to_grid

CHANNEL_REDUCTIONS = ("sum", "abs_sum", "l2", "mean")
#: ``upsample=`` of the methods whose maps are coarser than the image (``tf.image.resize``'s methods).
UPSAMPLE_METHODS = ("bilinear", "bicubic", "nearest", "area", "lanczos3", "lanczos5", "gaussian", "mitchellcubic")


#: The explainers' view of a model: the model bound to its target (``xai_tf.models.binding``).
ModelAdapter = ModelBinding


def adapter_for(model) -> ModelBinding:
    """The classifier binding of ``model`` (class ids as keys), kept in the model head's one cache."""
    return classic(model)


@dataclass
class Request:
    """Sanitised inputs handed to every explainer function.

    images: ``(N, H, W, C)`` float32 in [0, 1] (the explained input); targets: ``(N,)`` int64 keys
    of the binding (class ids on a classifier, image rows for other targets; resolved: never None);
    batch_size: max model evaluations per compiled call; seed: int for stochastic methods;
    layer: a validated 4-D layer name or None.
    """

    adapter: ModelAdapter
    images: np.ndarray
    targets: np.ndarray
    batch_size: int
    verbose: int
    seed: int
    layer: str | None = None
    method: str = ""

    @property
    def model(self):
        return self.adapter.model

    def progress(self, iterable, total=None, desc=None):
        return progress(iterable, total=total, desc=desc or self.method, verbose=self.verbose)


def reduce_channels(attributions: np.ndarray, how: str = "sum") -> np.ndarray:
    """Collapse ``(N, H, W, C)`` pixel attributions to ``(N, H, W)`` maps.

    how: "sum" (default; keeps sign and IG completeness), "abs_sum" (PAIR's
    ``VisualizeImageGrayscale`` before clipping), "l2" (Euclidean norm over channels), "mean"
    (Xplique's default ``reducer``).
    """
    if how == "sum":
        return attributions.sum(axis=-1)
    if how == "abs_sum":
        return np.abs(attributions).sum(axis=-1)
    if how == "l2":
        return np.sqrt((attributions.astype(np.float64) ** 2).sum(axis=-1))
    if how == "mean":
        return attributions.mean(axis=-1)
    raise ValueError(f"channel_reduction={how!r} is not valid; expected one of: {', '.join(CHANNEL_REDUCTIONS)}")


def check_upsample(method) -> str:
    """``method`` when it is one of :data:`UPSAMPLE_METHODS`; else ValueError naming ``upsample``."""
    if not isinstance(method, str) or method not in UPSAMPLE_METHODS:
        raise ValueError(f"upsample={method!r} is not valid; expected one of: {', '.join(UPSAMPLE_METHODS)}")
    return method


def upsample(maps, size, method: str = "bilinear") -> tf.Tensor:
    """Resize ``(N, h, w)`` or ``(N, h, w, k)`` maps to ``size`` ``(H, W)``: the one upsampling rule.

    ``method`` is one of :data:`UPSAMPLE_METHODS` (``tf.image.resize``, half-pixel centres; default
    "bilinear"); every method that resizes a coarse map to the image (``upsample=``) calls this.
    ValueError naming ``upsample`` for another method.
    """
    check_upsample(method)
    maps = tf.convert_to_tensor(maps, tf.float32)
    squeeze = maps.shape.rank == 3
    if squeeze:
        maps = maps[..., None]
    out = tf.image.resize(maps, size, method=method)
    return out[..., 0] if squeeze else out


def chunks(total: int, size: int):
    """``slice`` objects covering ``range(total)`` in pieces of at most ``size``."""
    return [slice(start, min(start + size, total)) for start in range(0, total, size)]


def image_step_chunks(n_images: int, n_steps: int, batch_size: int):
    """Split ``n_images x n_steps`` model evaluations into (image slice, step slice) calls.

    Keeps ``images_per_call * steps_per_call <= batch_size``: several images per call when all
    their steps fit, else one image and ``batch_size`` steps at a time.
    """
    if n_steps <= batch_size:
        per_call = max(1, batch_size // n_steps)
        return [(images, slice(0, n_steps)) for images in chunks(n_images, per_call)]
    return [(slice(i, i + 1), steps) for i in range(n_images) for steps in chunks(n_steps, batch_size)]


def path_integral(request: Request, start: np.ndarray, direction: np.ndarray, alphas: np.ndarray,
                  targets: np.ndarray | None = None, desc: str | None = None) -> np.ndarray:
    """``sum_s grad(start + alpha_s * direction)`` per image, ``(M, H, W, C)`` float32, batched.

    start, direction: ``(M, H, W, C)``; alphas: ``(S,)``; targets: ``(M,)`` (default: the request's).
    """
    function = request.adapter.path_gradient_function()
    alphas = np.asarray(alphas, np.float32)
    start = np.asarray(start, np.float32)
    direction = np.asarray(direction, np.float32)
    total = np.zeros(start.shape, np.float32)
    targets = (request.targets if targets is None else targets).astype(np.int32)
    plan = image_step_chunks(len(start), len(alphas), request.batch_size)
    for images, steps in request.progress(plan, desc=desc):
        total[images] += function(tf.constant(start[images]), tf.constant(direction[images]),
                                  tf.constant(alphas[steps]), tf.constant(targets[images])).numpy()
    return total


def input_gradients(request: Request, images: np.ndarray | None = None, targets: np.ndarray | None = None,
                    mode: str = "plain") -> np.ndarray:
    """Gradients of the target scores w.r.t. ``images`` (default: the request's), ``(N, H, W, C)``."""
    images = request.images if images is None else images
    targets = request.targets if targets is None else targets
    function = request.adapter.gradient_function(mode)
    out = np.empty(images.shape, np.float32)
    for rows in request.progress(chunks(len(images), request.batch_size)):
        out[rows] = function(tf.constant(images[rows]), tf.constant(targets[rows].astype(np.int32)))[0].numpy()
    return out


def layer_gradients(request: Request, layers: tuple[str, ...]):
    """Activations and gradients of the named layers, each a list of ``(N, h, w, k)`` arrays.

    A transformer's token-sequence layer ``(N, T, D)`` comes back as its patch grid
    ``(N, h, w, D)``, extra tokens dropped (``xai_tf.models.tokens.to_grid``)."""
    function = request.adapter.layer_gradient_function(tuple(layers))
    acts = [[] for _ in layers]
    grads = [[] for _ in layers]
    for rows in request.progress(chunks(len(request.images), request.batch_size)):
        a, g, _ = function(tf.constant(request.images[rows]), tf.constant(request.targets[rows].astype(np.int32)))
        for i in range(len(layers)):
            acts[i].append(a[i].numpy())
            grads[i].append(g[i].numpy())
    size = request.images.shape[1:3]
    return ([to_grid(np.concatenate(a), size) for a in acts], [to_grid(np.concatenate(g), size) for g in grads])


def layer_activations(request: Request, layer: str, rows: slice) -> np.ndarray:
    """Activations ``(n, h, w, k)`` of ``layer`` for the request's images ``rows`` (token sequences as
    their patch grid, ``xai_tf.models.tokens.to_grid``)."""
    function = request.adapter.activation_function((layer,))
    activations = function(tf.constant(request.images[rows]), tf.constant(request.targets[rows].astype(np.int32)))
    return to_grid(activations[0].numpy(), request.images.shape[1:3])


def scores_of(request: Request, images: np.ndarray, targets: np.ndarray, *, probability: bool = False) -> np.ndarray:
    """Target scores (logit, or probability) of ``images`` ``(M, H, W, C)``, batched, ``(M,)``."""
    function = request.adapter.probability_function() if probability else request.adapter.score_function()
    out = np.empty(len(images), np.float32)
    for rows in chunks(len(images), request.batch_size):
        out[rows] = function(tf.constant(images[rows]), tf.constant(targets[rows].astype(np.int32))).numpy()
    return out
