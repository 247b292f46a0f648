"""Ranked metrics on maps with tied values (issue 28 item 5): one order-free rule, ``ties="block"``.

The maps here hold 4 distinct values, each shared by exactly 16 pixels of an 8x8 map, so every cut
"the first k pixels" that falls inside a group depends on the order of its pixels. A random order of
the ties is made by adding to each pixel a tiny key (far below the 0.25 gap between values) that
breaks the ties; the 16 *rotations* of one key order put every pixel of a group at every position of
the group exactly once, so their mean is the exact expectation over random tie orders for any
score that is linear in the perturbed pixels (the Dense model's logit, the count of mask pixels).

Tolerances: 1e-5 where the score is linear (float32 logits of a Dense layer summed in another
order), 1e-12 for the set metrics (exact arithmetic on counts), 5e-4 for Deletion's probability
(the softmax of small logits is almost, not exactly, linear).
"""
from __future__ import annotations

import json

import keras
import numpy as np
import pytest
from conftest import tiny_cnn

from xai_tf.evaluation.config import check_options
from xai_tf.metrics.faithfulness.fidelity import causal_curves, mean_trapezoid
from xai_tf.metrics.faithfulness.pixel_flipping import ordered_curves
from xai_tf.metrics.faithfulness.road import noisy_linear_imputation, road_curves
from xai_tf.metrics.information_curves.pic import _threshold_masks
from xai_tf.metrics.localisation.relevance import relevance_rank_accuracy, top_k_intersection
from xai_tf.metrics.perturbation import importance_ranks, target_scores
from xai_tf.metrics.ties import TIES, cut_bounds, plan_curve, tie_fractions
from xai_tf.report.findings import compute_findings

SIZE, GROUP = 8, 16


def grouped_maps(n=2, seed=0):
    """``(n, 8, 8)`` maps with the values 0, 0.25, 0.5, 0.75, each on exactly 16 pixels."""
    rng = np.random.default_rng(seed)
    return np.stack([(rng.permutation(SIZE * SIZE) % 4).reshape(SIZE, SIZE) * 0.25 for _ in range(n)])


def broken(maps, rotation, eps=1e-3):
    """``maps`` with every tied group ordered by a key rotated ``rotation`` places (no ties left)."""
    out = maps.astype(np.float64).copy().reshape(len(maps), -1)
    for row in out:
        for value in np.unique(row):
            where = np.flatnonzero(row == value)
            row[where] = value + eps * ((np.arange(len(where)) - rotation) % len(where)) / len(where)
    return out.reshape(maps.shape)


def linear_model(channels=1, scale=1.0, seed=0):
    """Flatten -> Dense(2), no activation: the target logit is linear in the pixels."""
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((SIZE, SIZE, channels)), keras.layers.Flatten(), keras.layers.Dense(2)])
    kernel, bias = model.layers[-1].get_weights()
    model.layers[-1].set_weights([kernel * scale, bias])
    return model


