"""Paired statistics of method comparisons, written from the papers (data only; ``compare`` uses them).

- Holm's step-down adjustment (Holm 1979, "A simple sequentially rejective multiple test
  procedure"): the i-th smallest of m p-values is multiplied by ``m - i + 1``, capped at 1, and
  made monotone by a running maximum.
- Friedman's test over methods with images (or models) as blocks, ties in a block given their
  average rank and the statistic divided by the tie correction ``1 - sum(t^3 - t) / (N (k^3 - k))``,
  with Iman and Davenport's F form; the average ranks (1 = best) and the Nemenyi critical
  difference ``CD = q_alpha sqrt(k (k + 1) / (6 N))`` where ``q_alpha`` is the studentized range
  quantile divided by sqrt(2) (Demšar 2006, "Statistical comparisons of classifiers over multiple
  data sets", JMLR 7, section 3.2.2 and Table 5).
- Wilcoxon's signed-rank test (zero differences dropped, Wilcoxon's convention) with the matched-pairs
  rank-biserial correlation ``(R+ - R-) / (R+ + R-)`` as effect size (Kerby 2014); the exact McNemar
  test on 0/1 values: a two-sided binomial test of the discordant pairs at 1/2, with Cohen's g
  ``b / (b + c) - 1/2`` and the odds ratio ``(b + 1/2) / (c + 1/2)`` (Haldane's 1/2 keeps it finite).
- Kendall's W of m rankings of k objects, tie-corrected: ``12 S / (m^2 (k^3 - k) - m T)``; its
  chi-square ``m (k - 1) W`` equals Friedman's statistic with the rankings as blocks.
- The paired percentile bootstrap of mean differences, one resampling of the images shared by the
  pairs that keep the same images.
"""
from __future__ import annotations

import functools
import warnings

import numpy as np
from scipy import stats

from xai_tf._checks import check_number, check_positive


def holm(p_values) -> np.ndarray:
    """Holm-adjusted p-values (Holm 1979), in the order given.

    The i-th smallest of the m finite p-values becomes ``max over j <= i of min(1, (m - j + 1) p_(j))``;
    rejecting where the adjusted value is below ``alpha`` controls the family-wise error rate at
    ``alpha``. NaN entries (a test that could not run) stay NaN and do not count in m.

    Parameters
    ----------
    p_values : array_like, shape (m,)
        Unadjusted p-values in [0, 1] (NaN allowed).

    Returns
    -------
    numpy.ndarray, shape (m,)
        float64 adjusted p-values, each >= its unadjusted value and <= 1.

    Raises
    ------
    ValueError
        If ``p_values`` is not one-dimensional or holds a value outside [0, 1].
    """
    p = np.asarray(p_values, dtype=float)
    if p.ndim != 1:
        raise ValueError(f"p_values must be one-dimensional; got shape {p.shape}")
    finite = np.flatnonzero(np.isfinite(p))
    if np.any((p[finite] < 0) | (p[finite] > 1)):
        raise ValueError("p_values must lie in [0, 1]")
    adjusted = np.full(p.shape, np.nan)
    order = finite[np.argsort(p[finite], kind="stable")]
    running = 0.0
    for position, index in enumerate(order):
        running = max(running, min(1.0, (finite.size - position) * p[index]))
        adjusted[index] = running
    return adjusted


@functools.lru_cache(maxsize=None)
def q_alpha(k: int, alpha: float) -> float:
    """Nemenyi's ``q_alpha`` for k methods: the studentized range quantile (infinite df) over sqrt(2)."""
    return float(stats.studentized_range.ppf(1.0 - alpha, k, np.inf) / np.sqrt(2.0))


def critical_difference(k: int, n: int, alpha: float = 0.05) -> float:
    """Nemenyi's critical difference of average ranks (Demšar 2006, section 3.2.2).

    Two methods whose average ranks over ``n`` blocks differ by more than
    ``q_alpha * sqrt(k (k + 1) / (6 n))`` differ at level ``alpha``; ``q_alpha`` is the studentized
    range quantile for k groups and infinite degrees of freedom divided by sqrt(2) (Demšar's Table 5:
    2.343 for k = 3 at 0.05).

    Parameters
    ----------
    k : int
        Number of methods compared, >= 2.
    n : int
        Number of blocks (images, or models in a study), >= 1.
    alpha : float, optional
        Significance level in (0, 1), default 0.05.

    Returns
    -------
    float
        The critical difference, in average-rank units.

    Raises
    ------
    ValueError
        If ``k`` < 2, ``n`` < 1 or ``alpha`` is outside (0, 1).
    TypeError
        If ``k`` or ``n`` is not an integer, or ``alpha`` not a number.
    """
    k = check_positive(k, "k", integer=True)
    n = check_positive(n, "n", integer=True)
    if k < 2:
        raise ValueError(f"k must be at least 2 (methods compared); got {k}")
    alpha = check_alpha(alpha)
    return q_alpha(int(k), alpha) * float(np.sqrt(k * (k + 1) / (6.0 * n)))


def check_alpha(alpha) -> float:
    """``alpha`` as a float strictly inside (0, 1); TypeError/ValueError naming ``alpha`` otherwise."""
    value = check_number(alpha, "alpha", 0.0, 1.0)
    if value in (0.0, 1.0):
        raise ValueError(f"alpha must lie strictly between 0 and 1; got {alpha!r}")
    return value


