"""The ``explain`` API: every method on every kind of model, targets, seeds, bad input."""
import keras
import numpy as np
import pytest
from conftest import random_images, tiny_cnn, tiny_nested, tiny_sequential_cnn

import xai_tf
from xai_tf.explainers import explain, list_methods, method_parameters
from xai_tf.explainers.registry import (
    FAMILIES,
    LAYER_METHODS,
    RECORDS,
    STOCHASTIC_METHODS,
)

# The issue #22 line-up on top of the earlier methods; the full list is read from the records.
ISSUE_22_METHODS = {"rise", "kernel_shap", "vargrad", "squaregrad", "sobol", "hsic", "fem", "gradient_shap"}

# Small settings so that the whole matrix runs in seconds on a 2-core CPU.
FAST = {
    "smoothgrad": {"n_samples": 3},
    "smoothgrad_ig": {"n_samples": 2, "steps": 3},
    "smooth_blur_ig": {"n_samples": 2, "steps": 4, "max_sigma": 4},
    "blur_ig": {"steps": 6, "max_sigma": 8},
    "guided_ig": {"steps": 4},
    "integrated_gradients": {"steps": 8},
    "xrai": {"steps": 4},
    "fast_xrai": {"steps": 4},
    "lime": {"num_samples": 20},
    "vargrad": {"n_samples": 3},
    "squaregrad": {"n_samples": 3},
    "gradient_shap": {"n_samples": 3},
    "rise": {"n_masks": 40, "grid_size": 4},
    "kernel_shap": {"n_samples": 40, "grid_size": 4},
    "sobol": {"n_designs": 4, "grid_size": 4},
    "hsic": {"n_designs": 40, "grid_size": 4},
}

MODELS = {
    "softmax": lambda: tiny_cnn(head="softmax"),
    "sigmoid": lambda: tiny_cnn(head="sigmoid"),
    "nested": lambda: tiny_nested(head="sigmoid"),
    "sequential": lambda: tiny_sequential_cnn(head="softmax"),
}


@pytest.fixture(scope="module", params=sorted(MODELS))
def any_model(request):
    return MODELS[request.param]()


def test_list_methods_comes_from_the_records():
    assert list_methods() == tuple(sorted(RECORDS)) == xai_tf.list_methods()
    assert ISSUE_22_METHODS <= set(list_methods())
    assert xai_tf.explain is explain
    assert STOCHASTIC_METHODS == {name for name, record in RECORDS.items() if record.stochastic}
    assert LAYER_METHODS == set(list_methods(layer=True)) == {"gradcam", "gradcam_pp", "scorecam", "faster_scorecam",
                                                              "guided_gradcam", "normgrad", "fem"}
    assert set(list_methods(stochastic=True)) >= {"rise", "kernel_shap", "vargrad", "squaregrad", "gradient_shap"}
    assert not {"sobol", "hsic", "fem"} & STOCHASTIC_METHODS  # quasi-Monte-Carlo designs / activations only
    for name, record in RECORDS.items():
        assert record.defaults == method_parameters(name)
        assert record.family in FAMILIES and record.description


def test_every_method_gives_finite_maps_on_every_model(any_model):
    images = random_images(2, seed=11)
    assert set(list_methods()) - set(list_methods(model=any_model)) == set(list_methods(family="attention"))
    for method in list_methods(model=any_model):  # every method but the transformers' (tests/test_vit.py)
        if method in ("xrai", "fast_xrai") and any_model.name != "tiny_softmax_cnn":
            continue  # region ranking is model-independent; run once (segmentation is the slow part)
        maps = explain(any_model, images, method, verbose=0, **FAST.get(method, {}))
        assert maps.shape == (2, 32, 32), method
        assert maps.dtype == np.float32, method
        assert np.all(np.isfinite(maps)), method
        if method != "random":
            assert np.abs(maps).max() > 0 or method in ("gradcam", "guided_gradcam", "scorecam", "faster_scorecam",
                                                        "gradcam_pp"), method


