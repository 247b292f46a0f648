"""Value oracles for the methods whose values had no reference (issue 32, item 1).

Images are not uniform on [0, 1]: every image has its own value range (so SmoothGrad's noise, scaled
by ``max(x) - min(x)``, differs per image), a constant region and RGB channels with different
ranges. Each reference is computed here independently of the method's code:

- gradients of the target logit by a hand-written ``tf.GradientTape`` (the definition of
  vanilla_gradient, input_x_gradient and the gradient inside every noisy copy);
- PAIR ``saliency`` (IntegratedGradients, BlurIG) on the same noisy copies for smoothgrad_ig and
  smooth_blur_ig, and on the images for blur_ig (no rescaling: PAIR's scale is the definition);
- the noise is the documented draw: image ``i``'s copies are
  ``rng_for(seed, i).standard_normal((n, H, W, C)) * stdev_spread * (max(x) - min(x))`` (and
  GradientSHAP's baselines, then noise, then path points from the same generator);
- closed forms on a linear model (``logit = w . x``): the gradient is ``w``, input x gradient is
  ``x w``, Integrated Gradients and Guided IG are ``(x - b) w`` exactly (IG's ``steps`` divisor);
- composition: Guided Grad-CAM is the guided gradient times the upsampled Grad-CAM map;
- LIME: the ``lime`` package's ``explain_instance`` with its default segmentation and the same
  ``random_state``; RISE: the RISE sum over the method's own masks, written out with NumPy.

Every comparison is within float32 rounding (relative 1e-4 of the map's largest value, or
tighter), so an output scaled by 1.01 fails, and so does noise drawn from another stream.
"""
from __future__ import annotations

import keras
import numpy as np
import pytest
import saliency.core as pair
import tensorflow as tf
from conftest import tiny_cnn

from xai_tf._random import rng_for
from xai_tf.explainers import explain
from xai_tf.models.graph import run_model

SIZE = 16
TARGETS = np.array([0, 2, 1])


def varied_images():
    """Three RGB images with different ranges per image and per channel, one with a constant block."""
    rng = np.random.default_rng(11)
    first = 0.2 + 0.4 * rng.random((SIZE, SIZE, 3))  # [0.2, 0.6]
    second = 0.3 * rng.random((SIZE, SIZE, 3))  # [0, 0.3] with a constant block
    second[:8, :8] = [0.1, 0.25, 0.05]
    third = 0.5 + 0.5 * rng.random((SIZE, SIZE, 3))  # [0.5, 1], green in [0.25, 0.5]
    third[..., 1] *= 0.5
    return np.stack([first, second, third]).astype(np.float32)


@pytest.fixture(scope="module")
def model():
    return tiny_cnn(input_shape=(SIZE, SIZE, 3), head="softmax", seed=3)


@pytest.fixture(scope="module")
def images():
    return varied_images()


def assert_close(ours, reference, rel=1e-4):
    """Equal within ``rel`` of each map's largest magnitude (float32 rounding), no rescaling."""
    ours, reference = np.asarray(ours, np.float64), np.asarray(reference, np.float64)
    assert ours.shape == reference.shape
    for mine, theirs in zip(ours, reference):
        scale = np.abs(theirs).max()
        assert scale > 0
        np.testing.assert_allclose(mine, theirs, rtol=rel, atol=rel * scale)


def logit_gradients(model, points, targets):
    """``d logit_target / d x`` ``(M, H, W, C)`` float64 by a hand-written tape."""
    points = tf.constant(np.asarray(points, np.float32))
    with tf.GradientTape() as tape:
        tape.watch(points)
        logits = run_model(model, points)[0]
        score = tf.gather(logits, tf.constant(np.asarray(targets, np.int32)), batch_dims=1)
    return tape.gradient(score, points).numpy().astype(np.float64)


def same_noise(image, index, seed, n_samples, spread):
    """The documented draw of image ``index``'s noisy copies (PAIR's scale: the image's range)."""
    stdev = spread * float(image.max() - image.min())
    noise = (rng_for(seed, index).standard_normal((n_samples, *image.shape), dtype=np.float32) * stdev)
    return image[None] + noise.astype(np.float32)


