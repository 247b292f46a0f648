"""Perturbation methods: Occlusion (paper 001) and LIME (paper 002).

Occlusion is our own batched implementation of Captum's ``Occlusion`` (the paper used Captum, a
PyTorch library), with Captum's tiling by default (``window_starts``): every window position of
every image is one row of a compiled forward pass; the occluded images are built on the device
from window coordinates. LIME uses the ``lime`` package
(``LimeImageExplainer``) with our batched model call as ``classifier_fn``.
"""
from __future__ import annotations

import numpy as np
import tensorflow as tf

from xai_tf._checks import check_choice, check_positive
from xai_tf._docstrings import fill_doc
from xai_tf.explainers.base import Request, chunks, image_step_chunks, scores_of
from xai_tf.explainers.docblocks import REQUEST, REQUEST_SEEDED


def window_starts(size: int, window: int, stride: int, cover_edges: bool = False) -> np.ndarray:
    """Start offsets of occlusion windows along one axis of length ``size``.

    cover_edges=False (default): Captum's ``Occlusion`` tiling (unchanged since Occlusion was added, 2019):
        ``ceil((size - window) / stride) + 1`` windows at ``0, stride, 2 stride, ...``; when the
        stride does not land on ``size - window``, the last window starts past it and is cut off by
        the far edge (Captum pads the window with a negative amount): it is ``size - start``
        pixels wide, e.g. 12 of 15 at size 32, stride 5 (starts 0, 5, 10, 15, 20).
    cover_edges=True: only full windows; the last one is moved flush with the far edge
        (``size - window``) when the stride does not land there (xai-tf's earlier tiling; starts
        0, 5, 10, 15, 17 at size 32).
    Both cover every pixel (``stride <= window``). Returns ``(P,)`` int32.
    """
    if window >= size:
        return np.zeros(1, np.int32)
    if cover_edges:
        starts = list(range(0, size - window + 1, stride))
        if starts[-1] != size - window:
            starts.append(size - window)
        return np.asarray(starts, np.int32)
    count = -(-(size - window) // stride) + 1  # ceil((size - window) / stride) + 1
    return (np.arange(count) * stride).astype(np.int32)


def _occlusion_function(request: Request):
    adapter = request.adapter

    def build():
        positions = tf.TensorSpec([None], tf.int32)

        @tf.function(input_signature=[adapter.image_spec, positions, positions, tf.TensorSpec([2], tf.int32),
                                      tf.TensorSpec([], tf.float32), adapter.target_spec, *adapter.table_spec])
        def occluded_scores(images, tops, lefts, window, baseline, targets, *table):
            height, width = tf.shape(images)[1], tf.shape(images)[2]
            rows = tf.range(height)[None, :]
            cols = tf.range(width)[None, :]
            in_rows = tf.logical_and(rows >= tops[:, None], rows < tops[:, None] + window[0])
            in_cols = tf.logical_and(cols >= lefts[:, None], cols < lefts[:, None] + window[1])
            masks = tf.cast(tf.logical_and(in_rows[:, :, None], in_cols[:, None, :]), images.dtype)
            masks = masks[None, :, :, :, None]  # (1, P, H, W, 1)
            occluded = images[:, None] * (1.0 - masks) + baseline * masks
            n_images, n_windows = tf.shape(images)[0], tf.shape(tops)[0]
            occluded = tf.reshape(occluded, tf.concat([[n_images * n_windows], tf.shape(images)[1:]], 0))
            keys = tf.repeat(targets, n_windows)
            scores = adapter.scores(adapter.logits(occluded, keys, table)[0], keys, table)
            return tf.reshape(scores, [n_images, n_windows])
        return occluded_scores
    return adapter.cached("occlusion", build)


def _pair(value, name):
    if isinstance(value, (tuple, list)) and len(value) == 2:
        return tuple(check_positive(v, name, integer=True) for v in value)
    check_positive(value, name, integer=True)
    return (int(value), int(value))


@fill_doc(request=REQUEST)
def occlusion(request: Request, *, window=15, stride=5, baseline: float = 0.0, cover_edges: bool = False) -> np.ndarray:
    """Occlusion (Zeiler & Fergus 2014): the mean drop of the target logit over the windows covering a pixel.

    With paper 001's settings: a ``window`` x ``window`` patch (default 15) slid with ``stride`` 5
    is set to ``baseline`` (default 0 = black) on all channels; each pixel gets the mean drop of
    the target score (the logit) over the windows that cover it. Every window position of every
    image is one row of a compiled forward pass, in ``batch_size`` chunks.

    Parameters
    ----------
    {request}
    window : int or tuple of int, optional
        Side of the occluding patch in pixels, or ``(rows, cols)`` (default 15, paper 001's); at
        most the image size.
    stride : int or tuple of int, optional
        Step between window positions in pixels, or ``(rows, cols)`` (default 5, paper 001's);
        ``stride <= window`` (else pixels between windows would get no value; Captum rejects it
        too).
    baseline : float, optional
        Value the occluded pixels are set to, on every channel (default 0 = black).
    cover_edges : bool, optional
        False (default) tiles like Captum's ``Occlusion(sliding_window_shapes=(C, w, w),
        strides=(C, s, s), baselines=baseline)``, which paper 001 used: windows at multiples of
        the stride, the last one cut off by the image edge when the stride does not land there
        (at 224 pixels, window 15, stride 5, the last window is 14 pixels wide). True uses full
        windows only, the last one moved flush with the far edge (xai-tf's tiling before; the
        edge pixels are then averaged over full-size windows). See ``window_starts``.

    Returns
    -------
    numpy.ndarray, shape (N, H, W), float32
        One map per image in logit units, signed: positive where occluding the pixel lowers the
        target logit (the pixel supports the class), negative where it raises it.

    Raises
    ------
    TypeError
        If ``window`` or ``stride`` is not an integer or a pair of integers, or ``cover_edges`` is
        not True or False.
    ValueError
        If ``window`` or ``stride`` is below 1, the window is larger than the images, or
        ``stride`` exceeds ``window`` on an axis the window does not span.

    References
    ----------
    M. D. Zeiler and R. Fergus, "Visualizing and Understanding Convolutional Networks", ECCV, 2014.
    """
    window, stride = _pair(window, "window"), _pair(stride, "stride")
    if not isinstance(cover_edges, (bool, np.bool_)):
        raise TypeError(f"cover_edges must be True or False; got {cover_edges!r}")
    height, width = request.images.shape[1:3]
    if window[0] > height or window[1] > width:
        raise ValueError(f"window={window} is larger than the images ({height}, {width})")
    for axis, (w, s, size) in enumerate(zip(window, stride, (height, width))):
        if s > w and w < size:
            raise ValueError(f"stride={stride} must not exceed window={window} (axis {axis}): the pixels "
                             "between two windows would not be covered")
    baseline = float(baseline)
    row_starts = window_starts(height, window[0], stride[0], cover_edges)
    col_starts = window_starts(width, window[1], stride[1], cover_edges)
    tops = np.repeat(row_starts, len(col_starts))
    lefts = np.tile(col_starts, len(row_starts))
    targets = request.targets.astype(np.int32)
    reference = scores_of(request, request.images, request.targets)
    drops = np.empty((len(request.images), len(tops)), np.float32)
    function = _occlusion_function(request)
    for images, windows in request.progress(image_step_chunks(len(request.images), len(tops), request.batch_size)):
        scores = function(tf.constant(request.images[images]), tf.constant(tops[windows]),
                          tf.constant(lefts[windows]), tf.constant(window, tf.int32),
                          tf.constant(baseline, tf.float32), tf.constant(targets[images])).numpy()
        drops[images, windows] = reference[images, None] - scores
    row_masks = (np.arange(height)[None, :] >= tops[:, None]) & (np.arange(height)[None, :] < tops[:, None] + window[0])
    col_masks = (np.arange(width)[None, :] >= lefts[:, None]) & (np.arange(width)[None, :] < lefts[:, None] + window[1])
    row_masks, col_masks = row_masks.astype(np.float32), col_masks.astype(np.float32)
    total = np.einsum("np,ph,pw->nhw", drops, row_masks, col_masks, optimize=True)
    counts = np.einsum("ph,pw->hw", row_masks, col_masks, optimize=True)
    return (total / counts[None]).astype(np.float32)


SEGMENTATIONS = ("quickshift", "slic")
_SEGMENTATION_DEFAULTS = {"quickshift": {"kernel_size": 4, "max_dist": 200, "ratio": 0.2},
                          "slic": {"n_segments": 50, "compactness": 10, "start_label": 0}}


def check_superpixels(request: Request, segmentation: str) -> None:
    """``segmentation`` is one of :data:`SEGMENTATIONS` and the images have 1 or 3 channels."""
    check_choice(segmentation, "segmentation", SEGMENTATIONS)
    channels = request.images.shape[-1]
    if channels not in (1, 3):
        raise ValueError(f"superpixels need images with 1 or 3 channels; got {channels}")


def superpixels(image: np.ndarray, segmentation: str, segmentation_params: dict | None, seed: int) -> np.ndarray:
    """LIME's superpixels ``(H, W)`` int of one ``(H, W, C)`` image, ids ``0 .. n - 1``.

    lime's ``SegmentationAlgorithm`` with lime's defaults ("quickshift": kernel_size 4, max_dist
    200, ratio 0.2; "slic": n_segments 50, compactness 10), overridden by ``segmentation_params``;
    a grayscale image is repeated to RGB first.
    """
    from lime.wrappers.scikit_image import SegmentationAlgorithm

    params = {**_SEGMENTATION_DEFAULTS[segmentation], **(segmentation_params or {})}
    rgb = np.repeat(image, 3, axis=-1) if image.shape[-1] == 1 else image
    return SegmentationAlgorithm(segmentation, random_seed=seed, **params)(rgb.astype(np.float64))


@fill_doc(request=REQUEST_SEEDED)
def lime(request: Request, *, num_samples: int = 1000, segmentation: str = "quickshift",
         hide_color: float | None = 0.0, segmentation_params: dict | None = None) -> np.ndarray:
    """LIME (Ribeiro et al. 2016) for images, as in paper 002, using the ``lime`` package.

    The image is cut into superpixels; ``num_samples`` random on/off patterns of them are scored
    with the target-class probability, and a weighted ridge regression of the scores on the
    patterns gives each superpixel a weight. Each pixel gets the ridge weight of its superpixel
    for the target class. Seeded by ``seed`` (:func:`xai_tf.explain`; segmentation, samples and
    the ridge fit; image ``i`` uses ``seed + i``).

    Parameters
    ----------
    {request}
        The images need 1 or 3 channels (superpixels).
    num_samples : int, optional
        Perturbed images per explanation (default 1000, lime's); one forward pass each.
    segmentation : {"quickshift", "slic"}, optional
        Superpixel algorithm: "quickshift" (default, lime's: kernel_size 4, max_dist 200, ratio
        0.2) or "slic" (n_segments 50, compactness 10). A grayscale image is repeated to RGB
        first.
    hide_color : float or None, optional
        Value of switched-off superpixels (default 0 = black in raw pixels; None = each
        superpixel's mean colour, lime's default).
    segmentation_params : dict, optional
        Keyword arguments of lime's ``SegmentationAlgorithm`` that override the defaults above
        (default None).

    Returns
    -------
    numpy.ndarray, shape (N, H, W), float32
        One map per image, constant on each superpixel and signed: positive where showing the
        superpixel raises the target probability, negative where it lowers it.

    Raises
    ------
    TypeError
        If ``num_samples`` is not an integer.
    ValueError
        If ``num_samples < 1``, ``segmentation`` is unknown, or the images have neither 1 nor 3
        channels.

    Notes
    -----
    lime's segmentation, sampling stream, cosine-distance kernel (width 0.25) and weighted ridge
    fit (``LimeBase``) are used as they are; only the perturbed images are built and scored here in
    batches (lime builds them one by one in Python with a progress bar that cannot be turned off).

    References
    ----------
    M. T. Ribeiro, S. Singh and C. Guestrin, "'Why Should I Trust You?': Explaining the Predictions
    of Any Classifier", KDD, 2016.
    """
    from lime import lime_image
    from sklearn.metrics import pairwise_distances

    check_positive(num_samples, "num_samples", integer=True)
    check_superpixels(request, segmentation)
    probability = request.adapter.probability_function()
    maps = np.empty(request.images.shape[:3], np.float32)
    for index in request.progress(range(len(request.images))):
        image = request.images[index]
        seed = (int(request.seed) + index) % (2 ** 32)
        segments = superpixels(image, segmentation, segmentation_params, seed)
        n_features = int(segments.max()) + 1
        if hide_color is None:
            fudged = np.zeros_like(image)
            for segment in range(n_features):
                fudged[segments == segment] = image[segments == segment].mean(axis=0)
        else:
            fudged = np.full_like(image, float(hide_color))
        explainer = lime_image.LimeImageExplainer(random_state=seed)
        data = explainer.random_state.randint(0, 2, num_samples * n_features).reshape(num_samples, n_features)
        data[0, :] = 1  # the first sample is the unperturbed image, as in lime
        target = int(request.targets[index])
        labels = np.zeros((num_samples, 1), np.float64)  # the target's column alone: what the fit reads
        targets = np.full(request.batch_size, target, np.int32)
        for rows in chunks(num_samples, request.batch_size):
            keep = data[rows][:, segments][..., None].astype(bool)
            perturbed = np.where(keep, image[None], fudged[None]).astype(np.float32)
            labels[rows, 0] = probability(tf.constant(perturbed), tf.constant(targets[:len(perturbed)])).numpy()
        distances = pairwise_distances(data, data[0].reshape(1, -1), metric="cosine").ravel()
        _, local_exp, _, _ = explainer.base.explain_instance_with_data(
            data, labels, distances, 0, num_features=100000, feature_selection=explainer.feature_selection)
        weights = np.zeros(n_features, np.float32)
        for segment, weight in local_exp:
            weights[segment] = weight
        maps[index] = weights[segments]
    return maps
