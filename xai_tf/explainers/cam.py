"""Class activation maps: Grad-CAM, Grad-CAM++, Score-CAM, Faster Score-CAM.

Our own batched implementation of the formulas of ``tf-keras-vis`` 0.8.7 (and PAIR ``GradCam``);
the tests compare against both on a flat model. Why not tf-keras-vis itself: under Keras 3 it fails
on the papers' nested construction ``Sequential([backbone, Flatten(), Dense(..)])``, its Score-CAM
takes a softmax over the model output (meaningless on a single sigmoid unit: always 1), and it
masks all channels of all images on the host. Here the conv layer is reached through
``xai_tf.models.graph`` (nested backbones included), gradients are taken on logits, Score-CAM
weights are target-class probabilities (softmax, or sigmoid of the signed logit for one unit), and
masked forward passes run in ``batch_size`` chunks inside one compiled function.

Maps are computed at the layer's resolution and upsampled bilinearly with half-pixel centres
(``tf.image.resize``, as the original Grad-CAM/Score-CAM code and PAIR); tf-keras-vis uses
corner-aligned ``scipy.ndimage.zoom``, so its expanded maps differ slightly at the borders.
``upsample=`` picks another ``tf.image.resize`` method (the one rule,
:func:`xai_tf.explainers.base.upsample`).
"""
from __future__ import annotations

import numpy as np
import tensorflow as tf

from xai_tf._checks import check_positive
from xai_tf._docstrings import fill_doc
from xai_tf.explainers.base import (
    Request,
    check_upsample,
    chunks,
    image_step_chunks,
    layer_activations,
    layer_gradients,
)
from xai_tf.explainers.base import (
    upsample as resize_maps,
)
from xai_tf.explainers.docblocks import REQUEST_LAYER, UPSAMPLE_BILINEAR, join, section
from xai_tf.models import graph

_EPSILON = 1e-7  # tf-keras-vis' (Keras') epsilon in the Score-CAM activation normalisation

# -- the CAM family's docstring blocks (``xai_tf._docstrings.fill_doc``) ----------------------------
#: The Returns entry of a CAM (maps >= 0).
CAM_MAPS = """
numpy.ndarray, shape (N, H, W), float32
    One map per image, >= 0, larger = more important for the target class.
"""
#: The ValueError of a layer method without ``layer=`` on a model without convolution.
NO_CONV_LAYER = """
ValueError
    If ``request.layer`` is None and the model has no convolution layer (the message lists
    the 4-D layers ``layer=`` could name), or ``upsample`` is not a ``tf.image.resize``
    method.
"""
#: Grad-CAM's paper (Grad-CAM, Guided Grad-CAM).
GRADCAM_REFERENCE = """
R. R. Selvaraju, M. Cogswell, A. Das, R. Vedantam, D. Parikh and D. Batra, "Grad-CAM: Visual
Explanations from Deep Networks via Gradient-based Localization", ICCV, 2017.
"""
#: The Parameters, Returns and Raises sections of a CAM whose only option is ``upsample``.
_CAM_SECTIONS = join(section("Parameters", REQUEST_LAYER, UPSAMPLE_BILINEAR), "", section("Returns", CAM_MAPS), "",
                     section("Raises", NO_CONV_LAYER))
_SCORECAM_REFERENCE = section("References", """
H. Wang, Z. Wang, M. Du, F. Yang, Z. Zhang, S. Ding, P. Mardziel and X. Hu, "Score-CAM:
Score-Weighted Visual Explanations for Convolutional Neural Networks", CVPR Workshops, 2020.
""")


def cam_layer(request: Request) -> str:
    """The validated ``layer`` of the request, or the output of the model's last convolution layer
    (tf-keras-vis' and the papers' rule; ``xai_tf.models.graph.find_last_conv_layer``); on a
    transformer the tokens entering its last attention layer, as a patch grid
    (``xai_tf.models.tokens``)."""
    return request.layer if request.layer is not None else graph.default_cam_layer(request.model)


def to_input_size(request: Request, maps: np.ndarray, upsample: str = "bilinear") -> np.ndarray:
    """Layer-resolution maps ``(N, h, w)`` resized to the input size ``(N, H, W)`` (bilinear by default,
    :func:`xai_tf.explainers.base.upsample`)."""
    return resize_maps(maps, request.images.shape[1:3], upsample).numpy()


