"""What is explained (``xai_tf.targets``): regression, segmentation, detection, callables, several
inputs and outputs, through the one binding every method and metric uses. Oracles: a linear
regressor's gradient is its weights, IG is complete, a region score's gradient is GradientTape's on the
summed region logits, D-RISE's similarity computed by hand, the held-fixed input scales the map as the
arithmetic says and is never perturbed."""
import keras
import numpy as np
import pytest
import tensorflow as tf
from conftest import random_images, tiny_cnn
from test_explain import FAST

from xai_tf import metrics
from xai_tf.explainers import explain, list_methods
from xai_tf.metrics.faithfulness.fidelity import causal_curves
from xai_tf.models.binding import bind
from xai_tf.targets import Classes, Custom, Detection, Regression, Segmentation, parse_target

SIZE = 32


def camera_images(n=2, size=SIZE):
    """Crops of scikit-image's camera man, downscaled: a real image with edges and flat regions."""
    from skimage import data, transform

    camera = data.camera().astype(np.float32) / 255.0
    crops = [transform.resize(camera[r:r + 256, c:c + 256], (size, size), anti_aliasing=True)
             for r, c in [(0, 128), (200, 160), (100, 40)][:n]]
    return np.stack(crops)[..., None].astype(np.float32)


def linear_regressor(size=16, seed=0):
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((size, size, 1), name="image")
    outputs = keras.layers.Dense(1, name="value")(keras.layers.Flatten()(inputs))
    return keras.Model(inputs, outputs, name="linear_regressor")


def conv_regressor(seed=0):
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((SIZE, SIZE, 1), name="image")
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="conv1")(inputs)
    x = keras.layers.MaxPooling2D(2)(x)
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="last_conv")(x)
    outputs = keras.layers.Dense(2, name="values")(keras.layers.Flatten()(x))
    return keras.Model(inputs, outputs, name="conv_regressor")


def tiny_unet(classes=3, seed=0):
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((SIZE, SIZE, 1), name="image")
    down = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="down")(inputs)
    x = keras.layers.MaxPooling2D(2)(down)
    x = keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="bottleneck")(x)
    x = keras.layers.UpSampling2D(2)(x)
    x = keras.layers.Concatenate()([x, down])
    outputs = keras.layers.Conv2D(classes, 1, activation="softmax", name="segments")(x)
    return keras.Model(inputs, outputs, name="tiny_unet")


BOXES = np.array([[0.0, 0.0, 0.5, 0.5], [0.25, 0.25, 0.75, 0.75], [0.5, 0.5, 1.0, 1.0]], np.float32)


class FixedBoxes(keras.layers.Layer):
    """The toy detector's proposals: the same three boxes for every image."""

    def call(self, x):
        return tf.tile(tf.constant(BOXES)[None], [tf.shape(x)[0], 1, 1])


def tiny_detector(classes=2, seed=0):
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((SIZE, SIZE, 1), name="image")
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="last_conv")(inputs)
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dense(len(BOXES) * classes)(x)
    probabilities = keras.layers.Softmax()(keras.layers.Reshape((len(BOXES), classes))(x))
    outputs = keras.layers.Concatenate(name="detections")([FixedBoxes()(inputs), probabilities])
    return keras.Model(inputs, outputs, name="tiny_detector")


def two_input_model(size=16, seed=0):
    """``y = (w . x) * meta[0] + meta[1]``: the image's weight is scaled by the fixed input."""
    keras.utils.set_random_seed(seed)
    image = keras.Input((size, size, 1), name="image")
    meta = keras.Input((2,), name="meta")
    linear = keras.layers.Dense(1, use_bias=False, name="linear")(keras.layers.Flatten()(image))
    scale = keras.layers.Lambda(lambda m: m[:, :1])(meta)
    shift = keras.layers.Lambda(lambda m: m[:, 1:])(meta)
    outputs = keras.layers.Add(name="value")([keras.layers.Multiply()([linear, scale]), shift])
    return keras.Model({"image": image, "meta": meta}, outputs, name="two_input")


