"""``blur="exact"`` PIC equals PAIR's reference code (saliency 0.2.1) to 1e-6.

PAIR's ``compute_pic_metric`` / ``aggregate_individual_pic_results`` run here unchanged except for
``np.trapz`` (removed in NumPy 2; put back as ``np.trapezoid`` by monkeypatch) and, for
``entropy="shannon"``, its entropy estimator replaced by paper 004's histogram entropy (what the
paper's published code does). Both sides get the same 8-bit image, map, random mask and targets.
"""
from __future__ import annotations

import numpy as np
import pytest
from saliency.metrics import pic as reference
from test_pic import REGION, SIZE, blob_images, region_model

from xai_tf.metrics.information_curves import blur as blurring
from xai_tf.metrics.information_curves import information
from xai_tf.metrics.information_curves.pic import pic

THRESHOLDS = (0.005, 0.02, 0.05, 0.1, 0.21, 0.34, 0.5, 0.75)


@pytest.fixture(autouse=True)
def numpy2_trapz(monkeypatch):
    monkeypatch.setattr(np, "trapz", np.trapezoid, raising=False)


@pytest.mark.parametrize("channels", [3, 1])
def test_exact_blur_equals_pair_create_blurred_image(channels):
    rng = np.random.default_rng(0)
    image = (rng.random((24, 30, channels)) * 255).astype(np.uint8)
    for fraction in (0.0, 0.01, 0.1, 0.4, 0.8, 0.99):
        mask = rng.random((24, 30)) < fraction
        expected = reference.create_blurred_image(image[..., 0] if channels == 1 else image, mask)
        got = blurring.blur_exact_one(image, mask)
        np.testing.assert_array_equal(got[..., 0] if channels == 1 else got, expected)


@pytest.mark.parametrize("entropy, kind", [("webp", "sic"), ("shannon", "sic"), ("webp", "aic")])
def test_exact_pic_equals_pair_compute_pic_metric(monkeypatch, entropy, kind):
    model = region_model(SIZE, REGION)
    images = blob_images(6, SIZE, REGION, seed=7)
    rng = np.random.default_rng(1)
    maps = rng.random((6, SIZE, SIZE)).astype(np.float32)
    maps[:3] += np.pad(np.ones((16, 16), np.float32), 8)  # half the maps informative
    ours = pic(model, images, maps, kind=kind, entropy=entropy, blur="exact", thresholds=THRESHOLDS,
               min_pred_value=0.6, verbose=0)
    assert ours.num_included >= 3  # the comparison covers real curves

    if entropy == "shannon":
        monkeypatch.setattr(reference, "estimate_image_entropy", information.histogram_entropy)
    pixels = np.round(images.astype(np.float64) * 255).astype(np.uint8)
    results = []
    for i in range(len(images)):
        def predict(batch, target=ours.targets[i]):
            probabilities = model.predict_on_batch(batch.astype(np.float32) / np.float32(255)).astype(np.float64)
            if kind == "aic":
                return (np.argmax(probabilities, axis=1) == target).astype(np.float64)
            return probabilities[:, target]
        try:
            expected = reference.compute_pic_metric(pixels[i], maps[i], ours.random_masks[i], predict,
                                                    list(THRESHOLDS), min_pred_value=0.6)
        except reference.ComputePicMetricError:
            assert ours.excluded[i] is not None
            continue
        assert ours.excluded[i] is None
        results.append(expected)
        np.testing.assert_allclose(ours.curve_x, expected.curve_x, atol=0)
        np.testing.assert_allclose(ours.curves[i], expected.curve_y, atol=1e-6)
        assert abs(ours.aucs[i] - expected.auc) <= 1e-6
        np.testing.assert_allclose(ours.scores[i], expected.predictions, atol=1e-6)
    assert len(results) == ours.num_included
    aggregated = reference.aggregate_individual_pic_results(results, method="median")
    np.testing.assert_allclose(ours.curve, aggregated.curve_y, atol=1e-6)
    assert abs(ours.auc - aggregated.auc) <= 1e-6
