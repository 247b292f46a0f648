"""Held out by default: train records its split; explain and evaluate use only the held-out images.

Also the CLI's bad inputs of the same family: each a clear error before any file is written.
"""
from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import tiny_cnn

import xai_tf
from xai_tf import cli, runs
from xai_tf._io import fingerprint
from xai_tf.report import ReportConfigError, build


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """`xai-tf train` as the README says (tiny: 40 images of 32x32, one epoch)."""
    folder = tmp_path_factory.mktemp("held_out") / "train"
    status = cli.main(["train", "--data", "synthetic", "--n", "40", "--image-size", "32", "--model", "custom-v1",
                       "--epochs", "1", "--no-augment", "--out", str(folder), "--verbose", "0"])
    assert status == 0
    return folder


def test_train_records_its_split_with_the_data_fingerprint(run):
    split = json.loads((run / "split.json").read_text())
    data = xai_tf.data.load("synthetic", n=40, image_size=32, seed=0)
    train, held_out = data.split_indices(0.2, seed=0)
    assert split["train"] == train.tolist() and split["held_out"] == held_out.tolist()
    assert split["data_fingerprint"] == fingerprint([data.images, data.labels])
    assert not set(split["train"]) & set(split["held_out"]) and len(split["train"]) + len(split["held_out"]) == 40


def test_evaluate_and_explain_score_only_held_out_images(run, tmp_path):
    held_out = json.loads((run / "split.json").read_text())["held_out"]
    out = tmp_path / "eval"
    assert cli.main(["evaluate", "--model", str(run / "model.keras"), "--data", "synthetic", "--methods", "random",
                     "--metrics", "xai_entropy", "--out", str(out), "--verbose", "0"]) == 0
    config = json.loads((out / "config.json").read_text())["config"]
    assert config["split"] == "held-out" and config["data_indices"] == held_out
    assert config["data_images"] == len(held_out)
    data = xai_tf.data.load("synthetic", n=40, image_size=32, seed=0)
    assert config["data_fingerprint"] == fingerprint([data.images[held_out], data.labels[held_out]])

    explained = tmp_path / "explain"
    assert cli.main(["explain", "--model", str(run / "model.keras"), "--data", "synthetic", "--methods", "gradcam",
                     "--limit", "3", "--out", str(explained), "--verbose", "0"]) == 0
    with np.load(explained / "images.npz") as stored:
        indices = stored["indices"].tolist()
        assert len(indices) == 3 and set(indices) <= set(held_out)  # --limit 3: held-out images, 2 + 1 per class
        assert sorted(np.bincount(data.labels[indices], minlength=2).tolist()) == [1, 2]
        np.testing.assert_array_equal(stored["images"], data.images[indices])


def test_the_python_api_gives_the_same_subsets(run):
    data = xai_tf.data.load("synthetic", n=40, image_size=32, seed=0)
    held_out, indices = runs.split_of(run, data)
    recorded = json.loads((run / "split.json").read_text())
    assert indices.tolist() == recorded["held_out"]
    np.testing.assert_array_equal(held_out.images, data.images[indices])
    train, train_indices = runs.split_of(run, data, "train")
    assert train_indices.tolist() == recorded["train"] and len(train) == len(train_indices)


def test_a_held_out_request_on_other_data_is_refused_naming_both_fingerprints(run, tmp_path, capsys):
    other = xai_tf.data.load("synthetic", n=40, image_size=32, seed=1)
    expected = r"fingerprint \w+, 40 images\) is not the data set the run .*\(fingerprint \w+, 40 images\)"
    with pytest.raises(ValueError, match=expected):
        runs.split_of(run, other)
    out = tmp_path / "eval"
    status = cli.main(["evaluate", "--model", str(run / "model.keras"), "--data", "synthetic", "--data-seed", "1",
                       "--methods", "random", "--metrics", "xai_entropy", "--out", str(out), "--verbose", "0"])
    assert status == 2 and "is not the data set the run" in capsys.readouterr().err
    assert not out.exists()
    # --split all takes every image of any data
    assert cli.main(["evaluate", "--model", str(run / "model.keras"), "--data", "synthetic", "--data-seed", "1",
                     "--split", "all", "--n", "6", "--methods", "random", "--metrics", "xai_entropy",
                     "--out", str(out), "--verbose", "0"]) == 0