def pair_function(model):
    def call_model_function(points, call_model_args=None, expected_keys=None):
        targets = np.full(len(points), call_model_args["target"])
        return {pair.INPUT_OUTPUT_GRADIENTS: logit_gradients(model, points, targets).astype(np.float32)}
    return call_model_function


# -- gradients ----------------------------------------------------------------------------------------

def test_vanilla_gradient_and_input_x_gradient_are_the_tape_gradients(model, images):
    grads = logit_gradients(model, images, TARGETS)
    assert_close(explain(model, images, "vanilla_gradient", TARGETS, verbose=0), grads.sum(-1), rel=1e-5)
    assert_close(explain(model, images, "input_x_gradient", TARGETS, verbose=0), (images * grads).sum(-1),
                 rel=1e-5)
    assert_close(explain(model, images, "input_x_gradient", TARGETS, channel_reduction="mean", verbose=0),
                 (images * grads).mean(-1), rel=1e-5)


@pytest.mark.parametrize("magnitude", [True, False])
def test_smoothgrad_is_the_mean_gradient_over_the_same_noise(model, images, magnitude):
    n, spread, seed = 6, 0.3, 7
    maps = explain(model, images, "smoothgrad", TARGETS, n_samples=n, stdev_spread=spread, magnitude=magnitude,
                   seed=seed, batch_size=4, verbose=0)
    for i, image in enumerate(images):
        grads = logit_gradients(model, same_noise(image, i, seed, n, spread), np.full(n, TARGETS[i]))
        expected = ((grads ** 2) if magnitude else grads).mean(axis=0).sum(-1)
        assert_close(maps[i:i + 1], expected[None])


@pytest.mark.parametrize("method", ["vargrad", "squaregrad"])
def test_vargrad_and_squaregrad_on_varied_ranges(model, images, method):
    n, spread, seed = 5, 0.25, 3
    maps = explain(model, images, method, TARGETS, n_samples=n, stdev_spread=spread, seed=seed, verbose=0)
    for i, image in enumerate(images):
        grads = logit_gradients(model, same_noise(image, i, seed, n, spread), np.full(n, TARGETS[i]))
        expected = grads.var(axis=0, ddof=1) if method == "vargrad" else (grads ** 2).mean(axis=0)
        assert_close(maps[i:i + 1], expected.mean(-1)[None], rel=2e-4)


def test_gradient_shap_with_input_noise_on_the_documented_draws(model, images):
    n, spread, seed = 8, 0.2, 5
    maps = explain(model, images, "gradient_shap", TARGETS, n_samples=n, stdev_spread=spread, seed=seed,
                   batch_size=5, verbose=0)
    for i, image in enumerate(images):
        rng = rng_for(seed, i)
        starts = rng.random((n, *image.shape), dtype=np.float32)  # uniform baselines
        noisy = image[None] + rng.standard_normal((n, *image.shape), dtype=np.float32) * np.float32(
            spread * float(image.max() - image.min()))
        alphas = rng.random(n, dtype=np.float32)[:, None, None, None]
        grads = logit_gradients(model, starts + alphas * (noisy - starts), np.full(n, TARGETS[i]))
        expected = (grads * (noisy - starts)).mean(axis=0).sum(-1)
        assert_close(maps[i:i + 1], expected[None], rel=2e-4)


# -- path methods: closed form on a linear model and PAIR on the same noise ---------------------------

@pytest.fixture(scope="module")
def linear():
    keras.utils.set_random_seed(2)
    inputs = keras.Input((SIZE, SIZE, 3))
    dense = keras.layers.Dense(3, name="logits")
    model = keras.Model(inputs, dense(keras.layers.Flatten()(inputs)))
    weights = np.random.default_rng(4).standard_normal((SIZE * SIZE * 3, 3)).astype(np.float32)
    dense.set_weights([weights, np.array([0.2, -0.1, 0.4], np.float32)])
    return model, weights.reshape(SIZE, SIZE, 3, 3).astype(np.float64)


