"""Loading the models people have: real Keras 2 files written with tf_keras, converted to Keras 3.

Three models of the papers' kinds (a custom CNN with BatchNormalization and Dropout; paper 002's
``Sequential([VGG16, Flatten, Dense, Dense(1, "sigmoid")])``; a ResNet50 with a GAP head), each
saved as ``.h5`` and as a SavedModel folder and passed as a live object. Every conversion must
predict what tf_keras predicts (1e-5), have the same input gradients, and run the explainers with
the CAM on the backbone's last convolution.
"""
from __future__ import annotations

import json
import zipfile

import keras
import numpy as np
import pytest
import tensorflow as tf
from conftest import tiny_cnn

import xai_tf
from xai_tf.models import find_last_conv_layer, load_model, wrap_saved_model

# the `dev` extra installs it; conversion itself needs it only for SavedModel
tf_keras = pytest.importorskip("tf_keras")

pytestmark = pytest.mark.filterwarnings("ignore:You are saving your model as an HDF5 file")  # on purpose here

KINDS = ("custom_cnn", "vgg16_transfer", "resnet50_gap")
SOURCES = ("h5", "savedmodel", "object")


def _custom_cnn():
    layers = tf_keras.layers
    return tf_keras.Sequential([
        tf_keras.Input((32, 32, 3)),
        layers.Conv2D(6, 3, activation="relu", name="conv1"),
        layers.BatchNormalization(name="bn1"),
        layers.MaxPooling2D(name="pool1"),
        layers.Conv2D(8, 3, padding="same", activation="relu", name="last_conv"),
        layers.Flatten(name="flatten"),
        layers.Dropout(0.5, name="dropout"),
        layers.Dense(16, activation="relu", name="hidden"),
        layers.Dense(3, activation="softmax", name="predictions"),
    ], name="custom_cnn")


def _vgg16_transfer():  # paper 002's own construction
    backbone = tf_keras.applications.VGG16(include_top=False, weights=None, input_shape=(64, 64, 3))
    layers = tf_keras.layers
    return tf_keras.Sequential([backbone, layers.Flatten(), layers.Dense(32, "relu"), layers.Dense(1, "sigmoid")])


def _resnet50_gap():
    backbone = tf_keras.applications.ResNet50(include_top=False, weights=None, input_shape=(32, 32, 3))
    inputs = tf_keras.Input((32, 32, 3))
    x = backbone(inputs, training=False)
    x = tf_keras.layers.GlobalAveragePooling2D()(x)
    x = tf_keras.layers.Dropout(0.2)(x)
    return tf_keras.Model(inputs, tf_keras.layers.Dense(2, activation="softmax")(x), name="resnet50_gap")


def _randomise_batch_norm(model, rng):
    """Non-trivial moving statistics, so a BatchNormalization copied wrongly shows in the outputs."""
    for weight in model.weights:
        if "moving_mean" in weight.name:
            weight.assign(rng.normal(0.0, 0.2, weight.shape))
        elif "moving_variance" in weight.name:
            weight.assign(rng.uniform(0.5, 2.0, weight.shape))


_CONVOLUTIONS = (tf_keras.layers.Conv2D, tf_keras.layers.SeparableConv2D, tf_keras.layers.DepthwiseConv2D,
                 tf_keras.layers.Conv2DTranspose)


def _last_convolution(model):
    """Reference: the last convolution layer, found in the tf_keras original (nested models walked)."""
    found = None
    for layer in model.layers:
        if isinstance(layer, tf_keras.Model):
            found = _last_convolution(layer) or found
        elif isinstance(layer, _CONVOLUTIONS):
            found = layer.name
    return found


