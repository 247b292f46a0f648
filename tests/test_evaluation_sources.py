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

    from xai_tf.cli.evaluate import cli_main

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


def test_zarr_store_gives_byte_identical_results_from_the_api_and_the_cli(setup, tmp_path):
    pytest.importorskip("zarr", reason="zarr is not installed (pip install xai-tf[zarr])")
    from test_zarr_source import write_zarr

    from xai_tf.cli.evaluate import cli_main

    data = setup["data"]
    store = write_zarr(tmp_path / "digits.zarr", data.images, data.labels, NAMES, chunks=5)
    source = xai_data.open(store)
    assert isinstance(source, xai_data.ZarrSource)
    evaluate(setup["model"], source, METHODS, METRICS, tmp_path / "api", chunk_size=4, options=OPTIONS, verbose=0)
    _same_results(tmp_path / "api", setup["reference"])
    model_path = tmp_path / "model.keras"
    setup["model"].save(model_path)
    assert cli_main(["--model", str(model_path), "--data", str(store), "--methods", METHODS, "--metrics", METRICS,
                     "--chunk-size", "4", "--sensitivity-samples", "2", "--verbose", "0", "--out",
                     str(tmp_path / "cli")]) == 0
    _same_results(tmp_path / "cli", setup["reference"])
    config = json.loads((tmp_path / "cli" / "config.json").read_text())["config"]
    assert config["data_fingerprint"] == source.fingerprint()


def _flat_fits_folder(root, images, labels):
    """A FIRST-like flat folder: ``<id>.fits`` cutouts (any range, some blank pixels) and ``labels.csv``."""
    from astropy.io import fits

    root.mkdir()
    for index, image in enumerate(images):
        cutout = image * 40.0 - 3.0
        cutout[0, :4] = np.nan
        fits.PrimaryHDU(cutout[None, None]).writeto(root / f"src{index:03d}.fits")
    (root / "labels.csv").write_text("name,morphology\n" + "".join(
        f"src{index:03d}.fits,{NAMES[label]}\n" for index, label in enumerate(labels)))
    return root


def _fits_command(setup, tmp_path):
    """``(FITS folder, saved model, evaluate's flags without --data and --out)`` of the FITS-flag tests."""
    data = setup["data"]
    root = _flat_fits_folder(tmp_path / "flat", data.images[..., 0], data.labels)
    model_path = tmp_path / "model.keras"
    setup["model"].save(model_path)
    flags = ["--model", str(model_path), "--methods", METHODS, "--metrics", METRICS, "--chunk-size", "4",
             "--sensitivity-samples", "2", "--verbose", "0"]
    return root, model_path, flags


def test_fits_flags_on_the_command_line_are_the_sources_options(setup, tmp_path):
    from xai_tf.cli.data_flags import fits_options
    from xai_tf.cli.evaluate import build_parser
    from xai_tf.runs import lazy_source_for_model

    data = setup["data"]
    root, model_path, flags = _fits_command(setup, tmp_path)
    fits_flags = ["--catalogue", "labels.csv", "--file-column", "name", "--label-column", "morphology",
                  "--fits-normalize", "sigma_clip", "--fits-sigma", "2.5", "--fits-nan", "min", "--fits-hdu", "0"]
    args = build_parser().parse_args([*flags, "--data", str(root), "--out", str(tmp_path / "cli"), *fits_flags])
    options = fits_options(args)
    assert options == {"catalogue": "labels.csv", "file_column": "name", "label_column": "morphology",
                       "normalize": "sigma_clip", "sigma": 2.5, "nan": "min", "hdu": 0}
    # what evaluate's command line opens (lazy_source_for_model) is the Python API's source with those options
    from_cli = lazy_source_for_model(setup["model"], args.data, args.model, source_options=options)
    from_api = xai_data.open(root, catalogue="labels.csv", file_column="name", label_column="morphology",
                             normalize="sigma_clip", sigma=2.5, nan="min", hdu=0, image_size=16)
    assert from_cli.describe() == from_api.describe() and from_cli.class_names == NAMES
    defaults = xai_data.open(root, catalogue="labels.csv", file_column="name", label_column="morphology", image_size=16)
    assert not np.array_equal(from_cli.read([0])[0], defaults.read([0])[0])  # the options made a difference
    for source, out in ((from_cli, "cli"), (from_api, "api")):
        evaluate(setup["model"], source, METHODS, METRICS, tmp_path / out, chunk_size=4, options=OPTIONS, verbose=0)
    _same_results(tmp_path / "cli", tmp_path / "api")
    # the flags are FITS-only: named when --data is something else; with a split to pick, the folder is loaded
    # in memory by runs.data_for_model, which takes the same options (data_options)
    h5 = write_hdf5(tmp_path / "digits.h5", data.images, data.labels, NAMES)
    args = build_parser().parse_args([*flags, "--data", str(h5), "--out", "x", "--fits-nan", "min"])
    with pytest.raises(ValueError, match=r"--fits-nan applies to FITS cutouts only; --data .*digits.h5"):
        fits_options(args)
    with pytest.raises(ValueError, match="apply to a folder of FITS cutouts"):
        lazy_source_for_model(setup["model"], str(h5), source_options={"nan": "min"})
    assert lazy_source_for_model(setup["model"], str(root), split="held-out", source_options={"nan": "min"}) is None


def test_evaluate_command_passes_the_fits_flags(setup, tmp_path):
    from xai_tf import cli
    from xai_tf.cli import evaluate as evaluation_cli

    data = setup["data"]
    root, model_path, flags = _fits_command(setup, tmp_path)
    assert evaluation_cli.cli_main([*flags, "--data", str(root), "--out", str(tmp_path / "cli"), "--catalogue",
                                    "labels.csv", "--file-column", "name", "--label-column", "morphology",
                                    "--fits-normalize", "sigma_clip", "--fits-sigma", "2.5"]) == 0
    source = xai_data.open(root, catalogue="labels.csv", file_column="name", label_column="morphology",
                           normalize="sigma_clip", sigma=2.5, image_size=16)
    evaluate(setup["model"], source, METHODS, METRICS, tmp_path / "api", chunk_size=4, options=OPTIONS, verbose=0)
    _same_results(tmp_path / "cli", tmp_path / "api")
    h5 = write_hdf5(tmp_path / "digits.h5", data.images, data.labels, NAMES)
    assert evaluation_cli.cli_main([*flags, "--data", str(h5), "--out", str(tmp_path / "x"), "--fits-nan",
                                    "min"]) == 2
    # explain reads the folder in memory (runs.data_for_model) with the same options
    assert cli.main(["explain", "--model", str(model_path), "--data", str(root), "--methods", "random", "--limit",
                     "4", "--verbose", "0", "--out", str(tmp_path / "explained"), "--catalogue", "labels.csv",
                     "--file-column", "name", "--label-column", "morphology", "--fits-normalize", "sigma_clip",
                     "--fits-sigma", "2.5"]) == 0
    with np.load(tmp_path / "explained" / "images.npz") as shown:
        images, labels = source.read(shown["indices"])[:2]
        np.testing.assert_array_equal(shown["images"], images)
        np.testing.assert_array_equal(shown["labels"], labels)
