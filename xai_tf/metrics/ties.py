"""Tied map values in ranked metrics: one order-free rule shared by every metric that ranks pixels.

A ranked metric (Deletion, Insertion, Pixel-Flipping, Monotonicity, ROAD, Relevance Rank, Top-k)
perturbs or counts "the ``k`` first pixels" of a map's order. When ``k`` falls inside a group of
pixels with the same map value, which of them are first is arbitrary: the references take NumPy's
``argsort`` order (not stable, it depends on the CPU's SIMD sort), a stable sort takes row-major
order, and on Grad-CAM maps (about a third of the pixels tied at 0) the choice moves a Deletion
AUC by up to 0.28 per image. The option ``ties`` (shared by every ranked metric) picks the rule:

- ``"block"`` (default, order-free): a tied group is perturbed as one block. With the group at
  sorted positions ``[a, b)`` and ``a < k < b``, a curve point is the linear interpolation of the
  model's scores at the two states that do not split the group,
  ``s(k) = s(a) + (k - a) / (b - a) * (s(b) - s(a))``, so the model is only evaluated at states
  that every order of the ties shares. For a score linear in the pixels this is exactly the mean
  over all orders of the tied pixels (each of them is among the first ``k`` with probability
  ``(k - a) / (b - a)``). Set metrics (Relevance Rank, Top-k) count each pixel of the straddling
  group with that weight: their expected value over random tie orders, exactly.
- ``"reference"``: ties in row-major order (a stable sort), the values of xai-tf before this rule,
  kept to reproduce them; identical to the references on maps without ties.

Maps without ties give the same states, the same model calls and the same values under both rules.
The tie fraction of a map (:func:`tie_fractions`) is recorded in every evaluation row as
``tie_fraction`` when a ranked metric is scored.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from xai_tf.metrics.options import Option, choice

#: The values of the ``ties`` option: the order-free default first.
TIE_RULES = ("block", "reference")

#: The option every ranked metric declares (one shared object, as SIC's and AIC's options).
TIES = Option("ties", "block", choice("ties", TIE_RULES),
              "Ranked metrics: how tied map values are ordered, block (default: a tied group is perturbed "
              "as one block, curves interpolated across it = the expectation over tie orders) or reference "
              "(row-major order, the earlier values)")


def tie_rule(options: dict) -> str:
    """The checked ``ties`` value of a metric's options (its default when absent, as in hand-built dicts)."""
    return TIES.check(options.get(TIES.name, TIES.default))


def _sorted_rows(values, descending: bool) -> np.ndarray:
    """``(N, P)`` float64: each map's values in its perturbation order (the order of ``importance_ranks``)."""
    flat = np.asarray(values, dtype=np.float64).reshape(len(values), -1)
    return np.sort(-flat if descending else flat, axis=1)


def tie_fractions(values) -> np.ndarray:
    """Fraction of each map's pixels whose value equals another pixel's: ``(N,)`` float64 in [0, 1].

    Parameters
    ----------
    values : array_like
        ``(N, H, W)`` (or ``(N, P)``) finite maps.
    """
    ordered = _sorted_rows(values, False)
    same = ordered[:, 1:] == ordered[:, :-1]  # (N, P - 1): position p equals position p + 1
    pad = np.zeros((len(ordered), 1), dtype=bool)
    tied = np.concatenate([same, pad], axis=1) | np.concatenate([pad, same], axis=1)
    return tied.mean(axis=1)


def cut_bounds(values, counts, *, descending: bool = True, ties: str = "block"):
    """The tied group straddling each cut "the first ``k`` pixels": ``(low, high, weight)``, each ``(N, T)``.

    Parameters
    ----------
    values : array_like
        ``(N, H, W)`` or ``(N, P)`` finite ranking values (the metric's: the map, ``|map|``, ...).
    counts : array_like
        ``(T,)`` or ``(N, T)`` ints in ``[0, P]``: pixels first in the order at each cut.
    descending : bool
        True (default): the largest value first, as ``importance_ranks``.
    ties : {"block", "reference"}
        ``"reference"``: no cut is inside a group (``low = high = k``, weight 0).

    Returns
    -------
    tuple of ndarray
        ``low`` and ``high`` int64: ``a`` and ``b`` of the group ``[a, b)`` with ``a < k < b``, else
        both ``k``; ``weight`` float64 ``(k - a) / (b - a)`` in (0, 1) inside a group, else 0.
    """
    ordered = _sorted_rows(values, descending)
    n, pixels = ordered.shape
    counts = np.broadcast_to(np.asarray(counts, dtype=np.int64), (n, np.shape(counts)[-1])).copy()
    low, high, weight = counts.copy(), counts.copy(), np.zeros(counts.shape)
    if ties == "reference" or pixels < 2:
        return low, high, weight
    # group bounds of every sorted position: a group starts where the value changes
    starts = np.concatenate([np.ones((n, 1), bool), ordered[:, 1:] != ordered[:, :-1]], axis=1)
    positions = np.arange(pixels)
    first = np.maximum.accumulate(np.where(starts, positions, 0), axis=1)
    ends = np.concatenate([starts[:, 1:], np.ones((n, 1), bool)], axis=1)  # position p is its group's last
    last = np.minimum.accumulate(np.where(ends, positions, pixels)[:, ::-1], axis=1)[:, ::-1]
    inner = (counts > 0) & (counts < pixels)
    k = np.clip(counts, 1, pixels - 1)
    rows = np.arange(n)[:, None]
    inside = inner & (ordered[rows, k - 1] == ordered[rows, k])  # the cut separates two equal values
    low = np.where(inside, first[rows, k], counts)
    high = np.where(inside, last[rows, k] + 1, counts)
    weight = np.where(inside, (counts - low) / np.maximum(high - low, 1), 0.0)
    return low, high, weight


