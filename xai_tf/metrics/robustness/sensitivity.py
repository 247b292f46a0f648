"""Max-Sensitivity (Yeh et al. 2019) of a saliency method, batched: ``max_sensitivity(model, images, method)``.

The stability metric of paper 001 (Su et al., equation 4, computed there with Captum's
``sensitivity_max``): draw ``n_samples`` copies ``x'`` of each image with uniform noise in the
L-infinity ball of ``radius`` around ``x``, explain them, and report the largest relative change
``max ||map(x') - map(x)|| / ||map(x)||``. Lower is more stable.

All perturbed copies of all images go through ``xai_tf.explain`` in one call (it batches them by
``batch_size``), not one explanation per copy as Captum and Quantus do.

Agreement with the reference implementations (both read, neither installed):

- Captum ``sensitivity_max`` (paper 001's): defaults ``radius=0.02``, ``n_samples=10``, Frobenius
  norm, denominator the norm of the original map: our defaults with ``normalise=False``.
- Quantus ``MaxSensitivity``: the same max over samples of ``norm(a - a') / norm(denominator)``,
  with maps first divided by their largest absolute value (``normalise_by_max``, our
  ``normalise=True``) but with the *input's* norm as denominator (``denominator="input"``) and noise
  ``lower_bound=0.2`` (``radius=0.2``). So ``max_sensitivity(..., radius=0.2, normalise=True,
  denominator="input")`` is Quantus' definition.

Differences, deliberate: perturbed images are clipped to [0, 1] (the toolkit's image range; the
ball is intersected with the valid images), the noise comes from ``numpy.random.default_rng((seed,
i))`` per image ``i`` (same seed, same noise), and the target of every copy is the class explained
on the original image (``targets`` or the original prediction), as in Captum and Quantus.
"""
from __future__ import annotations

from typing import ClassVar

import numpy as np

from xai_tf._checks import check_bool, check_choice, check_images, check_positive
from xai_tf._docstrings import fill_doc
from xai_tf._random import rng_for
from xai_tf.metrics.chunk import Chunk
from xai_tf.metrics.options import OPTIONS_NOTE, Option, flag, number, parse_bool
from xai_tf.metrics.protocol import Metric

NORMS = ("fro", "l1", "inf")
DENOMINATORS = ("map", "input")


def _norm(values: np.ndarray, norm: str) -> np.ndarray:
    """Per-row norm of ``(..., P)`` arrays."""
    if norm == "fro":
        return np.sqrt(np.sum(np.square(values, dtype=np.float64), axis=-1))
    if norm == "l1":
        return np.sum(np.abs(values), axis=-1, dtype=np.float64)
    return np.max(np.abs(values), axis=-1).astype(np.float64)


def normalise_by_max(maps: np.ndarray) -> np.ndarray:
    """Each map divided by its largest absolute value (all-zero maps stay zero); Quantus' ``normalise_by_max``."""
    maps = np.asarray(maps, dtype=np.float64)
    scale = np.max(np.abs(maps.reshape(len(maps), -1)), axis=1)
    scale = np.where(scale > 0, scale, 1.0)
    return maps / scale.reshape((-1,) + (1,) * (maps.ndim - 1))


def perturb(images: np.ndarray, radius: float, n_samples: int, seed: int, indices=None) -> np.ndarray:
    """``(N, n_samples, H, W, C)`` copies of ``images`` plus uniform noise in ``[-radius, radius]``, clipped to [0, 1].

    indices: the images' positions in the data set (default ``0..N-1``), so that an image gets the
        same noise whichever batch or shard it is evaluated in.
    """
    indices = np.arange(len(images)) if indices is None else np.asarray(indices)
    noise = np.stack([rng_for(seed, index).uniform(
        -radius, radius, size=(n_samples,) + images.shape[1:]) for index in indices])
    return np.clip(images[:, None] + noise, 0.0, 1.0).astype(np.float32)


