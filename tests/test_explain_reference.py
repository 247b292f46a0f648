"""Our batched explainers against PAIR ``saliency``, ``tf-keras-vis`` and hand computations."""
import keras
import numpy as np
import pytest
import saliency.core as pair
import tensorflow as tf
from conftest import random_images, tiny_cnn

from xai_tf.explainers import cam, explain, perturbation
from xai_tf.explainers.base import Request, adapter_for, layer_gradients
from xai_tf.models.graph import flatten, run_model

TARGETS = np.array([0, 2])


def _assert_unscaled(ours, theirs, rel):
    """Equal within ``rel`` of each reference map's largest magnitude: no rescaling (the reference's
    scale is its definition, so a constant-factor error fails)."""
    for mine, reference in zip(np.asarray(ours, np.float64), np.asarray(theirs, np.float64)):
        np.testing.assert_allclose(mine, reference, rtol=rel, atol=rel * np.abs(reference).max())


def _min_max(maps):
    maps = maps - maps.reshape(len(maps), -1).min(axis=1)[:, None, None]
    return maps / maps.reshape(len(maps), -1).max(axis=1)[:, None, None]


@pytest.fixture(scope="module")
def model():
    return tiny_cnn(head="softmax", seed=4)


@pytest.fixture(scope="module")
def pair_function(model):
    """PAIR's TF2 ``call_model_function`` on the target logit (reference implementation)."""
    def call_model_function(images, call_model_args=None, expected_keys=None):
        target = call_model_args["target"]
        images = tf.convert_to_tensor(images, tf.float32)
        with tf.GradientTape(persistent=True) as tape:
            tape.watch(images)
            logits, taps = run_model(model, images, layers=["last_conv"])
            score = logits[:, target]
        if pair.INPUT_OUTPUT_GRADIENTS in expected_keys:
            return {pair.INPUT_OUTPUT_GRADIENTS: tape.gradient(score, images).numpy()}
        conv = taps["last_conv"]
        return {pair.CONVOLUTION_LAYER_VALUES: conv.numpy(),
                pair.CONVOLUTION_OUTPUT_GRADIENTS: tape.gradient(score, conv).numpy()}
    return call_model_function


def _pair_maps(method, images, function, **kwargs):
    return np.stack([method.GetMask(images[i], function, {"target": int(TARGETS[i])}, **kwargs).sum(axis=-1)
                     for i in range(len(images))])


def test_vanilla_gradient_equals_pair(model, pair_function):
    images = random_images(2, seed=1)
    ours = explain(model, images, "vanilla_gradient", TARGETS, verbose=0)
    theirs = _pair_maps(pair.GradientSaliency(), images, pair_function)
    _assert_unscaled(ours, theirs, 1e-4)


def test_integrated_gradients_equals_pair(model, pair_function):
    images = random_images(2, seed=2)
    ours = explain(model, images, "integrated_gradients", TARGETS, steps=20, batch_size=7, verbose=0)
    theirs = _pair_maps(pair.IntegratedGradients(), images, pair_function, x_steps=20, batch_size=5)
    _assert_unscaled(ours, theirs, 1e-4)


def test_blur_ig_equals_pair(model, pair_function):
    images = random_images(2, seed=3)
    ours = explain(model, images, "blur_ig", TARGETS, steps=12, max_sigma=10, batch_size=5, verbose=0)
    theirs = _pair_maps(pair.BlurIG(), images, pair_function, steps=12, max_sigma=10, batch_size=4)
    _assert_unscaled(ours, theirs, 1e-3)  # float32 vs SciPy float64 blur