# -- oracles ------------------------------------------------------------------------------------------
def test_linear_regressor_gradient_is_its_weights_and_ig_is_complete():
    model = linear_regressor()
    images = camera_images(2, 16)
    weights = model.get_layer("value").get_weights()[0][:, 0].reshape(16, 16)
    maps = explain(model, images, "vanilla_gradient", Regression(), verbose=0)
    np.testing.assert_allclose(maps, np.broadcast_to(weights, maps.shape), rtol=1e-5, atol=1e-7)
    lowered = explain(model, images, "vanilla_gradient", Regression(sign=-1), verbose=0)
    np.testing.assert_allclose(lowered, -maps, rtol=1e-6)
    ig = explain(model, images, "integrated_gradients", Regression(), verbose=0, steps=16, baseline="black")
    values = model.predict(images, verbose=0)[:, 0]
    baseline = model.predict(np.zeros_like(images), verbose=0)[:, 0]
    np.testing.assert_allclose(ig.sum(axis=(1, 2)), values - baseline, rtol=1e-4, atol=1e-5)


def test_regression_is_not_the_binary_class_reading_of_a_linear_unit():
    model = linear_regressor()
    images = camera_images(2, 16)
    values = model.predict(images, verbose=0)[:, 0]
    as_class = explain(model, images, "vanilla_gradient", verbose=0)  # classes: the sign of the predicted class
    as_value = explain(model, images, "vanilla_gradient", Regression(), verbose=0)
    for i, value in enumerate(values):
        np.testing.assert_allclose(as_class[i], as_value[i] * (1 if value >= 0 else -1), rtol=1e-6)


def test_segmentation_score_gradient_equals_tape_on_summed_region_logits():
    model = tiny_unet()
    images = camera_images(2)
    region = np.zeros((2, SIZE, SIZE), np.float32)
    region[0, 4:20, 6:30] = 1
    region[1, 10:12, :] = 1
    maps = explain(model, images, "vanilla_gradient", Segmentation(2, region=region), verbose=0)
    logits_model = keras.Model(model.inputs, model.get_layer("segments").input)
    kernel, bias = model.get_layer("segments").get_weights()
    x = tf.constant(images)
    with tf.GradientTape() as tape:
        tape.watch(x)
        features = logits_model(x)
        logits = tf.einsum("bhwc,ck->bhwk", features, kernel[0, 0]) + bias
        total = tf.reduce_sum(logits[..., 2] * region)
    expected = tape.gradient(total, x).numpy()[..., 0]
    np.testing.assert_allclose(maps, expected, rtol=1e-4, atol=1e-6)


def test_segmentation_default_region_is_the_pixels_the_model_assigns():
    model = tiny_unet()
    images = camera_images(2)
    predicted = np.argmax(model.predict(images, verbose=0), axis=-1)
    cls = int(np.bincount(predicted.ravel()).argmax())
    default = explain(model, images, "vanilla_gradient", Segmentation(cls), verbose=0)
    given = explain(model, images, "vanilla_gradient", Segmentation(cls, region=predicted == cls), verbose=0)
    np.testing.assert_array_equal(default, given)
    assert np.abs(default).max() > 0


def test_detection_score_is_drise_similarity_by_hand():
    model = tiny_detector()
    images = camera_images(2)
    target_boxes = np.array([[0.1, 0.1, 0.6, 0.5], [0.5, 0.4, 0.9, 1.0]], np.float32)
    classes = np.array([1, 0])
    binding, checked, keys = bind(model, images, Detection(target_boxes, classes))
    scores = binding.score_function()(tf.constant(checked), tf.constant(keys.astype(np.int32))).numpy()
    outputs = model.predict(images, verbose=0)
    for i in range(2):
        best = 0.0
        for box, probabilities in zip(outputs[i, :, :4], outputs[i, :, 4:]):
            y0, x0 = max(box[0], target_boxes[i, 0]), max(box[1], target_boxes[i, 1])
            y1, x1 = min(box[2], target_boxes[i, 2]), min(box[3], target_boxes[i, 3])
            overlap = max(0.0, y1 - y0) * max(0.0, x1 - x0)
            union = np.prod(box[2:] - box[:2]) + np.prod(target_boxes[i, 2:] - target_boxes[i, :2]) - overlap
            cosine = probabilities[classes[i]] / np.linalg.norm(probabilities)
            best = max(best, overlap / union * cosine)
        assert scores[i] == pytest.approx(best, rel=1e-5)