def transposed_model(model):
    """The linear model of the transposed images: the same function, its pixels in another row-major order."""
    kernel, bias = model.layers[-1].get_weights()
    copy = linear_model(kernel.shape[0] // (SIZE * SIZE))
    copy.layers[-1].set_weights([kernel.reshape(SIZE, SIZE, -1, 2).transpose(1, 0, 2, 3).reshape(kernel.shape), bias])
    return copy


def images_of(n=2, channels=1, seed=1):
    return np.random.default_rng(seed).random((n, SIZE, SIZE, channels), dtype=np.float32)


def hand_order(flat, descending=True):
    """Pixel indices in the stable order, written with Python's ``sorted`` (stable by definition)."""
    return sorted(range(len(flat)), key=lambda i: -flat[i] if descending else flat[i])


# ----------------------------------------------------------------------------------- the arithmetic
def test_tie_fraction_and_cut_bounds_by_hand():
    np.testing.assert_array_equal(tie_fractions(np.array([[[1.0, 2.0], [2.0, 3.0]], [[0.0, 0.0], [0.0, 1.0]],
                                                          [[4.0, 3.0], [2.0, 1.0]]])), [0.5, 0.75, 0.0])
    # sorted: 1 1 | .5 .5 .5 .5 | 0 0; cuts inside a group interpolate between its bounds
    low, high, weight = cut_bounds(np.array([[1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.0, 0.0]]), np.arange(9))
    np.testing.assert_array_equal(low[0], [0, 0, 2, 2, 2, 2, 6, 6, 8])
    np.testing.assert_array_equal(high[0], [0, 2, 2, 6, 6, 6, 6, 8, 8])
    np.testing.assert_array_equal(weight[0], [0, 0.5, 0, 0.25, 0.5, 0.75, 0, 0.5, 0])
    plan = plan_curve(np.array([[1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.0, 0.0]]), [0, 3, 5, 8])
    np.testing.assert_array_equal(plan.states[0], [0, 2, 6, 8])  # the model never sees a split group
    np.testing.assert_allclose(plan.curves(np.array([1.0, 0.8, 0.4, 0.0])), [[1.0, 0.7, 0.5, 0.0]])


def test_a_bad_ties_value_is_named():
    for bad in ("stable", "", None):
        with pytest.raises(ValueError, match="ties"):
            TIES.check(bad)
    with pytest.raises(ValueError, match="ties"):
        check_options(["deletion"], {"ties": "random"})
    with pytest.raises(ValueError, match="ties"):
        causal_curves(linear_model(), images_of(1), grouped_maps(1), [0], ties="row-major")
    with pytest.raises(ValueError, match="ties"):
        relevance_rank_accuracy(grouped_maps(1), grouped_maps(1) > 0.3, ties="first")


# ------------------------------------------------------- (a) block = the mean over random tie orders
def test_curves_under_block_are_the_mean_over_tie_orders_for_a_linear_score():
    model, images, maps, targets = linear_model(), images_of(), grouped_maps(), np.array([0, 1])
    for insert in (False, True):  # Pixel-Flipping (map descending), Monotonicity (|map| ascending)
        kwargs = {"features_in_step": 5, "baseline": 0.0, "insert": insert, "output": "logit"}
        _, block = ordered_curves(model, images, maps, targets, **kwargs)
        mean = np.mean([ordered_curves(model, images, broken(maps, r), targets, ties="reference", **kwargs)[1]
                        for r in range(GROUP)], axis=0)
        np.testing.assert_allclose(block, mean, atol=1e-5)
        # and the scores of the curves: Pixel-Flipping's area is linear in the curve
        np.testing.assert_allclose(np.trapezoid(block, axis=1), np.trapezoid(mean, axis=1), atol=1e-4)
        # the orders disagree (the maps can tell them apart), the block rule is their mean
        orders = [ordered_curves(model, images, broken(maps, r), targets, ties="reference", **kwargs)[1]
                  for r in (0, 5)]
        assert np.abs(orders[0] - orders[1]).max() > 1e-3


def test_deletion_under_block_is_the_mean_over_tie_orders_within_tolerance():
    # probabilities: softmax of small logits, nearly linear, so the mean over orders agrees to 5e-4 (measured 8e-5)
    model, images, maps, targets = linear_model(scale=0.2), images_of(), grouped_maps(), np.array([0, 1])
    for mode in ("deletion", "insertion"):
        _, block = causal_curves(model, images, maps, targets, mode=mode, steps=6)
        curves = [causal_curves(model, images, broken(maps, r), targets, mode=mode, steps=6, ties="reference")[1]
                  for r in range(GROUP)]
        np.testing.assert_allclose(block, np.mean(curves, axis=0), atol=5e-4)
        np.testing.assert_allclose(mean_trapezoid(block), np.mean([mean_trapezoid(c) for c in curves], axis=0),
                                   atol=5e-4)


def test_set_metrics_under_block_are_the_exact_expectation_over_tie_orders():
    maps = grouped_maps(3, seed=2)
    masks = np.random.default_rng(3).random(maps.shape) < 0.3
    for k in (7, 20, 40):  # inside the first, second and third group
        mean = np.mean([top_k_intersection(broken(maps, r), masks, k, ties="reference") for r in range(GROUP)], axis=0)
        np.testing.assert_allclose(top_k_intersection(maps, masks, k), mean, atol=1e-12)
    mean = np.mean([relevance_rank_accuracy(broken(maps, r), masks, ties="reference") for r in range(GROUP)], axis=0)
    np.testing.assert_allclose(relevance_rank_accuracy(maps, masks), mean, atol=1e-12)


# --------------------------------------------------- (b) the default ignores the spatial order of ties
def test_the_default_does_not_depend_on_where_the_tied_pixels_lie():
    # transposing images, maps, masks and the model's weights together changes no function, only the
    # row-major order of the tied pixels: "reference" moves, "block" does not
    model, images, maps, targets = linear_model(scale=0.5), images_of(), grouped_maps(), np.array([1, 0])
    flipped_model, flipped_images = transposed_model(model), images.transpose(0, 2, 1, 3).copy()
    flipped_maps = maps.transpose(0, 2, 1).copy()
    masks = np.random.default_rng(4).random(maps.shape) < 0.4

    def scores(ties, model, images, maps, masks):
        return np.concatenate([
            mean_trapezoid(causal_curves(model, images, maps, targets, steps=7, ties=ties)[1]),
            np.trapezoid(ordered_curves(model, images, maps, targets, features_in_step=6, ties=ties,
                                        output="logit")[1], axis=1),
            road_curves(model, images, maps, targets, percentages=[0.1, 0.3, 0.6], noise=0.0, ties=ties)[1].ravel(),
            relevance_rank_accuracy(maps, masks, ties=ties), top_k_intersection(maps, masks, 20, ties=ties)])

    block = scores("block", model, images, maps, masks)
    np.testing.assert_allclose(scores("block", flipped_model, flipped_images, flipped_maps,
                                      masks.transpose(0, 2, 1)), block, atol=1e-5)
    reference = scores("reference", model, images, maps, masks)
    moved = scores("reference", flipped_model, flipped_images, flipped_maps, masks.transpose(0, 2, 1))
    assert np.abs(reference - moved).max() > 1e-2


# ------------------------------------------------- (c) "reference" reproduces the stable-sort values
def test_partial_ties_are_ranked_in_row_major_order():
    maps = grouped_maps()
    for descending in (True, False):
        ranks = importance_ranks(maps, descending=descending)
        for i, image_map in enumerate(maps):
            order = hand_order(image_map.ravel().tolist(), descending)
            np.testing.assert_array_equal(np.argsort(ranks[i].ravel()), order)
    # these maps can tell the orders apart: an unstable sort orders the tied groups otherwise here
    flat = -maps.reshape(len(maps), -1).astype(np.float64)
    assert not np.array_equal(np.argsort(flat, axis=1, kind="stable"), np.argsort(flat, axis=1, kind="heapsort"))


def test_reference_curves_are_the_stable_order_computed_by_hand():
    model, images, maps, targets = tiny_cnn(input_shape=(SIZE, SIZE, 1), num_classes=2), images_of(), grouped_maps(), \
        np.array([0, 1])
    _, deletion = causal_curves(model, images, maps, targets, steps=5, ties="reference")
    _, flipping = ordered_curves(model, images, maps, targets, features_in_step=13, baseline=0.0, output="logit",
                                 ties="reference")
    _, road = road_curves(model, images, maps, targets, percentages=[0.2, 0.5], seed=3, ties="reference")
    for i in range(2):
        order = hand_order(maps[i].ravel().tolist())
        copies = []
        for k in [*np.linspace(0, 64, 6, dtype=np.int32), *np.minimum(np.arange(1, 6) * 13, 64)]:
            copy = images[i].reshape(64, 1).copy()
            copy[order[:k]] = 0.0
            copies.append(copy.reshape(SIZE, SIZE, 1))
        probability = target_scores(model, np.stack(copies[:6]), np.full(6, targets[i]))
        logit = target_scores(model, np.stack(copies[6:]), np.full(5, targets[i]), output="logit")
        np.testing.assert_allclose(deletion[i], probability, atol=2e-6)
        np.testing.assert_allclose(flipping[i], logit, atol=2e-6)
        rng = np.random.default_rng([3, i])
        imputed = np.stack([noisy_linear_imputation(images[i], np.array(order[:int(64 * p)]), 0.01, rng)
                            for p in (0.2, 0.5)])
        np.testing.assert_array_equal(road[i], target_scores(model, imputed, np.full(2, targets[i]),
                                                             output="correct"))


def test_reference_set_metrics_read_the_tied_group_in_row_major_order():
    # 8 pixels: two at 1.0, four tied at 0.5, two at 0; the mask holds 4 pixels, so K = 4 takes the
    # two 1.0 pixels and the FIRST two of the tied 0.5 group (indices 2 and 3 in row-major order).
    maps = np.array([1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.0, 0.0]).reshape(1, 2, 4)
    first_two = np.array([True, False, True, True, False, False, False, True]).reshape(1, 2, 4)
    last_two = np.array([True, False, False, False, True, True, False, True]).reshape(1, 2, 4)
    np.testing.assert_allclose(relevance_rank_accuracy(maps, first_two, ties="reference"), [3 / 4])
    np.testing.assert_allclose(relevance_rank_accuracy(maps, last_two, ties="reference"), [1 / 4])
    # the default: 1.0 + 2 of the 4 tied pixels, each counted 1/2: both masks hold 1 + 2 * 1/2 of them
    np.testing.assert_allclose(relevance_rank_accuracy(maps, first_two), [2 / 4])
    np.testing.assert_allclose(relevance_rank_accuracy(maps, last_two), [2 / 4])
    maps = grouped_maps(3, seed=2)
    masks = np.random.default_rng(3).random(maps.shape) < 0.3
    for i in range(3):
        k = int(masks[i].sum())
        order = hand_order(maps[i].ravel().tolist())
        np.testing.assert_allclose(relevance_rank_accuracy(maps[i:i + 1], masks[i:i + 1], ties="reference"),
                                   [masks[i].ravel()[order[:k]].sum() / k])
        np.testing.assert_allclose(top_k_intersection(maps[i:i + 1], masks[i:i + 1], 9, ties="reference"),
                                   [masks[i].ravel()[order[:9]].mean()])


def test_maps_without_ties_give_the_same_values_under_both_rules():
    model, images, targets = tiny_cnn(input_shape=(SIZE, SIZE, 1), num_classes=2), images_of(3), np.array([0, 1, 1])
    maps = np.random.default_rng(6).normal(size=(3, SIZE, SIZE))
    masks = np.random.default_rng(7).random(maps.shape) < 0.3
    for ties_free in (lambda ties: causal_curves(model, images, maps, targets, steps=9, ties=ties)[1],
                      lambda ties: causal_curves(model, images, maps, targets, mode="insertion", ties=ties)[1],
                      lambda ties: ordered_curves(model, images, maps, targets, features_in_step=7, ties=ties)[1],
                      lambda ties: ordered_curves(model, images, maps, targets, insert=True, ties=ties)[1],
                      lambda ties: road_curves(model, images, maps, targets, percentages=[0.01, 0.02, 0.5],
                                               ties=ties)[1],
                      lambda ties: relevance_rank_accuracy(maps, masks, ties=ties),
                      lambda ties: top_k_intersection(maps, masks, 17, ties=ties)):
        np.testing.assert_array_equal(ties_free("block"), ties_free("reference"))


# ---------------------------------------------------------------- AIC/SIC: already order-free
def test_pic_threshold_masks_keep_or_drop_a_tied_group_whole():
    maps = grouped_maps(2).astype(np.float32)
    masks = _threshold_masks(maps, np.zeros(maps.shape, bool), np.array([0.1, 0.3, 0.5, 0.8]))
    for i in range(2):
        for mask in masks[i]:
            for value in np.unique(maps[i]):
                inside = mask[maps[i] == value]
                assert inside.all() or not inside.any()  # a threshold of values: no order of ties enters


# ------------------------------------------------------------------- (d) tie_fraction in the rows
def test_tie_fraction_is_in_the_rows_and_the_summary_when_a_ranked_metric_runs(tmp_path):
    from xai_tf import data as xai_data
    from xai_tf.evaluation import evaluate

    data = xai_data.load("synthetic", n=2, image_size=16, seed=0)
    model = tiny_cnn(input_shape=(16, 16, 1), num_classes=2)
    summary = evaluate(model, data, "gradcam", ["relevance_rank_accuracy", "sparseness"], tmp_path / "a", verbose=0)
    rows = [json.loads(line) for line in (tmp_path / "a" / "results.jsonl").read_text().splitlines()]
    maps = np.load(next((tmp_path / "a").rglob("*.npz")))["maps"]
    np.testing.assert_allclose([row["tie_fraction"] for row in rows], tie_fractions(maps))
    assert max(row["tie_fraction"] for row in rows) > 0  # Grad-CAM's upsampled maps hold ties
    assert summary["tie_fraction"]["gradcam"] == pytest.approx(np.mean(tie_fractions(maps)))
    assert "tie_fraction" not in summary["metrics"]
    evaluate(model, data, "gradcam", ["sparseness"], tmp_path / "b", verbose=0)
    assert all("tie_fraction" not in json.loads(line)
               for line in (tmp_path / "b" / "results.jsonl").read_text().splitlines())


def test_findings_flag_methods_whose_maps_are_much_tied():
    rows = [{"image": i, "method": method, "deletion": 0.1 * i, "tie_fraction": fraction}
            for i in range(12) for method, fraction in (("random", 0.0), ("gradcam", 0.33), ("saliency", 0.02))]
    warnings = compute_findings(rows)["warnings"]
    assert any("gradcam: ties decide" in line and "0.33" in line for line in warnings)
    assert not any("saliency: ties" in line or "random: ties" in line for line in warnings)
