"""The ``xai-tf`` command line: train writes model/history/report, data list/verify, clear errors."""
from __future__ import annotations

import json

import keras
import numpy as np
import pytest

import xai_tf
from xai_tf import cli, runs


def test_train_on_synthetic_writes_model_history_and_report(tmp_path, capsys):
    out = tmp_path / "run"
    status = cli.main(["train", "--data", "synthetic", "--n", "40", "--image-size", "32", "--model", "custom-v1",
                       "--epochs", "1", "--no-augment", "--out", str(out), "--verbose", "0"])
    assert status == 0
    history = json.loads((out / "history.json").read_text())
    report = json.loads((out / "report.json").read_text())
    config = json.loads((out / "config.json").read_text())
    assert len(history["loss"]) == 1 and "val_accuracy" in history
    assert report["class_names"] == ["FRI", "FRII"] and report["macro avg"]["support"] == 8  # 20% of 40
    assert config["arguments"]["model"] == "custom-v1" and config["versions"]["keras"] == keras.__version__
    model = keras.models.load_model(out / "model.keras")
    data = xai_tf.data.load("synthetic", n=40, image_size=32, seed=0)
    _, held_out = data.split(0.2, seed=0)
    predicted = model.predict(held_out.images, verbose=0).argmax(axis=1)
    assert report["accuracy"] == pytest.approx(np.mean(predicted == held_out.labels))


def test_train_with_denoise_trains_on_the_denoised_images():
    args = cli.build_parser().parse_args(["train", "--n", "6", "--image-size", "32", "--denoise", "gaussian",
                                          "--out", "unused"])
    denoised = runs.training_data(cli.settings_of(args), verbose=0)
    raw = xai_tf.data.load("synthetic", n=6, image_size=32, seed=0)
    np.testing.assert_array_equal(denoised.images, xai_tf.denoise(raw.images, "gaussian"))
    assert not np.array_equal(denoised.images, raw.images)


def test_unknown_model_is_a_clear_error(tmp_path, capsys):
    status = cli.main(["train", "--n", "6", "--image-size", "32", "--model", "alexnet", "--out", str(tmp_path)])
    assert status == 2
    assert "--model='alexnet' is not valid" in capsys.readouterr().err


def test_unknown_denoiser_is_a_clear_error(tmp_path, capsys):
    status = cli.main(["train", "--n", "6", "--image-size", "32", "--denoise", "fancy", "--out", str(tmp_path)])
    assert status == 2
    assert "tv" in capsys.readouterr().err


def test_data_list_and_verify(tmp_path, capsys):
    assert cli.main(["data", "list"]) == 0
    listed = capsys.readouterr().out
    for name in ("mirabest", "figshare_brain_tumour", "covid19_radiography", "gama", "opensarurban", "object_cxr"):
        assert name in listed
    assert cli.main(["data", "verify", "mirabest", str(tmp_path)]) == 1  # an empty folder is not MiraBest
    assert capsys.readouterr().out.strip()


def test_explain_writes_maps_images_and_grid_for_a_saved_model(tmp_path):
    from PIL import Image

    model = xai_tf.models.build_custom_cnn((32, 32, 1), 2, variant="v1")
    model.save(tmp_path / "tiny.keras")
    out = tmp_path / "explained"
    status = cli.main(["explain", "--model", str(tmp_path / "tiny.keras"), "--n", "10", "--image-size", "32",
                       "--methods", "gradcam,vanilla_gradient", "--limit", "3", "--denoise", "tv",
                       "--out", str(out), "--verbose", "0"])
    assert status == 0
    maps = np.load(out / "maps.npz")
    assert sorted(maps.files) == ["gradcam", "vanilla_gradient"]
    data = xai_tf.data.load("synthetic", n=10, image_size=32, seed=0)
    expected = xai_tf.denoise(xai_tf.explain(model, data.images[:3], "gradcam", verbose=0), "tv")
    np.testing.assert_allclose(maps["gradcam"], expected, atol=1e-5)
    meta = json.loads((out / "explain.json").read_text())
    assert meta["labels"] == data.labels[:3].tolist() and len(meta["predictions"]) == 3
    width, height = Image.open(out / "grid.png").size
    # 3 columns (input + 2 methods) x 3 rows of 140 px cells, then method_grid's colour-bar band
    assert width == 3 * 140 and 3 * 140 < height < 4 * 140


def test_explain_rejects_unknown_methods_and_missing_models(tmp_path, capsys):
    assert cli.main(["explain", "--model", str(tmp_path / "none.keras"), "--methods", "gradcam",
                     "--out", str(tmp_path)]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert cli.main(["explain", "--model", "x.keras", "--methods", "gradcam,magic", "--out", str(tmp_path)]) == 2
    assert "magic" in capsys.readouterr().err


def test_evaluate_is_routed_to_the_runner_with_its_own_options(tmp_path):
    model = xai_tf.models.build_custom_cnn((32, 32, 1), 2, variant="v1")
    model.save(tmp_path / "tiny.keras")
    out = tmp_path / "evaluation"
    status = cli.main(["evaluate", "--model", str(tmp_path / "tiny.keras"), "--data", "synthetic", "--n", "4",
                       "--methods", "random", "--metrics", "xai_entropy", "--out", str(out), "--verbose", "0"])
    assert status == 0
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert len(rows) == 4 and {row["method"] for row in rows} == {"random"}