# ------------------------------------------------------------------------------------- bad inputs
def _saved(tmp_path, size=64, channels=1):
    path = tmp_path / "model.keras"
    tiny_cnn(input_shape=(size, size, channels), num_classes=2).save(path)
    return path


@pytest.mark.parametrize(("extra", "message"), [
    (["--image-size", "32"], "--image-size 32 does not match the model's input size 64x64"),
    (["--color", "rgb"], "--color rgb does not match the model"),
    (["--split", "held-out"], "--split held-out needs the split a training run recorded"),
])
def test_explain_refuses_data_that_does_not_fit_the_model(tmp_path, capsys, extra, message):
    out = tmp_path / "out"
    status = cli.main(["explain", "--model", str(_saved(tmp_path)), "--data", "synthetic", "--n", "6",
                       "--methods", "gradcam",
                       "--out", str(out), "--verbose", "0", *extra])
    assert status == 2 and message in capsys.readouterr().err
    assert not out.exists()


def test_explain_refuses_a_data_set_with_other_classes_before_any_work(tmp_path, capsys):
    from PIL import Image

    folder = tmp_path / "one_class" / "only"
    folder.mkdir(parents=True)
    for i in range(3):
        Image.fromarray(np.full((64, 64), 40 * i, np.uint8)).save(folder / f"{i}.png")
    out = tmp_path / "out"
    status = cli.main(["explain", "--model", str(_saved(tmp_path)), "--data", str(tmp_path / "one_class"),
                       "--methods", "gradcam", "--out", str(out), "--verbose", "0"])
    assert status == 2 and "has one class folder ('only')" in capsys.readouterr().err
    assert not out.exists()


def test_train_refuses_too_few_images_for_a_split(tmp_path, capsys):
    out = tmp_path / "train"
    status = cli.main(["train", "--n", "3", "--image-size", "32", "--model", "custom-v1", "--epochs", "1",
                       "--out", str(out), "--verbose", "0"])
    assert status == 2 and "training needs both: use more images (--n)" in capsys.readouterr().err
    assert not out.exists()


def test_report_configs_that_are_not_mappings_or_name_a_train_folder(run, tmp_path):
    listed = tmp_path / "list.yaml"
    listed.write_text("- runs\n- evaluation\n")
    with pytest.raises(ReportConfigError, match="config must be a mapping .* holds a list"):
        build(listed)
    with pytest.raises(ReportConfigError, match="not an evaluation folder"):
        build({"evaluation": [str(run)]}, out=tmp_path / "r.html")
    assert not (tmp_path / "r.html").exists()


@pytest.mark.parametrize("value", [2, -1, 1.5])
def test_pic_min_pred_value_outside_0_1_is_an_error(value):
    model = tiny_cnn(input_shape=(32, 32, 1), num_classes=2)
    images = np.zeros((1, 32, 32, 1), np.float32)
    with pytest.raises(ValueError, match=r"min_pred_value must lie in \[0, 1\]"):
        xai_tf.metrics.pic(model, images, np.zeros((1, 32, 32)), min_pred_value=value, verbose=0)


def test_evaluate_says_when_every_image_of_a_method_was_excluded(run, tmp_path, capsys):
    out = tmp_path / "eval"
    assert cli.main(["evaluate", "--model", str(run / "model.keras"), "--data", "synthetic", "--methods", "random",
                     "--metrics", "sic", "--pic-min-pred", "1", "--pic-thresholds", "0.1,0.5",
                     "--pic-entropy", "shannon", "--out", str(out), "--verbose", "0"]) == 0
    held_out = len(json.loads((run / "split.json").read_text())["held_out"])
    printed = capsys.readouterr().out
    assert f"sic: every image of random was excluded ({held_out} x score on the original image # is below " \
           "min_pred_value=#)" in printed


def test_the_same_train_settings_give_the_same_model(tmp_path):
    # The model's initial weights are drawn when it is built, before fit seeds training: runs.train seeds both.
    settings = {"n": 20, "image_size": 32, "model": "custom-v1", "epochs": 1, "no_augment": True}
    weights = []
    for name in ("a", "b"):
        runs.train(tmp_path / name, verbose=0, **settings)
        model = xai_tf.models.load_model(tmp_path / name / "model.keras")
        weights.append(fingerprint(model.get_weights()))
    assert weights[0] == weights[1]