@dataclass
class CurvePlan:
    """The model evaluations of a ranked curve under a tie rule, and how to read the curve from them.

    Attributes
    ----------
    states : list of ndarray
        Per image, the ints ``k`` (pixels perturbed) at which the model is evaluated, in order. An
        image with no cut inside a tied group evaluates exactly the requested counts (the same
        copies, in the same order, as without the rule); otherwise the sorted distinct counts
        and group bounds it needs.
    low, high : ndarray
        ``(N, T)`` int64 positions in ``states[i]`` of ``s(a)`` and ``s(b)`` at each step.
    weight : ndarray
        ``(N, T)`` float64 interpolation weight, 0 where the step needs none.
    """

    states: list
    low: np.ndarray
    high: np.ndarray
    weight: np.ndarray

    @property
    def image_ids(self) -> np.ndarray:
        """``(S,)`` int: the image of each evaluated state (all states of image 0 first)."""
        return np.repeat(np.arange(len(self.states)), [len(s) for s in self.states])

    @property
    def counts(self) -> np.ndarray:
        """``(S,)`` int32: the pixels perturbed in each evaluated state."""
        return np.concatenate(self.states).astype(np.int32)

    def curve(self, i: int, scores: np.ndarray) -> np.ndarray:
        """Image ``i``'s curve ``(T,)`` float64 from its states' ``scores`` (``(len(states[i]),)``)."""
        scores = np.asarray(scores, dtype=np.float64)
        at_low, at_high, weight = scores[self.low[i]], scores[self.high[i]], self.weight[i]
        # steps outside a group read their own state untouched (bit-identical to the reference)
        return np.where(weight > 0, at_low + weight * (at_high - at_low), at_low)

    def curves(self, scores: np.ndarray) -> np.ndarray:
        """``(N, T)`` float64 curves from the scores ``(S,)`` of every state (in :attr:`counts` order)."""
        offsets = np.cumsum([0, *[len(s) for s in self.states]])
        return np.stack([self.curve(i, scores[offsets[i]:offsets[i + 1]]) for i in range(len(self.states))])


def plan_curve(values, counts, *, descending: bool = True, ties: str = "block") -> CurvePlan:
    """The :class:`CurvePlan` of curves measured after the first ``counts`` pixels of each map's order.

    Parameters
    ----------
    values, counts, descending, ties
        As :func:`cut_bounds` (``counts`` ``(T,)``, the same for every image).
    """
    low, high, weight = cut_bounds(values, counts, descending=descending, ties=ties)
    counts = np.broadcast_to(np.asarray(counts, dtype=np.int64), low.shape)
    states, low_at, high_at = [], np.empty_like(low), np.empty_like(high)
    steps = np.arange(low.shape[1])
    for i in range(len(low)):
        inside = weight[i] > 0
        if not inside.any():  # the requested states as they are, duplicates included (same model calls)
            states.append(np.asarray(counts[i]))
            low_at[i] = high_at[i] = steps
            continue
        needed = np.unique(np.concatenate([counts[i][~inside], low[i][inside], high[i][inside]]))
        states.append(needed)
        low_at[i], high_at[i] = np.searchsorted(needed, low[i]), np.searchsorted(needed, high[i])
    return CurvePlan(states, low_at, high_at, weight)


def top_weights(values, sizes, *, ranks, ties: str = "block") -> np.ndarray:
    """Weight of each pixel in "the first ``sizes[i]`` pixels": ``(N, P)`` float64 in [0, 1].

    1 for the pixels of groups entirely among the first ``k``, ``(k - a) / (b - a)`` for the group
    ``[a, b)`` straddling the cut (the probability that a pixel of it is among the first ``k`` over
    random tie orders), 0 otherwise; with ``ties="reference"`` exactly 1 for the first ``k`` of the
    stable order.

    Parameters
    ----------
    values : array_like
        ``(N, P)`` ranking values, the largest first.
    sizes : array_like
        ``(N,)`` ints in ``[0, P]``: ``k`` per map.
    ranks : ndarray
        ``(N, P)`` int, each pixel's position in the stable order (``importance_ranks``).
    ties : {"block", "reference"}
    """
    sizes = np.asarray(sizes, dtype=np.int64)[:, None]
    low, high, weight = cut_bounds(values, sizes, ties=ties)
    ranks = np.asarray(ranks)
    return np.where(ranks < low, 1.0, np.where((ranks < high) & (weight > 0), weight, 0.0))


#: The numpydoc entry of the ``ties`` parameter of a ranked metric's function, placed by ``{ties}``.
TIES_PARAMETER = """
ties : {"block", "reference"}
    Tied ranking values (default ``"block"``: a step inside a tied group is the linear
    interpolation between the states before and after the group; ``"reference"``: row-major
    order), see ``xai_tf.metrics.ties``.
"""