def test_guided_ig_equals_pair_with_numpy2_fix(model, pair_function, monkeypatch):
    import saliency.core.guided_ig as guided_ig_module

    class NumpyWithOldQuantile:  # PAIR calls np.quantile(..., interpolation=), removed in NumPy 2
        def __getattr__(self, name):
            return getattr(np, name)

        @staticmethod
        def quantile(a, q, interpolation="linear", **kwargs):
            return np.quantile(a, q, method=interpolation, **kwargs)

    monkeypatch.setattr(guided_ig_module, "np", NumpyWithOldQuantile())
    images = random_images(2, seed=4)
    for fraction, max_dist in [(0.5, 1.0), (0.25, 0.1)]:
        ours = explain(model, images, "guided_ig", TARGETS, steps=8, fraction=fraction, max_dist=max_dist, verbose=0)
        theirs = _pair_maps(pair.GuidedIG(), images, pair_function, x_steps=8, fraction=fraction, max_dist=max_dist)
        _assert_unscaled(ours, theirs, 1e-4)


def _request(model, images, layer):
    return Request(adapter=adapter_for(model), images=images, targets=TARGETS, batch_size=16, verbose=0, seed=0,
                   layer=layer)


def test_gradcam_equals_pair_at_layer_resolution(model, pair_function):
    images = random_images(2, seed=5)
    ours = cam.gradcam_layer_maps(_request(model, images, "last_conv"))
    theirs = np.stack([pair.GradCam().GetMask(images[i], pair_function, {"target": int(TARGETS[i])},
                                              should_resize=False, three_dims=False) for i in range(2)])
    np.testing.assert_allclose(ours, theirs, atol=1e-5)


@pytest.fixture(scope="module")
def full_resolution_model():
    """Flat softmax CNN whose last conv layer has the input's resolution (no upsampling convention)."""
    keras.utils.set_random_seed(1)
    inputs = keras.Input((32, 32, 3))
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="conv1")(inputs)
    x = keras.layers.Conv2D(6, 3, padding="same", activation="relu", name="last_conv")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, keras.layers.Dense(3, activation="softmax", name="predictions")(x))


@pytest.mark.parametrize("name", ["gradcam", "gradcam_pp", "scorecam", "faster_scorecam"])
def test_cams_equal_tf_keras_vis(full_resolution_model, name):
    from tf_keras_vis.gradcam import Gradcam
    from tf_keras_vis.gradcam_plus_plus import GradcamPlusPlus
    from tf_keras_vis.scorecam import Scorecam
    from tf_keras_vis.utils.model_modifiers import ReplaceToLinear
    from tf_keras_vis.utils.scores import CategoricalScore

    model = full_resolution_model
    images = random_images(2, seed=6)
    visualiser = {"gradcam": Gradcam, "gradcam_pp": GradcamPlusPlus, "scorecam": Scorecam,
                  "faster_scorecam": Scorecam}[name]
    # ReplaceToLinear: gradients on logits, and Score-CAM's softmax applied to logits (as ours).
    # Faster Score-CAM is tf-keras-vis' Scorecam with max_N (the channels of largest variance).
    extra = {"max_N": 4} if name == "faster_scorecam" else {}
    theirs = visualiser(model, model_modifier=ReplaceToLinear(), clone=True)(
        CategoricalScore(list(TARGETS)), images, penultimate_layer="last_conv", normalize_cam=False, **extra)
    ours = explain(model, images, name, TARGETS, verbose=0, **({"max_channels": 4} if extra else {}))
    if name == "gradcam_pp":  # documented: tf-keras-vis' factor exp(target logit) is left out
        logits = run_model(model, tf.constant(images))[0].numpy().astype(np.float64)
        ours = ours * np.exp(logits[np.arange(len(images)), TARGETS])[:, None, None]
    # unscaled: normalize_cam=False gives tf-keras-vis' raw maps (no upsampling at this resolution)
    _assert_unscaled(ours, np.asarray(theirs), 1e-4)


