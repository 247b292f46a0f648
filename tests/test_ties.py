"""Ranked metrics on maps with PARTIAL ties (issue 32, item 5): the stable sort must matter.

An all-zero map cannot tell a stable sort from another (every order of it is the same set of
pixels first); these maps hold a few distinct values, each shared by many pixels, so the order
of the pixels inside each tied group decides which ones come first. The expected order is written
out with Python's ``sorted`` (stable by definition): the larger value first, ties in row-major order.
"""
from __future__ import annotations

import numpy as np

from xai_tf.metrics.perturbation import importance_ranks
from xai_tf.metrics.relevance_localization import relevance_rank_accuracy


def partially_tied(n=2, size=8, seed=0):
    """Maps with 4 distinct values (about 16 pixels each per 8x8 map)."""
    return np.random.default_rng(seed).integers(0, 4, (n, size, size)).astype(np.float32) * 0.25


def hand_ranks(flat, descending=True):
    order = sorted(range(len(flat)), key=lambda i: -flat[i] if descending else flat[i])  # stable
    ranks = np.empty(len(flat), int)
    ranks[order] = np.arange(len(flat))
    return ranks


def test_partial_ties_are_ranked_in_row_major_order():
    maps = partially_tied()
    for descending in (True, False):
        ranks = importance_ranks(maps, descending=descending)
        for i, image_map in enumerate(maps):
            np.testing.assert_array_equal(ranks[i].ravel(), hand_ranks(image_map.ravel().tolist(), descending))
    # these maps can tell the orders apart: an unstable sort orders the tied groups otherwise here
    flat = -maps.reshape(len(maps), -1).astype(np.float64)
    assert not np.array_equal(np.argsort(flat, axis=1, kind="stable"), np.argsort(flat, axis=1, kind="heapsort"))


def test_relevance_rank_accuracy_reads_the_tied_group_in_row_major_order():
    # 8 pixels: two at 1.0, four tied at 0.5, two at 0; the mask holds 4 pixels, so K = 4 takes the
    # two 1.0 pixels and the FIRST two of the tied 0.5 group (indices 2 and 3 in row-major order).
    flat = np.array([1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.0, 0.0])
    maps = flat.reshape(1, 2, 4)
    first_two = np.array([True, False, True, True, False, False, False, True]).reshape(1, 2, 4)
    last_two = np.array([True, False, False, False, True, True, False, True]).reshape(1, 2, 4)
    # top 4 = {0, 1, 2, 3}: first_two has 0, 2, 3 inside (3/4); last_two has only 0 (1/4)
    np.testing.assert_allclose(relevance_rank_accuracy(maps, first_two), [3 / 4])
    np.testing.assert_allclose(relevance_rank_accuracy(maps, last_two), [1 / 4])
    # and on larger partially tied maps against the hand order
    maps = partially_tied(3, 8, seed=2)
    masks = np.random.default_rng(3).random(maps.shape) < 0.3
    for i in range(3):
        k = int(masks[i].sum())
        ranks = hand_ranks(maps[i].ravel().tolist())
        expected = masks[i].ravel()[ranks < k].sum() / k
        np.testing.assert_allclose(relevance_rank_accuracy(maps[i:i + 1], masks[i:i + 1]), [expected])
