"""PIC (AIC/SIC): semantics, fast-vs-exact agreement, informative maps, scoring rules, bad input, figure.

The model used throughout depends on one image region (see ``region_model``): p(class 1) =
sigmoid(2 scale (mean brightness inside the region - bias)), so blurring the bright blob in the
region lowers the score and revealing it brings the score back, without any training.
Equality with PAIR's reference code is in ``test_pic_reference.py``.
"""
from __future__ import annotations

import json

import keras
import numpy as np
import pytest
import tensorflow as tf
from scipy.ndimage import gaussian_filter

from xai_tf.metrics.information_curves import blur as blurring
from xai_tf.metrics.information_curves import information
from xai_tf.metrics.information_curves.curves import PicResult
from xai_tf.metrics.information_curves.pic import pic
from xai_tf.metrics.information_curves.pic_options import PAIR_THRESHOLDS, draw_random_masks
from xai_tf.viz.curves import plot_pic

SIZE = 32
REGION = (SIZE // 4, 3 * SIZE // 4, SIZE // 4, 3 * SIZE // 4)
FEW = (0.02, 0.05, 0.1, 0.2, 0.4, 0.7)  # fewer thresholds where the test is not about them


def region_model(size, region, channels=3, scale=15.0, bias=0.3, head="softmax"):
    top, bottom, left, right = region
    inputs = keras.Input((size, size, channels))
    gray = keras.layers.Conv2D(1, 1, use_bias=False, name="gray")
    x = gray(inputs)
    x = keras.layers.Cropping2D(((top, size - bottom), (left, size - right)))(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    if head == "sigmoid":
        dense = keras.layers.Dense(1, activation="sigmoid", name="predictions")
        weights = [np.array([[2 * scale]], np.float32), np.array([-2 * scale * bias], np.float32)]
    else:
        dense = keras.layers.Dense(2, activation=None if head == "logits" else "softmax", name="predictions")
        weights = [np.array([[-scale, scale]], np.float32), np.array([scale * bias, -scale * bias], np.float32)]
    model = keras.Model(inputs, dense(x))
    gray.set_weights([np.full((1, 1, channels, 1), 1.0 / channels, np.float32)])
    dense.set_weights(weights)
    return model


def blob_images(n, size, region, seed=0, noise=0.03, sigma=0.1):
    """Dim smooth background, one bright Gaussian blob inside ``region``, mild pixel noise; [0, 1] float32."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size] / size
    top, bottom, left, right = region
    images = []
    for _ in range(n):
        image = 0.15 + 0.1 * (yy * rng.random() + xx * rng.random())[..., None] * rng.random(3)
        cy = (top + (bottom - top) * (0.3 + 0.4 * rng.random())) / size
        cx = (left + (right - left) * (0.3 + 0.4 * rng.random())) / size
        image = image + 0.8 * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * sigma ** 2))[..., None]
        images.append(np.clip(image + noise * rng.standard_normal((size, size, 3)), 0, 1))
    return np.stack(images).astype(np.float32)


def informative_maps(images, region):
    """Maps that rank the model's region first (smoothed brightness inside it, plus one)."""
    top, bottom, left, right = region
    maps = np.stack([gaussian_filter(image.mean(-1), 2) for image in images]).astype(np.float32)
    maps[:, top:bottom, left:right] += 1.0
    return maps


def region_case(n, size, region, seed):
    """A model that scores ``region``, ``n`` blob images of ``size`` pixels and their informative maps."""
    model = region_model(size, region)
    images = blob_images(n, size, region, seed=seed)
    return model, images, informative_maps(images, region)


@pytest.fixture(scope="module")
def model():
    return region_model(SIZE, REGION)


@pytest.fixture(scope="module")
def images():
    return blob_images(6, SIZE, REGION)


# ---------------------------------------------------------------------------------------------
# building blocks
# ---------------------------------------------------------------------------------------------
def test_shannon_entropy_matches_paper_code_and_hand_values():
    rng = np.random.default_rng(0)
    batch = [rng.integers(low, high, (12, 12, 3)).astype(np.uint8)
             for low, high in [(0, 256), (10, 20), (0, 129), (3, 200), (0, 2), (77, 78)]]
    batch = np.stack(batch)
    expected = [information.histogram_entropy(image) for image in batch]
    np.testing.assert_allclose(information.shannon_entropy(batch), expected, atol=1e-12)
    # Hand values: two equally frequent levels = 1 bit; four = 2 bits; a constant image = 0 bits.
    halves = np.zeros((1, 4, 4, 1), np.uint8)
    halves[0, :2] = 200
    quarters = np.repeat(np.array([0, 50, 100, 255], np.uint8), 4).reshape(1, 4, 4, 1)
    constant = np.full((1, 4, 4, 1), 9, np.uint8)
    np.testing.assert_allclose(information.shannon_entropy(np.concatenate([halves, quarters, constant])),
                               [1.0, 2.0, 0.0], atol=1e-12)
    # Float tensors holding 8-bit values (what blur_fast returns) give the same numbers.
    np.testing.assert_allclose(information.shannon_entropy(batch.astype(np.float32)), expected, atol=1e-12)


def test_webp_sizes_equal_pair_estimator_and_encode_each_distinct_image_once(monkeypatch):
    from saliency.metrics.pic import estimate_image_entropy

    rng = np.random.default_rng(1)
    distinct = (rng.random((3, 16, 16, 3)) * 255).astype(np.uint8)
    batch = distinct[[0, 1, 0, 2, 1, 0]]
    calls = []
    encode = information.webp_size
    monkeypatch.setattr(information, "webp_size", lambda image: calls.append(1) or encode(image))
    cache = {}
    sizes = information.webp_sizes(batch, cache=cache)
    assert len(calls) == 3
    np.testing.assert_array_equal(sizes, [estimate_image_entropy(image) for image in batch])
    information.webp_sizes(distinct, cache=cache)  # all seen before: nothing encoded again
    assert len(calls) == 3


def test_aic_after_sic_encodes_no_image_again_and_scores_the_same(monkeypatch, model, images):
    """SIC and AIC of the same maps blur the same images: the WebP sizes are shared across calls."""
    maps = informative_maps(images, REGION)
    alone = pic(model, images, maps, kind="aic", thresholds=FEW, verbose=0, seed=11)
    calls = []
    encode = information.webp_size
    monkeypatch.setattr(information, "webp_size", lambda image: calls.append(1) or encode(image))
    pic(model, images, maps, kind="sic", thresholds=FEW, verbose=0, seed=12)
    encoded_by_sic = len(calls)
    assert encoded_by_sic > 0
    after = pic(model, images, maps, kind="aic", thresholds=FEW, verbose=0, seed=12)
    assert len(calls) == encoded_by_sic  # every image AIC needs was measured by SIC
    again = pic(model, images, maps, kind="aic", thresholds=FEW, verbose=0, seed=11)
    np.testing.assert_array_equal(again.entropies, alone.entropies)
    np.testing.assert_array_equal(again.aucs, alone.aucs)
    assert not np.array_equal(after.entropies, alone.entropies, equal_nan=True)  # other masks, other images


def test_fast_blur_keeps_known_pixels_and_reproduces_constants():
    rng = np.random.default_rng(2)
    images = (rng.random((2, 20, 28, 3)) * 255).astype(np.uint8)
    images[1] = 123
    masks = rng.random((4, 20, 28)) < np.array([0.01, 0.3, 0.7, 0.05])[:, None, None]
    filled = blurring.blur_fast(images, masks, [0, 0, 0, 1])
    assert filled.dtype == np.uint8 and filled.shape == (4, 20, 28, 3)
    kept = blurring.with_corners(masks)
    for m, image in enumerate([0, 0, 0, 1]):
        np.testing.assert_array_equal(filled[m][kept[m]], images[image][kept[m]])
    np.testing.assert_array_equal(filled[3], 123)  # a constant image stays constant


def test_both_fills_reproduce_an_affine_image_exactly():
    # Linear interpolation over any triangulation of the kept pixels reproduces an affine function,
    # whichever diagonals the triangulator picks; integer-valued, so rounding changes nothing.
    rows, cols = np.mgrid[0:20, 0:28]
    image = np.stack([3 * rows + 2 * cols + 10, 200 - 4 * rows - cols, 7 * rows + 50], axis=-1).astype(np.uint8)[None]
    rng = np.random.default_rng(5)
    masks = rng.random((3, 20, 28)) < np.array([0.01, 0.2, 0.8])[:, None, None]
    index = np.zeros(3, np.int64)
    for fill in (blurring.blur_fast, blurring.blur_exact):
        np.testing.assert_array_equal(fill(image, masks, index), np.repeat(image, 3, axis=0))


def test_support_holds_the_triangles_over_hidden_pixels():
    # Qhull on the support alone gives PAIR's fill wherever the triangulation is unique; on a
    # real photograph with sparse masks (the fully blurred image's 1% and the first thresholds)
    # that is every pixel. The support is much smaller than the kept set when the kept pixels
    # form a blob (a smooth map's threshold).
    from skimage import data

    image = np.ascontiguousarray(data.astronaut()[100:228:2, 150:278:2])      # 64x64x3
    rng = np.random.default_rng(0)
    for fraction in (0.01, 0.03, 0.1):
        mask = blurring.with_corners(rng.random((64, 64)) < fraction)
        points = blurring.support(mask)
        assert len(points) <= mask.sum()
        np.testing.assert_array_equal(blurring._linear_fill(image, mask, points), blurring.blur_exact_one(image, mask))
    blob = np.zeros((64, 64), bool)
    blob[10:50, 12:44] = True
    blob |= rng.random((64, 64)) < 0.01
    blob = blurring.with_corners(blob)
    assert len(blurring.support(blob)) < 0.3 * blob.sum()
    # The rectangle's straight edges are rows of co-circular points: a few pixels may get the other
    # diagonal (measured 16 of 4096), as they do when the exact fill's points are merely re-ordered.
    differ = np.any(blurring._linear_fill(image, blob, blurring.support(blob)) != blurring.blur_exact_one(image, blob),
                    axis=-1)
    assert differ.mean() <= 0.01


@pytest.mark.parametrize("height, width", [(48, 64), (72, 80)])
def test_fast_blur_equals_exact_on_real_images_up_to_cocircular_diagonals(height, width):
    # scikit-image's coffee and chelsea crops; masks from 1% to 75% kept. 48x64 is triangulated by
    # Qhull (at most blur.QHULL_PIXELS pixels), 72x80 by our grid_delaunay. Either may split
    # co-circular kept pixels along other diagonals than Qhull on every kept pixel: that is the only
    # difference (72x80: supports of at most blur.QHULL_SUPPORT of the pixels by Qhull too).
    # Measured: Qhull on the support agrees everywhere up to 20% kept and on 96% of
    # pixels at 75% (most hidden pixels then sit between four co-circular kept neighbours);
    # grid_delaunay (like Triangle) differs on up to 2.5% of pixels at 1-2% kept and 8% at 50%.
    from skimage import data

    images = np.stack([data.coffee()[100:100 + 2 * height:2, 200:200 + 2 * width:2],
                       data.chelsea()[50:50 + 2 * height:2, 150:150 + 2 * width:2]])
    rng = np.random.default_rng(1)
    fractions = np.array([0.01, 0.02, 0.05, 0.2, 0.5, 0.75])
    masks = rng.random((12, height, width)) < np.tile(fractions, 2)[:, None, None]
    index = np.repeat([0, 1], 6)
    fast = blurring.blur_fast(images, masks, index).astype(np.int64)
    exact = blurring.blur_exact(images, masks, index).astype(np.int64)
    differ = np.any(fast != exact, axis=-1).mean(axis=(1, 2))
    if height * width <= blurring.QHULL_PIXELS:
        assert blurring.default_triangulator(height, width) == "qhull"
        assert np.all(differ[np.tile(fractions, 2) <= 0.2] == 0), differ
        assert np.all(differ <= 0.05), differ
    else:
        assert blurring.default_triangulator(height, width) == "grid"
        # Sparse supports (the fully blurred image's seeds, the first thresholds) keep Qhull.
        assert blurring.default_triangulator(height, width, int(0.1 * height * width)) == "qhull"
        assert np.all(differ <= 0.1), differ
    # Threads or not, one mask or many: the same fill.
    np.testing.assert_array_equal(blurring.blur_fast(images, masks, index, workers=1), fast)
    np.testing.assert_array_equal(blurring.blur_fast(images, masks[5:6], index[5:6])[0], fast[5])


def test_grid_delaunay_is_a_delaunay_triangulation_of_the_rectangle():
    # Every triangle positive, together they tile the image rectangle, and no point lies strictly
    # inside any triangle's circumcircle (brute force), on masks from empty to full, 2x2 to 33x40.
    from xai_tf.metrics.information_curves.delaunay import grid_delaunay

    rng = np.random.default_rng(7)
    for height, width in [(2, 2), (2, 9), (3, 5), (20, 28), (33, 40)]:
        for fraction in (0.0, 0.05, 0.3, 0.7, 1.0):
            points = np.argwhere(blurring.with_corners(rng.random((height, width)) < fraction)).astype(np.int64)
            corners = points[grid_delaunay(points, height, width)]                       # (T, 3, 2)
            a, b, c = corners[:, 0], corners[:, 1], corners[:, 2]
            area = (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])
            assert np.all(area > 0) and area.sum() == 2 * (height - 1) * (width - 1)
            d = points[None]                                                             # (1, K, 2)
            ar, ac = (a[:, None] - d).transpose(2, 0, 1)
            br, bc = (b[:, None] - d).transpose(2, 0, 1)
            cr, cc = (c[:, None] - d).transpose(2, 0, 1)
            in_circle = ((ar * ar + ac * ac) * (br * cc - bc * cr) - (br * br + bc * bc) * (ar * cc - ac * cr)
                         + (cr * cr + cc * cc) * (ar * bc - ac * br))
            assert np.all(in_circle <= 0), (height, width, fraction)
    with pytest.raises(ValueError, match="corner"):
        grid_delaunay(np.array([[0, 0], [0, 4], [3, 0]]), 4, 5)


def test_fast_blur_triangulators_agree_with_exact_alike():
    # The same masks through grid, Qhull and (when installed) Triangle: each is a Delaunay
    # triangulation of the support, so the fills differ from exact only on co-circular diagonals;
    # an affine image is reproduced by all of them.
    from skimage import data

    images = np.ascontiguousarray(data.astronaut()[100:244:2, 150:310:2])[None]             # 72x80x3
    rng = np.random.default_rng(3)
    masks = rng.random((4, 72, 80)) < np.array([0.01, 0.1, 0.4, 0.75])[:, None, None]
    index = np.zeros(4, np.int64)
    exact = blurring.blur_exact(images, masks, index)
    available = [t for t in blurring.TRIANGULATORS if t != "triangle" or blurring.triangle is not None]
    for triangulator in available:
        fast = blurring.blur_fast(images, masks, index, triangulator=triangulator)
        assert np.all(np.any(fast != exact, axis=-1).mean(axis=(1, 2)) <= 0.1), triangulator


def _three_masks(seed):
    """One 72x80 RGB 8-bit image and three masks keeping about 1%, 20% and 60% of its pixels."""
    rng = np.random.default_rng(seed)
    images = (rng.random((1, 72, 80, 3)) * 255).astype(np.uint8)
    masks = rng.random((3, 72, 80)) < np.array([0.01, 0.2, 0.6])[:, None, None]
    return images, masks, np.zeros(3, np.int64)


def test_fast_blur_compares_with_triangle_when_installed():
    if blurring.triangle is None:
        pytest.skip("the optional triangle package is not installed (pip install 'xai-tf[triangle]')")
    images, masks, index = _three_masks(6)
    grid = blurring.blur_fast(images, masks, index)
    with_triangle = blurring.blur_fast(images, masks, index, triangulator="triangle")
    # Both are Delaunay triangulations of the same points: they differ only on co-circular diagonals.
    assert np.mean(np.any(grid != with_triangle, axis=-1)) <= 0.1


def test_fast_blur_fallbacks_without_numba_or_triangle(monkeypatch):
    # Without numba the NumPy rasteriser gives the same values (same integer arithmetic) and the
    # support is triangulated by Qhull; without Triangle nothing changes by default, and asking
    # for it says how to install it.
    images, masks, index = _three_masks(4)
    compiled = blurring.blur_fast(images, masks, index)
    qhull = blurring.blur_fast(images, masks, index, triangulator="qhull")
    kept = blurring.with_corners(masks)
    expected = np.stack([blurring._linear_fill(images[0], mask, blurring.support(mask)) for mask in kept])
    np.testing.assert_array_equal(qhull, expected)
    monkeypatch.setattr(blurring, "triangle", None)
    np.testing.assert_array_equal(blurring.blur_fast(images, masks, index), compiled)
    with pytest.raises(ValueError, match=r"xai-tf\[triangle\]"):
        blurring.blur_fast(images, masks, index, triangulator="triangle")
    with pytest.raises(ValueError, match="triangulator"):
        blurring.blur_fast(images, masks, index, triangulator="voronoi")
    monkeypatch.setattr(blurring, "_kernel", None)
    assert blurring.default_triangulator(72, 80) == "qhull"
    np.testing.assert_array_equal(blurring.blur_fast(images, masks, index), expected)


def test_random_masks_are_seeded_sized_and_shared_across_methods(model, images):
    masks = draw_random_masks(3, 20, 30, fraction=0.05, seed=4)
    assert masks.shape == (3, 20, 30) and np.all(masks.sum(axis=(1, 2)) == int(20 * 30 * 0.05))
    np.testing.assert_array_equal(masks, draw_random_masks(3, 20, 30, fraction=0.05, seed=4))
    assert not np.array_equal(masks, draw_random_masks(3, 20, 30, fraction=0.05, seed=5))
    rng = np.random.default_rng(0)
    first = pic(model, images[:2], rng.random((2, SIZE, SIZE)), thresholds=FEW, verbose=0)
    second = pic(model, images[:2], rng.random((2, SIZE, SIZE)), thresholds=FEW, verbose=0)
    np.testing.assert_array_equal(first.random_masks, second.random_masks)
    # Same fully blurred image for both methods, so the same normalisation anchors.
    np.testing.assert_array_equal(first.scores[:, [0, -1]], second.scores[:, [0, -1]])


# ---------------------------------------------------------------------------------------------
# the metric
# ---------------------------------------------------------------------------------------------
def test_default_thresholds_are_pairs_notebook_set(model, images):
    assert PAIR_THRESHOLDS == (0.005, 0.01, 0.02, 0.03, 0.04, 0.05, 0.07, 0.10, 0.13, 0.21, 0.34, 0.5, 0.75)
    result = pic(model, images[:1], np.random.default_rng(0).random((1, SIZE, SIZE)), verbose=0)
    np.testing.assert_array_equal(result.thresholds, PAIR_THRESHOLDS)
    assert result.entropies.shape == (1, 15) and result.curves.shape == (1, 1001)


def test_informative_map_beats_its_reverse():
    model, images, maps = region_case(8, 48, (12, 36, 12, 36), seed=3)
    first = pic(model, images, maps, blur="fast", min_pred_value=0.5, verbose=0)
    reverse = pic(model, images, -maps, blur="fast", min_pred_value=0.5, verbose=0)
    assert first.num_included >= 3 and np.array_equal(first.included, reverse.included)
    assert first.auc > reverse.auc + 0.5
    assert np.all(first.aucs[first.included] > reverse.aucs[reverse.included])


def test_fast_agrees_with_exact_on_smooth_images():
    model, images, maps = region_case(5, 64, (16, 48, 16, 48), seed=0)
    exact = pic(model, images, maps, blur="exact", min_pred_value=0.5, verbose=0)
    fast = pic(model, images, maps, blur="fast", min_pred_value=0.5, verbose=0)
    # The fully blurred images (1% random seeds) are the same under both fills up to co-circular
    # seeds (measured: 2 of 5 differ on 12 and 61 of 4096 pixels), so the same images are scored
    # and the curves have (nearly) the same anchors.
    np.testing.assert_allclose(exact.scores[:, 0], fast.scores[:, 0], atol=0.01)
    np.testing.assert_array_equal(exact.included, fast.included)
    assert exact.included.sum() >= 3
    assert np.max(np.abs(exact.aucs[exact.included] - fast.aucs[fast.included])) <= 0.01


@pytest.mark.parametrize("entropy", ["webp", "shannon"])
def test_fast_agrees_with_exact_on_digits(entropy):
    # scikit-learn's digits, 8x8 upsampled bilinearly to 32x32 (one channel); the region model
    # reads the stroke brightness in the centre. Random and informative maps.
    from sklearn.datasets import load_digits

    digits = load_digits().images[:8] / 16.0
    images = tf.image.resize(digits[..., None].astype(np.float32), (SIZE, SIZE), method="bilinear").numpy()
    images = np.clip(images, 0, 1)
    model = region_model(SIZE, REGION, channels=1, bias=0.2)
    rng = np.random.default_rng(0)
    maps = np.concatenate([rng.random((4, SIZE, SIZE)), informative_maps(images[4:], REGION)]).astype(np.float32)
    # Shannon entropy excludes most upsampled digits (their fully blurred copy has the richer
    # histogram), so the comparison pools three seeds of random masks.
    differences = []
    for seed in (0, 1, 2):
        exact = pic(model, images, maps, entropy=entropy, blur="exact", min_pred_value=0.5, verbose=0, seed=seed)
        fast = pic(model, images, maps, entropy=entropy, blur="fast", min_pred_value=0.5, verbose=0, seed=seed)
        np.testing.assert_array_equal(exact.included, fast.included)
        differences.extend(np.abs(exact.aucs[exact.included] - fast.aucs[fast.included]))
    assert len(differences) >= 2
    assert np.max(differences) <= 0.01


def test_curve_is_monotone_normalised_and_auc_is_its_trapezoid(model, images):
    maps = np.random.default_rng(3).random((len(images), SIZE, SIZE))
    result = pic(model, images, maps, thresholds=FEW, min_pred_value=0.5, verbose=0)
    kept = result.included
    assert kept.sum() >= 3
    assert np.all(np.diff(result.normalized_scores[kept], axis=1) >= 0)
    assert np.all((result.normalized_entropies[kept] >= 0) & (result.normalized_entropies[kept] <= 1))
    np.testing.assert_allclose(result.aucs[kept], np.trapezoid(result.curves[kept], result.curve_x, axis=1))
    assert result.curves[kept][:, -1].tolist() == [1.0] * kept.sum()
    np.testing.assert_allclose(result.curve, np.median(result.curves[kept], axis=0))
    loose = pic(model, images, maps, thresholds=FEW, min_pred_value=0.5, keep_monotonous=False,
                aggregate="mean", verbose=0)
    np.testing.assert_allclose(loose.curve, np.mean(loose.curves[loose.included], axis=0))
    assert np.all(loose.normalized_scores[kept] <= result.normalized_scores[kept] + 1e-12)


def test_sic_and_aic_scoring_rules_for_softmax_sigmoid_and_logits(images):
    probabilities = region_model(SIZE, REGION).predict(images, verbose=0)
    quantised = np.round(images.astype(np.float64) * 255) / 255
    p_quantised = region_model(SIZE, REGION).predict(quantised.astype(np.float32), verbose=0)
    maps = np.random.default_rng(0).random((len(images), SIZE, SIZE))
    targets = np.array([1, 0, 1, 0, 1, 0])
    softmax = pic(region_model(SIZE, REGION), images, maps, targets=targets, thresholds=FEW,
                  min_pred_value=0.0, verbose=0)
    np.testing.assert_allclose(softmax.scores[:, -1], p_quantised[np.arange(6), targets], atol=1e-6)
    assert np.all(np.argmax(probabilities, 1) == 1)  # so None targets mean class 1
    # One sigmoid unit: class 1 scores p, class 0 scores 1 - p; same numbers as the softmax pair.
    sigmoid = pic(region_model(SIZE, REGION, head="sigmoid"), images, maps, targets=targets, thresholds=FEW,
                  min_pred_value=0.0, verbose=0)
    np.testing.assert_allclose(sigmoid.scores, softmax.scores, atol=1e-5)
    # A linear last layer (logits) gets softmax applied: the same probabilities again.
    logits = pic(region_model(SIZE, REGION, head="logits"), images, maps, targets=targets, thresholds=FEW,
                 min_pred_value=0.0, verbose=0)
    np.testing.assert_allclose(logits.scores, softmax.scores, atol=1e-5)
    # AIC: 1 when the predicted class is the target (p >= 0.5 for the sigmoid unit).
    aic = pic(region_model(SIZE, REGION, head="sigmoid"), images, maps, kind="aic", targets=targets,
              thresholds=FEW, min_pred_value=0.0, verbose=0)
    np.testing.assert_array_equal(aic.scores[:, -1], (targets == 1).astype(float))
    predicted = pic(region_model(SIZE, REGION), images, maps, kind="aic", thresholds=FEW, verbose=0)
    np.testing.assert_array_equal(predicted.targets, np.ones(6))
    assert np.all(predicted.scores[:, -1] == 1.0)


def test_constant_map_is_excluded_with_a_reason_not_a_crash(model, images):
    maps = np.random.default_rng(0).random((3, SIZE, SIZE))
    maps[1] = 0.25
    result = pic(model, images[:3], maps, thresholds=FEW, min_pred_value=0.5, verbose=0)
    assert "constant map" in result.excluded[1]
    assert np.isnan(result.aucs[1]) and np.all(np.isnan(result.curves[1]))
    assert result.excluded[0] is None and np.isfinite(result.aucs[0])


def test_all_excluded_warns_and_returns_nan(model, images):
    with pytest.warns(RuntimeWarning, match="all 2 images were excluded"):
        result = pic(model, images[:2], np.random.default_rng(0).random((2, SIZE, SIZE)),
                     thresholds=FEW, min_pred_value=1.0, verbose=0)  # no score of this model reaches 1
    assert np.isnan(result.auc) and all("min_pred_value" in reason for reason in result.excluded)


def test_to_dict_is_json_and_round_trips_and_merge_equals_one_run(model, images):
    maps = np.random.default_rng(0).random((len(images), SIZE, SIZE))
    whole = pic(model, images, maps, thresholds=FEW, min_pred_value=0.5, verbose=0)
    restored = PicResult.from_dict(json.loads(json.dumps(whole.to_dict())))
    for name in ("aucs", "curves", "entropies", "scores", "curve"):
        np.testing.assert_array_equal(getattr(restored, name), getattr(whole, name))
    assert restored.excluded == whole.excluded and restored.auc == pytest.approx(whole.auc)
    # Shards: the same masks per image, merged, give the one-run result.
    parts = [pic(model, images[s], maps[s], thresholds=FEW, min_pred_value=0.5, verbose=0,
                 random_masks=whole.random_masks[s]) for s in (slice(0, 2), slice(2, None))]
    merged = PicResult.merge(parts)
    np.testing.assert_allclose(merged.aucs, whole.aucs, atol=1e-6)
    assert merged.auc == pytest.approx(whole.auc, abs=1e-6)


# ---------------------------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("change, error, match", [
    ({"maps": "wrong shape"}, ValueError, "maps must have shape"),
    ({"maps": "nan"}, ValueError, "maps contains 1 NaN"),
    ({"images": "too bright"}, ValueError, r"images must lie in \[0.0, 1.0\]"),
    ({"thresholds": (0.1, 0.05)}, ValueError, "strictly increasing"),
    ({"thresholds": (0.0, 0.5)}, ValueError, r"inside \(0, 1\)"),
    ({"thresholds": (0.5, 1.0)}, ValueError, r"inside \(0, 1\)"),
    ({"thresholds": ()}, ValueError, "non-empty"),
    ({"targets": [0, 2]}, ValueError, r"targets must lie in \[0, 1\]"),
    ({"targets": [0]}, ValueError, "targets must have shape"),
    ({"kind": "auc"}, ValueError, "kind='auc' is not valid"),
    ({"entropy": "png"}, ValueError, "entropy='png' is not valid"),
    ({"blur": "slow"}, ValueError, "blur='slow' is not valid"),
    ({"random_mask_fraction": 1.0}, ValueError, "random_mask_fraction"),
    ({"batch_size": 0}, ValueError, "batch_size"),
    ({"random_masks": np.zeros((2, 3, 3), bool)}, ValueError, "random_masks must be bool"),
])
def test_bad_input_raises_naming_the_argument(model, images, change, error, match):
    arguments = {"images": images[:2], "maps": np.random.default_rng(0).random((2, SIZE, SIZE))}
    if change.get("maps") == "wrong shape":
        change = {"maps": np.zeros((2, SIZE, SIZE - 1))}
    elif change.get("maps") == "nan":
        maps = arguments["maps"].copy()
        maps[0, 0, 0] = np.nan
        change = {"maps": maps}
    elif change.get("images") == "too bright":
        change = {"images": images[:2] * 1.5}
    arguments.update(change)
    with pytest.raises(error, match=match):
        pic(model, verbose=0, **arguments)


