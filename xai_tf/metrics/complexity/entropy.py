"""XAI entropy: how much information a saliency map holds, as its compressed size (paper 001).

Paper 001 (Su et al., Table 1) reports "XAI entropy", the file size in KB of the saved explanation
image: smaller files are simpler, lower-resolution explanations (Occlusion scores lowest). Here each
map is rendered to an 8-bit grayscale image (min-max scaled, so the size does not depend on the
map's units) and losslessly encoded in memory with Pillow; the size is reported in KB (1024 bytes).
Sizes depend on the encoder (Pillow/zlib/libwebp version), so compare methods within one run.
"""
from __future__ import annotations

import io
from typing import ClassVar

import numpy as np
from PIL import Image

from xai_tf._checks import check_choice, check_maps
from xai_tf._docstrings import fill_doc
from xai_tf.metrics.chunk import Chunk
from xai_tf.metrics.options import OPTIONS_NOTE, Option, choice
from xai_tf.metrics.protocol import Metric

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


@fill_doc(options_note=OPTIONS_NOTE)
class XAIEntropyMetric(Metric):
    """XAI entropy of each map in the evaluation runner (KB of its compressed rendering).

    Paper 001 (Su et al., Table 1): each map, min-max scaled to an 8-bit grayscale image, is losslessly
    encoded in memory; its size in KB (1024 bytes) is the column ``xai_entropy`` (lower = simpler
    map), computed by :func:`xai_tf.metrics.xai_entropy`. Sizes depend on the encoder's version, so
    compare methods within one run.

    Notes
    -----
    {options_note}

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