def test_two_input_model_holds_the_other_input_fixed():
    model = two_input_model()
    images = camera_images(2, 16)
    meta = np.array([[2.0, 5.0], [-0.5, 1.0]], np.float32)
    weights = model.get_layer("linear").get_weights()[0][:, 0].reshape(16, 16)
    maps = explain(model, {"image": images, "meta": meta}, "vanilla_gradient", Regression(), verbose=0)
    np.testing.assert_allclose(maps, weights[None] * meta[:, :1, None], rtol=1e-5, atol=1e-7)
    # Occlusion perturbs the image only: with the meta input held at each image's value the score drop of
    # a window is scale * (w . window), so the map of meta[0] = 2 is 2x the map of meta[0] = 1.
    unit = meta.copy()
    unit[:, 0] = 1.0
    occluded = explain(model, {"image": images, "meta": meta}, "occlusion", Regression(), verbose=0)
    reference = explain(model, {"image": images, "meta": unit}, "occlusion", Regression(), verbose=0)
    np.testing.assert_allclose(occluded, reference * meta[:, :1, None], rtol=1e-4, atol=1e-6)


def test_two_outputs_are_chosen_by_name():
    keras.utils.set_random_seed(0)
    inputs = keras.Input((SIZE, SIZE, 1), name="image")
    x = keras.layers.Flatten()(keras.layers.Conv2D(2, 3, padding="same", name="last_conv")(inputs))
    model = keras.Model(inputs, {"kind": keras.layers.Dense(3, activation="softmax", name="kind")(x),
                                 "flux": keras.layers.Dense(1, name="flux")(x)})
    images = camera_images(2)
    by_class = explain(model, images, "vanilla_gradient", Classes(1, output="kind"), verbose=0)
    by_value = explain(model, images, "vanilla_gradient", Regression("flux"), verbose=0)
    single = keras.Model(inputs, model.get_layer("kind").output)
    np.testing.assert_allclose(by_class, explain(single, images, "vanilla_gradient", 1, verbose=0), rtol=1e-5,
                               atol=1e-7)
    assert not np.allclose(by_class, by_value)
    with pytest.raises(ValueError, match="output="):
        explain(model, images, "vanilla_gradient", Regression(), verbose=0)


def test_callable_target_equals_the_class_it_reads():
    model = tiny_cnn(input_shape=(SIZE, SIZE, 1))
    images = camera_images(2)
    as_callable = explain(model, images, "vanilla_gradient", lambda outputs: tf.math.log(outputs[:, 2]), verbose=0)
    # d log softmax_2 / dx = d logit_2 / dx - sum_k p_k d logit_k / dx: equal to the class-2 logit gradient
    # minus the probability-weighted gradients of all logits.
    probabilities = model.predict(images, verbose=0)
    expected = explain(model, images, "vanilla_gradient", 2, verbose=0)
    for k in range(3):
        expected -= probabilities[:, k, None, None] * explain(model, images, "vanilla_gradient", k, verbose=0)
    np.testing.assert_allclose(as_callable, expected, rtol=1e-3, atol=1e-6)


# -- every method with every target -------------------------------------------------------------------
TARGET_CASES = {
    "regression": (conv_regressor, lambda: Regression(unit=1)),
    "segmentation": (tiny_unet, lambda: Segmentation(1, region=np.pad(np.ones((8, 8)), 12))),
    "detection": (tiny_detector, lambda: Detection(BOXES[1], 1)),
    "custom": (lambda: tiny_cnn(input_shape=(SIZE, SIZE, 1)), lambda: Custom(lambda out: out[:, 0] - out[:, 1])),
}


@pytest.fixture(scope="module", params=sorted(TARGET_CASES))
def target_case(request):
    build, target = TARGET_CASES[request.param]
    return request.param, build(), target


def test_list_methods_matches_what_runs(target_case):
    kind, model, make_target = target_case
    images = camera_images(2)
    supported = set(list_methods(target=make_target()))
    assert supported == set(list_methods(target=kind))
    for method in list_methods(model=model):  # the transformers' methods: tests/test_vit.py
        params = dict(FAST.get(method, {}))
        if method in ("xrai", "fast_xrai"):
            params["steps"] = 2
        if method not in supported:
            with pytest.raises(ValueError, match="needs a score in"):
                explain(model, images, method, make_target(), verbose=0, **params)
            continue
        maps = explain(model, images, method, make_target(), verbose=0, **params)
        assert maps.shape == (2, SIZE, SIZE) and np.all(np.isfinite(maps)), (kind, method)
        if method != "random" and method != "fem":
            assert np.abs(maps).max() > 0, (kind, method)
    if kind in ("regression", "custom"):
        assert "scorecam" not in supported
    else:
        assert supported == set(list_methods())


