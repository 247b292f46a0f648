"""One noise-averaging mechanism, one noise rule, one upsampling rule, IG's two rules (issue 30, item 3).

- :func:`xai_tf.explainers.smoothing.smooth` draws the noise from ``rng_for(seed, i)`` and gives the
  mean, mean square and unbiased variance of the base attribution over the copies.
- Every smoothing method takes a relative ``stdev_spread`` or an absolute ``noise``, not both.
- ``upsample=`` of the CAM family, FEM, Sobol and HSIC: a non-default method changes the map and
  equals ``tf.image.resize`` of the same coarse map with that method; unknown names are refused.
- Integrated Gradients ``rule="trapezoid"`` equals the trapezoid of the path gradients computed by
  hand; both rules are complete (sum of the map = f(x) - f(baseline)) at 256 steps (0.1 %, 2e-5).
(Bit-identical maps at the defaults: ``tests/test_smoothing_reference.py``.)
"""
from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf
from conftest import tiny_cnn

from xai_tf._random import rng_for
from xai_tf.explainers import cam, explain, fem, global_sensitivity
from xai_tf.explainers.base import Request, layer_activations
from xai_tf.explainers.smoothing import smooth
from xai_tf.models.binding import bind

SIZE = 16
SMOOTHERS = ["smoothgrad", "vargrad", "squaregrad", "smoothgrad_ig", "smooth_blur_ig"]
CHEAP = {"smoothgrad": {}, "vargrad": {}, "squaregrad": {}, "smoothgrad_ig": {"steps": 2},
         "smooth_blur_ig": {"steps": 2, "max_sigma": 2.0}}


@pytest.fixture(scope="module")
def model():
    return tiny_cnn(input_shape=(SIZE, SIZE, 3), head="softmax", seed=2)


@pytest.fixture(scope="module")
def images():
    rng = np.random.default_rng(3)
    out = 0.25 + 0.5 * rng.random((2, SIZE, SIZE, 3)).astype(np.float32)
    out[:, 0, 0, 0], out[:, 1, 1, 1] = 0.25, 0.75  # value range exactly 0.5 (a power of 2)
    return out


def request_for(model, images, seed=0, batch_size=64):
    adapter, images, targets = bind(model, images, None, batch_size=batch_size)
    return Request(adapter=adapter, images=images, targets=targets, batch_size=batch_size, verbose=0, seed=seed)


# -- smooth() ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("whole_images, batch_size", [(False, 64), (False, 3), (True, 64)])
def test_smooth_statistics_of_the_noisy_copies(model, images, whole_images, batch_size):
    request = request_for(model, images, seed=4, batch_size=batch_size)
    n = 5

    def identity(noisy, targets, indices):  # the statistic of the copies themselves
        return noisy

    copies = np.stack([images[i] + rng_for(4, i).standard_normal((n, SIZE, SIZE, 3), dtype=np.float32)
                       * np.float32(0.1) for i in range(2)]).astype(np.float64)
    for statistic, expected in [("mean", copies.mean(axis=1)), ("mean_square", (copies ** 2).mean(axis=1)),
                                ("variance", copies.var(axis=1, ddof=1))]:
        got = smooth(request, identity, n_samples=n, noise=0.1, statistic=statistic, whole_images=whole_images,
                     precision=np.float64)
        assert got.dtype == np.float32 and got.shape == images.shape
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_smooth_refuses_bad_options(model, images):
    request = request_for(model, images)
    with pytest.raises(ValueError, match="statistic"):
        smooth(request, None, n_samples=2, stdev_spread=0.1, statistic="median")
    with pytest.raises(ValueError, match="n_samples must be >= 2 for a variance"):
        smooth(request, None, n_samples=1, stdev_spread=0.1, statistic="variance")
    with pytest.raises(ValueError, match="not both"):
        smooth(request, None, n_samples=2, stdev_spread=0.1, noise=0.1)
    with pytest.raises(ValueError, match="not both"):
        smooth(request, None, n_samples=2)


# -- one noise rule ----------------------------------------------------------------------------------

@pytest.mark.parametrize("method", SMOOTHERS)
def test_absolute_noise_equals_the_relative_spread_it_amounts_to(model, images, method):
    """Range 0.5: noise=0.05 is stdev_spread=0.1 exactly."""
    options = {**CHEAP[method], "n_samples": 3}
    absolute = explain(model, images, method, 0, verbose=0, seed=1, noise=0.05, **options)
    relative = explain(model, images, method, 0, verbose=0, seed=1, stdev_spread=0.1, **options)
    np.testing.assert_array_equal(absolute, relative)
    assert not np.array_equal(absolute, explain(model, images, method, 0, verbose=0, seed=1, noise=0.2, **options))


@pytest.mark.parametrize("method", SMOOTHERS)
def test_noise_and_a_changed_stdev_spread_are_refused_together(model, images, method):
    with pytest.raises(ValueError, match=r"stdev_spread .*or noise .*not both"):
        explain(model, images, method, 0, verbose=0, n_samples=2, stdev_spread=0.3, noise=0.1, **CHEAP[method])
    with pytest.raises(ValueError, match="noise must be >= 0"):
        explain(model, images, method, 0, verbose=0, n_samples=2, noise=-0.1, **CHEAP[method])


# -- one upsampling rule -----------------------------------------------------------------------------

def _resized(maps, method):
    return tf.image.resize(np.asarray(maps, np.float32)[..., None], (SIZE, SIZE), method=method).numpy()[..., 0]


