"""ROAD and IROF against Quantus' arithmetic written out by hand (dense solves, one model call per step)."""
from __future__ import annotations

import numpy as np
import pytest
from conftest import tiny_cnn

from xai_tf.metrics.chunk import Chunk
from xai_tf.metrics.faithfulness.irof import IROF, area_over_curves, irof_curves, superpixels
from xai_tf.metrics.faithfulness.road import ROAD, noisy_linear_imputation, road_curves

WEIGHTS = {(1, 1): 1 / 12, (0, 1): 1 / 6, (-1, 1): 1 / 12, (1, -1): 1 / 12, (0, -1): 1 / 6, (-1, -1): 1 / 12,
           (1, 0): 1 / 6, (-1, 0): 1 / 6}


def dense_imputation(image, removed):
    """Solve 'each removed pixel = weighted mean of its valid neighbours' densely, pixel by pixel."""
    h, w, c = image.shape
    removed = list(removed)
    position = {p: k for k, p in enumerate(removed)}
    a = np.zeros((len(removed), len(removed)))
    b = np.zeros((len(removed), c))
    for k, p in enumerate(removed):
        row, col = divmod(p, w)
        total = 0.0
        for (dr, dc), weight in WEIGHTS.items():
            r, cc = row + dr, col + dc
            if 0 <= r < h and 0 <= cc < w:
                total += weight
                q = r * w + cc
                if q in position:
                    a[k, position[q]] -= weight
                else:
                    b[k] += weight * image[r, cc]
        a[k, k] += total
    out = image.reshape(-1, c).astype(np.float64).copy()
    out[removed] = np.linalg.solve(a, b)
    return out.reshape(image.shape)


def test_noisy_linear_imputation_solves_the_neighbour_system():
    image = np.random.default_rng(0).random((7, 6, 2)).astype(np.float32)
    removed = np.array([0, 1, 7, 8, 20, 41])  # a corner block, a lone pixel, the last pixel
    got = noisy_linear_imputation(image, removed, 0.0, np.random.default_rng(0))
    np.testing.assert_allclose(got, dense_imputation(image, removed), atol=1e-6)
    kept = np.delete(np.arange(42), removed)
    np.testing.assert_array_equal(got.reshape(-1, 2)[kept], image.reshape(-1, 2)[kept])
    noisy = noisy_linear_imputation(image, removed, 0.5, np.random.default_rng(1))
    np.testing.assert_allclose(noisy.reshape(-1, 2)[removed] - got.reshape(-1, 2)[removed],
                               0.5 * np.random.default_rng(1).standard_normal((6, 2)), atol=1e-6)


def test_road_equals_quantus_on_the_same_noise():
    model = tiny_cnn(input_shape=(8, 8, 1), num_classes=2, seed=2)
    images = np.random.default_rng(3).random((2, 8, 8, 1), dtype=np.float32)
    maps = np.random.default_rng(4).normal(size=(2, 8, 8)).astype(np.float32)
    targets = np.array([0, 1])
    percentages = [0.1, 0.3, 0.5, 0.9]
    x, curves = road_curves(model, images, maps, targets, percentages=percentages, noise=0.01, seed=5,
                            indices=[2, 6])
    for curve, image, saliency, target, index in zip(curves, images, maps, targets, [2, 6]):
        rng = np.random.default_rng([5, index])
        order = np.argsort(-saliency.reshape(-1))
        expected = []
        for p in percentages:
            removed = order[:int(64 * p)]
            imputed = dense_imputation(image, removed).reshape(-1, 1)
            imputed[removed] += 0.01 * rng.standard_normal((len(removed), 1))
            predicted = np.argmax(np.asarray(model(imputed.reshape(1, 8, 8, 1).astype(np.float32)))[0])
            expected.append(float(predicted == target))
        np.testing.assert_array_equal(curve, expected)
    np.testing.assert_array_equal(x, percentages)
    chunk = Chunk(model=model, method="m", images=images, indices=np.array([2, 6]), targets=targets, maps=maps,
                  seed=5, chunk_seed=0, batch_size=8)
    columns, arrays = ROAD.score(chunk, {"road_percentages": percentages, "road_noise": 0.01})
    np.testing.assert_allclose(columns["road"], curves.mean(axis=1))
    np.testing.assert_array_equal(arrays["curve_road"], curves)


