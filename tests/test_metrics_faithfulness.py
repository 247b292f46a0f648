"""Quantus' faithfulness family against its arithmetic written out by hand (one model call per step, as
``quantus.metrics.faithfulness`` loops), on tiny grey models (Quantus' features are pixels there)."""
from __future__ import annotations

import keras
import numpy as np
import pytest
from conftest import tiny_cnn
from scipy import stats

from xai_tf.metrics.chunk import Chunk
from xai_tf.metrics.faithfulness.correlation import faithfulness_correlation
from xai_tf.metrics.faithfulness.infidelity import infidelity
from xai_tf.metrics.faithfulness.pixel_flipping import MONOTONICITY, PIXEL_FLIPPING, ordered_curves
from xai_tf.metrics.faithfulness.sufficiency import sufficiency


def grey_images(n, size=16, seed=0):
    return np.random.default_rng(seed).random((n, size, size, 1), dtype=np.float32)


def untied(n, size, seed=3):
    return (np.random.default_rng(seed).permutation(n * size * size).reshape(n, size, size) - 50).astype(np.float32)


def probability(model, images, targets):
    out = np.asarray(model(images), np.float64)
    return out[np.arange(len(targets)), targets]


def logits(model, images, targets):
    """The pre-softmax score, computed independently of the model head: features @ W + b."""
    features = keras.Model(model.inputs, model.get_layer("flatten").output)({"image": images})
    kernel, bias = model.get_layer("predictions").get_weights()
    out = np.asarray(features, np.float64) @ kernel + bias
    return out[np.arange(len(targets)), targets]


def quantus_pixel_flipping(model, images, maps, targets, step):
    """PixelFlipping.evaluate_batch (one image per call): normalise_by_max, argsort(-a), cumulative black."""
    curves = []
    for x, a, y in zip(images, maps, targets):
        a = (a / np.abs(a).max()).reshape(-1)
        order = np.argsort(-a)
        flat = x.reshape(-1).copy()
        preds = []
        for k in range(int(np.ceil(len(a) / step))):
            flat[order[k * step:(k + 1) * step]] = flat.min()
            preds.append(probability(model, flat.reshape(1, *x.shape), [y])[0])
        curves.append(preds)
    return np.array(curves)


def test_pixel_flipping_equals_quantus():
    model = tiny_cnn(input_shape=(16, 16, 1), num_classes=3)
    images, maps, targets = grey_images(2), untied(2, 16), np.array([1, 2])
    x, curves = ordered_curves(model, images, maps, targets, features_in_step=4)
    expected = quantus_pixel_flipping(model, images, maps, targets, 4)
    np.testing.assert_allclose(curves, expected, atol=2e-6)
    assert curves.shape == (2, 64) and x[0] == 4 / 256 and x[-1] == 1.0
    chunk = Chunk(model=model, method="m", images=images, indices=np.arange(2), targets=targets, maps=maps, seed=0,
                  chunk_seed=0, batch_size=50)
    columns, arrays = PIXEL_FLIPPING.score(chunk, {"pixel_flipping_features_in_step": 4,
                                                   "pixel_flipping_baseline": "black"})
    # Quantus' AUC: np.trapz(curve, dx=1)
    np.testing.assert_allclose(columns["pixel_flipping"], [np.trapezoid(c, dx=1) for c in expected], atol=1e-4)
    assert arrays["curve_pixel_flipping"].shape == (2, 64)
    with pytest.raises(ValueError, match="pixel_flipping_features_in_step"):
        PIXEL_FLIPPING.check_shape({"pixel_flipping_features_in_step": 300}, (16, 16, 1))


def test_pixel_flipping_one_pixel_per_step_on_a_real_image():
    from sklearn.datasets import load_digits

    images = (load_digits().images[:2] / 16).astype(np.float32)[..., None]
    model = tiny_cnn(input_shape=(8, 8, 1), num_classes=2, seed=1)
    maps = images[..., 0] + untied(2, 8) * 1e-5  # the ink itself, ties broken
    targets = np.array([0, 1])
    _, curves = ordered_curves(model, images, maps, targets)
    np.testing.assert_allclose(curves, quantus_pixel_flipping(model, images, maps, targets, 1), atol=2e-6)