@pytest.mark.parametrize("method, layer_maps, default", [
    ("gradcam", cam.gradcam_layer_maps, "bilinear"),
    ("gradcam_pp", cam.gradcam_pp_layer_maps, "bilinear"),
    ("scorecam", cam.scorecam_layer_maps, "bilinear"),
    ("fem", lambda request: fem.fem_layer_maps(layer_activations(request, "last_conv", slice(None)), 2.0),
     "bicubic"),
])
def test_layer_methods_upsample_with_the_chosen_method(model, images, method, layer_maps, default):
    request = request_for(model, images)
    coarse = layer_maps(request)
    targets = request.targets
    np.testing.assert_array_equal(explain(model, images, method, targets, verbose=0), _resized(coarse, default))
    other = "nearest"
    chosen = explain(model, images, method, targets, verbose=0, upsample=other)
    np.testing.assert_array_equal(chosen, _resized(coarse, other))
    assert not np.array_equal(chosen, _resized(coarse, default))
    with pytest.raises(ValueError, match="upsample='cubic' is not valid"):
        explain(model, images, method, targets, verbose=0, upsample="cubic")


@pytest.mark.parametrize("method, options", [("sobol", {"n_designs": 4}), ("hsic", {"n_designs": 8})])
def test_grid_methods_upsample_with_the_chosen_method(model, images, monkeypatch, method, options):
    grids = []
    resize = global_sensitivity.resize_cells

    def capture(maps, height, width, how="bicubic"):
        grids.append(np.array(maps))
        return resize(maps, height, width, how)

    monkeypatch.setattr(global_sensitivity, "resize_cells", capture)
    default = explain(model, images, method, 0, verbose=0, grid_size=4, **options)
    bilinear = explain(model, images, method, 0, verbose=0, grid_size=4, upsample="bilinear", **options)
    np.testing.assert_array_equal(grids[0], grids[1])
    np.testing.assert_array_equal(default, _resized(grids[0], "bicubic"))
    np.testing.assert_array_equal(bilinear, _resized(grids[0], "bilinear"))
    assert not np.array_equal(default, bilinear)
    with pytest.raises(ValueError, match="upsample"):
        explain(model, images, method, 0, verbose=0, grid_size=4, upsample="spline", **options)


def test_guided_gradcam_upsample(model, images):
    default = explain(model, images, "guided_gradcam", 0, verbose=0)
    assert not np.array_equal(default, explain(model, images, "guided_gradcam", 0, verbose=0, upsample="nearest"))


# -- Integrated Gradients: Riemann mean and trapezoid -------------------------------------------------

@pytest.fixture(scope="module")
def smooth_model():
    """Smooth activations and a linear head: the explained score is the output itself."""
    keras.utils.set_random_seed(6)
    return keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(3, 3, activation="tanh"),
                             keras.layers.Flatten(), keras.layers.Dense(2)])


def test_trapezoid_equals_the_trapezoid_of_the_path_gradients(smooth_model):
    x = np.random.default_rng(1).random((1, 8, 8, 1)).astype(np.float32)
    steps = 7
    alphas = np.linspace(0.0, 1.0, steps).astype(np.float32)
    points = tf.constant(alphas[:, None, None, None] * x[0])
    with tf.GradientTape() as tape:
        tape.watch(points)
        score = tf.reduce_sum(smooth_model(points)[:, 1])
    grads = tape.gradient(score, points).numpy().astype(np.float64)
    trapezoid = (grads[1:-1].sum(axis=0) + 0.5 * (grads[0] + grads[-1])) / (steps - 1)
    expected = (x[0] * trapezoid)[..., 0]
    got = explain(smooth_model, x, "integrated_gradients", 1, verbose=0, steps=steps, rule="trapezoid")[0]
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-7)
    riemann = explain(smooth_model, x, "integrated_gradients", 1, verbose=0, steps=steps)[0]
    np.testing.assert_allclose(riemann, (x[0] * grads.mean(axis=0))[..., 0], rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("rule, rtol", [("riemann", 1e-3), ("trapezoid", 2e-5)])
def test_both_rules_are_complete_with_many_steps(smooth_model, rule, rtol):
    """sum of the map = f(x) - f(black) at 256 steps, within 0.1 % (Riemann mean, an O(1/steps) bias:
    measured 1.7e-4) or 2e-5 (trapezoid, O(1/steps^2): measured 8e-7) of the gap."""
    x = np.random.default_rng(2).random((3, 8, 8, 1)).astype(np.float32)
    maps = explain(smooth_model, x, "integrated_gradients", 1, verbose=0, steps=256, rule=rule)
    gap = smooth_model(x).numpy()[:, 1] - smooth_model(np.zeros_like(x)).numpy()[:, 1]
    np.testing.assert_allclose(maps.sum(axis=(1, 2)), gap, rtol=rtol)


def test_ig_rule_checks(smooth_model):
    x = np.zeros((1, 8, 8, 1), np.float32)
    with pytest.raises(ValueError, match="rule='simpson' is not valid"):
        explain(smooth_model, x, "integrated_gradients", 0, verbose=0, rule="simpson")
    with pytest.raises(ValueError, match="steps must be >= 2 for rule='trapezoid'"):
        explain(smooth_model, x, "integrated_gradients", 0, verbose=0, steps=1, rule="trapezoid")
    assert explain(smooth_model, x + 0.5, "smoothgrad_ig", 0, verbose=0, steps=2, n_samples=2,
                   rule="trapezoid").shape == (1, 8, 8)