def max_sensitivity(model, images, method, targets=None, radius: float = 0.02, n_samples: int = 10,
                    norm: str = "fro", normalise: bool = True, seed: int = 0, *, denominator: str = "map",
                    batch_size: int = 64, indices=None, **method_params) -> np.ndarray:
    r"""Compute the Max-Sensitivity of ``method`` on each image: how much its map changes under small noise.

    Yeh et al. 2019, the stability metric of paper 001 (equation 4, computed there with Captum's
    ``sensitivity_max``): for ``n_samples`` copies :math:`x'` of each image :math:`x` with uniform
    noise in the L-infinity ball of ``radius`` (clipped to [0, 1]),

    .. math::

        \mathrm{MaxSens}(x) = \max_{x'} \frac{\lVert \Phi(x') - \Phi(x) \rVert}{\lVert D \rVert}

    with :math:`\Phi` the method's map (divided by its largest absolute value when ``normalise``)
    and :math:`D` the original map (``denominator="map"``) or the image (``"input"``). Lower is
    more stable. Every copy explains the class explained on the original image. All copies of all
    images go through ``xai_tf.explain`` in one call. See the module ``xai_tf.metrics.robustness.sensitivity``
    for how the defaults match Captum and Quantus.

    Parameters
    ----------
    model : keras.Model
        Classifier taking ``[0, 1]`` NHWC images.
    images : numpy.ndarray, shape (N, H, W, C)
        float in [0, 1], the images to perturb.
    method : str or callable
        A name of ``xai_tf.list_methods()``, or a callable ``f(images, targets)`` returning
        ``(N, H, W)`` maps.
    targets : None, int or array-like of int, shape (N,), optional
        Class explained per image, on the original and on every perturbed copy. None (default)
        explains the class predicted on the original image.
    radius : float, optional
        Half-width of the uniform noise, > 0, in image units (default 0.02: Captum's
        ``sensitivity_max``, paper 001; Quantus uses 0.2).
    n_samples : int, optional
        Perturbed copies per image, >= 1 (default 10, Captum).
    norm : {"fro", "l1", "inf"}, optional
        Norm over all pixels of a map (default ``"fro"``, Captum and Quantus).
    normalise : bool, optional
        Divide every map by its largest absolute value before comparing (default True, Quantus'
        ``normalise_by_max``; False is Captum's).
    seed : int, optional
        Seed of the noise (image ``i`` draws from ``rng_for(seed, indices[i])``) and of stochastic
        methods (default 0).
    denominator : {"map", "input"}, optional
        ``"map"`` (default, the norm of the original map: Captum's definition) or ``"input"`` (the
        norm of the image, Quantus).
    batch_size : int, optional
        Most images per compiled call of the explainer (default 64).
    indices : array-like of int, shape (N,), optional
        Positions of the images in their data set (default ``0..N-1``): fixes each image's noise,
        whichever batch or shard it is evaluated in.
    **method_params
        Method parameters passed to ``xai_tf.explain`` (e.g. ``steps=32``); registered methods
        only.

    Returns
    -------
    numpy.ndarray, shape (N,), float64
        Max-Sensitivity per image, >= 0; 0 when the original and every perturbed map are all zero,
        NaN where the denominator is 0 and a map changed.

    Raises
    ------
    TypeError
        If ``normalise`` is not a bool, ``method_params`` are given with a callable ``method``, or
        ``radius``/``n_samples`` have the wrong type.
    ValueError
        If ``indices`` does not have one entry per image, ``norm`` or ``denominator`` is unknown,
        ``radius``/``n_samples`` is not positive, or ``images`` is not ``(N, H, W, C)`` in [0, 1].
    """
    from xai_tf.explainers import explain
    from xai_tf.models.binding import bind

    check_positive(radius, "radius")
    check_positive(n_samples, "n_samples", integer=True)
    norm = check_choice(norm, "norm", NORMS)
    denominator = check_choice(denominator, "denominator", DENOMINATORS)
    check_bool(normalise, "normalise")
    images = check_images(images, "images")
    n = len(images)
    if indices is not None and len(indices) != n:
        raise ValueError(f"indices must have one entry per image ({n}); got {len(indices)}")

    if callable(method):
        if method_params:
            raise TypeError("method_params apply to registered methods only; bind them into the callable")

        def explain_fn(batch, batch_targets):
            return np.asarray(method(batch, batch_targets), dtype=np.float64)
    else:
        def explain_fn(batch, batch_targets):
            return explain(model, batch, method, batch_targets, batch_size=batch_size, verbose=0, seed=seed,
                           **method_params)
    binding, images, keys = bind(model, images, targets, batch_size=batch_size)
    targets = binding.freeze(keys)

    original = np.asarray(explain_fn(images, targets), dtype=np.float64)
    copies = perturb(images, radius, n_samples, seed, indices)  # (N, S, H, W, C)
    perturbed = np.asarray(explain_fn(copies.reshape((n * n_samples,) + images.shape[1:]),
                                      binding.freeze(np.repeat(keys, n_samples))), dtype=np.float64)
    if normalise:
        original, perturbed = normalise_by_max(original), normalise_by_max(perturbed)
    original = original.reshape(n, -1)
    perturbed = perturbed.reshape(n, n_samples, -1)
    numerator = _norm(perturbed - original[:, None], norm)  # (N, S)
    if denominator == "map":
        scale = _norm(original, norm)
    else:
        scale = _norm(images.reshape(n, -1).astype(np.float64), norm)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = numerator / scale[:, None]
    # A zero map compared with zero maps did not change: 0, not 0/0.
    ratios = np.where((numerator == 0) & (scale[:, None] == 0), 0.0, ratios)
    ratios = np.where(np.isinf(ratios), np.nan, ratios)
    return ratios.max(axis=1)


