"""Xplique's fidelity metrics against Xplique's arithmetic written out by hand (a per-step loop as
``xplique.metrics.fidelity`` computes it), on tiny models, a sigmoid unit, a nested model and a real image."""
from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import random_images, tiny_cnn, tiny_nested
from scipy import stats

from xai_tf.metrics.chunk import Chunk
from xai_tf.metrics.faithfulness.fidelity import (
    AVERAGE_DROP,
    DELETION,
    INSERTION,
    average_drop_increase_gain,
    causal_curves,
    grid_subsets,
    mean_trapezoid,
    mu_fidelity,
)


def class_probability(model, images, targets):
    """f(x)[y] as Xplique reads it, with a single sigmoid unit read as (1 - p, p)."""
    out = np.asarray(model(images), dtype=np.float64)
    if out.shape[1] == 1:
        out = np.concatenate([1 - out, out], axis=1)
    return out[np.arange(len(targets)), targets]


def xplique_causal(model, images, maps, targets, mode, steps=10, max_percentage=1.0, baseline=0.0):
    """Xplique's CausalFidelity.detailed_evaluate, per image: the curve at each of its steps."""
    n, h, w, c = images.shape
    features = h * w
    flat = images.reshape(n, features, c)
    order = np.argsort(maps.reshape(n, -1), axis=-1)[:, ::-1]
    base = np.full_like(flat, baseline)
    start, end = (flat, base) if mode == "deletion" else (base, flat)
    largest = int(np.floor(features * max_percentage))
    curves = []
    for step in np.linspace(0, largest, steps + 1, dtype=np.int32):
        batch = start.copy()
        for i, ids in enumerate(order[:, :step]):
            batch[i, ids] = end[i, ids]
        curves.append(class_probability(model, batch.reshape(images.shape), targets))
    return np.stack(curves, axis=1)


def untied_maps(n, size, seed=3):
    return np.random.default_rng(seed).permutation(n * size * size).reshape(n, size, size).astype(np.float32)


@pytest.mark.parametrize("mode", ["deletion", "insertion"])
def test_causal_curves_equal_xplique_on_a_softmax_cnn(mode):
    model, images, maps = tiny_cnn(), random_images(3), untied_maps(3, 32)
    targets = np.array([0, 2, 1])
    x, curves = causal_curves(model, images, maps, targets, mode=mode, steps=7, max_fraction=0.6, baseline=0.25)
    expected = xplique_causal(model, images, maps, targets, mode, steps=7, max_percentage=0.6, baseline=0.25)
    np.testing.assert_allclose(curves, expected, atol=2e-6)
    np.testing.assert_array_equal(x, np.linspace(0, 614, 8, dtype=np.int32) / 1024)
    # Xplique's score: the AUC of the mean curve = the mean of the per-image AUCs
    reference_curve = expected.mean(axis=0)
    assert mean_trapezoid(curves).mean() == pytest.approx(np.mean(reference_curve[:-1] + reference_curve[1:]) * 0.5,
                                                          abs=1e-6)


def test_deletion_on_a_sigmoid_unit_and_a_nested_model_scores_p_or_one_minus_p():
    for model in (tiny_cnn(head="sigmoid"), tiny_nested(head="sigmoid")):
        images, maps, targets = random_images(2, seed=1), untied_maps(2, 32, seed=4), np.array([0, 1])
        _, curves = causal_curves(model, images, maps, targets, steps=4)
        np.testing.assert_allclose(curves, xplique_causal(model, images, maps, targets, "deletion", steps=4),
                                   atol=2e-6)