def test_xrai_regions_on_nested_model():
    images = random_images(1, seed=12)
    model = tiny_nested()
    full = explain(model, images, "xrai", steps=4, verbose=0)
    fast = explain(model, images, "fast_xrai", steps=4, verbose=0)
    whole_fast = explain(model, images, "fast_xrai", steps=4, top_fraction=None, verbose=0)
    assert full.shape == fast.shape == (1, 32, 32)
    # region maps are piecewise constant: few distinct values
    assert len(np.unique(full)) < 40
    # fast_xrai keeps the pixels at or above the 70th percentile (paper 000's "top 30 %"; whole
    # regions are kept, so ties can push the share a little above 30 %) and puts the rest at the minimum
    kept = whole_fast >= np.quantile(whole_fast, 0.7)
    assert 0.3 <= kept.mean() < 0.6
    np.testing.assert_array_equal(fast[kept], whole_fast[kept])
    assert np.all(fast[~kept] == whole_fast.min())


def test_sigmoid_class_maps_are_exact_negatives(sigmoid_cnn, images):
    one = explain(sigmoid_cnn, images, "vanilla_gradient", targets=1, verbose=0)
    zero = explain(sigmoid_cnn, images, "vanilla_gradient", targets=0, verbose=0)
    np.testing.assert_array_equal(zero, -one)
    assert np.abs(one).max() > 0


def test_default_targets_are_predicted_classes(softmax_cnn, sigmoid_cnn, images):
    predicted = np.argmax(softmax_cnn(images).numpy(), axis=1)
    np.testing.assert_array_equal(explain(softmax_cnn, images, "gradcam", verbose=0),
                                  explain(softmax_cnn, images, "gradcam", predicted, verbose=0))
    predicted = (sigmoid_cnn(images).numpy()[:, 0] > 0.5).astype(int)
    np.testing.assert_array_equal(explain(sigmoid_cnn, images, "input_x_gradient", verbose=0),
                                  explain(sigmoid_cnn, images, "input_x_gradient", predicted, verbose=0))


SEED_PARAMS = {**FAST, "lime": {"num_samples": 40, "segmentation": "slic"},
               "smooth_blur_ig": {"n_samples": 2, "steps": 3, "max_sigma": 4}}


@pytest.mark.parametrize("method", list_methods(stochastic=True))
def test_seeds_repeat_and_differ(softmax_cnn, method):
    params = SEED_PARAMS.get(method, {})
    images = _blocky_images()
    first = explain(softmax_cnn, images, method, seed=1, verbose=0, **params)
    again = explain(softmax_cnn, images, method, seed=1, verbose=0, **params)
    other = explain(softmax_cnn, images, method, seed=2, verbose=0, **params)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


def _blocky_images():
    """Two images of coloured 8x8 blocks (superpixel algorithms find structure in them)."""
    rng = np.random.default_rng(5)
    return np.kron(rng.random((2, 4, 4, 3)), np.ones((1, 8, 8, 1))).astype(np.float32)


def test_stochastic_maps_do_not_depend_on_batch_size(softmax_cnn, images):
    small = explain(softmax_cnn, images, "smoothgrad", n_samples=5, batch_size=3, verbose=0)
    large = explain(softmax_cnn, images, "smoothgrad", n_samples=5, batch_size=64, verbose=0)
    np.testing.assert_allclose(small, large, rtol=1e-5, atol=1e-9)
    small = explain(softmax_cnn, images, "occlusion", batch_size=5, verbose=0)
    np.testing.assert_allclose(small, explain(softmax_cnn, images, "occlusion", verbose=0), atol=1e-6)


def test_cam_layer_choice(nested_sigmoid, images):
    default = explain(nested_sigmoid, images, "gradcam", verbose=0)
    np.testing.assert_array_equal(default, explain(nested_sigmoid, images, "gradcam", layer="block2_conv1",
                                                   verbose=0))
    early = explain(nested_sigmoid, images, "gradcam", layer="block1_conv1", verbose=0)
    assert not np.allclose(default, early)