def paper_monotonicity(model, images, maps, targets, step):
    """Arya et al.: insert pixels into the all-black image by increasing |a|; True if never decreasing."""
    out, curves = [], []
    for x, a, y in zip(images, maps, targets):
        order = np.argsort(np.abs(a / np.abs(a).max()).reshape(-1), kind="stable")
        flat = np.full(x.size, x.min(), np.float32)
        preds = []
        for k in range(int(np.ceil(x.size / step))):
            ids = order[k * step:(k + 1) * step]
            flat[ids] = x.reshape(-1)[ids]
            preds.append(probability(model, flat.reshape(1, *x.shape), [y])[0])
        curves.append(preds)
        out.append(int(np.all(np.diff(preds) >= 0)))
    return out, np.array(curves)


def test_monotonicity_is_the_papers_definition():
    model = tiny_cnn(input_shape=(16, 16, 1), num_classes=2)
    images, maps, targets = grey_images(2, seed=4), untied(2, 16, seed=8), np.array([0, 1])
    # these maps hold -k and +k, tied in |map|: the hand computation's stable order is ties="reference"
    _, curves = ordered_curves(model, images, maps, targets, features_in_step=32, insert=True, ties="reference")
    expected, expected_curves = paper_monotonicity(model, images, maps, targets, 32)
    np.testing.assert_allclose(curves, expected_curves, atol=2e-6)
    chunk = Chunk(model=model, method="m", images=images, indices=np.arange(2), targets=targets, maps=maps, seed=0,
                  chunk_seed=0, batch_size=64)
    got = MONOTONICITY.score(chunk, {"monotonicity_features_in_step": 32, "monotonicity_baseline": "black",
                                     "ties": "reference"})[0]
    assert got["monotonicity"] == expected
    # a model whose target probability grows with every pixel's value is monotone under any map
    inputs = keras.Input((16, 16, 1))
    out = keras.layers.Dense(2, activation="softmax", name="predictions")(keras.layers.Flatten(name="flatten")(inputs))
    increasing = keras.Model(inputs, out)
    increasing.get_layer("predictions").set_weights([np.stack([-np.ones(256), np.ones(256)], 1).astype(np.float32),
                                                     np.zeros(2, np.float32)])
    chunk.model, chunk.targets = increasing, np.array([1, 1])
    assert MONOTONICITY.score(chunk, {"monotonicity_features_in_step": 32,
                                      "monotonicity_baseline": "black"})[0]["monotonicity"] == [1, 1]


def test_faithfulness_correlation_equals_quantus_on_the_same_draws():
    model = tiny_cnn(input_shape=(16, 16, 1), num_classes=3)
    images, maps, targets = grey_images(2, seed=1), untied(2, 16, seed=5), np.array([2, 0])
    got = faithfulness_correlation(model, images, maps, targets, nr_runs=12, subset_size=40, seed=9, indices=[3, 7])
    for value, x, a, y, index in zip(got, images, maps, targets, [3, 7]):
        rng = np.random.default_rng([9, index])
        a = (a / np.abs(a).max()).reshape(-1)
        base = logits(model, x[None], [y])[0]
        deltas, sums = [], []
        for _ in range(12):
            ids = rng.choice(a.size, 40, replace=False)
            flat = x.reshape(-1).copy()
            flat[ids] = x.min()
            deltas.append(base - logits(model, flat.reshape(1, *x.shape), [y])[0])
            sums.append(a[ids].sum())
        assert value == pytest.approx(stats.pearsonr(sums, deltas)[0], abs=1e-5)
    with pytest.raises(ValueError, match="subset_size"):
        faithfulness_correlation(model, images, maps, targets, subset_size=256)


