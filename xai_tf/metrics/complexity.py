"""XAI entropy: how much information a saliency map holds, as its compressed size (paper 001).

Paper 001 (Su et al., Table 1) reports "XAI entropy", the file size in KB of the saved explanation
image: smaller files are simpler, lower-resolution explanations (Occlusion scores lowest). Here each
map is rendered to an 8-bit grayscale image (min-max scaled, so the size does not depend on the
map's units) and losslessly encoded in memory with Pillow; the size is reported in KB (1024 bytes).
Sizes depend on the encoder (Pillow/zlib/libwebp version), so compare methods within one run.

Quantus' complexity family (``quantus.metrics.complexity``, read, not installed), per map with
Quantus' defaults ``abs=True, normalise=True`` (``|map / max|map||``):

- **Sparseness** (Chalasani et al. 2020): the Gini index of the map's values (``+1e-7``, sorted
  ascending ``a_(k)``): ``sum((2k - n - 1) a_(k)) / (n sum(a))``; 1 = all mass on one pixel
  (higher = sparser).
- **Complexity** (Bhatt et al. 2020): the entropy ``-sum(p log(p + 1e-12))`` of the fractional
  contributions ``p = |a| / sum|a|`` (lower = simpler; NaN for an all-zero map).
- **Effective Complexity** (Nguyen & Martinez 2020): the number of pixels with ``a > eps``
  (default ``eps=1e-5``; lower = simpler).

Quantus divides by the largest ``|a|`` of the whole batch it is given (its ``normalise_by_max``
over every axis, the batch included), so its per-image value of Effective Complexity depends on the
other images in the call; here each map is divided by its own maximum (Quantus with one image per
call), so a value never depends on chunking. Sparseness and Complexity are scale-free: identical.
"""
from __future__ import annotations

import io
from typing import ClassVar

import numpy as np
from PIL import Image

from xai_tf._checks import check_choice, check_maps, check_number
from xai_tf.metrics.protocol import Chunk, MapsMetric, Metric, Option, choice, number

FORMATS = ("png", "webp")
SCALINGS = ("minmax", "absmax")


def render_8bit(saliency: np.ndarray, scaling: str = "minmax") -> np.ndarray:
    """One ``(H, W)`` map as ``uint8``: ``"minmax"`` maps [min, max] to [0, 255]; ``"absmax"`` maps |map| / max|map|.

    A constant map (nothing to show) renders as zeros.
    """
    saliency = np.asarray(saliency, dtype=np.float64)
    if scaling == "absmax":
        saliency = np.abs(saliency)
        low, high = 0.0, float(saliency.max())
    else:
        low, high = float(saliency.min()), float(saliency.max())
    if high <= low:
        return np.zeros(saliency.shape, dtype=np.uint8)
    return np.round((saliency - low) / (high - low) * 255.0).astype(np.uint8)


def xai_entropy(maps, format: str = "png", scaling: str = "minmax") -> np.ndarray:
    """Compute the XAI entropy of each map: the size in KB of its losslessly compressed 8-bit rendering.

    Paper 001 (Su et al., Table 1) reports the file size of the saved explanation image: smaller
    files are simpler, lower-resolution explanations. Each map is rendered to an 8-bit grayscale
    image (``render_8bit``: scaled, so the size does not depend on the map's units; a constant map
    renders as zeros) and encoded in memory with Pillow. Sizes depend on the encoder
    (Pillow/zlib/libwebp version), so compare methods within one run.

    Parameters
    ----------
    maps : numpy.ndarray, shape (N, H, W)
        Finite saliency maps.
    format : {"png", "webp"}, optional
        ``"png"`` (default; Pillow, zlib level 6) or ``"webp"`` (lossless, quality 100, as PIC's
        entropy estimate).
    scaling : {"minmax", "absmax"}, optional
        ``"minmax"`` (default: [min, max] to [0, 255], signed maps keep their sign as grey levels)
        or ``"absmax"`` (``|map| / max|map|``, magnitude only).

    Returns
    -------
    numpy.ndarray, shape (N,), float64
        Compressed size of each map in KB (1024 bytes); lower = simpler.

    Raises
    ------
    ValueError
        If ``format`` or ``scaling`` is unknown, or ``maps`` is not 3-D or holds NaN/Inf.
    TypeError
        If ``maps`` is not numeric.
    """
    format = check_choice(format, "format", FORMATS)
    scaling = check_choice(scaling, "scaling", SCALINGS)
    maps = check_maps(maps, "maps")
    sizes = np.empty(len(maps), dtype=np.float64)
    for i, saliency in enumerate(maps):
        buffer = io.BytesIO()
        image = Image.fromarray(render_8bit(saliency, scaling), mode="L")
        if format == "png":
            image.save(buffer, format="PNG")
        else:
            image.save(buffer, format="WEBP", lossless=True, quality=100)
        sizes[i] = buffer.tell() / 1024.0
    return sizes