def test_deletion_and_insertion_on_a_real_image_order_a_faithful_map_first():
    # load_digits: 8x8 grey digits; a model that only reads the centre column block, so that a map
    # marking those pixels removes the evidence first (deletion low) and restores it first (insertion high).
    import keras
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = (digits.images[:6] / 16.0).astype(np.float32)[..., None]
    inputs = keras.Input((8, 8, 1))
    weights = np.zeros((64, 2), np.float32)
    centre = np.zeros((8, 8), bool)
    centre[:, 3:5] = True
    weights[centre.ravel(), 1], weights[centre.ravel(), 0] = 4.0, -4.0
    outputs = keras.layers.Dense(2, activation="softmax", name="out")(keras.layers.Flatten()(inputs))
    model = keras.Model(inputs, outputs)
    model.get_layer("out").set_weights([weights, np.zeros(2, np.float32)])
    targets = np.ones(6, np.int64)
    good = np.where(centre, 1.0, 0.0)[None].repeat(6, 0) + untied_maps(6, 8) * 1e-4
    bad = np.where(centre, 0.0, 1.0)[None].repeat(6, 0) + untied_maps(6, 8) * 1e-4
    deletion = {name: mean_trapezoid(causal_curves(model, images, m, targets, steps=-1)[1])
                for name, m in (("good", good), ("bad", bad))}
    insertion = {name: mean_trapezoid(causal_curves(model, images, m, targets, mode="insertion", steps=-1)[1])
                 for name, m in (("good", good), ("bad", bad))}
    assert np.all(deletion["good"] < deletion["bad"]) and np.all(insertion["good"] > insertion["bad"])
    expected = xplique_causal(model, images, good.astype(np.float32), targets, "deletion", steps=64)
    np.testing.assert_allclose(causal_curves(model, images, good, targets, steps=-1)[1], expected, atol=2e-6)


def test_ties_go_in_row_major_order_under_ties_reference():
    # deliberately pinned to ties="reference" since issue 28: the default ("block") is order-free
    model, images = tiny_cnn(), random_images(1)
    maps = np.zeros((1, 32, 32), np.float32)  # every pixel tied: the first k pixels in row-major order go first
    _, curves = causal_curves(model, images, maps, np.array([1]), steps=4, ties="reference")
    for k, value in zip(np.linspace(0, 1024, 5, dtype=np.int32), curves[0]):
        copy = images.copy().reshape(1, 1024, 3)
        copy[0, :k] = 0.0
        assert value == pytest.approx(class_probability(model, copy.reshape(images.shape), [1])[0], abs=2e-6)
    # the default: one tied group of 1024 pixels, so the curve is the line from the image to the baseline
    _, block = causal_curves(model, images, maps, np.array([1]), steps=4)
    np.testing.assert_allclose(block[0], curves[0, 0] + np.linspace(0, 1, 5) * (curves[0, -1] - curves[0, 0]))


@pytest.mark.parametrize(("kwargs", "match"), [({"steps": 0}, "steps"), ({"steps": 2.5}, "steps"),
                                               ({"max_fraction": 0.0}, "max_fraction"),
                                               ({"max_fraction": 1.5}, "max_fraction"),
                                               ({"baseline": "grey"}, "baseline"), ({"mode": "both"}, "mode")])
def test_bad_arguments_are_named(kwargs, match):
    with pytest.raises((TypeError, ValueError), match=match):
        causal_curves(tiny_cnn(), random_images(1), np.zeros((1, 32, 32)), **kwargs)


def test_bad_options_are_named_by_the_option():
    checks = {option.name: option.check for option in DELETION.options + INSERTION.options}
    for name, value in [("deletion_steps", 0), ("insertion_steps", -2), ("deletion_max_fraction", 0),
                        ("insertion_max_fraction", 1.01), ("deletion_baseline", "grey")]:
        with pytest.raises((TypeError, ValueError), match=name):
            checks[name](value)
    assert checks["deletion_steps"](-1) == -1


def xplique_mufidelity(model, images, maps, targets, subsets, baseline=0.0):
    """Xplique's MuFidelity.evaluate per image, on the given 0/1 'kept' subsets (N, S, H, W)."""
    out = []
    for i in range(len(images)):
        base = class_probability(model, images[i:i + 1], targets[i:i + 1])[0]
        masks = subsets[i][..., None].astype(np.float32)
        degraded = images[i][None] * masks + (1 - masks) * baseline
        drops = base - class_probability(model, degraded, np.repeat(targets[i], len(masks)))
        attrs = np.sum(maps[i][None] * (1.0 - subsets[i]), axis=(1, 2))
        value = stats.spearmanr(drops, attrs)[0]
        out.append(0.0 if np.isnan(value) else value)
    return np.array(out)