def block_ranks(values: np.ndarray, direction: str | None) -> np.ndarray:
    """Ranks within each row of ``values`` (N, k), 1 = best, ties averaged; ``None`` ranks high values first."""
    signed = values if direction == "lower" else -values
    return stats.rankdata(signed, method="average", axis=1)


def tie_sum(ranks: np.ndarray) -> float:
    """``sum over blocks and tie groups of t^3 - t`` (each tied element counts ``t^2 - 1``)."""
    counts = (ranks[:, :, None] == ranks[:, None, :]).sum(axis=-1)
    return float(np.sum(counts.astype(float) ** 2 - 1.0))


def friedman(ranks: np.ndarray) -> dict:
    """Friedman's test on within-block ranks (N, k), tie-corrected, with Iman and Davenport's F.

    Returns ``{"statistic", "df", "p_value", "iman_davenport_f", "iman_davenport_p", "blocks"}``
    (NaN where undefined: fewer than 2 blocks, or every block tied throughout).
    """
    n, k = ranks.shape
    result = {"statistic": np.nan, "df": k - 1, "p_value": np.nan, "iman_davenport_f": np.nan,
              "iman_davenport_p": np.nan, "blocks": n}
    if n < 1 or k < 2:
        return result
    sums = ranks.sum(axis=0)
    correction = 1.0 - tie_sum(ranks) / (n * (k ** 3 - k))
    if correction <= 0:
        return result
    chi2 = (12.0 / (n * k * (k + 1)) * float(np.sum(sums ** 2)) - 3.0 * n * (k + 1)) / correction
    result.update(statistic=chi2, p_value=float(stats.chi2.sf(chi2, k - 1)))
    denominator = n * (k - 1) - chi2
    if n > 1 and denominator > 0:
        f_value = (n - 1) * chi2 / denominator
        result.update(iman_davenport_f=f_value,
                      iman_davenport_p=float(stats.f.sf(f_value, k - 1, (k - 1) * (n - 1))))
    return result


def kendall_w(rankings: np.ndarray) -> dict:
    """Kendall's W of m rankings (rows, shape (m, k), ties averaged), with its chi-square test.

    Returns ``{"w", "chi2", "df", "p_value", "raters"}``; W is 1 when every ranking is the same and
    0 when the rank sums are equal.
    """
    m, k = rankings.shape
    total = rankings.sum(axis=0)
    spread = float(np.sum((total - total.mean()) ** 2))
    denominator = m ** 2 * (k ** 3 - k) - m * tie_sum(rankings)
    w = 12.0 * spread / denominator if denominator > 0 else np.nan
    chi2 = m * (k - 1) * w
    return {"w": w, "chi2": chi2, "df": k - 1, "p_value": float(stats.chi2.sf(chi2, k - 1)) if np.isfinite(chi2)
            else np.nan, "raters": m}


def wilcoxon_pair(differences: np.ndarray) -> dict:
    """Wilcoxon's signed-rank test of paired differences (zeros dropped) and the rank-biserial correlation.

    ``statistic`` is SciPy's (the smaller of R+ and R- for the two-sided test); ``effect_size`` is
    ``(R+ - R-) / (R+ + R-)`` in [-1, 1], positive when the first method's values are larger.
    """
    nonzero = differences[differences != 0]
    if nonzero.size == 0:
        return {"statistic": 0.0, "p_value": 1.0 if differences.size else np.nan, "effect_size": 0.0}
    ranks = stats.rankdata(np.abs(nonzero))
    plus, minus = float(ranks[nonzero > 0].sum()), float(ranks[nonzero < 0].sum())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SciPy's notes on ties or small samples: the p-value is still its own
        test = stats.wilcoxon(differences, zero_method="wilcox")
    return {"statistic": float(test.statistic), "p_value": float(test.pvalue),
            "effect_size": (plus - minus) / (plus + minus)}


def mcnemar_pair(first: np.ndarray, second: np.ndarray) -> dict:
    """The exact McNemar test of paired 0/1 values: a two-sided binomial test of the discordant pairs.

    ``statistic`` is ``b``, the pairs where only the first method hits (``c``: only the second);
    ``effect_size`` is Cohen's g ``b / (b + c) - 1/2``; ``odds_ratio`` ``(b + 1/2) / (c + 1/2)``.
    """
    only_first = int(np.sum((first == 1) & (second == 0)))
    only_second = int(np.sum((first == 0) & (second == 1)))
    discordant = only_first + only_second
    p_value = float(stats.binomtest(only_first, discordant, 0.5).pvalue) if discordant else (
        1.0 if first.size else np.nan)
    return {"statistic": float(only_first), "discordant": discordant, "p_value": p_value,
            "effect_size": only_first / discordant - 0.5 if discordant else 0.0,
            "odds_ratio": (only_first + 0.5) / (only_second + 0.5)}


def bootstrap_means(differences: np.ndarray, resamples: int, level: float, rng: np.random.Generator) -> np.ndarray:
    """Percentile bootstrap interval of the mean of each column of ``differences`` (n, P), shape (P, 2).

    The n rows (images) are resampled with replacement ``resamples`` times, the same resamples for
    every column (so the pairs of one metric keep their images paired); NaN when n is 0.
    """
    n, columns = differences.shape
    if n == 0:
        return np.full((columns, 2), np.nan)
    draws = rng.integers(0, n, size=(resamples, n))
    counts = np.bincount((draws + np.arange(resamples)[:, None] * n).ravel(), minlength=resamples * n)
    means = counts.reshape(resamples, n).astype(float) @ differences / n
    tail = 50.0 * (1.0 - level)
    return np.percentile(means, [tail, 100.0 - tail], axis=0).T
