"""Lazy image sources (xai_tf.data.open): each reads exactly the rows asked for, as the in-memory loaders would.

Real images: scikit-learn's handwritten digits (8 x 8, 17 grey levels), upscaled to 16 px and
quantised to multiples of 1/255 so that PNG (8-bit) round-trips them exactly.
"""
from __future__ import annotations

import pickle

import h5py
import numpy as np
import pytest

from xai_tf import data as xai_data
from xai_tf.data import BadFileError

fits = pytest.importorskip("astropy.io.fits")

SIZE = 16


def digits(per_class=4, classes=3):
    """``(uint8 images (N, 16, 16), labels)``: the first ``per_class`` digits of each of ``classes`` classes."""
    from sklearn.datasets import load_digits

    found = load_digits()
    chosen = np.concatenate([np.flatnonzero(found.target == label)[:per_class] for label in range(classes)])
    images = np.kron(found.images[chosen], np.ones((2, 2)))  # 8 -> 16 px
    return (images * 255 // 16).astype(np.uint8), found.target[chosen].astype(np.int64)


def write_png_folder(root, images, labels, names):
    from PIL import Image

    for index, (image, label) in enumerate(zip(images, labels)):
        folder = root / names[label]
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(folder / f"{index:03d}.png")
    return root


def write_hdf5(path, images, labels, names, masks=None):
    with h5py.File(path, "w") as handle:
        handle.create_dataset("images", data=images)
        handle.create_dataset("labels", data=labels)
        handle["images"].attrs["class_names"] = list(names)
        if masks is not None:
            handle.create_dataset("masks", data=masks)
    return path


NAMES = ("c0_zero", "c1_one", "c2_two")  # sorted = label order, as class folders are read


@pytest.fixture(scope="module")
def real(tmp_path_factory):
    root = tmp_path_factory.mktemp("sources")
    images, labels = digits()
    floats = (images / 255.0).astype(np.float32)[..., None]
    masks = images > 127
    return {"root": root, "u8": images, "labels": labels, "floats": floats, "masks": masks,
            "png": write_png_folder(root / "png", images, labels, NAMES),
            "h5": write_hdf5(root / "digits.h5", floats, labels, NAMES, masks)}


def test_sources_read_exactly_the_in_memory_rows(real):
    order = np.array([7, 0, 11, 3, 3])
    expected = real["floats"][order]
    h5 = xai_data.open(real["h5"])
    folder = xai_data.open(real["png"])
    assert isinstance(h5, xai_data.HDF5Source) and isinstance(folder, xai_data.FolderSource)
    for source in (h5, folder):
        assert (len(source), source.image_shape, source.class_names) == (12, (SIZE, SIZE, 1), NAMES)
        images, labels, _ = source.read(order)
        assert images.dtype == np.float32 and np.array_equal(images, expected)
        assert np.array_equal(labels, real["labels"][order])
    assert np.array_equal(h5.read(order)[2], real["masks"][order])
    assert folder.read(order)[2] is None
    # the folder source's rows are load_image_folder's, and to_labelled gives the same set
    loaded = xai_data.load_image_folder(real["png"], verbose=0)
    assert np.array_equal(folder.to_labelled().images, loaded.images)
    assert np.array_equal(folder.to_labelled().labels, loaded.labels)


def test_numpy_memmap_and_tf_data_sources(real, tmp_path):
    import tensorflow as tf

    np.save(tmp_path / "images.npy", real["u8"])  # integers are divided by 255 as the file loaders do
    np.save(tmp_path / "labels.npy", real["labels"])
    source = xai_data.open(tmp_path)
    assert isinstance(source, xai_data.NumpySource) and isinstance(source._images, np.memmap)
    assert np.array_equal(source.read(np.arange(12))[0], real["floats"])
    dataset = tf.data.Dataset.from_tensor_slices((real["floats"], real["labels"])).batch(5)
    streamed = xai_data.open(dataset, class_names=NAMES)
    assert isinstance(streamed, xai_data.TFDatasetSource) and len(streamed) == 12
    images, labels, _ = streamed.read([11, 2])
    assert np.array_equal(images, real["floats"][[11, 2]]) and labels.tolist() == real["labels"][[11, 2]].tolist()


def test_full_fingerprints_agree_and_cheap_ones_follow_the_files(real, tmp_path):
    import os

    h5, folder = xai_data.open(real["h5"]), xai_data.open(real["png"])
    in_memory = xai_data.open(real["floats"], labels=real["labels"], class_names=NAMES)
    assert h5.fingerprint(full=True) == folder.fingerprint(full=True) == in_memory.fingerprint(full=True)
    copy = write_hdf5(tmp_path / "copy.h5", real["floats"], real["labels"], NAMES)
    before = xai_data.open(copy).fingerprint()
    assert before == xai_data.open(copy).fingerprint()
    os.utime(copy, ns=(1, 1))  # a touched file is another data set for the cheap fingerprint
    assert xai_data.open(copy).fingerprint() != before


def test_description_reopens_the_source_in_another_process(real):
    h5 = xai_data.open(real["h5"])
    h5.read([1])  # opens the HDF5 handle, which must not travel
    for source in (h5, xai_data.open(real["png"])):
        again = xai_data.open(source.describe())
        assert np.array_equal(again.read([4, 9])[0], source.read([4, 9])[0])
        unpickled = pickle.loads(pickle.dumps(source))
        assert np.array_equal(unpickled.read([4, 9])[0], source.read([4, 9])[0])
    with pytest.raises(TypeError, match="in this process's memory"):
        xai_data.open(real["floats"]).describe()


def _write_fits(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    fits.PrimaryHDU(data).writeto(path)
    return path


def test_fits_cutouts_in_class_folders_and_with_a_catalogue(real, tmp_path):
    cutouts = real["u8"].astype(np.float64) / 16.0 - 3.0  # any range: "minmax" scales each cutout
    cutouts[0, :2, :] = np.nan  # blank pixels, as FIRST/LoTSS cutouts have at their edges
    for index, (image, label) in enumerate(zip(cutouts, real["labels"])):
        _write_fits(tmp_path / "classes" / NAMES[label] / f"{index:03d}.fits", image[None, None])  # (1, 1, H, W)
        _write_fits(tmp_path / "flat" / f"src{index:03d}.fits", image)
    (tmp_path / "flat" / "sources.csv").write_text(
        "name,morphology\n" + "".join(f"src{i:03d}.fits,{NAMES[label]}\n" for i, label in enumerate(real["labels"])))

    def expected(image, nan_value):
        image = np.where(np.isfinite(image), image, nan_value)
        return ((image - image.min()) / (image.max() - image.min())).astype(np.float32)[..., None]

    by_folder = xai_data.open(tmp_path / "classes")
    by_catalogue = xai_data.open(tmp_path / "flat", file_column="name", label_column="morphology", classes=NAMES)
    for source in (by_folder, by_catalogue):
        assert isinstance(source, xai_data.FitsSource) and source.class_names == NAMES
        images, labels, _ = source.read([0, 5])
        assert np.array_equal(labels, real["labels"][[0, 5]])
        assert np.array_equal(images[0], expected(cutouts[0], 0.0))
        assert np.array_equal(images[1], expected(cutouts[5], 0.0))
    minimum = xai_data.open(tmp_path / "classes", nan="min").read([0])[0][0]
    assert np.array_equal(minimum, expected(cutouts[0], np.nanmin(cutouts[0])))
    with pytest.raises(BadFileError, match="NaN/blank pixels; pass nan="):
        xai_data.open(tmp_path / "classes", nan="error").read([0])


def test_sigma_clip_is_mirabest_preprocessing_against_astropy(tmp_path):
    from astropy.stats import sigma_clipped_stats

    rng = np.random.default_rng(0)
    image = rng.normal(0.0, 1.0, (24, 24))
    image[8:14, 9:15] += 40.0  # a bright source on Gaussian background noise
    _write_fits(tmp_path / "a" / "x.fits", image)
    _write_fits(tmp_path / "b" / "y.fits", image)
    source = xai_data.open(tmp_path, normalize="sigma_clip")
    _, median, std = sigma_clipped_stats(image, sigma=3.0, maxiters=5)
    threshold = median + 3.0 * std
    clipped = np.maximum(image, threshold)
    expected = ((clipped - threshold) / (clipped.max() - threshold)).astype(np.float32)
    np.testing.assert_allclose(source.read([0])[0][0, ..., 0], expected, rtol=0, atol=1e-6)
    read = source.read([0])[0][0, ..., 0]
    assert read.min() == 0.0 and read.max() == 1.0 and np.all(read[8:14, 9:15] > 0)  # the whole source survives
    assert np.array_equal(read > 0, image > threshold)  # and the background below 3 sigma is zero


def test_bad_inputs_get_named_errors(real, tmp_path):
    import tensorflow as tf

    with h5py.File(tmp_path / "rank.h5", "w") as handle:
        handle.create_dataset("images", data=np.zeros((4, 16), np.float32))
    with pytest.raises(ValueError, match=r"rank 3 \(N, H, W\) or 4"):
        xai_data.open(tmp_path / "rank.h5")
    (tmp_path / "broken.h5").write_bytes(b"not an hdf5 file")
    with pytest.raises(BadFileError, match="cannot be opened as HDF5"):
        xai_data.open(tmp_path / "broken.h5")
    infinite = tf.data.Dataset.from_tensor_slices(real["floats"]).repeat()
    with pytest.raises(ValueError, match="dataset is infinite"):
        xai_data.open(infinite)
    unknown = infinite.filter(lambda image: tf.reduce_max(image) >= 0)  # cardinality unknown, never ends
    with pytest.raises(ValueError, match="looks infinite"):
        xai_data.open(unknown, max_images=30)
    # FITS: a table with no image HDU, a NaN-only cutout, a cube of the wrong rank
    _write_fits(tmp_path / "fits" / "a" / "0.fits", np.ones((SIZE, SIZE)))
    fits.HDUList([fits.PrimaryHDU(), fits.BinTableHDU.from_columns([fits.Column("x", "E", array=[1.0])])]).writeto(
        tmp_path / "fits" / "a" / "1.fits")
    _write_fits(tmp_path / "fits" / "b" / "2.fits", np.full((SIZE, SIZE), np.nan))
    _write_fits(tmp_path / "fits" / "b" / "3.fits", np.ones((2, SIZE, SIZE)))
    source = xai_data.open(tmp_path / "fits")
    for index, reason in ((1, "has no image HDU"), (2, "only NaN/blank pixels"), (3, "a cutout must be 2-D")):
        with pytest.raises(BadFileError, match=reason) as caught:
            source.read([0, index])
        assert caught.value.path == str(source.files[index])


def test_skip_bad_records_indices_and_never_shifts_later_rows(real, tmp_path):
    import shutil

    root = shutil.copytree(real["png"], tmp_path / "png")
    strict = xai_data.open(root)
    bad = strict.files[5]
    bad.write_bytes(bad.read_bytes()[:40])  # a truncated PNG
    with pytest.raises(BadFileError, match="cannot be read as an image") as caught:
        strict.read([4, 5, 6])
    assert caught.value.path == str(bad)
    source = xai_data.open(root, skip_bad=True)
    kept, images, labels, _ = source.read_good([4, 5, 6, 7])
    assert kept.tolist() == [4, 6, 7] and source.skipped == {5: (str(bad), caught.value.reason)}
    assert np.array_equal(images, real["floats"][[4, 6, 7]]) and np.array_equal(labels, real["labels"][[4, 6, 7]])
    whole = source.to_labelled()
    assert whole.info["source_indices"].tolist() == [i for i in range(12) if i != 5]
    assert whole.skipped == [(str(bad), caught.value.reason)]


def test_open_refuses_what_it_cannot_read_by_name(real, tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        xai_data.open(tmp_path / "missing.h5")
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "readme.txt").write_text("no images here")
    with pytest.raises(ValueError, match="found no data set a source reads"):
        xai_data.open(tmp_path / "notes")
    with pytest.raises(ValueError, match="kind must be one of"):
        xai_data.open({"kind": "parquet", "path": str(tmp_path)})
    source = xai_data.open(real["h5"])
    assert xai_data.open(source) is source
    with pytest.raises(TypeError, match="already a source"):
        xai_data.open(source, skip_bad=True)
    with pytest.raises(TypeError, match="spec must be a path"):
        xai_data.open(42)
    with pytest.raises(ValueError, match=r"indices must lie in \[0, 11\]"):
        source.read([12])
    with pytest.raises(ValueError, match="labels must lie in"):
        xai_data.open(real["floats"], labels=real["labels"], class_names=("a", "b"))


def test_load_reads_the_new_formats_whole(real, tmp_path):
    loaded = xai_data.load(real["h5"])
    assert np.array_equal(loaded.images, real["floats"]) and np.array_equal(loaded.masks, real["masks"])
    assert loaded.class_names == NAMES and loaded.info["conversions"] == []
    smaller = xai_data.load(real["h5"], image_size=8, color="rgb")
    assert smaller.images.shape == (12, 8, 8, 3)
    assert len(smaller.info["conversions"]) == 2  # resized, grey to RGB: said
    for index, (image, label) in enumerate(zip(real["floats"], real["labels"])):
        _write_fits(tmp_path / "fits" / NAMES[label] / f"{index}.fits", image[..., 0])
    cutouts = xai_data.load(tmp_path / "fits", image_size=16, normalize="none")
    assert np.array_equal(cutouts.images, real["floats"]) and np.array_equal(cutouts.labels, real["labels"])
