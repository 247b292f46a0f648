"""Quantus' complexity family (``quantus.metrics.complexity``, read, not installed), per map with
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

from typing import ClassVar

import numpy as np

from xai_tf._checks import check_maps, check_number
from xai_tf._docstrings import fill_doc
from xai_tf.metrics.chunk import Chunk
from xai_tf.metrics.options import OPTIONS_NOTE, Option, number
from xai_tf.metrics.protocol import MapsMetric


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


class _PerMapMetric(MapsMetric):
    """A maps metric without options whose column is ``function(maps)``, one float per map."""

    @staticmethod
    def function(maps) -> np.ndarray:
        raise NotImplementedError

    def score(self, chunk: Chunk, options: dict):
        return {self.name: [float(v) for v in self.function(chunk.maps)]}, {}


class SparsenessMetric(_PerMapMetric):
    """Sparseness (Gini index) of each map in the evaluation runner.

    Chalasani et al. 2020, as Quantus' ``Sparseness``: with ``a`` the map's values ``|map| /
    max|map| + 1e-7`` sorted ascending (``a_(k)``, k = 1 .. n pixels), the Gini index
    ``sum((2k - n - 1) a_(k)) / (n sum(a))``. Column ``sparseness``, in [0, 1): 1 = all mass on one
    pixel, higher = sparser. It has no options.
    """

    name = "sparseness"
    reference = "Chalasani et al. 2020 (Quantus Sparseness)"
    direction = "higher"
    function = staticmethod(sparseness)
    notes: ClassVar[dict[str, str]] = {"sparseness": "Sparseness, Gini index of |map| (higher = sparser)"}


class ComplexityMetric(_PerMapMetric):
    """Complexity (entropy of the fractional contributions) of each map in the evaluation runner.

    Bhatt et al. 2020, as Quantus' ``Complexity``: the entropy ``-sum(p log(p + 1e-12))`` of the
    fractional contributions ``p = |a| / sum|a|`` of the pixels (``a = map / max|map|``). Column
    ``complexity``, in nats: lower = simpler; NaN for an all-zero map. It has no options.
    """

    name = "complexity"
    reference = "Bhatt et al. 2020 (Quantus Complexity)"
    direction = "lower"
    function = staticmethod(complexity)
    notes: ClassVar[dict[str, str]] = {"complexity": "Complexity, entropy of |map| shares (lower = simpler)"}


@fill_doc(options_note=OPTIONS_NOTE)
class EffectiveComplexityMetric(MapsMetric):
    """Effective Complexity (pixels above a threshold) of each map in the evaluation runner.

    Nguyen & Martinez 2020, as Quantus' ``EffectiveComplexity``: the number of pixels with ``|map| /
    max|map| > effective_complexity_eps``. Column ``effective_complexity``, an integer: lower =
    simpler. Each map is divided by its own maximum (Quantus divides by the largest of its whole
    batch), so a value never depends on chunking.

    Notes
    -----
    {options_note}

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