@fill_doc(options_note=OPTIONS_NOTE)
class MaxSensitivityMetric(Metric):
    """Max-Sensitivity in the evaluation runner: re-explains ``sensitivity_samples`` perturbed copies per image.

    A :class:`~xai_tf.metrics.MethodMetric` (Yeh et al. 2019; paper 001 with Captum's
    ``sensitivity_max``), computed by :func:`xai_tf.metrics.max_sensitivity`: per image, the largest
    relative change ``max ||map(x') - map(x)|| / ||map(x)||`` (Frobenius norm) of the method's map over
    ``sensitivity_samples`` copies ``x'`` with uniform noise of half-width ``sensitivity_radius``
    (clipped to [0, 1]), the maps divided by their largest ``|value|`` first when
    ``sensitivity_normalise``. The method is re-run with its parameters and the chunk's seed, which
    also seeds each image's noise (``rng_for(chunk seed, image index)``). Column ``max_sensitivity``:
    lower = more stable.

    Notes
    -----
    {options_note}

    - ``sensitivity_radius``: noise half-width, > 0 (default 0.02, Captum);
    - ``sensitivity_samples``: perturbed copies per image, >= 1 (default 10, Captum);
    - ``sensitivity_normalise``: divide maps by their largest ``|value|`` before comparing (default
      true, Quantus).
    """

    name = "max_sensitivity"
    reference = "Yeh et al. 2019, paper 001 (Captum sensitivity_max)"
    scores = "method"
    options = (
        Option("sensitivity_radius", 0.02, number("sensitivity_radius", 1e-12), "Max-Sensitivity noise half-width "
               "(default 0.02, Captum)", parse=float),
        Option("sensitivity_samples", 10, number("sensitivity_samples", 1, integer=True),
               "Max-Sensitivity perturbed copies per image (default 10, Captum)", parse=int),
        Option("sensitivity_normalise", True, flag("sensitivity_normalise"), "divide maps by their max |value| "
               "before comparing (default true, Quantus)", parse=parse_bool),
    )
    direction = "lower"
    notes: ClassVar[dict[str, str]] = {"max_sensitivity": "Max-Sensitivity (lower = more stable)"}

    def score(self, chunk: Chunk, options: dict):
        values = max_sensitivity(chunk.model, chunk.images, chunk.method, chunk.targets,
                                 radius=options["sensitivity_radius"], n_samples=options["sensitivity_samples"],
                                 normalise=options["sensitivity_normalise"], seed=chunk.chunk_seed,
                                 batch_size=chunk.batch_size, indices=chunk.indices, **chunk.params)
        return {self.name: list(values)}, {}


MAX_SENSITIVITY = MaxSensitivityMetric()