@pytest.fixture(scope="module")
def legacy(tmp_path_factory):
    """kind -> dict(model, h5, savedmodel, images, expected, cam_layer); each kind built once, on demand."""
    cache = {}

    def get(kind):
        if kind not in cache:
            tf_keras.utils.set_random_seed(0)
            builders = {"custom_cnn": _custom_cnn, "vgg16_transfer": _vgg16_transfer, "resnet50_gap": _resnet50_gap}
            model = builders[kind]()
            _randomise_batch_norm(model, np.random.default_rng(1))
            folder = tmp_path_factory.mktemp(kind)
            model.save(folder / "model.h5")
            model.save(folder / "savedmodel")  # Keras 2: a folder without an extension is a SavedModel
            shape = tuple(model.inputs[0].shape[1:])
            images = np.random.default_rng(2).uniform(0.0, 1.0, (2, *shape)).astype(np.float32)
            cache[kind] = {"model": model, "h5": folder / "model.h5", "savedmodel": folder / "savedmodel",
                           "images": images, "expected": model.predict(images, verbose=0),
                           "cam_layer": _last_convolution(model)}
        return cache[kind]

    return get


@pytest.fixture(scope="module")
def converted(legacy):
    cache = {}

    def get(kind, source):
        if (kind, source) not in cache:
            entry = legacy(kind)
            cache[kind, source] = load_model(entry["model"] if source == "object" else entry[source])
        return cache[kind, source]

    return get


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("kind", KINDS)
def test_converted_model_predicts_what_keras_2_predicts(legacy, converted, kind, source):
    entry, model = legacy(kind), converted(kind, source)
    assert isinstance(model, keras.Model) and not isinstance(model, keras.Sequential)
    assert not any(isinstance(layer, keras.Model) for layer in model.layers)  # one flat graph
    assert model.inputs[0].shape[1:] == entry["model"].inputs[0].shape[1:]
    np.testing.assert_allclose(np.asarray(model(entry["images"])), entry["expected"], atol=1e-5, rtol=0)


@pytest.mark.parametrize("kind", KINDS)
def test_converted_model_has_the_original_input_gradients(legacy, converted, kind):
    entry, model = legacy(kind), converted(kind, "h5")
    images = tf.constant(entry["images"])

    def gradient(function):
        with tf.GradientTape() as tape:
            tape.watch(images)
            score = function(images)[:, -1]
        return tape.gradient(score, images).numpy()

    expected = gradient(lambda x: entry["model"](x, training=False))
    got = gradient(lambda x: model(x, training=False))
    assert np.abs(expected).max() > 0
    np.testing.assert_allclose(got, expected, atol=1e-5 * np.abs(expected).max() + 1e-9, rtol=1e-3)


@pytest.mark.parametrize("kind", KINDS)
def test_every_source_converts_to_the_same_model(converted, kind):
    """Same layers (class, name, order) and the same weights whatever the source, so the maps agree too."""
    reference = converted(kind, "h5")
    for source in ("savedmodel", "object"):
        model = converted(kind, source)
        assert [(type(layer), layer.name) for layer in model.layers] == [
            (type(layer), layer.name) for layer in reference.layers]
        for mine, theirs in zip(model.weights, reference.weights, strict=True):
            np.testing.assert_array_equal(np.asarray(mine), np.asarray(theirs))


# ResNet50 from the other two sources is checked identical to the .h5 one above: its explainers
# (about 10 s of tracing each on 2 cores) run once.
EXPLAINED = [(kind, source) for kind in KINDS for source in SOURCES if kind != "resnet50_gap" or source == "h5"]


@pytest.mark.parametrize(("kind", "source"), EXPLAINED)
def test_explainers_run_on_the_converted_model_with_the_cam_on_the_backbone(legacy, converted, kind, source):
    entry, model = legacy(kind), converted(kind, source)
    image = entry["images"][:1]
    assert entry["cam_layer"] is not None
    # e.g. VGG16's block5_conv3, ResNet50's conv5_block3_3_conv
    assert find_last_conv_layer(model) == entry["cam_layer"]
    cam = xai_tf.explain(model, image, "gradcam", verbose=0)
    if kind == "custom_cnn":  # explain's default CAM layer is that layer
        np.testing.assert_array_equal(cam, xai_tf.explain(model, image, "gradcam", layer=entry["cam_layer"],
                                                          verbose=0))
    side = image.shape[1] // 2
    for maps in (cam, xai_tf.explain(model, image, "integrated_gradients", steps=8, verbose=0),
                 xai_tf.explain(model, image, "occlusion", window=side, stride=side, verbose=0)):
        assert maps.shape == image.shape[:3] and np.all(np.isfinite(maps))
    # Random backbone weights may leave the CAM's ReLU all off (VGG16; ResNet50 at 32x32 has a 1x1 last grid)
    assert np.abs(cam).max() > 0 or kind != "custom_cnn"