def _at_input_size(request: Request, layer_maps, upsample: str) -> np.ndarray:
    """``layer_maps(request)`` ``(N, h, w)`` resized to the input with ``upsample`` (checked before the model runs)."""
    check_upsample(upsample)
    return to_input_size(request, layer_maps(request), upsample)


def gradcam_layer_maps(request: Request) -> np.ndarray:
    """Grad-CAM at the layer's resolution ``(N, h, w)``: ``relu(sum_k mean(dS/dA_k) * A_k)``."""
    (acts,), (grads,) = layer_gradients(request, (cam_layer(request),))
    weights = grads.mean(axis=(1, 2), keepdims=True)
    return np.maximum((weights * acts).sum(axis=-1), 0.0)


@fill_doc(sections=_CAM_SECTIONS, references=section("References", GRADCAM_REFERENCE))
def gradcam(request: Request, *, upsample: str = "bilinear") -> np.ndarray:
    """Grad-CAM (Selvaraju et al. 2017) on the target logit, at ``layer`` (default: the last convolution).

    At the layer's resolution the map is ``relu(sum_k mean(dS/dA_k) * A_k)``: each channel ``A_k``
    of the layer's activations weighted by the spatial mean of the gradient of the target logit
    ``S`` with respect to it (the formula of tf-keras-vis and PAIR ``GradCam``). It is then
    upsampled bilinearly with half-pixel centres to the input size (module docstring); it is 0
    where the weighted channel sum is negative.

    {sections}

    {references}
    """
    return _at_input_size(request, gradcam_layer_maps, upsample)


def gradcam_pp_layer_maps(request: Request) -> np.ndarray:
    """Grad-CAM++ at the layer's resolution ``(N, h, w)``, tf-keras-vis' formula.

    tf-keras-vis multiplies the gradients by ``exp(score)``; that positive per-image factor cancels
    in the alphas and only rescales the map, so it is left out (it overflows for large logits).
    """
    (acts,), (grads,) = layer_gradients(request, (cam_layer(request),))
    acts = acts.astype(np.float64)
    grads = grads.astype(np.float64)
    second, third = grads ** 2, grads ** 3
    global_sum = acts.sum(axis=(1, 2), keepdims=True)
    denominator = 2.0 * second + third * global_sum
    denominator = denominator + (second == 0.0)
    alphas = second / denominator
    normaliser = alphas.sum(axis=(1, 2), keepdims=True)
    alphas = alphas / (normaliser + (normaliser == 0.0))
    weights = (np.maximum(grads, 0.0) * alphas).sum(axis=(1, 2), keepdims=True)
    return np.maximum((weights * acts).sum(axis=-1), 0.0).astype(np.float32)


@fill_doc(sections=_CAM_SECTIONS)
def gradcam_pp(request: Request, *, upsample: str = "bilinear") -> np.ndarray:
    """Grad-CAM++ (Chattopadhay et al. 2018) at ``layer`` (default: the last convolution).

    tf-keras-vis' formula: channel weights ``sum_ij alpha_ij relu(dS/dA_ij)`` with the
    higher-order pixel weights ``alpha = g^2 / (2 g^2 + g^3 sum(A))`` (normalised per channel),
    the map ``relu(sum_k w_k A_k)`` at the layer's resolution, upsampled bilinearly to the input
    size. tf-keras-vis multiplies the gradients by ``exp(score)``; that positive per-image factor
    cancels in the alphas and only rescales the map, so it is left out (it overflows for large
    logits).

    {sections}

    References
    ----------
    A. Chattopadhay, A. Sarkar, P. Howlader and V. N. Balasubramanian, "Grad-CAM++: Generalized
    Gradient-Based Visual Explanations for Deep Convolutional Networks", WACV, 2018.
    """
    return _at_input_size(request, gradcam_pp_layer_maps, upsample)