@pytest.mark.parametrize("bad", [[0.0, 0.5], [0.5, 1.5], [0.5, 0.2], [], "a"])
def test_road_percentages_outside_0_1_are_named(bad):
    check = {option.name: option for option in ROAD.options}["road_percentages"].check
    with pytest.raises(ValueError, match="road_percentages"):
        check(bad)


def quantus_irof(model, images, maps, targets, segments):
    out, curves = [], []
    for x, a, y, s in zip(images, maps, targets, segments):
        a = a / np.abs(a).max()
        n = s.max() + 1
        order = np.argsort(-np.array([a[s == k].mean() for k in range(n)]), kind="stable")
        base = np.asarray(model(x[None]))[0, y]
        perturbed = x.copy()
        preds = []
        for k in order:
            perturbed = np.where((s == k)[..., None], perturbed.mean(), perturbed)
            preds.append(np.asarray(model(perturbed[None].astype(np.float32)))[0, y] / base)
        curves.append(preds)
        out.append(n - np.trapezoid(preds, dx=1))
    return np.array(out), curves


def test_irof_equals_quantus_with_given_segments():
    model = tiny_cnn(input_shape=(16, 16, 1), num_classes=3)
    images = np.random.default_rng(0).random((2, 16, 16, 1), dtype=np.float32)
    maps = np.random.default_rng(1).normal(size=(2, 16, 16)).astype(np.float32)
    targets = np.array([2, 1])
    grid = (np.arange(16)[:, None] // 4) * 4 + np.arange(16)[None] // 4  # 16 squares
    halves = np.repeat((np.arange(16) >= 8)[None].astype(int), 16, axis=0)  # 2 segments
    segments = np.stack([grid, halves])
    x, curves = irof_curves(model, images, maps, targets, segments=segments)
    expected, expected_curves = quantus_irof(model, images, maps, targets, segments)
    np.testing.assert_allclose(curves[0], expected_curves[0], rtol=1e-5)
    np.testing.assert_allclose(curves[1, :2], expected_curves[1], rtol=1e-5)
    assert np.isnan(curves[1, 2:]).all() and x.tolist() == list(range(1, 17))
    np.testing.assert_allclose(area_over_curves(curves), expected, atol=2e-5)  # n - trapz: float32 cancellation


def test_irof_on_a_real_image_with_slic_and_bad_segmentations():
    from skimage import data, transform

    camera = transform.resize(data.camera(), (32, 32), anti_aliasing=True).astype(np.float32)[None, ..., None]
    model = tiny_cnn(input_shape=(32, 32, 1), num_classes=2)
    labels = superpixels(camera[0])
    assert labels.min() == 0 and labels.max() >= 2
    maps = np.random.default_rng(0).normal(size=(1, 32, 32)).astype(np.float32)
    chunk = Chunk(model=model, method="m", images=camera, indices=np.arange(1), targets=np.array([0]), maps=maps,
                  seed=0, chunk_seed=0, batch_size=32)
    columns, _ = IROF.score(chunk, {"irof_segmentation": "slic"})
    expected, _ = quantus_irof(model, camera, maps, np.array([0]), labels[None])
    assert columns["irof"][0] == pytest.approx(expected[0], abs=5e-5)  # n - trapz of float32 ratios
    with pytest.raises(ValueError, match="irof_segmentation"):
        IROF.check_shape({"irof_segmentation": "slic"}, (1, 1, 1))
    with pytest.raises(ValueError, match="segments"):
        irof_curves(model, camera, maps, [0], segments=np.zeros((1, 32, 32), int))
    with pytest.raises(ValueError, match="segmentation"):
        irof_curves(model, camera, maps, [0], segmentation="grid")


def test_irof_gives_nan_to_an_image_slic_leaves_in_one_piece():
    # SLIC (scikit-image defaults, as Quantus) leaves 64 px RGB uniform noise in one segment
    model = tiny_cnn(input_shape=(64, 64, 3), num_classes=2)
    images = np.random.default_rng(0).random((2, 64, 64, 3), dtype=np.float32)
    images[1, :32] *= 0.2  # two clear regions
    maps = np.random.default_rng(1).normal(size=(2, 64, 64)).astype(np.float32)
    labels = [superpixels(image) for image in images]
    assert labels[0].max() == 0 and labels[1].max() >= 1
    _, curves = irof_curves(model, images, maps, np.array([0, 1]))
    scores = area_over_curves(curves)
    assert np.isnan(scores[0]) and np.isfinite(scores[1]) and np.isnan(curves[0]).all()
