"""Metrics that re-run the method (Avg-Sensitivity, Local Lipschitz, Random Logit, Focus) and Quantus'
axiomatic metrics (Completeness, Non-Sensitivity), against a per-image loop of Quantus' arithmetic on the
same draws."""
from __future__ import annotations

import keras
import numpy as np
import pytest
from conftest import tiny_cnn
from skimage.metrics import structural_similarity

from xai_tf import explain
from xai_tf.metrics.axiomatic.axioms import completeness, non_sensitivity
from xai_tf.metrics.chunk import Chunk
from xai_tf.metrics.localisation.focus import FOCUS, focus_of_maps, mosaics, shrink
from xai_tf.metrics.randomisation.random_logit import random_logit
from xai_tf.metrics.robustness.quantus_robustness import avg_sensitivity, local_lipschitz_estimate


def grey(n, size=16, seed=0):
    return np.random.default_rng(seed).random((n, size, size, 1), dtype=np.float32)


def one_map(model, image, target):
    return explain(model, image[None], "vanilla_gradient", np.array([target]), verbose=0)[0].astype(np.float64)


def test_avg_sensitivity_and_local_lipschitz_equal_a_per_sample_loop():
    model, images, targets = tiny_cnn(input_shape=(16, 16, 1), num_classes=3), grey(2), np.array([1, 2])
    avg = avg_sensitivity(model, images, "vanilla_gradient", targets, n_samples=3, lower_bound=0.2, seed=4,
                          indices=[5, 8])
    lip = local_lipschitz_estimate(model, images, "vanilla_gradient", targets, n_samples=3, std=0.1, seed=4,
                                   indices=[5, 8])
    for got_avg, got_lip, image, target, index in zip(avg, lip, images, targets, [5, 8]):
        a = one_map(model, image, target)
        noise = np.random.default_rng([4, index]).uniform(-0.2, 0.2, (3,) + image.shape)
        ratios = [np.linalg.norm(a - one_map(model, np.clip(image + z, 0, 1).astype(np.float32), target))
                  / np.linalg.norm(a) for z in noise]
        assert got_avg == pytest.approx(np.mean(ratios), rel=1e-4)
        noise = np.random.default_rng([4, index]).normal(0, 0.1, (3,) + image.shape)
        a = a / np.abs(a).max()
        quotients = []
        for z in noise:
            copy = np.clip(image + z, 0, 1).astype(np.float32)
            b = one_map(model, copy, target)
            quotients.append(np.linalg.norm(a - b / np.abs(b).max()) / (np.linalg.norm(image - copy) + 1e-10))
        assert got_lip == pytest.approx(max(quotients), rel=1e-4)
    with pytest.raises(ValueError, match="lower_bound"):
        avg_sensitivity(model, images, "vanilla_gradient", lower_bound=0)


def test_random_logit_is_the_flat_ssim_to_another_class():
    model, images, targets = tiny_cnn(input_shape=(16, 16, 1), num_classes=4), grey(3, seed=1), np.array([0, 3, 1])
    values, others = random_logit(model, images, "vanilla_gradient", targets, seed=2, indices=[0, 1, 2])
    assert np.all(others != targets)
    for value, image, target, other, index in zip(values, images, targets, others, range(3)):
        classes = [c for c in range(4) if c != target]
        assert other == classes[np.random.default_rng([2, index]).integers(0, 3)]
        a, b = one_map(model, image, target), one_map(model, image, other)
        a, b = (a / np.abs(a).max()).ravel(), (b / np.abs(b).max()).ravel()
        both = np.concatenate([a, b])
        assert value == pytest.approx(structural_similarity(a, b, data_range=both.max() - both.min()), abs=1e-5)
    binary = tiny_cnn(input_shape=(16, 16, 1), head="sigmoid")
    _, others = random_logit(binary, images, "vanilla_gradient", np.array([0, 1, 1]))
    np.testing.assert_array_equal(others, [1, 0, 0])  # one sigmoid unit: the other class is the opposite one


def linear_model(weights):
    """Dense(2, softmax) on the flattened grey image: logit_c = sum(w_c * x) exactly."""
    size = weights.shape[1]
    inputs = keras.Input((size, size, 1))
    outputs = keras.layers.Dense(2, activation="softmax", name="predictions")(keras.layers.Flatten()(inputs))
    model = keras.Model(inputs, outputs)
    model.get_layer("predictions").set_weights([weights.reshape(2, -1).T.astype(np.float32), np.zeros(2, np.float32)])
    return model


