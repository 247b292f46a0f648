"""Plain gradient maps: Vanilla Gradient, SmoothGrad, Input x Gradient, VarGrad, SquareGrad.

Our own batched implementation of PAIR ``saliency`` (``GradientSaliency`` and
``CoreSaliency.GetSmoothedMask``): PAIR evaluates one gradient per call and loops over noise samples
in Python; here all images x samples go through one compiled function in ``batch_size`` chunks.
Definitions and defaults are PAIR's (the papers used PAIR); the tests compare against it.
VarGrad and SquareGrad are the gradient statistics of Xplique (``VarGrad``, ``SquareGrad``): the
same noisy copies, reduced to a variance or a mean square (defaults from Xplique: 50 samples,
sigma 0.2, channel mean); the tests compare them with the same arithmetic on the same noise and
with their analytic expectation on a quadratic model.
All three are the one noise-averaging mechanism :func:`xai_tf.explainers.smoothing.smooth` (mean,
mean square or variance) over the plain input gradient.
"""
from __future__ import annotations

import numpy as np

from xai_tf._docstrings import fill_doc
from xai_tf.explainers.base import Request, input_gradients, reduce_channels
from xai_tf.explainers.docblocks import (
    CHANNEL_REDUCTION,
    CHANNEL_REDUCTION_MEAN,
    MAPS_RETURNS,
    PLAIN_PARAMETERS,
    PLAIN_RAISES,
    REQUEST_SEEDED,
    section,
)
from xai_tf.explainers.smoothing import (
    N_SAMPLES,
    PAIR_NOISE,
    SMOOTHED_MAPS,
    SMOOTHGRAD_REFERENCE,
    XPLIQUE_NOISE,
    noise_option,
    smooth,
)

#: The docstring sections of the methods without options but ``channel_reduction``.
_PLAIN = {"parameters": PLAIN_PARAMETERS, "returns": MAPS_RETURNS, "raises": PLAIN_RAISES}


@fill_doc(**_PLAIN)
def vanilla_gradient(request: Request, *, channel_reduction: str = "sum") -> np.ndarray:
    """Vanilla Gradient (Simonyan et al. 2014): the gradient of the target logit with respect to the pixels.

    The map is ``d logit_target / d x`` at the image itself, one backward pass per image (batched),
    reduced over the colour channels. The definition is PAIR ``saliency``'s ``GradientSaliency``
    (module docstring).

    {parameters}

    {returns}
        With "sum" or "mean" the map is signed: positive where raising the pixel value raises the
        target logit, negative where it lowers it; a larger magnitude means more influence.
        "abs_sum" and "l2" give magnitudes only (>= 0).

    {raises}

    References
    ----------
    K. Simonyan, A. Vedaldi and A. Zisserman, "Deep Inside Convolutional Networks: Visualising Image
    Classification Models and Saliency Maps", ICLR Workshop, 2014.
    """
    return reduce_channels(input_gradients(request), channel_reduction)


@fill_doc(**_PLAIN)
def input_x_gradient(request: Request, *, channel_reduction: str = "sum") -> np.ndarray:
    """Input x Gradient (Shrikumar et al. 2016): each pixel value times its gradient.

    As in paper 001: the attribution of a pixel channel is ``x * d logit_target / d x``, reduced
    over the colour channels.

    {parameters}

    {returns}
        With "sum" or "mean" the map is signed: positive where the pixel, to first order, raises the
        target logit, negative where it lowers it; black pixels (value 0) get 0. "abs_sum" and "l2"
        give magnitudes only (>= 0).

    {raises}

    References
    ----------
    A. Shrikumar, P. Greenside, A. Shcherbina and A. Kundaje, "Not Just a Black Box: Learning
    Important Features Through Propagating Activation Differences", arXiv:1605.01713, 2016.
    """
    return reduce_channels(request.images * input_gradients(request), channel_reduction)


def _gradients(request: Request):
    """The base of the gradient smoothers: input gradients of the noisy copies, one call per chunk."""
    function = request.adapter.gradient_function("plain")

    def attribute(noisy, targets, indices):
        return function(noisy, targets.astype(np.int32))[0].numpy()
    return attribute