class XAIEntropyMetric(Metric):
    """XAI entropy of each map in the evaluation runner (KB of its compressed rendering).

    Paper 001 (Su et al., Table 1): each map, min-max scaled to an 8-bit grayscale image, is losslessly
    encoded in memory; its size in KB (1024 bytes) is the column ``xai_entropy`` (lower = simpler
    map), computed by :func:`xai_tf.metrics.xai_entropy`. Sizes depend on the encoder's version, so
    compare methods within one run.

    Notes
    -----
    Options (``evaluate(options={...})``; each is also an ``xai-tf evaluate`` flag,
    ``--`` + its name with ``-`` for ``_``):

    - ``entropy_format``: the encoder, ``png`` (default; zlib level 6) or ``webp`` (lossless).
    """

    name = "xai_entropy"
    reference = "paper 001 (Su et al., Table 1): compressed size of the map"
    options = (Option("entropy_format", "png", choice("entropy_format", FORMATS),
                      "XAI entropy encoder: png (default) or webp"),)
    direction = "lower"
    notes: ClassVar[dict[str, str]] = {"xai_entropy": "XAI entropy (lower = simpler map)"}

    def score(self, chunk: Chunk, options: dict):
        return {self.name: list(xai_entropy(chunk.maps, format=options["entropy_format"]))}, {}


XAI_ENTROPY = XAIEntropyMetric()


def _quantus_maps(maps, absolute: bool = True) -> np.ndarray:
    """``(N, P)`` float64: each map divided by its largest ``|value|`` (zeros stay), ``|.|`` if ``absolute``."""
    maps = check_maps(maps, "maps").astype(np.float64).reshape(len(maps), -1)
    scale = np.max(np.abs(maps), axis=1, keepdims=True)
    maps = maps / np.where(scale > 0, scale, 1.0)
    return np.abs(maps) if absolute else maps


def sparseness(maps) -> np.ndarray:
    """Gini index of each map (Chalasani et al. 2020; Quantus' ``Sparseness``): ``(N,)`` in [0, 1), higher = sparser.

    maps: ``(N, H, W)`` finite maps; their absolute values are used (Quantus' ``abs=True``).
    """
    values = np.sort(_quantus_maps(maps) + 1e-7, axis=1)
    n = values.shape[1]
    ranks = np.arange(1, n + 1)
    return np.sum((2 * ranks - n - 1) * values, axis=1) / (n * np.sum(values, axis=1))


def complexity(maps) -> np.ndarray:
    """Entropy of each map's fractional contributions (Bhatt et al. 2020; Quantus' ``Complexity``): ``(N,)``.

    maps: ``(N, H, W)``; lower = simpler; NaN for an all-zero map (no contribution to share).
    """
    values = _quantus_maps(maps)
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = values / np.sum(np.abs(values), axis=1, keepdims=True)
        return -np.sum(shares * np.log(shares + 1e-12), axis=1)


