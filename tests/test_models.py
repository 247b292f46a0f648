"""Model builders: paper 002's custom CNNs, the flat transfer models (one per backbone record), preprocessing
layers, flatten()."""
from __future__ import annotations

import keras
import numpy as np
import pytest
from conftest import tiny_nested

from xai_tf import models
from xai_tf.models.backbones import RECORDS
from xai_tf.models.layers import BackbonePreprocessing, GrayscaleToRGB
from xai_tf.models.transfer import backbone_layers, resolve_fine_tune_at


def _layer_signature(model):
    """(type, size) per layer: filters for Conv2D, units for Dense, rate for Dropout, pool size."""
    signature = []
    for layer in model.layers:
        kind = type(layer).__name__
        if kind == "InputLayer":
            continue
        if kind == "Conv2D":
            size = (layer.filters, layer.kernel_size, layer.activation.__name__)
        elif kind == "Dense":
            size = (layer.units, layer.activation.__name__)
        else:
            size = {"Dropout": getattr(layer, "rate", None),
                    "MaxPooling2D": getattr(layer, "pool_size", None)}.get(kind)
        signature.append((kind, size))
    return signature


def test_custom_cnn_v1_matches_paper_002_listing():
    model = models.build_custom_cnn((64, 64, 3), 2, variant="v1", binary_head=True)
    def conv(f):
        return ("Conv2D", (f, (3, 3), "relu"))
    pool = ("MaxPooling2D", (2, 2))
    assert _layer_signature(model) == [
        conv(32), pool, conv(64), pool, conv(128), pool,
        ("Flatten", None), ("Dense", (512, "relu")), ("Dropout", 0.5), ("Dense", (1, "sigmoid"))]


def test_custom_cnn_v2_matches_paper_002_listing_with_four_batchnorms():
    model = models.build_custom_cnn((64, 64, 1), 2, variant="v2", binary_head=True)
    signature = _layer_signature(model)
    def block(f):
        return [("Conv2D", (f, (3, 3), "relu")), ("BatchNormalization", None), ("MaxPooling2D", (2, 2)),
                ("Dropout", 0.25)]
    assert signature == [*block(32), *block(64), *block(128), ("Flatten", None), ("Dense", (512, "relu")),
                         ("BatchNormalization", None), ("Dropout", 0.5), ("Dense", (1, "sigmoid"))]
    assert sum(kind == "BatchNormalization" for kind, _ in signature) == 4


def test_custom_cnn_softmax_head_for_multiclass():
    model = models.build_custom_cnn((32, 32, 1), 4)
    assert model.output_shape == (None, 4)
    probabilities = model.predict(np.random.default_rng(0).random((3, 32, 32, 1)), verbose=0)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


@pytest.mark.parametrize("kwargs, message", [
    ({"variant": "v3"}, "variant"),
    ({"input_shape": (64, 64)}, "rank 3"),
    ({"input_shape": (64, 64, 2)}, "channels"),
    ({"num_classes": 1}, "num_classes must be >= 2"),
    ({"num_classes": 3, "binary_head": True}, "binary_head"),
    ({"input_shape": (8, 8, 1)}, "at least 22"),
])
def test_custom_cnn_rejects_bad_arguments(kwargs, message):
    arguments = {"input_shape": (64, 64, 1), "num_classes": 2, **kwargs}
    with pytest.raises(ValueError, match=message):
        models.build_custom_cnn(**arguments)


# The last conv layer each backbone exposes by name (what Grad-CAM looks for): its record's.
LAST_CONV = {name: record.last_conv for name, record in RECORDS.items()}


