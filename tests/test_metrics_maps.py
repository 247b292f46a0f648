"""Metrics of the maps alone (Quantus' complexity family) and of maps against ground truth (Relevance
Mass / Rank Accuracy, Top-k Intersection), against Quantus' arithmetic written out by hand."""
from __future__ import annotations

import numpy as np
import pytest

from xai_tf.metrics.chunk import Chunk
from xai_tf.metrics.complexity.quantus_complexity import (
    COMPLEXITY,
    EFFECTIVE_COMPLEXITY,
    complexity,
    effective_complexity,
    sparseness,
)
from xai_tf.metrics.localisation.relevance import (
    RELEVANCE_MASS_ACCURACY,
    TOP_K_INTERSECTION,
    boxes_to_masks,
    relevance_mass_accuracy,
    relevance_rank_accuracy,
    top_k_intersection,
)


def quantus_preprocess(a, absolute):
    """Quantus' normalise_by_max (one image per call) then abs."""
    a = np.asarray(a, dtype=np.float64)
    if not np.all(a == 0):
        a = a / np.max(np.abs(a))
    return np.abs(a) if absolute else a


def quantus_sparseness(a):
    a = quantus_preprocess(a, True).reshape(-1) + 1e-7
    a = np.sort(a)
    n = len(a)
    return sum((2 * (k + 1) - n - 1) * a[k] for k in range(n)) / (n * a.sum())


def test_sparseness_complexity_effective_complexity_by_hand():
    maps = np.array([[[0.0, 0.0], [0.0, -2.0]],          # all mass on one pixel
                     [[1.0, 1.0], [1.0, 1.0]],           # uniform
                     [[3.0, -1.0], [0.5, 1e-6]]], np.float32)
    got = sparseness(maps)
    np.testing.assert_allclose(got, [quantus_sparseness(m) for m in maps], rtol=1e-9)
    assert got[0] == pytest.approx(0.75, abs=1e-6) and got[1] == pytest.approx(0.0, abs=1e-9)
    # Complexity: entropy of |a| / sum|a|: 0 for one pixel, log(4) for uniform
    shares = np.array([3.0, 1.0, 0.5, 1e-6]) / 4.500001
    np.testing.assert_allclose(complexity(maps), [0.0, np.log(4), -np.sum(shares * np.log(shares + 1e-12))],
                               atol=1e-6)
    # Effective complexity: |a| / max|a| > 1e-5 -> 1e-6 / 3 is below
    np.testing.assert_array_equal(effective_complexity(maps), [1, 4, 3])
    np.testing.assert_array_equal(effective_complexity(maps, eps=0.2), [1, 4, 2])
    assert np.isnan(complexity(np.zeros((1, 2, 2))))[0]
    with pytest.raises(ValueError, match="eps"):
        effective_complexity(maps, eps=-1)


def test_complexity_metrics_on_a_real_image():
    from sklearn.datasets import load_digits

    digit = load_digits().images[:2].astype(np.float32)  # 8x8, ink 0..16: a sparse "map"
    noise = np.random.default_rng(0).random((2, 8, 8)).astype(np.float32) + 0.5
    assert np.all(sparseness(digit) > sparseness(noise))
    assert np.all(complexity(digit) < complexity(noise))
    np.testing.assert_array_equal(effective_complexity(digit), (digit > 0).reshape(2, -1).sum(axis=1))
    chunk = Chunk(model=None, method="m", images=None, indices=np.arange(2), targets=None, maps=digit, seed=0,
                  chunk_seed=0, batch_size=4)
    assert COMPLEXITY.score(chunk, {})[0]["complexity"] == pytest.approx(list(complexity(digit)))
    columns, _ = EFFECTIVE_COMPLEXITY.score(chunk, {"effective_complexity_eps": 1e-5})
    assert columns["effective_complexity"] == list(effective_complexity(digit))


def test_relevance_mass_rank_topk_by_hand():
    maps = np.array([[[4.0, 3.0, 0.0], [2.0, 1.0, -1.0], [0.5, 0.25, 0.1]]], np.float32)
    mask = np.zeros((1, 3, 3), bool)
    mask[0, 0, 1] = mask[0, 1, 0] = mask[0, 2, 2] = True  # values 3, 2, 0.1
    total = 4 + 3 + 0 + 2 + 1 - 1 + 0.5 + 0.25 + 0.1
    assert relevance_mass_accuracy(maps, mask)[0] == pytest.approx((3 + 2 + 0.1) / total)
    # K = 3 top-ranked pixels: 4, 3, 2 -> two of them on the mask
    assert relevance_rank_accuracy(maps, mask)[0] == pytest.approx(2 / 3)
    assert top_k_intersection(maps, mask, k=2)[0] == pytest.approx(1 / 2)
    assert top_k_intersection(maps, mask, k=4)[0] == pytest.approx(2 / 4)
    assert top_k_intersection(maps, mask, k=4, concept_influence=True)[0] == pytest.approx(2 / 4 * 9 / 3)
    empty = np.zeros_like(mask)
    assert np.isnan(relevance_mass_accuracy(maps, empty)[0]) and np.isnan(relevance_rank_accuracy(maps, empty)[0])
    with pytest.raises(ValueError, match="k must"):
        top_k_intersection(maps, mask, k=10)
    with pytest.raises(TypeError, match="masks"):
        relevance_mass_accuracy(maps, mask.astype(int))


def test_quantus_rank_arithmetic_on_random_untied_maps():
    rng = np.random.default_rng(5)
    maps = rng.normal(size=(4, 16, 16))
    masks = rng.random((4, 16, 16)) < 0.3
    for a, s, rank, top in zip(maps, masks, relevance_rank_accuracy(maps, masks),
                               top_k_intersection(maps, masks, k=50)):
        a, s = quantus_preprocess(a, False).reshape(-1), s.reshape(-1)
        order = np.argsort(-a)
        assert rank == pytest.approx(s[order[:s.sum()]].sum() / s.sum())
        assert top == pytest.approx(s[order[:50]].mean())


def test_boxes_are_the_mask_of_their_union_and_topk_k_is_checked_against_the_image():
    masks = boxes_to_masks([[(0, 0, 2, 2), (1, 1, 3, 3)]], (1, 4, 4))
    assert masks.sum() == 7 and masks[0, 2, 2] and not masks[0, 3, 3]
    maps = np.arange(16, dtype=np.float32).reshape(1, 4, 4)[:, ::-1, ::-1].copy()  # largest at (0, 0)
    chunk = Chunk(model=None, method="m", images=None, indices=np.arange(1), targets=None, maps=maps, seed=0,
                  chunk_seed=0, batch_size=4, boxes=[[(0, 0, 2, 2)]])
    columns, _ = RELEVANCE_MASS_ACCURACY.score(chunk, {})
    assert columns["relevance_mass_accuracy"][0] == pytest.approx((15 + 14 + 11 + 10) / 120)
    with pytest.raises(ValueError, match="top_k_intersection_k"):
        TOP_K_INTERSECTION.check_shape({"top_k_intersection_k": 1000}, (4, 4, 1))
    assert TOP_K_INTERSECTION.score(chunk, {"top_k_intersection_k": 2})[0]["top_k_intersection"] == [1.0]