def test_every_source_gives_the_same_maps(legacy, converted):
    image = legacy("custom_cnn")["images"][:1]
    maps = [xai_tf.explain(converted("custom_cnn", source), image, "gradcam", verbose=0) for source in SOURCES]
    np.testing.assert_allclose(maps[1], maps[0], atol=1e-6)
    np.testing.assert_allclose(maps[2], maps[0], atol=1e-6)


def test_tf_ops_depthwise_convolutions_and_slashed_names_convert(tmp_path):
    """Inline ``preprocess_input`` arithmetic (TFOpLambda), DepthwiseConv2D and DenseNet-style names."""
    layers = tf_keras.layers
    tf_keras.utils.set_random_seed(0)
    inputs = tf_keras.Input((16, 16, 3))
    x = inputs * 255.0 / 127.5 - 1.0
    x = layers.Conv2D(4, 3, name="conv1/conv")(x)
    x = layers.BatchNormalization(name="conv1/bn")(x)
    shortcut = x
    x = layers.DepthwiseConv2D(3, padding="same", name="block1_dw")(x)
    x = layers.Add(name="block1_add")([x, shortcut])
    x = layers.GlobalAveragePooling2D()(x)
    model = tf_keras.Model(inputs, layers.Dense(1, activation="sigmoid")(x))
    _randomise_batch_norm(model, np.random.default_rng(3))
    model.save(tmp_path / "ops.h5")
    images = np.random.default_rng(4).uniform(0.0, 1.0, (3, 16, 16, 3)).astype(np.float32)
    expected = model.predict(images, verbose=0)
    for source in (tmp_path / "ops.h5", model):
        converted = load_model(source)
        np.testing.assert_allclose(np.asarray(converted(images)), expected, atol=1e-5, rtol=0)
    assert find_last_conv_layer(converted) == "block1_dw"
    assert "conv1_conv" in [layer.name for layer in converted.layers]  # Keras 3 names cannot hold "/"


def test_a_shared_layer_stays_shared(tmp_path):
    layers = tf_keras.layers
    tf_keras.utils.set_random_seed(0)
    inputs = tf_keras.Input((8, 8, 2))
    conv = layers.Conv2D(2, 3, padding="same", name="shared")
    x = conv(conv(inputs))
    model = tf_keras.Model(inputs, layers.Dense(2, "softmax")(layers.Flatten()(x)))
    model.save(tmp_path / "shared.h5")
    images = np.random.default_rng(0).uniform(0.0, 1.0, (2, 8, 8, 2)).astype(np.float32)
    converted = load_model(tmp_path / "shared.h5")
    np.testing.assert_allclose(np.asarray(converted(images)), model.predict(images, verbose=0), atol=1e-5, rtol=0)
    assert len([layer for layer in converted.layers if layer.name == "shared"]) == 1


# --------------------------------------------------------------------------- what cannot be converted