def test_mufidelity_equals_xplique_on_the_same_subsets():
    model, images, maps, targets = tiny_cnn(), random_images(2), untied_maps(2, 32), np.array([2, 0])
    got = mu_fidelity(model, images, maps, targets, n_samples=30, grid_size=5, seed=11, indices=[4, 9])
    subsets = np.stack([grid_subsets(30, 5, 0.2, 32, 32, np.random.default_rng([11, i])) for i in (4, 9)])
    np.testing.assert_allclose(got, xplique_mufidelity(model, images, maps, targets, subsets), atol=1e-9)
    # Xplique's cells: 5x5 cells resized by nearest neighbour, about 20 % removed
    assert set(np.unique(subsets)) == {0, 1} and 0.1 < 1 - subsets.mean() < 0.3
    assert np.all(subsets[0, :, :6, :6] == subsets[0, :, :1, :1])  # one cell of 32/5 px is constant
    # a map equal to the model's own drop per subset correlates perfectly; the image at a new index draws anew
    again = mu_fidelity(model, images, maps, targets, n_samples=30, grid_size=5, seed=11, indices=[4, 10])
    assert again[0] == got[0] and again[1] != got[1]


def test_average_drop_increase_gain_equal_xplique():
    model, images, targets = tiny_cnn(), random_images(4, seed=2), np.array([0, 1, 2, 0])
    maps = np.random.default_rng(0).normal(size=(4, 32, 32)).astype(np.float32)
    got = average_drop_increase_gain(model, images, maps, targets)
    mask = np.abs(maps)
    mask = (mask - mask.min(axis=(1, 2), keepdims=True)) / (
        mask.max(axis=(1, 2), keepdims=True) - mask.min(axis=(1, 2), keepdims=True) + 1e-8)
    base = class_probability(model, images, targets)
    after = class_probability(model, images * mask[..., None], targets)
    np.testing.assert_allclose(got["average_drop"], np.maximum(base - after, 0) / (base + 1e-8), atol=1e-6)
    np.testing.assert_array_equal(got["average_increase"], (after > base).astype(float))
    np.testing.assert_allclose(got["average_gain"], np.maximum(after - base, 0) / (1 - base + 1e-8), atol=1e-6)
    assert got["average_increase"].sum() not in (0, 4) or np.any(got["average_drop"] > 0)


def test_metric_objects_write_columns_and_curves():
    model, images, maps = tiny_cnn(), random_images(2), untied_maps(2, 32)
    chunk = Chunk(model=model, method="toy", images=images, indices=np.array([0, 1]), targets=np.array([0, 1]),
                  maps=maps, seed=0, chunk_seed=0, batch_size=5)
    options = {option.name: option.default for option in DELETION.options}
    columns, arrays = DELETION.score(chunk, options)
    _, curves = causal_curves(model, images, maps, np.array([0, 1]))
    np.testing.assert_allclose(columns["deletion"], mean_trapezoid(curves), atol=1e-6)
    np.testing.assert_allclose(arrays["curve_deletion"], curves, atol=1e-6)  # batch size 5 vs 64: rounding
    assert arrays["curve_deletion_x"].shape == (11,)
    assert DELETION.direction == "lower" and INSERTION.direction == "higher" and AVERAGE_DROP.direction == "lower"
    entry, _ = DELETION.summarize("deletion", np.array(columns["deletion"]), lambda: [(0, arrays)])
    detail = DELETION.curve_detail(lambda: [(0, arrays)])
    assert entry["deletion"] == pytest.approx(np.mean(columns["deletion"]))
    np.testing.assert_allclose(detail["curve"], curves.mean(axis=0))
    json.dumps(detail)