def effective_complexity(maps, eps: float = 1e-5) -> np.ndarray:
    """Pixels of each map above ``eps`` after ``|map| / max|map|`` (Nguyen & Martinez 2020; Quantus): ``(N,)`` int.

    maps: ``(N, H, W)``; eps: threshold, >= 0 (default 1e-5, Quantus). Lower = simpler.
    """
    check_number(eps, "eps", 0.0)
    return np.sum(_quantus_maps(maps) > eps, axis=1).astype(np.int64)


class SparsenessMetric(MapsMetric):
    """Sparseness (Gini index) of each map in the evaluation runner.

    Chalasani et al. 2020, as Quantus' ``Sparseness``: with ``a`` the map's values ``|map| /
    max|map| + 1e-7`` sorted ascending (``a_(k)``, k = 1 .. n pixels), the Gini index
    ``sum((2k - n - 1) a_(k)) / (n sum(a))``. Column ``sparseness``, in [0, 1): 1 = all mass on one
    pixel, higher = sparser. It has no options.
    """

    name = "sparseness"
    reference = "Chalasani et al. 2020 (Quantus Sparseness)"
    direction = "higher"
    notes: ClassVar[dict[str, str]] = {"sparseness": "Sparseness, Gini index of |map| (higher = sparser)"}

    def score(self, chunk: Chunk, options: dict):
        return {self.name: [float(v) for v in sparseness(chunk.maps)]}, {}


class ComplexityMetric(MapsMetric):
    """Complexity (entropy of the fractional contributions) of each map in the evaluation runner.

    Bhatt et al. 2020, as Quantus' ``Complexity``: the entropy ``-sum(p log(p + 1e-12))`` of the
    fractional contributions ``p = |a| / sum|a|`` of the pixels (``a = map / max|map|``). Column
    ``complexity``, in nats: lower = simpler; NaN for an all-zero map. It has no options.
    """

    name = "complexity"
    reference = "Bhatt et al. 2020 (Quantus Complexity)"
    direction = "lower"
    notes: ClassVar[dict[str, str]] = {"complexity": "Complexity, entropy of |map| shares (lower = simpler)"}

    def score(self, chunk: Chunk, options: dict):
        return {self.name: [float(v) for v in complexity(chunk.maps)]}, {}


class EffectiveComplexityMetric(MapsMetric):
    """Effective Complexity (pixels above a threshold) of each map in the evaluation runner.

    Nguyen & Martinez 2020, as Quantus' ``EffectiveComplexity``: the number of pixels with ``|map| /
    max|map| > effective_complexity_eps``. Column ``effective_complexity``, an integer: lower =
    simpler. Each map is divided by its own maximum (Quantus divides by the largest of its whole
    batch), so a value never depends on chunking.

    Notes
    -----
    Options (``evaluate(options={...})``; each is also an ``xai-tf evaluate`` flag,
    ``--`` + its name with ``-`` for ``_``):

    - ``effective_complexity_eps``: threshold on ``|map| / max|map|``, >= 0 (default 1e-5, Quantus).
    """

    name = "effective_complexity"
    reference = "Nguyen & Martinez 2020 (Quantus EffectiveComplexity)"
    direction = "lower"
    options = (Option("effective_complexity_eps", 1e-5, number("effective_complexity_eps", 0.0),
                      "Effective Complexity threshold on |map| / max|map| (default 1e-5, Quantus)", parse=float),)
    notes: ClassVar[dict[str, str]] = {
        "effective_complexity": "Effective Complexity, pixels above eps (lower = simpler)"}

    def score(self, chunk: Chunk, options: dict):
        values = effective_complexity(chunk.maps, options["effective_complexity_eps"])
        return {self.name: [int(v) for v in values]}, {}


SPARSENESS = SparsenessMetric()
COMPLEXITY = ComplexityMetric()
EFFECTIVE_COMPLEXITY = EffectiveComplexityMetric()