def quantus_infidelity(model, images, maps, targets, patch):
    out = []
    for x, a, y in zip(images, maps, targets):
        base = logits(model, x[None], [y])[0]
        perturbed = x.copy()
        losses = []
        for row in range(0, x.shape[0], patch):
            for col in range(0, x.shape[1], patch):
                perturbed[row:row + patch, col:col + patch] = x.min()
                delta = base - logits(model, perturbed[None], [y])[0]
                mass = np.sum(a[..., None] * (x - perturbed))
                losses.append((delta - mass) ** 2)
        out.append(np.mean(losses))
    return np.array(out)


def test_infidelity_equals_quantus():
    model = tiny_cnn(input_shape=(16, 16, 1), num_classes=3)
    images, targets = grey_images(2, seed=2), np.array([0, 1])
    maps = np.random.default_rng(0).normal(size=(2, 16, 16)).astype(np.float32)
    np.testing.assert_allclose(infidelity(model, images, maps, targets, patch_sizes=[4]),
                               quantus_infidelity(model, images, maps, targets, 4), rtol=1e-5)
    both = infidelity(model, images, maps, targets, patch_sizes=[4, 8])
    np.testing.assert_allclose(both, (quantus_infidelity(model, images, maps, targets, 4)
                                      + quantus_infidelity(model, images, maps, targets, 8)) / 2, rtol=1e-5)


def test_sufficiency_by_hand():
    maps = np.array([[[0.0, 1.0]], [[0.1, 0.9]], [[1.0, 0.0]], [[0.9, 0.2]]], np.float32)
    predicted = np.array([0, 0, 1, 0])
    flat = np.abs(maps.reshape(4, -1)) / np.abs(maps).max()
    variance = np.var(np.vstack([flat, flat]), axis=0, ddof=1)
    distances = np.sqrt((((flat[:, None] - flat[None]) ** 2) / variance).sum(-1))
    alike = (distances / distances.max() <= 0.6) & ~np.eye(4, dtype=bool)
    expected = [(alike[i] & (predicted == predicted[i])).sum() / alike[i].sum() if alike[i].any() else 0.0
                for i in range(4)]
    np.testing.assert_allclose(sufficiency(maps, predicted), expected)
    assert expected == [1.0, 1.0, 0.0, 0.0]


def test_sufficiency_shares_with_several_neighbours():
    # three alike maps (two of class 0, one of class 1) and two far ones: the alike maps' shares are fractions
    maps = np.array([[[0.0, 1.0, 0.0]], [[0.0, 0.98, 0.02]], [[0.02, 1.0, 0.0]], [[1.0, 0.0, 0.0]],
                     [[0.0, 0.0, 1.0]]], np.float32)
    predicted = np.array([0, 0, 1, 0, 1])
    flat = np.abs(maps.reshape(5, -1)) / np.abs(maps).max()
    variance = np.var(np.vstack([flat, flat]), axis=0, ddof=1)
    distances = np.sqrt((((flat[:, None] - flat[None]) ** 2) / variance).sum(-1))
    alike = (distances / distances.max() <= 0.6) & ~np.eye(5, dtype=bool)
    assert alike[:3].sum(axis=1).tolist() == [2, 2, 2]  # the case the test is for
    expected = [(alike[i] & (predicted == predicted[i])).sum() / alike[i].sum() if alike[i].any() else 0.0
                for i in range(5)]
    np.testing.assert_allclose(sufficiency(maps, predicted), expected)
    assert expected[:3] == [0.5, 0.5, 0.0]


def test_subset_and_step_sizes_are_checked_against_the_image_size():
    from xai_tf.metrics.registry import METRICS

    correlation, flipping = METRICS["faithfulness_correlation"], METRICS["pixel_flipping"]
    correlation.check_shape({"faithfulness_correlation_subset_size": 63}, (8, 8, 1))  # 64 pixels: a subset of 63
    with pytest.raises(ValueError, match="faithfulness_correlation_subset_size"):
        correlation.check_shape({"faithfulness_correlation_subset_size": 64}, (8, 8, 1))
    flipping.check_shape({"pixel_flipping_features_in_step": 24}, (4, 6, 1))  # every pixel in one step
    with pytest.raises(ValueError, match="exceeds the 24 pixels"):
        flipping.check_shape({"pixel_flipping_features_in_step": 25}, (4, 6, 1))