def test_savedmodel_without_keras_metadata_says_so_and_the_wrapper_serves_gradients(tmp_path):
    model = tiny_cnn(head="sigmoid")
    model.export(tmp_path / "exported", verbose=False)  # a plain TF SavedModel: no keras_metadata.pb
    with pytest.raises(ValueError, match=r"model=.*exported.* is a SavedModel without Keras metadata.*"
                                         r"CAM methods.*cannot run on it.*wrap_saved_model"):
        load_model(tmp_path / "exported")
    wrapped = wrap_saved_model(tmp_path / "exported", activation="sigmoid")
    images = np.random.default_rng(0).uniform(0.0, 1.0, (2, 32, 32, 3)).astype(np.float32)
    np.testing.assert_allclose(np.asarray(wrapped(images)), np.asarray(model(images)), atol=1e-6)
    # a sigmoid's log-odds are its logits exactly, so the maps are the original model's
    for method in ("vanilla_gradient", "occlusion"):
        np.testing.assert_allclose(xai_tf.explain(wrapped, images, method, verbose=0),
                                   xai_tf.explain(model, images, method, verbose=0), atol=1e-4, rtol=1e-3)
    with pytest.raises(ValueError, match="no layer with a 4-D output"):
        xai_tf.explain(wrapped, images, "gradcam", verbose=0)
    with pytest.raises(ValueError, match="endpoint='nope' is not a signature"):
        wrap_saved_model(tmp_path / "exported", endpoint="nope")


def test_keras_2_models_that_cannot_be_rebuilt_are_named(tmp_path):
    layers = tf_keras.layers
    inputs = tf_keras.Input((8, 8, 1))
    lambda_model = tf_keras.Model(inputs, layers.Dense(2)(layers.Flatten()(layers.Lambda(lambda x: x * 2,
                                                                                         name="double")(inputs))))
    with pytest.raises(ValueError, match="layer 'double' is a Lambda layer"):
        load_model(lambda_model)

    class Subclassed(tf_keras.Model):
        def call(self, x):
            return x

    with pytest.raises(ValueError, match="subclassed tf_keras model"):
        load_model(Subclassed())
    lambda_model.save_weights(tmp_path / "weights.h5")
    with pytest.raises(ValueError, match="holds weights only"):
        load_model(tmp_path / "weights.h5")


def test_keras_3_files_still_load_flat(tmp_path):
    from conftest import tiny_nested

    model = tiny_nested()
    model.save(tmp_path / "nested.keras")
    loaded = load_model(tmp_path / "nested.keras")
    assert not any(isinstance(layer, keras.Model) for layer in loaded.layers)
    images = np.random.default_rng(0).uniform(0.0, 1.0, (2, *model.inputs[0].shape[1:])).astype(np.float32)
    np.testing.assert_allclose(np.asarray(loaded(images)), np.asarray(model(images)), atol=1e-6)
    np.testing.assert_allclose(np.asarray(load_model(model)(images)), np.asarray(model(images)), atol=1e-6)


# --------------------------------------------------------------------------- bad inputs


def test_text_corrupt_and_foreign_files_are_named_before_any_work(tmp_path):
    text = tmp_path / "notes.keras"
    text.write_text("this is not a model\n")
    with pytest.raises(ValueError, match=r"model=.*notes.keras.* is a text file: it is not a Keras model file"):
        load_model(text)
    empty = tmp_path / "empty.keras"
    empty.write_bytes(b"")
    with pytest.raises(ValueError, match="is empty: it is not a Keras model file"):
        load_model(empty)
    tiny_cnn().save(tmp_path / "good.keras")
    truncated = tmp_path / "truncated.keras"
    truncated.write_bytes((tmp_path / "good.keras").read_bytes()[:300])
    with pytest.raises(ValueError, match="truncated.keras.* is a corrupt"):
        load_model(truncated)
    with zipfile.ZipFile(tmp_path / "other.keras", "w") as archive:
        archive.writestr("readme.txt", json.dumps({"not": "keras"}))
    with pytest.raises(ValueError, match="zip archive without config.json: not a .keras model"):
        load_model(tmp_path / "other.keras")
    h5 = tmp_path / "good.h5"
    tf_keras.Sequential([tf_keras.Input((4,)), tf_keras.layers.Dense(2)]).save(h5)
    (tmp_path / "truncated.h5").write_bytes(h5.read_bytes()[:600])
    with pytest.raises(ValueError, match="truncated.h5.* is a corrupt HDF5 file"):
        load_model(tmp_path / "truncated.h5")
    with pytest.raises(ValueError, match=r"model=.*missing.keras.* does not exist"):
        load_model(tmp_path / "missing.keras")
    with pytest.raises(ValueError, match="is a folder without saved_model.pb"):
        load_model(tmp_path)
    with pytest.raises(TypeError, match="model must be a path .* got int"):
        load_model(42)
    with pytest.raises(ValueError, match=r"--model=.*notes.keras"):  # the CLI's name for the argument
        load_model(text, name="--model")


