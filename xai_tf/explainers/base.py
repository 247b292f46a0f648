"""The shared core of every explainer: model adapter, targets, scores and batched gradients.

Everything method-specific lives in its own module; this one turns any Keras classifier into a
few compiled functions that all methods share:

- logits, scores, probabilities and the predicted class come from the model's head
  (``xai_tf.models.head``: the last layer's softmax/sigmoid replaced by identity without mutating
  the model, nested backbones walked through; a single sigmoid unit is a two-class model whose
  class 1 scores with the logit and class 0 with its negative, DESIGN.md "Targets");
- gradients of scores with respect to the input or to inner layers, for a whole chunk of images,
  integration steps or noise samples per ``tf.function`` call. The functions have fixed input
  signatures (``None`` batch dimension), so they are traced once per model and reused for every
  later call; they live in the head's one cache per model.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import tensorflow as tf

from xai_tf._progress import progress
from xai_tf.models.head import head_of

CHANNEL_REDUCTIONS = ("sum", "abs_sum", "l2", "mean")


def _guided_relu_gradient(op, grad):
    # Guided backpropagation (Springenberg et al. 2015): pass only positive gradients where the
    # forward activation was positive.
    return tf.where(op.outputs[0] > 0, tf.nn.relu(grad), tf.zeros_like(grad))


def _deconvnet_relu_gradient(op, grad):
    # Deconvnet (Zeiler & Fergus 2014): the backward ReLU is applied to the gradient itself,
    # ignoring the forward activation.
    return tf.nn.relu(grad)


def _guided_relu6_gradient(op, grad):
    inside = tf.logical_and(op.inputs[0] > 0, op.inputs[0] < 6)
    return tf.where(inside, tf.nn.relu(grad), tf.zeros_like(grad))


def _deconvnet_relu6_gradient(op, grad):
    return tf.nn.relu(grad)


_GRADIENT_OVERRIDES = {
    "guided": {"Relu": "XaiTfGuidedRelu", "Relu6": "XaiTfGuidedRelu6"},
    "deconvnet": {"Relu": "XaiTfDeconvnetRelu", "Relu6": "XaiTfDeconvnetRelu6"},
}
tf.RegisterGradient("XaiTfGuidedRelu")(_guided_relu_gradient)
tf.RegisterGradient("XaiTfGuidedRelu6")(_guided_relu6_gradient)
tf.RegisterGradient("XaiTfDeconvnetRelu")(_deconvnet_relu_gradient)
tf.RegisterGradient("XaiTfDeconvnetRelu6")(_deconvnet_relu6_gradient)


class ModelAdapter:
    """A Keras classifier seen by the explainers: its :class:`~xai_tf.models.head.ModelHead` plus
    the gradient functions the methods share (compiled into the head's one cache).

    model: single-input, single-output ``keras.Model`` with NHWC image input and ``(N, K)`` output
    (``K >= 2`` softmax/linear classes, or ``K == 1`` sigmoid/linear unit = two classes).
    """

    def __init__(self, model):
        self.head = head_of(model)
        self.model = model
        self.image_shape = self.head.image_shape
        self.binary = self.head.binary
        self.num_classes = self.head.num_classes
        self.image_spec = self.head.image_spec
        self.target_spec = self.head.target_spec

    # -- scores ---------------------------------------------------------------------------------
    def logits(self, images, *, mode: str = "plain", layers=()):
        """Pre-activation outputs ``(B, K)`` (and inner activations) on real tensors."""
        if mode == "plain":
            return self.head.logits(images, layers=layers)
        with tf.compat.v1.get_default_graph().gradient_override_map(_GRADIENT_OVERRIDES[mode]):
            return self.head.logits(images, layers=layers)

    def scores(self, logits, targets):
        """Target logit ``(B,)``; for a single unit, ``+logit`` for class 1 and ``-logit`` for class 0."""
        return self.head.scores(logits, targets)

    def probabilities(self, logits, targets):
        """Target probability ``(B,)``: softmax of the logits, or sigmoid of the signed logit."""
        return self.head.target_probabilities(logits, targets)

    # -- compiled functions (cached in the head; fixed signatures => traced once per model) -----
    def cached(self, key, build):
        """The compiled function under ``key`` in the model's one cache, built on first use."""
        return self.head.cached(key, build)

    def logits_function(self):
        return self.head.logits_function()

    def probability_function(self):
        def build():
            @tf.function(input_signature=[self.image_spec, self.target_spec])
            def probability(images, targets):
                return self.probabilities(self.logits(images)[0], targets)
            return probability
        return self.cached("probability", build)

    def score_function(self):
        def build():
            @tf.function(input_signature=[self.image_spec, self.target_spec])
            def score(images, targets):
                return self.scores(self.logits(images)[0], targets)
            return score
        return self.cached("score", build)

    def gradient_function(self, mode: str = "plain"):
        """``(images, targets) -> (d score / d images, score)``; mode plain | guided | deconvnet."""
        def build():
            @tf.function(input_signature=[self.image_spec, self.target_spec])
            def gradients(images, targets):
                if mode == "plain":
                    with tf.GradientTape() as tape:
                        tape.watch(images)
                        score = self.scores(self.logits(images)[0], targets)
                    return tape.gradient(score, images), score
                # gradient_override_map only reaches symbolic tf.gradients, not GradientTape.
                score = self.scores(self.logits(images, mode=mode)[0], targets)
                return tf.gradients(score, images)[0], score
            return gradients
        return self.cached(("gradients", mode), build)

    def path_gradient_function(self):
        """``(start, direction, alphas, targets) -> sum_s grad(start + alpha_s * direction)``.

        start, direction: ``(B, H, W, C)``; alphas: ``(S,)``. Evaluates ``B * S`` gradients in one
        call (the caller keeps ``B * S <= batch_size``). Returns ``(B, H, W, C)``.
        """
        def build():
            @tf.function(input_signature=[self.image_spec, self.image_spec,
                                          tf.TensorSpec([None], tf.float32), self.target_spec])
            def path_gradients(start, direction, alphas, targets):
                n_images, n_steps = tf.shape(start)[0], tf.shape(alphas)[0]
                points = start[:, None] + alphas[None, :, None, None, None] * direction[:, None]
                points = tf.reshape(points, tf.concat([[n_images * n_steps], tf.shape(start)[1:]], 0))
                repeated = tf.repeat(targets, n_steps)
                with tf.GradientTape() as tape:
                    tape.watch(points)
                    score = self.scores(self.logits(points)[0], repeated)
                grads = tape.gradient(score, points)
                grads = tf.reshape(grads, tf.concat([[n_images, n_steps], tf.shape(start)[1:]], 0))
                return tf.reduce_sum(grads, axis=1)
            return path_gradients
        return self.cached("path_gradients", build)

    def layer_gradient_function(self, layers: tuple[str, ...]):
        """``(images, targets) -> (activations, gradients, score)`` for the named inner layers."""
        layers = tuple(layers)

        def build():
            @tf.function(input_signature=[self.image_spec, self.target_spec])
            def layer_gradients(images, targets):
                with tf.GradientTape() as tape:
                    tape.watch(images)  # frozen (non-trainable) backbones are not watched otherwise
                    logits, taps = self.logits(images, layers=layers)
                    score = self.scores(logits, targets)
                activations = [taps[name] for name in layers]
                grads = tape.gradient(score, activations)
                return activations, grads, score
            return layer_gradients
        return self.cached(("layer_gradients", layers), build)

    def activation_function(self, layers: tuple[str, ...]):
        """``images -> [activation of each named layer]``."""
        layers = tuple(layers)

        def build():
            @tf.function(input_signature=[self.image_spec])
            def activations(images):
                _, taps = self.logits(images, layers=layers)
                return [taps[name] for name in layers]
            return activations
        return self.cached(("activations", layers), build)


def adapter_for(model) -> ModelAdapter:
    """The :class:`ModelAdapter` of ``model``, built on first use and kept in the model head's one cache."""
    return head_of(model).cached("explainer_adapter", lambda: ModelAdapter(model))


@dataclass
class Request:
    """Sanitised inputs handed to every explainer function.

    images: ``(N, H, W, C)`` float32 in [0, 1]; targets: ``(N,)`` int64 (resolved: never None);
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


def upsample(maps, size) -> tf.Tensor:
    """Bilinear resize (half-pixel centres) of ``(N, h, w)`` or ``(N, h, w, k)`` maps to ``size``."""
    maps = tf.convert_to_tensor(maps, tf.float32)
    squeeze = maps.shape.rank == 3
    if squeeze:
        maps = maps[..., None]
    out = tf.image.resize(maps, size, method="bilinear")
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
    """Activations and gradients of the named layers, each a list of ``(N, h, w, k)`` arrays."""
    function = request.adapter.layer_gradient_function(tuple(layers))
    acts = [[] for _ in layers]
    grads = [[] for _ in layers]
    for rows in request.progress(chunks(len(request.images), request.batch_size)):
        a, g, _ = function(tf.constant(request.images[rows]), tf.constant(request.targets[rows].astype(np.int32)))
        for i in range(len(layers)):
            acts[i].append(a[i].numpy())
            grads[i].append(g[i].numpy())
    return [np.concatenate(a) for a in acts], [np.concatenate(g) for g in grads]


def scores_of(request: Request, images: np.ndarray, targets: np.ndarray, *, probability: bool = False) -> np.ndarray:
    """Target scores (logit, or probability) of ``images`` ``(M, H, W, C)``, batched, ``(M,)``."""
    function = request.adapter.probability_function() if probability else request.adapter.score_function()
    out = np.empty(len(images), np.float32)
    for rows in chunks(len(images), request.batch_size):
        out[rows] = function(tf.constant(images[rows]), tf.constant(targets[rows].astype(np.int32))).numpy()
    return out