def test_gradcam_equals_hand_written_tape_and_flatten_twin(nested_sigmoid):
    images = random_images(3, seed=7)
    targets = np.array([1, 0, 1])
    ours = explain(nested_sigmoid, images, "gradcam", targets, verbose=0)
    flat = flatten(nested_sigmoid)
    np.testing.assert_allclose(explain(flat, images, "gradcam", targets, verbose=0), ours, atol=1e-6)
    # hand-written: the backbone's output is block2_conv1; run the head on it under a tape
    backbone, flatten_layer, fc1, head = nested_sigmoid.layers
    activations = tf.constant(backbone(images))
    with tf.GradientTape() as tape:
        tape.watch(activations)
        logit = tf.matmul(fc1(flatten_layer(activations)), head.kernel) + head.bias
        score = tf.where(tf.constant(targets) == 1, logit[:, 0], -logit[:, 0])
    grads = tape.gradient(score, activations).numpy()
    weights = grads.mean(axis=(1, 2), keepdims=True)
    expected = np.maximum((weights * activations.numpy()).sum(axis=-1), 0)
    expected = tf.image.resize(expected[..., None], (32, 32), method="bilinear").numpy()[..., 0]
    np.testing.assert_allclose(ours, expected, atol=1e-5)


def test_integrated_gradients_completeness_at_128_steps():
    model = tiny_cnn(head="softmax", seed=9)
    images = random_images(3, seed=9)
    targets = np.array([0, 1, 2])
    maps = explain(model, images, "integrated_gradients", targets, steps=128, verbose=0)
    logits = run_model(model, tf.constant(images))[0].numpy()
    baseline_logits = run_model(model, tf.zeros_like(images))[0].numpy()
    difference = logits[np.arange(3), targets] - baseline_logits[np.arange(3), targets]
    totals = maps.reshape(3, -1).sum(axis=1)
    # tiny_cnn has zero biases and ReLU / max-pool layers, so logit(a x) = a logit(x) on the path: every
    # gradient at a > 0 is the same and the one at a = 0 is 0 (ReLU'(0) = 0 in TensorFlow). PAIR's rule,
    # sum over a in linspace(0, 1, steps) of the gradient / steps, gives exactly (steps - 1) / steps of
    # logit(x) - logit(0): completeness up to the first term (measured relative error 8e-6)
    np.testing.assert_allclose(totals, difference * 127 / 128, rtol=1e-4)


def test_occlusion_peaks_on_the_region_the_logit_averages():
    # logit = mean of rows 14..29, cols 12..27 of a 48x48 image (one linear unit: class 1 = +logit)
    inputs = keras.Input((48, 48, 1))
    x = keras.layers.Cropping2D(((14, 18), (12, 20)))(inputs)
    outputs = keras.layers.GlobalAveragePooling2D()(x)
    model = keras.Model(inputs, outputs)
    images = np.ones((1, 48, 48, 1), np.float32)
    maps = explain(model, images, "occlusion", targets=1, verbose=0)  # window 15, stride 5, baseline 0
    inside = maps[0, 14:30, 12:28]
    assert inside.max() == maps.max()
    assert maps[0, 14 + 8, 12 + 8] == maps.max()  # the centre of the region
    assert maps[0, 40:, 40:].max() == 0  # windows there never touch the region
    assert maps.min() >= 0


def _captum_occlusion_by_hand(weights, image, target, window=15, stride=5):
    """Captum's ``Occlusion(sliding_window_shapes=(C, window, window), strides=(C, stride, stride),
    baselines=0)`` on a model whose target output is ``sum(weights[..., target] * x)``, written out
    as Captum does it: ``ceil((size - window) / stride) + 1`` shifts per axis at multiples of the
    stride, each window cropped by the image edge, one forward pass per window, and per pixel the
    sum of the drops of the windows covering it divided by their number."""
    size = image.shape[0]
    shifts = int(np.ceil((size - window) / stride)) + 1
    total = np.zeros((size, size))
    count = np.zeros((size, size))
    for i in range(shifts):
        for j in range(shifts):
            mask = np.zeros((size, size))
            mask[i * stride:i * stride + window, j * stride:j * stride + window] = 1  # slicing crops at the edge
            occluded = image * (1 - mask[..., None])
            drop = (weights[..., target] * image).sum() - (weights[..., target] * occluded).sum()
            total += drop * mask
            count += mask
    return total / count