@pytest.mark.parametrize("baseline", ["black", "white", 0.3])
def test_path_methods_are_exact_on_a_linear_model(linear, images, baseline):
    model, weights = linear
    w = np.stack([weights[..., t] for t in TARGETS])  # (N, H, W, C)
    b = {"black": 0.0, "white": 1.0}.get(baseline, baseline)
    expected = ((images - b) * w).sum(-1)
    if baseline == "black":
        assert_close(explain(model, images, "vanilla_gradient", TARGETS, verbose=0), w.sum(-1), rel=1e-5)
        assert_close(explain(model, images, "input_x_gradient", TARGETS, verbose=0), expected, rel=1e-5)
        assert_close(explain(model, images, "smoothgrad", TARGETS, magnitude=False, verbose=0), w.sum(-1))
        assert_close(explain(model, images, "smoothgrad", TARGETS, verbose=0), (w ** 2).sum(-1))
    for steps in (1, 10):  # the divisor is `steps` (the gradient is constant: any other divisor scales)
        assert_close(explain(model, images, "integrated_gradients", TARGETS, steps=steps, baseline=baseline,
                             verbose=0), expected, rel=1e-5)
    assert_close(explain(model, images, "guided_ig", TARGETS, steps=6, baseline=baseline, verbose=0), expected,
                 rel=1e-5)


def pair_integrated_gradients(model, image, target, steps):
    return pair.IntegratedGradients().GetMask(image, pair_function(model), {"target": int(target)},
                                              x_steps=steps, x_baseline=np.zeros_like(image), batch_size=64)


def pair_blur_ig(model, image, target, steps, max_sigma):
    return pair.BlurIG().GetMask(image, pair_function(model), {"target": int(target)}, steps=steps,
                                 max_sigma=max_sigma, batch_size=64)


def test_integrated_and_blur_ig_equal_pair_without_rescaling(model, images):
    ig = explain(model, images, "integrated_gradients", TARGETS, steps=9, verbose=0)
    blur = explain(model, images, "blur_ig", TARGETS, steps=7, max_sigma=6, verbose=0)
    for i, image in enumerate(images):
        assert_close(ig[i:i + 1], pair_integrated_gradients(model, image, TARGETS[i], 9).sum(-1)[None])
        # float32 blur matrices here, SciPy's float64 gaussian_filter in PAIR
        assert_close(blur[i:i + 1], pair_blur_ig(model, image, TARGETS[i], 7, 6).sum(-1)[None], rel=1e-3)


@pytest.mark.parametrize("method", ["smoothgrad_ig", "smooth_blur_ig"])
def test_smoothed_path_methods_equal_pair_on_the_same_noise(model, images, method):
    n, spread, seed, steps = 3, 0.2, 9, 5
    params = {"max_sigma": 6} if method == "smooth_blur_ig" else {}
    maps = explain(model, images, method, TARGETS, n_samples=n, stdev_spread=spread, steps=steps, seed=seed,
                   verbose=0, **params)
    for i, image in enumerate(images):
        copies = same_noise(image, i, seed, n, spread)
        if method == "smoothgrad_ig":
            attributions = [pair_integrated_gradients(model, copy, TARGETS[i], steps) for copy in copies]
        else:
            attributions = [pair_blur_ig(model, copy, TARGETS[i], steps, 6) for copy in copies]
        expected = (np.square(attributions)).mean(axis=0).sum(-1)
        assert_close(maps[i:i + 1], expected[None], rel=1e-4 if method == "smoothgrad_ig" else 2e-3)


# -- layer and composed methods ----------------------------------------------------------------------

def test_guided_gradcam_is_guided_gradient_times_upsampled_gradcam(model, images):
    guided = explain(model, images, "guided_backprop", TARGETS, verbose=0)  # guided gradients, channel sum
    cam = explain(model, images, "gradcam", TARGETS, verbose=0)
    assert cam.min() >= 0
    assert_close(explain(model, images, "guided_gradcam", TARGETS, verbose=0), guided * cam, rel=1e-5)


# -- black-box methods --------------------------------------------------------------------------------