def _masked_probability_function(request: Request):
    adapter = request.adapter

    def build():
        @tf.function(input_signature=[adapter.image_spec, tf.TensorSpec([None, None, None, None], tf.float32),
                                      adapter.target_spec, *adapter.table_spec])
        def masked_probabilities(images, activations, targets, *table):
            # activations (B, h, w, K) -> masks (B, H, W, K) in [0, 1] -> B*K masked images.
            masks = tf.image.resize(activations, tf.shape(images)[1:3], method="bilinear")
            low = tf.reduce_min(masks, axis=(1, 2), keepdims=True)
            high = tf.reduce_max(masks, axis=(1, 2), keepdims=True)
            masks = (masks - low) / (high - low + _EPSILON)
            masked = images[:, None] * tf.transpose(masks, [0, 3, 1, 2])[..., None]
            n_images, n_channels = tf.shape(images)[0], tf.shape(activations)[3]
            masked = tf.reshape(masked, tf.concat([[n_images * n_channels], tf.shape(images)[1:]], 0))
            keys = tf.repeat(targets, n_channels)
            logits = adapter.logits(masked, keys, table)[0]
            probabilities = adapter.probabilities(logits, keys, table)
            return tf.reshape(probabilities, [n_images, n_channels])
        return masked_probabilities
    return adapter.cached("score_cam", build)


def _score_cam_weights(request: Request, acts: np.ndarray) -> np.ndarray:
    """Target probability of the image masked by each (upsampled, min-max scaled) channel ``(N, K)``."""
    function = _masked_probability_function(request)
    weights = np.empty((acts.shape[0], acts.shape[-1]), np.float32)
    targets = request.targets.astype(np.int32)
    for images, channels in request.progress(image_step_chunks(len(acts), acts.shape[-1], request.batch_size)):
        weights[images, channels] = function(tf.constant(request.images[images]),
                                             tf.constant(acts[images][..., channels]),
                                             tf.constant(targets[images])).numpy()
    return weights


def _layer_activations(request: Request) -> np.ndarray:
    layer = cam_layer(request)
    return np.concatenate([layer_activations(request, layer, rows)
                           for rows in chunks(len(request.images), request.batch_size)])


def scorecam_layer_maps(request: Request, max_channels: int | None = None) -> np.ndarray:
    """Score-CAM at the layer's resolution ``(N, h, w)``; optionally only the ``max_channels``
    channels with the largest spatial standard deviation per image (Faster Score-CAM)."""
    acts = _layer_activations(request)
    if max_channels is not None and max_channels < acts.shape[-1]:
        order = np.argsort(-acts.std(axis=(1, 2)), axis=1, kind="stable")[:, :max_channels]
        acts = np.take_along_axis(acts, order[:, None, None, :], axis=-1)
    weights = _score_cam_weights(request, acts)
    return np.maximum((acts * weights[:, None, None, :]).sum(axis=-1), 0.0)


@fill_doc(sections=_CAM_SECTIONS, references=_SCORECAM_REFERENCE)
def scorecam(request: Request, *, upsample: str = "bilinear") -> np.ndarray:
    """Score-CAM (Wang et al. 2020): channels weighted by the target probability of the image masked by each.

    Each channel of the layer's activations is upsampled to the input size, min-max scaled to
    [0, 1] and multiplied into the image; the target-class probability of that masked image is the
    channel's weight, and the map is ``relu(sum_k w_k A_k)`` at the layer's resolution, upsampled
    bilinearly to the input size. On a single sigmoid unit the probability is
    ``sigmoid(+-logit)``. One forward pass per channel and image (in ``batch_size`` chunks).

    {sections}

    {references}
    """
    return _at_input_size(request, scorecam_layer_maps, upsample)


@fill_doc(request=REQUEST_LAYER, upsample=UPSAMPLE_BILINEAR, returns=section("Returns", CAM_MAPS),
          references=_SCORECAM_REFERENCE)
def faster_scorecam(request: Request, *, max_channels: int = 10, upsample: str = "bilinear") -> np.ndarray:
    """Faster Score-CAM (tabayashi0117, in tf-keras-vis as ``max_N``): Score-CAM over the strongest channels.

    :func:`~xai_tf.explainers.cam.scorecam` restricted, per image, to the ``max_channels``
    channels of the layer with the largest spatial variance; the others get no weight.
    ``max_channels`` forward passes per image instead of one per channel.

    Parameters
    ----------
    {request}
    max_channels : int, optional
        Channels kept per image (default 10, tf-keras-vis' example); all of them when the layer
        has no more. At least 1.
    {upsample}

    {returns}

    Raises
    ------
    TypeError
        If ``max_channels`` is not an integer.
    ValueError
        If ``max_channels < 1``, ``upsample`` is not a ``tf.image.resize`` method, or
        ``request.layer`` is None and the model has no convolution layer.

    {references}
    """
    check_positive(max_channels, "max_channels", integer=True)
    return _at_input_size(request, lambda request: scorecam_layer_maps(request, max_channels), upsample)