# -- metrics ------------------------------------------------------------------------------------------
def test_fidelity_metrics_read_the_target_score():
    model = linear_regressor()
    images = camera_images(2, 16)
    maps = explain(model, images, "vanilla_gradient", Regression(), verbose=0)
    _, curves = causal_curves(model, images, maps, Regression(), steps=4, baseline=0.0, batch_size=8)
    values = model.predict(images, verbose=0)[:, 0]
    np.testing.assert_allclose(curves[:, 0], values, rtol=1e-5)  # nothing removed yet: the value itself
    np.testing.assert_allclose(curves[:, -1], model.predict(np.zeros_like(images), verbose=0)[:, 0], rtol=1e-5,
                               atol=1e-6)


def test_max_sensitivity_keeps_each_image_region():
    model = tiny_unet()
    images = camera_images(2)
    values = metrics.max_sensitivity(model, images, "vanilla_gradient", Segmentation(1), n_samples=3, radius=0.01)
    assert values.shape == (2,) and np.all(values >= 0) and np.all(values < 1)


def test_evaluate_with_a_regression_target(tmp_path):
    from xai_tf import data, evaluate

    model = conv_regressor()
    dataset = data.LabelledImages(images=camera_images(3), labels=np.zeros(3, np.int64), class_names=("?",))
    summary = evaluate(model, dataset, ["vanilla_gradient", "random"], ["deletion", "sparseness"], tmp_path,
                       targets="regression:1", chunk_size=2, verbose=0)
    assert summary["computed"] == 4
    assert (tmp_path / "table.csv").exists()
    with pytest.raises(ValueError, match="do not support a regression target"):
        evaluate(model, dataset, ["random"], ["sic"], tmp_path / "sic", targets=Regression(), verbose=0)


# -- bad input ----------------------------------------------------------------------------------------
def test_targets_that_do_not_fit_the_model_are_refused_before_work():
    classifier = tiny_cnn(input_shape=(SIZE, SIZE, 1))
    images = camera_images(2)
    with pytest.raises(ValueError, match="Segmentation needs an output"):
        explain(classifier, images, "vanilla_gradient", Segmentation(1), verbose=0)
    with pytest.raises(ValueError, match="is not an output"):
        explain(classifier, images, "vanilla_gradient", Regression("nope"), verbose=0)
    with pytest.raises(ValueError, match="unit=5 does not exist"):
        explain(classifier, images, "vanilla_gradient", Regression(unit=5), verbose=0)
    with pytest.raises(ValueError, match="region must have shape"):
        explain(tiny_unet(), images, "vanilla_gradient", Segmentation(1, region=np.ones((2, 8, 8))), verbose=0)
    with pytest.raises(ValueError, match="outside"):
        explain(tiny_detector(), images, "vanilla_gradient", Detection([0.5, 0.5, 1.2, 0.9], 0), verbose=0)
    with pytest.raises(ValueError, match="explain_input"):
        explain(two_input_model(), {"image": camera_images(2, 16), "meta": np.ones((2, 2))}, "vanilla_gradient",
                Regression(), explain_input="other", verbose=0)
    with pytest.raises(ValueError, match="one array per model input"):
        explain(two_input_model(), {"image": camera_images(2, 16)}, "vanilla_gradient", Regression(), verbose=0)
    with pytest.raises(ValueError, match="needs a score in"):
        explain(conv_regressor(), images, "scorecam", Regression(), verbose=0)


def test_parse_target_reads_the_command_line_forms():
    assert parse_target("regression:0").spec() == "regression:unit=0"
    assert parse_target("regression:unit=1,sign=-1,output=z").spec() == "regression:unit=1,sign=-1,output=z"
    assert parse_target("segmentation:class=2").class_id == 2
    assert parse_target("classes:3").ids == 3
    for bad in ("segmentation", "regression:x", "detection", "pixels:1", "regression:colour=1"):
        with pytest.raises(ValueError):
            parse_target(bad)
    with pytest.raises(ValueError):
        Regression(sign=2)


