"""evaluate on a lazy source: byte-identical results to the same images in memory; each unit reads only its chunk."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import tiny_cnn
from test_data_sources import NAMES, digits, write_hdf5, write_png_folder

from xai_tf import data as xai_data
from xai_tf.evaluation import evaluate

METHODS = "gradcam,random"
METRICS = "xai_entropy,max_sensitivity"
OPTIONS = {"sensitivity_samples": 2}


def _arrays(folder):
    found = {}
    for path in sorted((Path(folder) / "arrays").glob("*.npz")):
        with np.load(path) as stored:
            found[path.name] = {name: stored[name] for name in stored.files}
    return found


def _same_results(folder, reference):
    assert (Path(folder) / "results.jsonl").read_bytes() == (Path(reference) / "results.jsonl").read_bytes()
    mine, theirs = _arrays(folder), _arrays(reference)
    assert sorted(mine) == sorted(theirs) and mine
    for name, arrays in theirs.items():
        assert sorted(mine[name]) == sorted(arrays)
        for key, value in arrays.items():
            assert mine[name][key].dtype == value.dtype and np.array_equal(mine[name][key], value, equal_nan=True)


class CountingSource(xai_data.HDF5Source):
    """An HDF5 source that logs every row it reads."""

    def _rows(self, indices):
        import threading

        self.log.append(np.asarray(indices).tolist())
        self.threads.append(threading.current_thread().name)
        return super()._rows(indices)


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("evaluation_sources")
    images, labels = digits()  # 12 real 16 px digits, multiples of 1/255: PNG keeps them exactly
    data = xai_data.LabelledImages(images=(images / 255.0).astype(np.float32)[..., None], labels=labels,
                                   class_names=NAMES)
    model = tiny_cnn(input_shape=(16, 16, 1), num_classes=3)
    reference = root / "reference"
    summary = evaluate(model, data, METHODS, METRICS, reference, chunk_size=4, options=OPTIONS, verbose=0)
    assert summary["computed"] == 6
    return {"root": root, "data": data, "model": model, "reference": reference, "u8": images, "labels": labels}


def test_hdf5_and_png_sources_give_byte_identical_results(setup):
    root, data = setup["root"], setup["data"]
    h5 = write_hdf5(root / "digits.h5", data.images, data.labels, NAMES)
    png = write_png_folder(root / "png", setup["u8"], setup["labels"], NAMES)
    for name, source in (("h5", xai_data.open(h5)), ("png", xai_data.open(png))):
        out = root / f"out_{name}"
        summary = evaluate(setup["model"], source, METHODS, METRICS, out, chunk_size=4, options=OPTIONS, verbose=0)
        assert summary["computed"] == 6
        _same_results(out, setup["reference"])
        config = json.loads((out / "config.json").read_text())["config"]
        assert config["data_fingerprint"] == source.fingerprint() and config["data_images"] == 12
        again = evaluate(setup["model"], xai_data.open(source.describe()), METHODS, METRICS, out, chunk_size=4,
                         options=OPTIONS, verbose=0)
        assert (again["computed"], again["skipped"]) == (0, 6)  # resumes: same source, same configuration


def test_each_unit_reads_only_its_chunk(setup):
    root, data = setup["root"], setup["data"]
    path = write_hdf5(root / "counted.h5", data.images, data.labels, NAMES)
    source = CountingSource(path)
    source.log, source.threads = [], []
    out = root / "shard"
    evaluate(setup["model"], source, METHODS, METRICS, out, shard="2/2", chunk_size=4, options=OPTIONS, verbose=0)
    assert source.log == [[4, 5, 6, 7]]  # shard 2 of 2 is chunk 1 alone, read once for both methods
    assert source.rows_read == 4
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    reference = [json.loads(line) for line in (setup["reference"] / "results.jsonl").read_text().splitlines()]
    assert rows == [row for row in reference if row["chunk"] == 1]
    # the whole set: each chunk read once, the next one in the background while the current one is scored
    source.log, source.threads = [], []
    evaluate(setup["model"], source, METHODS, METRICS, root / "whole", chunk_size=4, options=OPTIONS, verbose=0)
    read_by = {tuple(indices): thread for indices, thread in zip(source.log, source.threads)}
    assert sorted(source.log) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]]
    assert read_by[(0, 1, 2, 3)] == "MainThread"
    assert read_by[(4, 5, 6, 7)].startswith("xai-tf-prefetch") and read_by[(8, 9, 10, 11)].startswith("xai-tf-prefetch")
    _same_results(root / "whole", setup["reference"])


def test_a_bad_row_stops_at_its_chunk_with_the_file_named(setup, tmp_path):
    root = write_png_folder(tmp_path / "png", setup["u8"], setup["labels"], NAMES)
    source = xai_data.open(root)
    bad = source.files[9]
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 10)
    out = tmp_path / "out"
    with pytest.raises(xai_data.BadFileError, match="cannot be read as an image") as caught:
        evaluate(setup["model"], source, METHODS, METRICS, out, chunk_size=4, options=OPTIONS, verbose=0)
    assert caught.value.path == str(bad)
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert sorted({row["chunk"] for row in rows}) == [0, 1]  # the chunks before the bad one are kept


def test_cli_data_routes_hdf5_and_fits_to_lazy_sources(setup, tmp_path, capsys):
    from astropy.io import fits

    from xai_tf.evaluation import cli_main

    model_path = tmp_path / "model.keras"
    setup["model"].save(model_path)
    data = setup["data"]
    h5 = write_hdf5(tmp_path / "digits.h5", data.images, data.labels, NAMES)
    flags = ["--model", str(model_path), "--methods", METHODS, "--metrics", METRICS, "--chunk-size", "4",
             "--sensitivity-samples", "2", "--verbose", "0"]
    assert cli_main([*flags, "--data", str(h5), "--out", str(tmp_path / "h5")]) == 0
    _same_results(tmp_path / "h5", setup["reference"])
    config = json.loads((tmp_path / "h5" / "config.json").read_text())["config"]
    assert (config["data_source"], config["split"], config["data_indices"]) == (str(h5), "all", None)
    # FITS cutouts in class folders: "none" keeps pixels in [0, 1] as they are, so the images are the same
    for index, (image, label) in enumerate(zip(data.images[..., 0], data.labels)):
        (tmp_path / "fits" / NAMES[label]).mkdir(parents=True, exist_ok=True)
        fits.PrimaryHDU(image).writeto(tmp_path / "fits" / NAMES[label] / f"{index:03d}.fits")
    fits_dir = str(tmp_path / "fits")
    assert cli_main([*flags, "--data", fits_dir, "--out", str(tmp_path / "x"), "--split", "held-out"]) == 2
    assert "--split held-out needs the split a training run recorded" in capsys.readouterr().err  # as for any data
    assert not (tmp_path / "x").exists()
    source = xai_data.open(fits_dir, normalize="none")
    evaluate(setup["model"], source, METHODS, METRICS, tmp_path / "none", chunk_size=4, options=OPTIONS, verbose=0)
    _same_results(tmp_path / "none", setup["reference"])
    # the CLI opens the FITS folder with the defaults (per-cutout min-max) at the model's input size
    assert cli_main([*flags, "--data", fits_dir, "--out", str(tmp_path / "fits_cli")]) == 0
    default = xai_data.open(fits_dir, image_size=16)
    evaluate(setup["model"], default, METHODS, METRICS, tmp_path / "fits_api", chunk_size=4, options=OPTIONS,
             verbose=0)
    _same_results(tmp_path / "fits_cli", tmp_path / "fits_api")


def test_skip_bad_lists_the_bad_image_and_keeps_every_other_index(setup, tmp_path):
    root = write_png_folder(tmp_path / "png", setup["u8"], setup["labels"], NAMES)
    source = xai_data.open(root, skip_bad=True)
    bad = source.files[5]
    bad.write_bytes(bad.read_bytes()[:40])  # truncated
    out = tmp_path / "out"
    summary = evaluate(setup["model"], source, METHODS, METRICS, out, chunk_size=4, options=OPTIONS, verbose=0)
    assert summary["computed"] == 6
    listed = json.loads((out / "skipped.json").read_text())["skipped"]
    assert [(entry["image"], entry["file"]) for entry in listed] == [(5, str(bad))]
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    reference = [json.loads(line) for line in (setup["reference"] / "results.jsonl").read_text().splitlines()]
    assert [row["image"] for row in rows if row["method"] == "gradcam"] == [0, 1, 2, 3, 4, 6, 7, 8, 9, 10, 11]
    # the chunks without the bad file are the in-memory run's, row for row; no later index shifted
    assert [row for row in rows if row["chunk"] != 1] == [row for row in reference if row["chunk"] != 1]
    again = evaluate(setup["model"], xai_data.open(root, skip_bad=True), METHODS, METRICS, out, chunk_size=4,
                     options=OPTIONS, verbose=0)
    assert (again["computed"], again["skipped"]) == (0, 6)  # resumes: the listed image is not a missing row