@pytest.mark.parametrize("size", [32, 24])
def test_occlusion_default_tiling_equals_captum_by_hand(size):
    # At 32: windows start at 0, 5, 10, 15, 20 and the last one is cut to 12 pixels (20..31); at 24:
    # 0, 5, 10 (cut to 14). The flush tiling (cover_edges=True) puts its last window at 17 (9).
    np.testing.assert_array_equal(perturbation.window_starts(32, 15, 5), [0, 5, 10, 15, 20])
    np.testing.assert_array_equal(perturbation.window_starts(32, 15, 5, cover_edges=True), [0, 5, 10, 15, 17])
    np.testing.assert_array_equal(perturbation.window_starts(24, 15, 5), [0, 5, 10])
    np.testing.assert_array_equal(perturbation.window_starts(24, 15, 5, cover_edges=True), [0, 5, 9])
    rng = np.random.default_rng(3)
    inputs = keras.Input((size, size, 3))
    dense = keras.layers.Dense(2, name="logits")  # linear head: the target score is the logit itself
    model = keras.Model(inputs, dense(keras.layers.Flatten()(inputs)))
    weights = rng.standard_normal((size, size, 3, 2)).astype(np.float32)
    dense.set_weights([weights.reshape(-1, 2), np.array([0.3, -0.2], np.float32)])
    images = rng.random((2, size, size, 3)).astype(np.float32)
    targets = np.array([1, 0])
    maps = explain(model, images, "occlusion", targets=targets, verbose=0)
    for n in range(2):
        expected = _captum_occlusion_by_hand(weights.astype(np.float64), images[n].astype(np.float64), targets[n])
        np.testing.assert_allclose(maps[n], expected, rtol=1e-4, atol=1e-4)
    # The full-window tiling differs exactly where its flush window changes the average: the far
    # rows/columns (from its start on: 17 at 32, 9 at 24); the rest is the same.
    flush = explain(model, images, "occlusion", targets=targets, verbose=0, cover_edges=True)
    edge = 17 if size == 32 else 9
    np.testing.assert_allclose(flush[:, :edge, :edge], maps[:, :edge, :edge], rtol=1e-5, atol=1e-5)
    assert np.all(np.abs(flush[:, edge:, edge:] - maps[:, edge:, edge:]).max(axis=(1, 2)) > 1e-2)


def test_occlusion_rejects_strides_that_leave_gaps_and_non_boolean_cover_edges():
    model = tiny_cnn(head="softmax", seed=1)
    images = random_images(1, seed=1)
    with pytest.raises(ValueError, match="stride"):
        explain(model, images, "occlusion", window=4, stride=6, verbose=0)
    with pytest.raises(TypeError, match="cover_edges"):
        explain(model, images, "occlusion", cover_edges="yes", verbose=0)


def _two_layer_net():
    """x (2x2x1) -> 1x1 conv with 2 ReLU filters -> flatten -> one linear unit, fixed weights."""
    inputs = keras.Input((2, 2, 1))
    hidden = keras.layers.Conv2D(2, 1, activation="relu", name="hidden")(inputs)
    output = keras.layers.Dense(1, name="out")(keras.layers.Flatten()(hidden))
    model = keras.Model(inputs, output)
    w1 = np.array([1.0, 2.0], np.float32)  # positive filters: input gradient = sum of filter gradients
    model.get_layer("hidden").set_weights([w1.reshape(1, 1, 1, 2), np.array([0.0, -0.5], np.float32)])
    w2 = np.array([1.0, -2.0, -1.0, 3.0, 2.0, 1.0, -3.0, 0.5], np.float32)  # (pixel, filter) order
    model.get_layer("out").set_weights([w2.reshape(8, 1), np.zeros(1, np.float32)])
    return model, w1, np.array([0.0, -0.5], np.float32), w2.reshape(4, 2)


