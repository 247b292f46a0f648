"""Backbones are records (``xai_tf.models.backbones``): the built-in table holds what the former per-field dicts
held, and a toy backbone registered here (one record, one ``register`` call) works through the Python API,
``xai-tf train``, a study YAML and the guide's generated table, then disappears when unregistered."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

import xai_tf
from xai_tf import cli, models, runs, study
from xai_tf.models.backbones import PREPROCESSING_MODES, RECORDS, BackboneRecord

DOCS = Path(__file__).resolve().parents[1] / "docs"

# What the per-field dicts of xai_tf/models/transfer.py and layers.py held before the records (issue 30).
NAMES = ("vgg16", "vgg19", "resnet50", "resnet50v2", "densenet121", "xception", "inceptionv3", "inceptionresnetv2",
         "efficientnetb0")
MIN_SIZE = {name: 32 for name in NAMES} | {"xception": 71, "inceptionv3": 75, "inceptionresnetv2": 75}
LAST_CONV = {"vgg16": "block5_conv3", "vgg19": "block5_conv4", "resnet50": "conv5_block3_3_conv",
             "resnet50v2": "conv5_block3_3_conv", "densenet121": "conv5_block16_2_conv",
             "xception": "block14_sepconv2", "inceptionv3": "mixed10", "inceptionresnetv2": "conv_7b",
             "efficientnetb0": "top_conv"}
FINE_TUNE = {"vgg16": "block5_conv1", "vgg19": "block5_conv1", "resnet50": "conv5_block1_1_conv",
             "resnet50v2": "conv5_block1_preact_bn", "densenet121": "conv5_block1_0_bn",
             "xception": "block14_sepconv1", "inceptionv3": ("after", "mixed9"),
             "inceptionresnetv2": ("after", "block8_9_ac"), "efficientnetb0": "block7a_expand_conv"}
WEIGHT_FILES = {"vgg16": "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5",
                "vgg19": "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5",
                "resnet50": "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5",
                "resnet50v2": "resnet50v2_weights_tf_dim_ordering_tf_kernels_notop.h5",
                "densenet121": "densenet121_weights_tf_dim_ordering_tf_kernels_notop.h5",
                "xception": "xception_weights_tf_dim_ordering_tf_kernels_notop.h5",
                "inceptionv3": "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5",
                "inceptionresnetv2": "inception_resnet_v2_weights_tf_dim_ordering_tf_kernels_notop.h5",
                "efficientnetb0": "efficientnetb0_notop.h5"}
PREPROCESSING = {"vgg16": "caffe", "vgg19": "caffe", "resnet50": "caffe", "resnet50v2": "tf", "densenet121": "torch",
                 "xception": "tf", "inceptionv3": "tf", "inceptionresnetv2": "tf", "efficientnetb0": "raw255"}
CONSTRUCTORS = {"vgg16": "VGG16", "vgg19": "VGG19", "resnet50": "ResNet50", "resnet50v2": "ResNet50V2",
                "densenet121": "DenseNet121", "xception": "Xception", "inceptionv3": "InceptionV3",
                "inceptionresnetv2": "InceptionResNetV2", "efficientnetb0": "EfficientNetB0"}


def test_the_built_in_records_hold_what_the_former_tables_held():
    assert models.list_backbones()[:len(NAMES)] == NAMES and tuple(models.BACKBONES)[:len(NAMES)] == NAMES
    for name in NAMES:
        record = models.backbone_record(name)
        assert record.constructor is getattr(keras.applications, CONSTRUCTORS[name])
        assert (record.min_input_size, record.last_conv, record.fine_tune_at, record.weight_file,
                record.preprocessing) == (MIN_SIZE[name], LAST_CONV[name], FINE_TUNE[name], WEIGHT_FILES[name],
                                          PREPROCESSING[name]), name
    # the compatibility views read the records
    assert dict(models.MIN_INPUT_SIZE) == MIN_SIZE
    assert dict(models.transfer.FINE_TUNE_DEFAULT) == FINE_TUNE
    assert dict(models.transfer.IMAGENET_WEIGHT_FILES) == WEIGHT_FILES
    assert models.transfer.BACKBONES is models.BACKBONES


# ------------------------------------------------------------------------------------------ the toy
def toy_backbone(include_top=False, weights=None, input_tensor=None, input_shape=None):
    """Two convolutions, built on ``input_tensor`` the way keras.applications constructors are."""
    x = keras.layers.Conv2D(4, 3, activation="relu", name="toy_conv1")(input_tensor)
    x = keras.layers.MaxPooling2D(name="toy_pool")(x)
    x = keras.layers.Conv2D(8, 3, activation="relu", name="toy_conv2")(x)
    return keras.Model(keras.utils.get_source_inputs(input_tensor), x, name="toy")


def toy_preprocessing(pixels):
    """Its own preprocessing: [0, 1] to [-1, 1]."""
    return pixels * 2.0 - 1.0


TOY = BackboneRecord("toy", toy_backbone, 16, "toy_conv2", "toy_conv2", None, toy_preprocessing,
                     "two convolutions, for the tests")


@pytest.fixture
def toy():
    models.register_backbone(TOY)
    yield TOY
    models.unregister_backbone("toy")


def test_toy_backbone_through_the_python_api(toy, tmp_path):
    assert "toy" in models.list_backbones() and "toy" in models.BACKBONES and models.MIN_INPUT_SIZE["toy"] == 16
    model = models.build_transfer("toy", (32, 32, 1), 2, weights=None, dense_units=8)
    assert models.find_last_conv_layer(model) == toy.last_conv  # Grad-CAM's default layer is the record's
    pixels = np.random.default_rng(0).random((2, 32, 32, 3)).astype(np.float32)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(model.get_layer("backbone_preprocessing")(pixels)),
                               pixels * 2 - 1, atol=1e-6)
    images = np.random.default_rng(1).random((2, 32, 32, 1)).astype(np.float32)
    maps = xai_tf.explain(model, images, "gradcam", verbose=0)
    assert maps.shape == (2, 32, 32)
    tuning = models.build_transfer("toy", (16, 16, 3), 2, mode="fine_tune", weights=None)
    assert not tuning.get_layer("toy_conv1").trainable and tuning.get_layer("toy_conv2").trainable
    model.save(tmp_path / "toy.keras")  # the layer keeps the backbone's name: loads while it is registered
    loaded = keras.models.load_model(tmp_path / "toy.keras")
    np.testing.assert_allclose(loaded.predict(images, verbose=0), model.predict(images, verbose=0), atol=1e-6)
    with pytest.raises(ValueError, match="at least 16"):
        models.build_transfer("toy", (8, 8, 3), 2, weights=None)
    with pytest.raises(ValueError, match="no ImageNet weights"):
        models.build_transfer("toy", (32, 32, 3), 2)


def test_toy_backbone_through_the_command_line(toy, tmp_path, capsys):
    with pytest.raises(SystemExit):
        cli.main(["train", "--help"])
    assert "toy" in " ".join(capsys.readouterr().out.split())
    out = tmp_path / "run"
    status = cli.main(["train", "--data", "synthetic", "--n", "40", "--image-size", "32", "--model", "toy",
                       "--weights", "none", "--epochs", "1", "--no-augment", "--out", str(out), "--verbose", "0"])
    assert status == 0
    assert json.loads((out / "config.json").read_text())["arguments"]["model"] == "toy"
    assert runs.cam_layer_of(keras.models.load_model(out / "model.keras")) == "toy_conv2"


def test_toy_backbone_through_a_study_yaml(toy, tmp_path):
    # a study trains each model in a fresh Python process; the model's task carries the record registered
    # here (tests/test_study_backbones.py tests how), so no plug-in module is needed
    config = tmp_path / "toy.yaml"
    config.write_text("name: toy\n"
                      "data: {source: synthetic, n: 40, image_size: 32, seed: 0}\n"
                      "models:\n  - {name: t, model: toy, epochs: 1, no_augment: true}\n"
                      "methods: [gradcam]\ndenoisers: [none]\nmetrics: [pointing_game]\n"
                      "chunk_size: 8\nreport: false\n")
    assert study.check_config(study.read_config(config))["models"][0]["train"]["model"] == "toy"
    result = study.run(config, out=tmp_path / "out", verbose=0)
    assert result["computed"]["train"] == 1
    table = json.loads((tmp_path / "out" / "table.json").read_text())
    assert [(row["model"], row["method"]) for row in table] == [("t", "gradcam")] and table[0]["complete"]


def test_toy_backbone_in_the_generated_docs_table(toy):
    sys.path.insert(0, str(DOCS))
    try:
        import backbone_tables
    finally:
        sys.path.remove(str(DOCS))
    table = backbone_tables.backbones_table()
    rows = [line for line in table.splitlines()[2:] if line.startswith("| `")]
    assert [row.split("`")[1] for row in rows] == list(RECORDS) and rows[-1].startswith("| `toy` |")
    assert "`toy_conv2`" in rows[-1] and "toy_preprocessing" in rows[-1] and "| 16 |" in rows[-1]
    assert "`block5_conv3`" in rows[0] and WEIGHT_FILES["vgg16"] in rows[0] and "after `mixed9`" in table
    # the guide includes the generated table, Sphinx does not take it for a page, pages.generate writes it
    assert "_generated/backbones_table.md" in (DOCS / "guide" / "models.md").read_text()
    assert "_generated/backbones_table.md" in (DOCS / "conf.py").read_text()
    assert "backbone_tables.backbones_table()" in (DOCS / "pages.py").read_text()


def test_an_unregistered_toy_is_gone_everywhere(toy):
    models.unregister_backbone("toy")
    assert "toy" not in models.list_backbones() and "toy" not in runs.model_choices_help()
    with pytest.raises(ValueError, match="backbone='toy' is not valid"):
        models.build_transfer("toy", (32, 32, 3), 2, weights=None)
    with pytest.raises(ValueError, match=r"models\[0\] \(t\) model 'toy' is not valid"):
        study.check_config({"name": "x", "data": {"source": "synthetic"}, "models": [{"name": "t", "model": "toy"}],
                            "methods": ["random"], "metrics": ["sparseness"]})
    models.register_backbone(TOY)  # the fixture unregisters it again


# ------------------------------------------------------------------------------------------ errors
def test_duplicate_and_unknown_names_are_named_errors(toy):
    with pytest.raises(ValueError, match="backbone 'toy' is already registered"):
        models.register_backbone(TOY)
    with pytest.raises(TypeError, match="BackboneRecord"):
        models.register_backbone({"name": "toy2"})
    with pytest.raises(ValueError, match="backbone='alexnet' is not valid; expected one of: vgg16, .*, toy$"):
        models.build_transfer("alexnet", (32, 32, 3), 2, weights=None)
    with pytest.raises(ValueError, match="'alexnet' is not valid; expected custom-v1, .* or a backbone: vgg16, .*toy"):
        runs.build_model(runs.train_settings(model="alexnet"), (32, 32, 3), 2)


@pytest.mark.parametrize("change, error, message", [
    ({"min_input_size": 0}, ValueError, "min_input_size must be an int >= 1; got 0"),
    ({"min_input_size": 16.0}, ValueError, "min_input_size"),
    ({"min_input_size": True}, ValueError, "min_input_size"),
    ({"name": "Toy Net"}, ValueError, "lowercase"),
    ({"name": "vit_toy"}, ValueError, "not starting with custom or vit"),
    ({"constructor": "toy_backbone"}, TypeError, "constructor must be callable"),
    ({"last_conv": ""}, ValueError, "last_conv"),
    ({"fine_tune_at": ("before", "x")}, ValueError, "fine_tune_at"),
    ({"weight_file": ""}, ValueError, "weight_file"),
    ({"preprocessing": "imagenet"}, ValueError, "preprocessing must be callable or one of: caffe, tf, torch"),
    ({"description": "two\nlines"}, ValueError, "one non-empty line"),
])
def test_bad_records_are_refused(change, error, message):
    fields = {"name": "toy", "constructor": toy_backbone, "min_input_size": 16, "last_conv": "toy_conv2",
              "fine_tune_at": "toy_conv2", "weight_file": None, "preprocessing": "tf", "description": "toy", **change}
    with pytest.raises(error, match=message):
        BackboneRecord(**fields)


# ------------------------------------------------------------------------------------------ the readers
def test_the_help_lists_the_table_without_tensorflow_and_the_records_when_loaded():
    source = runs.training._BACKBONE_TABLE.read_text()
    assert runs.training._table_names(source) == NAMES  # what `xai-tf train --help` lists before TensorFlow loads
    assert runs.backbone_names() == models.list_backbones()
    assert runs.model_choices_help().endswith("or a backbone: " + ", ".join(models.list_backbones()))
    assert runs.VIT_MODELS == tuple(f"vit-{variant}" for variant in models.VIT_VARIANTS)
    assert set(PREPROCESSING_MODES) == {"caffe", "tf", "torch", "raw255"}