def test_classic_path_is_unchanged_by_classes_objects():
    model = tiny_cnn()
    images = random_images(2, seed=3)
    np.testing.assert_array_equal(explain(model, images, "gradcam", verbose=0),
                                  explain(model, images, "gradcam", Classes(), verbose=0))


def test_synthetic_galaxies_carry_a_regression_target_a_regressor_learns():
    from xai_tf import data

    galaxies = data.synthetic_radio_galaxies(160, image_size=SIZE, seed=0)
    np.testing.assert_allclose(galaxies.values, galaxies.info["half_length"] / SIZE)
    subset = galaxies.subset([3, 1])
    np.testing.assert_array_equal(subset.values, galaxies.values[[3, 1]])
    with pytest.raises(ValueError, match="values must be finite"):
        data.LabelledImages(images=galaxies.images[:2], labels=galaxies.labels[:2], class_names=("a", "b"),
                            values=np.ones(3))
    keras.utils.set_random_seed(0)
    model = conv_regressor()
    head = keras.Sequential([model, keras.layers.Lambda(lambda v: v[:, :1])])
    head.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
    head.fit(galaxies.images[:128], galaxies.values[:128], epochs=40, batch_size=32, verbose=0)
    predicted = head.predict(galaxies.images[128:], verbose=0)[:, 0]
    assert np.corrcoef(predicted, galaxies.values[128:])[0, 1] > 0.5  # it learned the extent
    maps = explain(model, galaxies.images[128:132], "integrated_gradients", Regression(), verbose=0, steps=16)
    values = model.predict(galaxies.images[128:132], verbose=0)[:, 0]
    baseline = model.predict(np.zeros_like(galaxies.images[128:132]), verbose=0)[:, 0]
    np.testing.assert_allclose(maps.sum(axis=(1, 2)), values - baseline, rtol=0.05, atol=0.01)  # IG completeness


def test_metric_callback_scores_a_segmentation_target_as_evaluate_does(tmp_path):
    from xai_tf import data, evaluate
    from xai_tf.callbacks import MetricCallback

    model = tiny_unet()
    images = camera_images(3)
    metrics_asked = ["deletion", "sparseness"]
    options = {"deletion_steps": 4}
    callback = MetricCallback(images, "vanilla_gradient", metrics_asked, targets=Segmentation(1), options=options)
    callback.set_model(model)
    callback.on_train_begin()
    callback.on_epoch_end(0, {})
    callback.on_train_end()
    dataset = data.LabelledImages(images=images, labels=np.zeros(3, np.int64), class_names=("?",))
    summary = evaluate(model, dataset, "vanilla_gradient", metrics_asked, tmp_path, targets="segmentation:class=1",
                       chunk_size=8, options=options, verbose=0)
    assert callback.table["vanilla_gradient"] == summary["table"]["vanilla_gradient"]
    with pytest.raises(ValueError, match="do not support a segmentation target"):
        MetricCallback(images, "vanilla_gradient", ["sic"], targets=Segmentation(1))
    wrong = MetricCallback(images, "vanilla_gradient", ["sparseness"], targets=Segmentation(1))
    wrong.set_model(tiny_cnn(input_shape=(SIZE, SIZE, 1)))
    with pytest.raises(ValueError, match="Segmentation needs an output"):
        wrong.on_train_begin()


def test_study_config_takes_a_target_spec():
    from xai_tf import study

    raw = study.read_config("paper004-synthetic")
    metrics_without_classes = [name for name in raw["metrics"] if name not in ("sic", "aic", "road", "random_logit")]
    config = study.check_config({**raw, "targets": "regression:0", "metrics": metrics_without_classes})
    assert config["targets"] == "regression:0"
    with pytest.raises(ValueError, match="do not support a regression target"):
        study.check_config({**raw, "targets": "regression:0", "metrics": ["sic"]})
    with pytest.raises(ValueError, match="segmentation needs class"):
        study.check_config({**raw, "targets": "segmentation"})
    with pytest.raises(ValueError, match="targets="):
        study.check_config({**raw, "targets": "everything"})


def test_pic_refuses_targets_other_than_classes():
    model = conv_regressor()
    images = camera_images(2)
    with pytest.raises(ValueError, match="defined on a classifier"):
        metrics.pic(model, images, np.ones((2, SIZE, SIZE), np.float32), targets=Regression(), kind="sic")