@pytest.mark.parametrize("backbone", models.list_backbones())
def test_transfer_models_are_flat_and_modes_differ_in_trainable_weights(backbone):
    keras.backend.clear_session()
    size = models.backbone_record(backbone).min_input_size
    extraction = models.build_transfer(backbone, (size, size, 1), 2, weights=None, binary_head=True)
    tuning = models.build_transfer(backbone, (size, size, 3), 3, mode="fine_tune", weights=None, head="gap")
    for model in (extraction, tuning):
        assert not any(isinstance(layer, keras.Model) for layer in model.layers)
        conv = model.get_layer(LAST_CONV[backbone])
        assert len(conv.output.shape) == 4
    assert extraction.output_shape == (None, 1) and tuning.output_shape == (None, 3)
    assert isinstance(extraction.get_layer("to_rgb"), GrayscaleToRGB)

    head_weights = 6  # head Dense kernel+bias, head BN gamma+beta, output kernel+bias
    assert len(extraction.trainable_weights) == head_weights
    inner = backbone_layers(tuning)
    start = resolve_fine_tune_at(tuning)
    default = models.backbone_record(backbone).fine_tune_at
    expected_first = default if isinstance(default, str) else None
    if expected_first:
        assert inner[start].name == expected_first
    unfrozen = [layer for layer in inner[start:] if not isinstance(layer, keras.layers.BatchNormalization)]
    expected = head_weights + sum(len(layer.trainable_weights) for layer in unfrozen)
    assert len(tuning.trainable_weights) == expected > head_weights
    assert all(not layer.trainable for layer in inner[:start])
    assert all(not layer.trainable for layer in inner if isinstance(layer, keras.layers.BatchNormalization))


def test_fine_tune_at_accepts_a_layer_name_and_an_index():
    model = models.build_transfer("vgg16", (32, 32, 3), 2, mode="fine_tune", fine_tune_at="block4_conv1",
                                  weights=None)
    trainable = {layer.name for layer in backbone_layers(model) if layer.trainable}
    assert "block4_conv1" in trainable and "block3_conv3" not in trainable
    by_index = models.build_transfer("vgg16", (32, 32, 3), 2, mode="fine_tune", fine_tune_at=-2, weights=None)
    assert [layer.name for layer in backbone_layers(by_index) if layer.trainable] == ["block5_conv3", "block5_pool"]


@pytest.mark.parametrize("backbone, module", [
    ("vgg16", keras.applications.vgg16), ("resnet50v2", keras.applications.resnet_v2),
    ("densenet121", keras.applications.densenet), ("efficientnetb0", keras.applications.efficientnet)])
def test_backbone_preprocessing_equals_keras_preprocess_input(backbone, module):
    pixels = np.random.default_rng(1).random((2, 8, 8, 3)).astype(np.float32)
    ours = keras.ops.convert_to_numpy(BackbonePreprocessing(backbone)(pixels))
    np.testing.assert_allclose(ours, module.preprocess_input(pixels * 255.0), rtol=1e-5, atol=1e-4)


def test_transfer_rejects_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="backbone.*vgg16"):
        models.build_transfer("alexnet", (64, 64, 3), 2, weights=None)
    with pytest.raises(ValueError, match="at least 75"):
        models.build_transfer("inceptionv3", (64, 64, 3), 2, weights=None)
    with pytest.raises(ValueError, match="does not exist"):
        models.build_transfer("vgg16", (64, 64, 3), 2, weights=str(tmp_path / "missing.h5"))
    with pytest.raises(ValueError, match="num_classes"):
        models.build_transfer("vgg16", (64, 64, 3), 1, weights=None)
    with pytest.raises(ValueError, match="mode"):
        models.build_transfer("vgg16", (64, 64, 3), 2, mode="full", weights=None)