@pytest.mark.parametrize("hide_color", [0.0, None])
def test_lime_equals_the_lime_package(model, images, hide_color):
    from lime import lime_image
    from lime.wrappers.scikit_image import SegmentationAlgorithm

    n, seed, params = 60, 4, {"kernel_size": 1, "max_dist": 4, "ratio": 0.2}  # several superpixels at 16 px
    maps = explain(model, images, "lime", TARGETS, num_samples=n, seed=seed, batch_size=16, hide_color=hide_color,
                   segmentation_params=params, verbose=0)

    def probabilities(batch):
        return model(np.asarray(batch, np.float32)).numpy().astype(np.float64)

    for i, image in enumerate(images):
        segmenter = SegmentationAlgorithm("quickshift", random_seed=seed + i, **params)
        explanation = lime_image.LimeImageExplainer(random_state=seed + i).explain_instance(
            image.astype(np.float64), probabilities, labels=(int(TARGETS[i]),), hide_color=hide_color,
            top_labels=None, num_features=100000, num_samples=n, batch_size=16, segmentation_fn=segmenter,
            random_seed=seed + i)
        assert explanation.segments.max() >= 3
        weights = dict(explanation.local_exp[int(TARGETS[i])])
        expected = np.vectorize(lambda s: weights.get(s, 0.0))(explanation.segments)
        assert_close(maps[i:i + 1], expected[None], rel=1e-4)


def test_random_map_is_uniform_on_the_unit_interval():
    model = tiny_cnn(input_shape=(64, 64, 1), seed=0)
    big = np.zeros((2, 64, 64, 1), np.float32)
    maps = explain(model, big, "random", seed=3, verbose=0)
    assert maps.min() >= 0 and maps.max() < 1
    assert maps.max() > 0.999  # 8,192 draws: P(max < 0.999) = 0.999^8192 < 3e-4
    assert abs(maps.mean() - 0.5) < 3 * np.sqrt(1 / 12 / maps.size)  # 3 sd of the mean
    for index in range(2):  # the documented draw: one generator per image from (seed, index)
        np.testing.assert_array_equal(maps[index], rng_for(3, index).random((64, 64), dtype=np.float32))


@pytest.mark.parametrize("normalization, score", [("paper", "probability"), ("xplique", "logit")])
def test_rise_is_the_paper_sum_over_the_documented_masks(model, images, normalization, score):
    """RISE (Petsiuk et al. 2018) written out: grid ``g x g`` of Bernoulli(p) cells, upsampled
    bilinearly to ``(g + 1) * cell`` and cropped at a random shift below one cell; the map is
    ``sum_m score(x * M_m + v (1 - M_m)) M_m / (n p)`` (paper) or ``/ sum_m M_m`` (Xplique)."""
    n, grid, p, seed, value = 12, 3, 0.4, 6, 0.2
    maps = explain(model, images, "rise", TARGETS, n_masks=n, grid_size=grid, keep_probability=p, mask_value=value,
                   normalization=normalization, score=score, seed=seed, batch_size=7, verbose=0)
    cell = -(-SIZE // grid)
    for i, image in enumerate(images):
        rng = rng_for(seed, i)  # the documented draw: grids, then row shifts, then column shifts
        grids = (rng.random((n, grid, grid)) < p).astype(np.float32)
        shifts = np.stack([rng.integers(0, cell, n), rng.integers(0, cell, n)], axis=1)
        up = tf.image.resize(grids[..., None], ((grid + 1) * cell, (grid + 1) * cell), method="bilinear").numpy()
        masks = np.stack([up[m, dy:dy + SIZE, dx:dx + SIZE, 0] for m, (dy, dx) in enumerate(shifts)])
        perturbed = image[None] * masks[..., None] + value * (1 - masks[..., None])
        outputs = (run_model(model, tf.constant(perturbed.astype(np.float32)))[0].numpy() if score == "logit"
                   else model(perturbed.astype(np.float32)).numpy())
        scores = outputs[:, TARGETS[i]].astype(np.float64)
        weighted = np.einsum("m,mhw->hw", scores, masks.astype(np.float64))
        xplique_epsilon = 1e-4  # Xplique's Rise.EPSILON
        expected = weighted / (n * p) if normalization == "paper" else weighted / (masks.sum(axis=0) + xplique_epsilon)
        assert_close(maps[i:i + 1], expected[None], rel=1e-4)
