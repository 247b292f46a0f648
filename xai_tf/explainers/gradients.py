"""Plain gradient maps: Vanilla Gradient, SmoothGrad, Input x Gradient.

Our own batched implementation of PAIR ``saliency`` (``GradientSaliency`` and
``CoreSaliency.GetSmoothedMask``): PAIR evaluates one gradient per call and loops over noise samples
in Python; here all images x samples go through one compiled function in ``batch_size`` chunks.
Definitions and defaults are PAIR's (the papers used PAIR); the tests compare against it.
"""
from __future__ import annotations

import numpy as np

from xai_tf._checks import check_positive
from xai_tf._random import rng_for
from xai_tf.explainers.base import (
    Request,
    image_step_chunks,
    input_gradients,
    reduce_channels,
)


def vanilla_gradient(request: Request, *, channel_reduction: str = "sum") -> np.ndarray:
    """Gradient of the target logit w.r.t. the input pixels (Simonyan et al. 2014).

    channel_reduction: "sum" (default, signed), "abs_sum" or "l2" over colour channels.
    """
    return reduce_channels(input_gradients(request), channel_reduction)


def input_x_gradient(request: Request, *, channel_reduction: str = "sum") -> np.ndarray:
    """Input x Gradient (Shrikumar et al. 2016), as in paper 001: pixels times their gradient."""
    return reduce_channels(request.images * input_gradients(request), channel_reduction)


def noise_samples(request: Request, index: int, n_samples: int, stdev_spread: float,
                  image: np.ndarray | None = None) -> np.ndarray:
    """Gaussian noise ``(n_samples, H, W, C)`` for image ``index``, PAIR's scale, seeded per image.

    The standard deviation is ``stdev_spread * (max(x) - min(x))`` of that image (PAIR's
    ``GetSmoothedMask``). The generator depends only on ``(seed, index)``, so maps do not change
    with ``batch_size``.
    """
    image = request.images[index] if image is None else image
    stdev = stdev_spread * float(image.max() - image.min())
    rng = rng_for(request.seed, index)
    return (rng.standard_normal((n_samples, *image.shape), dtype=np.float32) * stdev).astype(np.float32)


def check_smoothing(n_samples, stdev_spread):
    check_positive(n_samples, "n_samples", integer=True)
    check_positive(stdev_spread, "stdev_spread", allow_zero=True)


def smoothgrad(request: Request, *, n_samples: int = 25, stdev_spread: float = 0.15, magnitude: bool = True,
               channel_reduction: str = "sum") -> np.ndarray:
    """SmoothGrad (Smilkov et al. 2017): gradients averaged over noisy copies of the image.

    n_samples: noisy copies per image (PAIR default 25). stdev_spread: noise standard deviation as a
    fraction of the image's value range (PAIR default 0.15). magnitude: average squared gradients
    (PAIR's default, True) instead of signed gradients. Seeded by ``seed``.
    """
    check_smoothing(n_samples, stdev_spread)
    function = request.adapter.gradient_function("plain")
    n_images = len(request.images)
    total = np.zeros(request.images.shape, np.float32)
    plan = image_step_chunks(n_images, n_samples, request.batch_size)
    for images, samples in request.progress(plan):
        indices = range(n_images)[images]
        noisy = np.concatenate([request.images[i] + noise_samples(request, i, n_samples, stdev_spread)[samples]
                                for i in indices])
        targets = np.repeat(request.targets[images], samples.stop - samples.start).astype(np.int32)
        grads = function(noisy, targets)[0].numpy()
        grads = grads.reshape(len(indices), -1, *request.images.shape[1:])
        total[images] += (grads * grads if magnitude else grads).sum(axis=1)
    return reduce_channels(total / n_samples, channel_reduction)