@fill_doc(parameters=section("Parameters", REQUEST_SEEDED, PAIR_NOISE, CHANNEL_REDUCTION),
          returns=section("Returns", SMOOTHED_MAPS), references=section("References", SMOOTHGRAD_REFERENCE))
def smoothgrad(request: Request, *, n_samples: int = 25, stdev_spread: float = 0.15, noise: float | None = None,
               magnitude: bool = True, channel_reduction: str = "sum") -> np.ndarray:
    """SmoothGrad (Smilkov et al. 2017): input gradients averaged over noisy copies of the image.

    Each image gets ``n_samples`` copies ``x + N(0, sigma^2)`` with ``sigma = stdev_spread *
    (max(x) - min(x))`` (PAIR's ``GetSmoothedMask``); the gradients of the target logit at the
    copies (squared when ``magnitude``) are averaged, then reduced over the colour channels.
    Definitions and defaults are PAIR ``saliency``'s (the paper used PAIR). Seeded by ``seed``
    (:func:`xai_tf.explain`): the noise of image ``i`` is drawn from ``(seed, i)``, so maps do not
    depend on ``batch_size``. One backward pass per copy; ``stdev_spread=0`` gives the plain
    gradient (squared when ``magnitude``).

    {parameters}

    {returns}
        positive where raising the pixel value raises the target logit on average over the noise.

    Raises
    ------
    TypeError
        If ``n_samples`` is not an integer or ``stdev_spread``, ``noise`` not numbers.
    ValueError
        If ``n_samples < 1``, ``stdev_spread < 0``, ``noise < 0``, ``noise`` given with a
        non-default ``stdev_spread``, or ``channel_reduction`` is not one of the four names.

    {references}
    """
    return reduce_channels(smooth(request, _gradients(request), n_samples=n_samples,
                                  statistic="mean_square" if magnitude else "mean",
                                  **noise_option(smoothgrad, stdev_spread, noise)), channel_reduction)


@fill_doc(parameters=section("Parameters", REQUEST_SEEDED,
                             N_SAMPLES.format(least="2 (a variance needs two)", default="50, Xplique's"),
                             XPLIQUE_NOISE, CHANNEL_REDUCTION_MEAN), returns=MAPS_RETURNS)
def vargrad(request: Request, *, n_samples: int = 50, stdev_spread: float = 0.2, noise: float | None = None,
            channel_reduction: str = "mean") -> np.ndarray:
    """VarGrad (Adebayo et al. 2018): the variance of the input gradients over noisy copies.

    {parameters}

    {returns}
        Non-negative maps: the unbiased variance ``n / (n - 1) (E[g^2] - E[g]^2)`` of the target
        logit's gradients (Xplique's ``VarGrad`` arithmetic), then the channels reduced. Seeded by
        ``seed``.

    Raises
    ------
    ValueError
        ``n_samples < 2`` (a variance needs two samples), a negative noise level, or ``noise``
        given with a non-default ``stdev_spread``.
    """
    variance = smooth(request, _gradients(request), n_samples=n_samples, statistic="variance", precision=np.float64,
                      **noise_option(vargrad, stdev_spread, noise))
    return reduce_channels(variance, channel_reduction)


@fill_doc(parameters=section("Parameters", REQUEST_SEEDED, N_SAMPLES.format(least=1, default="50, Xplique's"),
                             XPLIQUE_NOISE, CHANNEL_REDUCTION_MEAN), returns=MAPS_RETURNS)
def squaregrad(request: Request, *, n_samples: int = 50, stdev_spread: float = 0.2, noise: float | None = None,
               channel_reduction: str = "mean") -> np.ndarray:
    """SquareGrad (SmoothGrad-squared, Hooker et al. 2019): the mean squared input gradient over noisy copies.

    {parameters}

    {returns}
        Non-negative maps ``E[g^2]`` (same as ``smoothgrad(magnitude=True)`` with the same noise,
        whose PAIR defaults differ: 25 samples, spread 0.15, channel sum). Seeded by ``seed``.

    Raises
    ------
    ValueError
        ``n_samples < 1``, a negative noise level, or ``noise`` given with a non-default
        ``stdev_spread``.
    """
    square = smooth(request, _gradients(request), n_samples=n_samples, statistic="mean_square",
                    precision=np.float64, **noise_option(squaregrad, stdev_spread, noise))
    return reduce_channels(square, channel_reduction)
