"""The ``xai-tf`` command line: train writes model/history/report, data list/verify, clear errors."""
from __future__ import annotations

import json

import keras
import numpy as np
import pytest

import xai_tf
from xai_tf import cli, runs
from xai_tf.cli.train import settings_of


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
    denoised = runs.training_data(settings_of(args), verbose=0)
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
    status = cli.main(["explain", "--model", str(tmp_path / "tiny.keras"), "--data", "synthetic", "--n", "10",
                       "--image-size", "32", "--methods", "gradcam,vanilla_gradient", "--limit", "3", "--denoise", "tv",
                       "--out", str(out), "--verbose", "0"])
    assert status == 0
    maps = np.load(out / "maps.npz")
    assert sorted(maps.files) == ["gradcam", "vanilla_gradient"]
    data = xai_tf.data.load("synthetic", n=10, image_size=32, seed=0)
    chosen = np.load(out / "images.npz")["indices"]
    expected = xai_tf.denoise(xai_tf.explain(model, data.images[chosen], "gradcam", verbose=0), "tv")
    np.testing.assert_allclose(maps["gradcam"], expected, atol=1e-5)
    meta = json.loads((out / "explain.json").read_text())
    assert meta["labels"] == data.labels[chosen].tolist() and len(meta["predictions"]) == 3
    width, height = Image.open(out / "grid.png").size
    # 3 columns (input + 2 methods) x 3 rows of 140 px cells, then method_grid's colour-bar band
    assert width == 3 * 140 and 3 * 140 < height < 4 * 140
    # the command is one library call: the Python recipe writes the same maps and records its own arguments
    again = runs.explain_run(tmp_path / "tiny.keras", tmp_path / "api", data="synthetic", n=10, image_size=32,
                             methods="gradcam,vanilla_gradient", limit=3, denoise="tv", verbose=0)
    assert again == tmp_path / "api"
    np.testing.assert_array_equal(np.load(again / "maps.npz")["gradcam"], maps["gradcam"])
    recorded = json.loads((again / "explain.json").read_text())["arguments"]
    assert recorded["model"] == str(tmp_path / "tiny.keras") and recorded["limit"] == 3 and "arguments" not in recorded


def test_explain_rejects_unknown_methods_and_missing_models(tmp_path, capsys):
    assert cli.main(["explain", "--model", str(tmp_path / "none.keras"), "--data", "synthetic", "--methods", "gradcam",
                     "--out", str(tmp_path)]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert cli.main(["explain", "--model", "x.keras", "--data", "synthetic", "--methods", "gradcam,magic",
                     "--out", str(tmp_path)]) == 2
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


def test_train_without_n_uses_the_documented_default(tmp_path, capsys):
    # the README's first example, without --n (it failed with "n must be an integer; got None")
    args = cli.build_parser().parse_args(["train", "--data", "synthetic", "--model", "custom-v2", "--epochs", "10",
                                          "--out", "unused"])
    assert settings_of(args)["n"] == runs.TRAIN_DEFAULTS["n"] == 600
    out = tmp_path / "run"
    assert cli.main(["train", "--data", "synthetic", "--image-size", "32", "--model", "custom-v1", "--epochs", "1",
                     "--no-augment", "--out", str(out), "--verbose", "0"]) == 0
    assert json.loads((out / "split.json").read_text())["images"] == 600
    assert json.loads((out / "config.json").read_text())["arguments"]["n"] == 600
    assert "data: synthetic radio galaxies (--data synthetic: 600 generated images" in capsys.readouterr().out


@pytest.mark.parametrize("command", ["explain", "evaluate", "meta-evaluate"])
def test_a_model_command_without_data_is_refused_naming_data(tmp_path, capsys, command):
    argv = [command, "--model", str(tmp_path / "m.keras"), "--methods", "gradcam,random", "--out", str(tmp_path / "o")]
    argv += ["--metrics", "xai_entropy"] if command != "explain" else []
    try:
        status = cli.main(argv)
    except SystemExit as exit_:  # argparse's usage error
        status = exit_.code
    assert status == 2
    assert "the following arguments are required: --data" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_explain_says_the_data_are_synthetic(tmp_path, capsys):
    xai_tf.models.build_custom_cnn((32, 32, 1), 2, variant="v1").save(tmp_path / "tiny.keras")
    assert cli.main(["explain", "--model", str(tmp_path / "tiny.keras"), "--data", "synthetic", "--n", "6",
                     "--limit", "2", "--out", str(tmp_path / "o"), "--verbose", "0"]) == 0
    assert "data: synthetic radio galaxies (--data synthetic: 6 generated images, 32 px, seed 0)" in \
        capsys.readouterr().out


def test_conversions_of_a_folder_are_printed_on_one_line(tmp_path, capsys):
    from PIL import Image

    for name, size in (("a", (40, 40)), ("b", (50, 60))):
        (tmp_path / "data" / name).mkdir(parents=True)
        Image.fromarray(np.zeros(size, np.uint8)).save(tmp_path / "data" / name / "0.png")
    settings = runs.train_settings(data=str(tmp_path / "data"), image_size=32, color="rgb")
    dataset = runs.load_data(settings)
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("data: converted")]
    assert len(lines) == 1 and dataset.images.shape == (2, 32, 32, 3)
    assert "resized 2 of 2 images (40x40, 50x60) to 32x32" in lines[0]
    assert "2 of 2 grayscale images repeated to 3 RGB channels" in lines[0]