def test_completeness_gap_is_zero_for_gradient_times_input_of_a_linear_model():
    weights = np.random.default_rng(0).normal(size=(2, 8, 8))
    model, images, targets = linear_model(weights), grey(2, size=8), np.array([0, 1])
    minimum = images.reshape(2, -1).min(axis=1)[:, None, None]
    exact_maps = weights[targets] * (images[..., 0] - minimum)  # sums to logit(x) - logit(black) exactly
    _, gap = completeness(model, images, exact_maps, targets, normalise=False)
    np.testing.assert_allclose(gap, 0.0, atol=1e-5)
    _, gap_scaled = completeness(model, images, 2 * exact_maps, targets, normalise=False)
    np.testing.assert_allclose(gap_scaled, 1.0, atol=1e-5)
    exact, _ = completeness(model, images, exact_maps, targets)  # Quantus: normalised maps, exact equality
    assert not exact.any()


def test_non_sensitivity_equals_quantus_loop():
    weights = np.zeros((2, 8, 8))
    weights[:, :, 4:] = np.random.default_rng(1).normal(size=(2, 8, 4)) * 3  # the model reads the right half
    model, images, targets = linear_model(weights), grey(2, size=8, seed=3), np.array([1, 0])
    maps = np.zeros((2, 8, 8), np.float32)
    maps[0, :, 4:] = 1.0                           # the right half: as the model
    maps[1, :, :4] = 1.0                           # the wrong half
    got = non_sensitivity(model, images, maps, targets)
    for value, image, saliency, target in zip(got, images, maps, targets):
        a = np.abs(saliency / np.abs(saliency).max()).ravel()
        base = np.asarray(model(image[None]))[0, target]
        disagree = 0
        for p in range(64):
            copy = image.reshape(-1).copy()
            copy[p] = image.min()
            unchanged = abs(base - np.asarray(model(copy.reshape(1, 8, 8, 1)))[0, target]) < 1e-5
            disagree += int(unchanged != (a[p] < 1e-5))
        assert value == disagree
    assert got[0] <= 1 and got[1] >= 62  # only the image's darkest pixel, if on the right, can disagree
    # 32 pixels per group: the quiet half goes at once, then the other half
    np.testing.assert_array_equal(non_sensitivity(model, images, maps, targets, features_in_step=32), [0, 64])


def test_focus_mosaics_and_score():
    images, targets = grey(4, size=8, seed=2), np.array([0, 0, 1, 2])
    tiles, flags = mosaics(images, targets, seed=1, indices=np.arange(4))
    small = shrink(images)
    np.testing.assert_allclose(small[0, 0, 0], images[0, :2, :2].mean(axis=(0, 1)))
    for i in range(4):
        quadrants = [tiles[i, :4, :4], tiles[i, :4, 4:], tiles[i, 4:, :4], tiles[i, 4:, 4:]]
        assert any(np.allclose(q, small[i]) for q in quadrants)  # the image itself is in its mosaic
        assert flags[i].sum() >= 1
    assert flags[0].sum() == 2  # image 0 has one partner of its class (image 1) and two of other classes
    maps = np.zeros((1, 8, 8))
    maps[0, :4, :4], maps[0, 4:, 4:], maps[0, :4, 4:] = 3.0, 1.0, -5.0
    assert focus_of_maps(maps, np.array([[True, False, False, False]]))[0] == pytest.approx(3 * 16 / (4 * 16))
    model = tiny_cnn(input_shape=(8, 8, 1), num_classes=3)
    chunk = Chunk(model=model, method="vanilla_gradient", images=images, indices=np.arange(4), targets=targets,
                  maps=np.zeros((4, 8, 8)), seed=1, chunk_seed=0, batch_size=8)
    columns, arrays = FOCUS.score(chunk, {})
    assert all(0 <= v <= 1 for v in columns["focus"])
    np.testing.assert_array_equal(arrays["focus_quadrants"], flags)
    with pytest.raises(ValueError, match="even"):
        FOCUS.check_shape({}, (7, 8, 1))