def test_explain_takes_a_live_tf_keras_model_and_follows_its_training():
    layers = tf_keras.layers
    tf_keras.utils.set_random_seed(0)
    model = tf_keras.Sequential([tf_keras.Input((16, 16, 1)), layers.Conv2D(4, 3, activation="relu", name="conv"),
                                 layers.Flatten(), layers.Dense(2, activation="softmax")])
    images = np.random.default_rng(0).uniform(0.0, 1.0, (2, 16, 16, 1)).astype(np.float32)
    before = xai_tf.explain(model, images, "vanilla_gradient", targets=0, verbose=0)
    np.testing.assert_allclose(before, xai_tf.explain(load_model(model), images, "vanilla_gradient", targets=0,
                                                      verbose=0), atol=1e-7)
    kernel = model.get_layer("conv").kernel
    kernel.assign(kernel * -1.5)  # the notebook user trains on; the next explanation must see it
    after = xai_tf.explain(model, images, "vanilla_gradient", targets=0, verbose=0)
    np.testing.assert_allclose(after, xai_tf.explain(load_model(model), images, "vanilla_gradient", targets=0,
                                                     verbose=0), atol=1e-7)
    assert not np.allclose(after, before)


def test_cli_explain_takes_a_keras_2_h5(tmp_path):
    from xai_tf import cli

    layers = tf_keras.layers
    tf_keras.utils.set_random_seed(0)
    model = tf_keras.Sequential([tf_keras.Input((32, 32, 1)), layers.Conv2D(4, 3, activation="relu", name="conv"),
                                 layers.BatchNormalization(), layers.Flatten(), layers.Dense(2, activation="softmax")])
    model.save(tmp_path / "keras2.h5")
    out = tmp_path / "explained"
    status = cli.main(["explain", "--model", str(tmp_path / "keras2.h5"), "--data", "synthetic", "--n", "10",
                       "--image-size", "32",
                       "--methods", "gradcam", "--limit", "2", "--out", str(out), "--verbose", "0"])
    assert status == 0
    data = xai_tf.data.load("synthetic", n=10, image_size=32, seed=0)
    chosen = np.load(out / "images.npz")["indices"]  # --limit 2: one image of each class
    assert sorted(data.labels[chosen].tolist()) == [0, 1]
    expected = xai_tf.explain(load_model(tmp_path / "keras2.h5"), data.images[chosen], "gradcam", verbose=0)
    np.testing.assert_allclose(np.load(out / "maps.npz")["gradcam"], expected, atol=1e-5)


def test_a_sequential_built_by_calling_it_converts_and_an_unbuilt_one_is_named():
    layers = tf_keras.layers
    model = tf_keras.Sequential([layers.Conv2D(4, 3), layers.Flatten(), layers.Dense(2, activation="softmax")])
    with pytest.raises(ValueError, match="unbuilt tf_keras model"):
        load_model(model)
    images = np.random.default_rng(0).uniform(0.0, 1.0, (2, 8, 8, 1)).astype(np.float32)
    expected = model(images).numpy()  # builds it, without any Input
    np.testing.assert_allclose(np.asarray(load_model(model)(images)), expected, atol=1e-6)


def test_h5_needs_no_tf_keras_and_a_savedmodel_says_how_to_get_it(legacy, monkeypatch):
    import sys

    entry = legacy("custom_cnn")
    monkeypatch.setitem(sys.modules, "tf_keras", None)  # as if tf-keras were not installed
    np.testing.assert_allclose(np.asarray(load_model(entry["h5"])(entry["images"])), entry["expected"], atol=1e-5)
    with pytest.raises(ValueError, match=r"Keras 2 SavedModel; reading its variables needs the tf-keras package: "
                                         r"pip install 'xai-tf\[legacy\]'"):
        load_model(entry["savedmodel"])