def test_guided_backprop_and_deconvnet_by_hand():
    model, w1, b1, w2 = _two_layer_net()
    image = np.array([0.2, 0.0, 0.9, 0.4], np.float32)
    pre = image[:, None] * w1[None, :] + b1[None, :]  # (pixel, filter)
    active = (pre > 0).astype(np.float32)
    expected = {
        "vanilla_gradient": (w2 * active) @ w1,
        "guided_backprop": (np.maximum(w2, 0) * active) @ w1,
        "deconvnet": np.maximum(w2, 0) @ w1,
    }
    weights_before = [w.copy() for w in model.get_weights()]
    for method, values in expected.items():
        maps = explain(model, image.reshape(1, 2, 2, 1), method, targets=1, verbose=0)
        np.testing.assert_allclose(maps.ravel(), values, atol=1e-6, err_msg=method)
    guided = explain(model, image.reshape(1, 2, 2, 1), "guided_backprop", targets=1, verbose=0)
    assert guided.min() >= 0  # no negative gradient passes the ReLUs (positive first layer)
    for before, after in zip(weights_before, model.get_weights()):
        np.testing.assert_array_equal(before, after)
    assert model.get_layer("hidden").activation.__name__ == "relu"


def test_guided_backprop_leaves_model_untouched(softmax_cnn, images):
    weights = [w.copy() for w in softmax_cnn.get_weights()]
    outputs = softmax_cnn(images).numpy()
    vanilla = explain(softmax_cnn, images, "vanilla_gradient", verbose=0)
    explain(softmax_cnn, images, "guided_backprop", verbose=0)
    explain(softmax_cnn, images, "deconvnet", verbose=0)
    np.testing.assert_array_equal(softmax_cnn(images).numpy(), outputs)
    for before, after in zip(weights, softmax_cnn.get_weights()):
        np.testing.assert_array_equal(before, after)
    # ordinary gradients are unaffected by the override
    np.testing.assert_array_equal(explain(softmax_cnn, images, "vanilla_gradient", verbose=0), vanilla)


def test_normgrad_conv1x1_by_hand(softmax_cnn, images):
    request = _request(softmax_cnn, images[:2], "last_conv")
    request.targets = np.array([1, 2])
    (acts,), (grads,) = layer_gradients(request, ("last_conv",))
    expected = np.linalg.norm(acts, axis=-1) * np.linalg.norm(grads, axis=-1)
    expected = tf.image.resize(expected[..., None], (32, 32)).numpy()[..., 0]
    expected = _min_max(expected)
    maps = explain(softmax_cnn, images[:2], "normgrad", [1, 2], variant="conv1x1", verbose=0)
    np.testing.assert_allclose(maps, expected, atol=1e-5)
    multi = explain(softmax_cnn, images[:2], "normgrad", [1, 2], layers=["conv1", "last_conv"], verbose=0)
    single_first = explain(softmax_cnn, images[:2], "normgrad", [1, 2], layer="conv1", verbose=0)
    np.testing.assert_allclose(multi, single_first * maps, atol=1e-5)


def test_normgrad_upsample_default_is_the_old_bilinear_map_and_another_method_differs(softmax_cnn, images):
    from xai_tf.explainers import normgrad
    from xai_tf.explainers.base import upsample

    request = _request(softmax_cnn, images[:2], "last_conv")
    request.targets = np.array([1, 2])
    (acts,), (grads,) = layer_gradients(request, ("last_conv",))
    layer_maps = normgrad.normgrad_layer_maps(acts.astype(np.float64), grads.astype(np.float64), "conv1x1")
    layer_maps = layer_maps.astype(np.float32)

    def scaled(*method):  # no method: the call normgrad made before upsample= (base.upsample's default)
        return np.ones((2, 32, 32), np.float32) * normgrad._min_max(upsample(layer_maps, (32, 32), *method).numpy())

    default = explain(softmax_cnn, images[:2], "normgrad", [1, 2], verbose=0)
    np.testing.assert_array_equal(default, scaled())
    nearest = explain(softmax_cnn, images[:2], "normgrad", [1, 2], upsample="nearest", verbose=0)
    assert nearest.shape == default.shape == (2, 32, 32) and not np.allclose(nearest, default)
    np.testing.assert_array_equal(nearest, scaled("nearest"))
    with pytest.raises(ValueError, match="upsample='cubic' is not valid"):
        explain(softmax_cnn, images[:2], "normgrad", upsample="cubic", verbose=0)