def test_activations_of_nested_model(nested_sigmoid, images):
    maps = xai_tf.explain.activations(nested_sigmoid, images[0])
    assert list(maps) == ["block1_conv1", "block2_conv1"]
    assert maps["block1_conv1"].shape == (32, 32, 4)
    expected = nested_sigmoid.layers[0](images[:1]).numpy()[0]
    np.testing.assert_allclose(maps["block2_conv1"], expected, atol=1e-6)
    batch = xai_tf.explain.activations(nested_sigmoid, images, layers=["block1_pool"])
    assert batch["block1_pool"].shape == (4, 16, 16, 4)


# -- bad input --------------------------------------------------------------------------------------

def test_unknown_method_lists_names(softmax_cnn, images):
    with pytest.raises(ValueError, match="gradcam.*vanilla_gradient"):
        explain(softmax_cnn, images, "gradcamm")


@pytest.mark.parametrize("bad, message", [
    (np.zeros((32, 32, 3), np.float32), "4 dimensions"),
    (np.zeros((2, 28, 28, 3), np.float32), "model expects"),
    (np.zeros((2, 32, 32, 1), np.float32), "model expects"),
    (np.full((1, 32, 32, 3), np.nan, np.float32), "NaN"),
    (np.full((1, 32, 32, 3), np.inf, np.float32), "NaN/Inf"),
    (np.full((1, 32, 32, 3), 255.0, np.float32), r"\[0.0, 1.0\]"),
])
def test_bad_images(softmax_cnn, bad, message):
    with pytest.raises(ValueError, match=message):
        explain(softmax_cnn, bad, "vanilla_gradient", verbose=0)


def test_bad_targets(softmax_cnn, sigmoid_cnn, images):
    with pytest.raises(ValueError, match="shape \\(4,\\)"):
        explain(softmax_cnn, images, "vanilla_gradient", targets=[0, 1], verbose=0)
    with pytest.raises(ValueError, match="\\[0, 2\\]"):
        explain(softmax_cnn, images, "vanilla_gradient", targets=3, verbose=0)
    with pytest.raises(ValueError, match="\\[0, 1\\]"):
        explain(sigmoid_cnn, images, "vanilla_gradient", targets=2, verbose=0)
    with pytest.raises(TypeError, match="integer"):
        explain(softmax_cnn, images, "vanilla_gradient", targets=[0.5, 1, 1, 1], verbose=0)


def test_bad_layer_and_parameters(nested_sigmoid, images):
    with pytest.raises(ValueError, match="does not exist.*block1_conv1, block1_pool, block2_conv1"):
        explain(nested_sigmoid, images, "gradcam", layer="conv5", verbose=0)
    with pytest.raises(ValueError, match="no 4-D output"):
        explain(nested_sigmoid, images, "scorecam", layer="fc1", verbose=0)
    with pytest.raises(ValueError, match="layer= applies only"):
        explain(nested_sigmoid, images, "vanilla_gradient", layer="block1_conv1", verbose=0)
    with pytest.raises(TypeError, match="accepts: steps"):
        explain(nested_sigmoid, images, "integrated_gradients", step=3, verbose=0)
    with pytest.raises(ValueError, match="variant"):
        explain(nested_sigmoid, images, "normgrad", variant="conv5x5", verbose=0)
    with pytest.raises(ValueError, match="batch_size"):
        explain(nested_sigmoid, images, "gradcam", batch_size=0, verbose=0)
    with pytest.raises(TypeError, match="seed"):
        explain(nested_sigmoid, images, "random", seed="a", verbose=0)
    with pytest.raises(ValueError, match="baseline"):
        explain(nested_sigmoid, images, "integrated_gradients", baseline="grey", verbose=0)


def test_cam_on_model_without_conv_layers():
    inputs = keras.Input((8, 8, 1))
    model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(keras.layers.Flatten()(inputs)))
    images = np.zeros((1, 8, 8, 1), np.float32)
    with pytest.raises(ValueError, match="no layer with a 4-D output"):
        explain(model, images, "gradcam", verbose=0)
    assert explain(model, images, "vanilla_gradient", verbose=0).shape == (1, 8, 8)


def test_bad_model():
    with pytest.raises(TypeError, match="keras.Model"):
        explain(lambda x: x, np.zeros((1, 8, 8, 1), np.float32), "gradcam")
