"""Difference of Means (paper 003): consistency of a saliency method across two architectures.

Paper 003 trains two architectures (ResNet, EfficientNet-B0), measures a score such as the Pointing
Game accuracy repeatedly on each, and reports the absolute difference of the two means; lower is
more consistent. It is the Maximum Mean Discrepancy of the two sets of scalars with a linear kernel.
"""
from __future__ import annotations

import numpy as np

from xai_tf._checks import as_float_array, check_finite


def difference_of_means(scores_a, scores_b) -> float:
    r"""Compute the absolute difference of the means of two sets of scores: ``|mean(a) - mean(b)|``.

    Paper 003's consistency of a saliency method across two architectures (lower = more
    consistent); the Maximum Mean Discrepancy of the two sets of scalars with a linear kernel.

    Parameters
    ----------
    scores_a : array-like of float, shape (n_a,)
        Non-empty, finite scores of one method on architecture A (e.g. repeated Pointing Game
        accuracies).
    scores_b : array-like of float, shape (n_b,)
        Non-empty, finite scores of the same method on architecture B; ``n_b`` may differ from
        ``n_a``.

    Returns
    -------
    float
        :math:`|\bar a - \bar b|`, >= 0, in the scores' units.

    Raises
    ------
    ValueError
        If either set is not a non-empty 1-D sequence, or holds NaN/Inf.
    TypeError
        If either set is not numeric.
    """
    values = []
    for name, scores in (("scores_a", scores_a), ("scores_b", scores_b)):
        array = as_float_array(scores, name)
        if array.ndim != 1 or array.size == 0:
            raise ValueError(f"{name} must be a non-empty 1-D sequence of scores; got shape {array.shape}")
        values.append(check_finite(array.astype(np.float64), name))
    return float(abs(values[0].mean() - values[1].mean()))
