"""The radio_fits_cutouts manifest and loader: a flat folder of <source id>.fits plus a catalogue (CSV or FITS table).

The fixture mimics a FIRST cutout collection: 16 x 16 cutouts stored (1, 1, H, W) as FIRST serves them,
blank (NaN) pixels at an edge, labels by class name in ``catalogue.csv`` and in a FITS binary table.
"""
from __future__ import annotations

import json

import numpy as np
import pytest

from xai_tf import data as xai_data
from xai_tf.data.manifests import file_digest

fits = pytest.importorskip("astropy.io.fits")

IDS = ["J0811+2412", "J1002-0109", "J1230+1223", "J1536+0113"]
LABELS = ["FRII", "FRI", "FRI", "FRII"]


@pytest.fixture
def collection(tmp_path):
    rng = np.random.default_rng(3)
    cutouts = rng.normal(0.0, 1e-4, (len(IDS), 16, 16))  # Jy/beam noise
    cutouts[:, 6:10, 5:11] += np.arange(1, len(IDS) + 1)[:, None, None] * 2e-3  # a source in each
    cutouts[1, :, :3] = np.nan  # blank pixels at the survey's edge
    cutouts[3, 0, 0] = np.nan
    root = tmp_path / "first"
    root.mkdir()
    for source_id, image in zip(IDS, cutouts):
        fits.PrimaryHDU(image[None, None].astype(np.float32)).writeto(root / f"{source_id}.fits")
    (root / "catalogue.csv").write_text("file,label\n" + "".join(f"{i}.fits,{c}\n" for i, c in zip(IDS, LABELS)))
    table = fits.BinTableHDU.from_columns([fits.Column("file", "20A", array=[f"{i}.fits" for i in IDS]),
                                           fits.Column("label", "4A", array=LABELS)])
    fits.HDUList([fits.PrimaryHDU(), table]).writeto(root / "catalogue.fits")
    (root / "README.txt").write_text("cut from FIRST")
    return root, cutouts.astype(np.float32).astype(np.float64)  # what the files hold, as read


def expected(image):
    """nan='zero' then min-max to [0, 1], by hand."""
    image = np.where(np.isfinite(image), image, 0.0)
    return ((image - image.min()) / (image.max() - image.min())).astype(np.float32)


def test_the_manifest_checks_the_layout_and_a_frozen_copy_its_checksums(collection, tmp_path):
    root, _ = collection
    manifest = xai_data.load_manifest("radio_fits_cutouts")
    assert manifest["loader"] == "fits" and manifest["loader_options"]["catalogue"] == "catalogue.csv"
    report = xai_data.verify_manifest("radio_fits_cutouts", root)
    assert report.ok, report.summary()
    assert report.files_checked == len(IDS) + 2  # the cutouts, catalogue.fits (a *.fits) and catalogue.csv
    (root / "catalogue.csv").rename(root / "labels.csv")
    problems = xai_data.verify_manifest("radio_fits_cutouts", root).problems
    assert problems == ["missing file: catalogue.csv", "extra file: labels.csv"]
    (root / "labels.csv").rename(root / "catalogue.csv")
    # freezing a copy as the manifest's notes say: one sha256 entry per file
    frozen = dict(manifest, layout=[{"path": path.name, "sha256": file_digest(path)}
                                    for path in sorted(root.iterdir()) if path.suffix in (".fits", ".csv")])
    frozen.pop("_path")
    (tmp_path / "frozen.json").write_text(json.dumps(frozen))
    assert xai_data.verify_manifest(tmp_path / "frozen.json", root).checksums_checked == len(IDS) + 2
    with fits.open(root / f"{IDS[2]}.fits", mode="update") as hdus:
        hdus[0].data[0, 0, 8, 8] += 1.0  # one pixel altered
    problems = xai_data.verify_manifest(tmp_path / "frozen.json", root).problems
    assert len(problems) == 1 and problems[0].startswith(f"checksum mismatch: {IDS[2]}.fits")


def test_open_reads_the_collection_with_the_csv_or_the_fits_table(collection):
    root, cutouts = collection
    by_csv = xai_data.open(root)  # the folder's one CSV is the catalogue
    by_table = xai_data.open(root, catalogue="catalogue.fits")
    for source in (by_csv, by_table):
        assert isinstance(source, xai_data.FitsSource)
        assert (len(source), source.image_shape, source.class_names) == (4, (16, 16, 1), ("FRI", "FRII"))
        images, labels, _ = source.read(np.arange(4))
        assert labels.tolist() == [1, 0, 0, 1]
        for index in range(4):
            assert np.array_equal(images[index, ..., 0], expected(cutouts[index]))
    blank = by_csv.read([1])[0][0, ..., 0]
    finite_min = np.nanmin(cutouts[1])
    # the blank columns: 0 before scaling, i.e. (0 - min) / (max - min) after it
    assert np.allclose(blank[:, :3], (0.0 - finite_min) / (np.nanmax(cutouts[1]) - finite_min))
    by_minimum = xai_data.open(root, nan="min").read([1])[0][0, ..., 0]
    assert np.all(by_minimum[:, :3] == 0.0)  # the cutout's finite minimum: scaled to 0
    with pytest.raises(xai_data.BadFileError, match="holds 48 NaN/blank pixels"):
        xai_data.open(root, nan="error").read([1])
    assert by_table.describe()["catalogue"] == "catalogue.fits"
    assert np.array_equal(xai_data.open(by_table.describe()).read([3])[0], by_table.read([3])[0])


def test_a_fits_table_catalogue_with_integer_labels_and_named_columns(collection):
    root, cutouts = collection
    table = fits.BinTableHDU.from_columns([fits.Column("SOURCE", "20A", array=[f"{i}.fits" for i in IDS]),
                                           fits.Column("FR", "K", array=[2, 1, 1, 2])])
    table.writeto(root / "fr.fits")
    source = xai_data.open(root, catalogue="fr.fits", file_column="SOURCE", label_column="FR")
    assert source.class_names == ("0", "1", "2") and source.read([0, 1])[1].tolist() == [2, 1]
    with pytest.raises(ValueError, match=r"no column 'file' \(file_column\); columns: \['SOURCE', 'FR'\]"):
        xai_data.open(root, catalogue="fr.fits")
    with pytest.raises(ValueError, match="cannot be read as a FITS table"):
        xai_data.open(root, catalogue=f"{IDS[0]}.fits")