# ---------------------------------------------------------------------------------------------
# figure
# ---------------------------------------------------------------------------------------------
def test_plot_pic_legend_has_auc_writes_png_and_pdf_without_pyplot_state(tmp_path, model, images):
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    maps = informative_maps(images, REGION)
    results = {name: pic(model, images, ranking, thresholds=FEW, verbose=0)
               for name, ranking in [("informative", maps), ("reverse", -maps)]}
    figure = plot_pic(results, tmp_path / "sic.png")
    plot_pic(results, tmp_path / "sic.pdf")
    labels = [text.get_text() for text in figure.legends[0].get_texts()]  # outside the axes: a figure legend
    assert labels == [f"{name} (AUC={result.auc:.3f})" for name, result in results.items()]
    np.testing.assert_array_equal(figure.axes[0].lines[0].get_ydata(), results["informative"].curve)
    assert (tmp_path / "sic.png").read_bytes()[:4] == b"\x89PNG"
    assert (tmp_path / "sic.pdf").read_bytes()[:4] == b"%PDF"
    assert plt.get_fignums() == before
    with pytest.raises(ValueError, match="must end in"):
        plot_pic(results, tmp_path / "sic.jpg")
    with pytest.raises(ValueError, match="mixes curve kinds"):
        plot_pic({"a": results["informative"], "b": pic(model, images, maps, kind="aic", thresholds=FEW,
                                                             verbose=0)})


def test_metrics_pic_is_the_function_even_after_the_submodule_was_imported():
    import importlib

    import xai_tf
    importlib.import_module("xai_tf.metrics.information_curves.pic")
    from xai_tf.metrics import pic as imported

    assert callable(xai_tf.metrics.pic) and callable(imported)
    assert xai_tf.metrics.pic is imported