def test_data_list_with_no_manifest_is_an_error(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("XAI_TF_MANIFESTS", str(tmp_path))
    assert cli.main(["data", "list"]) == 2
    assert f"no data-set manifest found in {tmp_path}" in capsys.readouterr().err


def test_own_folder_with_masks_on_the_command_line(tmp_path):
    from PIL import Image
    from skimage import data as samples
    from skimage.transform import resize

    photos = {"coins": samples.coins(), "moon": samples.moon()}
    for name, photo in photos.items():
        for index in range(3):
            crop = resize(photo[index * 40:index * 40 + 128, :128], (32, 32), anti_aliasing=True)
            (tmp_path / "images" / name).mkdir(parents=True, exist_ok=True)
            (tmp_path / "masks" / name).mkdir(parents=True, exist_ok=True)
            Image.fromarray((255 * (crop - crop.min()) / np.ptp(crop)).astype(np.uint8)).save(
                tmp_path / "images" / name / f"{name}{index}.png")
            mask = np.zeros((32, 32), np.uint8)
            mask[4 * index:4 * index + 10, 8:20] = 255
            Image.fromarray(mask).save(tmp_path / "masks" / name / f"{name}{index}.png")
    model = xai_tf.models.build_custom_cnn((32, 32, 1), 2, variant="v1")
    model.save(tmp_path / "mine.keras")
    common = ["--model", str(tmp_path / "mine.keras"), "--data", str(tmp_path / "images"), "--verbose", "0"]
    assert cli.main(["explain", *common, "--masks", str(tmp_path / "masks"), "--methods", "random",
                     "--limit", "6", "--out", str(tmp_path / "maps")]) == 0
    shown = np.load(tmp_path / "maps" / "images.npz")
    files = sorted((tmp_path / "masks").rglob("*.png"))  # class folders in sorted order, files sorted in each
    expected = np.stack([np.asarray(Image.open(path)) > 127 for path in files])
    np.testing.assert_array_equal(shown["masks"], expected[shown["indices"]])
    assert cli.main(["explain", *common, "--masks", str(tmp_path / "nowhere"), "--methods", "random",
                     "--out", str(tmp_path / "bad")]) == 2
    assert cli.main(["explain", "--model", str(tmp_path / "mine.keras"), "--data", "synthetic", "--masks",
                     str(tmp_path / "masks"), "--methods", "random", "--out", str(tmp_path / "bad2")]) == 2


def test_one_class_folder_is_labelled_by_classes(tmp_path, capsys):
    # a folder holding only the model's second class: without --classes its label would be 0
    from PIL import Image
    from skimage import data as samples

    coins = samples.coins()
    (tmp_path / "images" / "moon").mkdir(parents=True)
    for index in range(3):
        Image.fromarray(coins[index * 40:index * 40 + 32, :32]).save(tmp_path / "images" / "moon" / f"{index}.png")
    model = xai_tf.models.build_custom_cnn((32, 32, 1), 2, variant="v1")
    model.save(tmp_path / "mine.keras")
    common = ["--model", str(tmp_path / "mine.keras"), "--data", str(tmp_path / "images"), "--verbose", "0",
              "--methods", "random"]
    assert cli.main(["explain", *common, "--out", str(tmp_path / "none")]) == 2
    assert "one class folder ('moon')" in capsys.readouterr().err
    assert cli.main(["explain", *common, "--classes", "coins,moon", "--out", str(tmp_path / "maps")]) == 0
    shown = np.load(tmp_path / "maps" / "images.npz")
    np.testing.assert_array_equal(shown["labels"], [1, 1, 1])
    assert cli.main(["explain", *common, "--classes", "coins,stars", "--out", str(tmp_path / "bad")]) == 2
    assert "not among them" in capsys.readouterr().err
    for bad in ("coins,,moon", "moon,moon"):
        with pytest.raises(SystemExit):
            cli.main(["explain", *common, "--classes", bad, "--out", str(tmp_path / "bad")])