def test_imagenet_weights_offline_names_the_file_keras_wants(monkeypatch):
    from keras.src.utils import file_utils

    def offline(fname, origin=None, **kwargs):
        raise OSError(f"URL fetch failure on {origin}: [Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(file_utils, "get_file", offline)
    with pytest.raises(FileNotFoundError) as error:
        models.build_transfer("vgg16", (32, 32, 3), 2, weights="imagenet")
    assert models.backbone_record("vgg16").weight_file in str(error.value) and ".keras" in str(error.value)


def test_local_weights_path_is_loaded(tmp_path):
    donor = keras.applications.VGG16(include_top=False, weights=None, input_shape=(32, 32, 3))
    path = tmp_path / "vgg16_notop.weights.h5"
    donor.save_weights(path)
    model = models.build_transfer("vgg16", (32, 32, 3), 2, weights=str(path))
    np.testing.assert_array_equal(model.get_layer("block5_conv3").get_weights()[0],
                                  donor.get_layer("block5_conv3").get_weights()[0])


def test_transfer_model_round_trips_through_keras_file(tmp_path):
    model = models.build_transfer("efficientnetb0", (32, 32, 1), 2, weights=None, head="gap", binary_head=True)
    images = np.random.default_rng(2).random((2, 32, 32, 1)).astype(np.float32)
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(loaded.predict(images, verbose=0), model.predict(images, verbose=0), atol=1e-6)
    assert models.transfer.backbone_name(loaded) == "efficientnetb0"


def test_flatten_inlines_the_papers_nested_sequential_with_identical_outputs():
    keras.utils.set_random_seed(0)
    nested = keras.Sequential([
        keras.Input((32, 32, 3)),
        keras.applications.VGG16(include_top=False, weights=None, input_shape=(32, 32, 3)),
        keras.layers.Flatten(), keras.layers.Dense(16, activation="relu"),
        keras.layers.BatchNormalization(), keras.layers.Dropout(0.5),
        keras.layers.Dense(1, activation="sigmoid")])
    flat = models.flatten(nested)
    assert not any(isinstance(layer, keras.Model) for layer in flat.layers)
    assert flat.get_layer("block5_conv3").kernel is nested.layers[0].get_layer("block5_conv3").kernel
    images = np.random.default_rng(3).random((3, 32, 32, 3)).astype(np.float32)
    np.testing.assert_allclose(flat.predict(images, verbose=0), nested.predict(images, verbose=0), atol=1e-6)


def test_flatten_of_tiny_nested_sequential_keeps_outputs():
    nested = tiny_nested(head="softmax")
    flat = models.flatten(nested)
    images = np.random.default_rng(4).random((2, 32, 32, 3)).astype(np.float32)
    np.testing.assert_allclose(flat(images), nested(images), atol=1e-6)
    assert "block2_conv1" in [layer.name for layer in flat.layers]


@pytest.mark.parametrize("build", [
    lambda seed: models.build_custom_cnn((32, 32, 1), 2, variant="v1", seed=seed),
    lambda seed: models.build_transfer("vgg16", (32, 32, 3), 2, weights=None, dense_units=8, seed=seed),
    lambda seed: models.build_vit((32, 32, 1), 2, dim=8, depth=1, heads=2, mlp_dim=8, seed=seed),
], ids=["custom_cnn", "transfer", "vit"])
def test_builders_are_seeded(build):
    def weights(model):
        return [np.asarray(w) for w in model.get_weights()]

    first, again, other = weights(build(0)), weights(build(0)), weights(build(1))
    assert all(np.array_equal(a, b) for a, b in zip(first, again))  # same seed, same model, in every run
    assert any(not np.array_equal(a, b) for a, b in zip(first, other))  # another seed, another model
    keras.utils.set_random_seed(5)  # unseeded builds follow the global generators: two in a row differ
    unseeded = weights(build(None))
    assert any(not np.array_equal(a, b) for a, b in zip(unseeded, weights(build(None))))


def test_custom_cnn_gap_head_pools_the_last_block():
    flat = models.build_custom_cnn((32, 32, 1), 2, variant="v2")
    pooled = models.build_custom_cnn((32, 32, 1), 2, variant="v2", head="gap")
    names = [layer.name for layer in pooled.layers]
    assert "gap" in names and "flatten" not in names and pooled.output_shape == (None, 2)
    # the pooled head's dense layer sees 128 channels, not 2 x 2 x 128 positions
    assert pooled.get_layer("fc").kernel.shape == (128, 512) and flat.get_layer("fc").kernel.shape == (512, 512)
    # everything before the head is the same model, with the same seeded weights
    for name in ("block1_conv", "block2_conv", "block3_conv"):
        for a, b in zip(flat.get_layer(name).get_weights(), pooled.get_layer(name).get_weights()):
            np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="head"):
        models.build_custom_cnn((32, 32, 1), 2, head="max")
