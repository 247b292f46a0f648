"""ZarrSource: a zarr directory store read a chunk at a time, exactly as the arrays it holds (as HDF5Source)."""
from __future__ import annotations

import os
import pickle

import numpy as np
import pytest
from test_data_sources import NAMES, digits

from xai_tf import data as xai_data

zarr = pytest.importorskip("zarr", reason="zarr is not installed (pip install xai-tf[zarr])")


def write_zarr(path, images, labels=None, names=None, masks=None, chunks=5):
    """A zarr group (the installed zarr's default format) with images, labels and masks arrays."""
    group = zarr.open_group(str(path), mode="w")
    group.create_array("images", data=images, chunks=(chunks, *images.shape[1:]))
    if labels is not None:
        group.create_array("labels", data=labels)
    if masks is not None:
        group.create_array("masks", data=masks, chunks=(chunks, *masks.shape[1:]))
    if names is not None:
        group["images"].attrs["class_names"] = list(names)
    return path


@pytest.fixture(scope="module")
def real(tmp_path_factory):
    root = tmp_path_factory.mktemp("zarr")
    images, labels = digits()
    floats = (images / 255.0).astype(np.float32)[..., None]
    masks = images > 127
    return {"root": root, "u8": images, "labels": labels, "floats": floats, "masks": masks,
            "zarr": write_zarr(root / "digits.zarr", floats, labels, NAMES, masks)}


def test_round_trip_reads_exactly_the_stored_rows(real, tmp_path):
    source = xai_data.open(real["zarr"])
    assert isinstance(source, xai_data.ZarrSource)
    assert (len(source), source.image_shape, source.class_names, source.has_masks) == (12, (16, 16, 1), NAMES, True)
    order = np.array([7, 0, 11, 3, 3])  # any order, repeats, across chunks of 5
    images, labels, masks = source.read(order)
    assert images.dtype == np.float32 and np.array_equal(images, real["floats"][order])
    assert np.array_equal(labels, real["labels"][order]) and np.array_equal(masks, real["masks"][order])
    assert np.array_equal(source.to_labelled().images, real["floats"])
    # uint8 (N, H, W) without labels: divided by 255, one class "?", as the other array sources
    grey = xai_data.open(write_zarr(tmp_path / "grey.zarr", real["u8"]))
    assert grey.class_names == ("?",) and grey.image_shape == (16, 16, 1)
    assert np.array_equal(grey.read(np.arange(12))[0], real["floats"])
    assert np.array_equal(xai_data.load(real["zarr"]).images, real["floats"])  # load reads it whole
    # the same rows, the same full fingerprint as the HDF5 file and the arrays in memory
    in_memory = xai_data.open(real["floats"], labels=real["labels"], class_names=NAMES)
    assert source.fingerprint(full=True) == in_memory.fingerprint(full=True)


def test_cheap_fingerprint_follows_the_metadata_not_the_pixels(real, tmp_path):
    path = write_zarr(tmp_path / "copy.zarr", real["floats"], real["labels"], NAMES)
    source = xai_data.open(path)
    source.rows_read = 0
    before = source.fingerprint()
    assert source.rows_read == 0  # no pixel read
    assert before == xai_data.open(path).fingerprint()
    metadata = next(path / "images" / name for name in ("zarr.json", ".zarray") if (path / "images" / name).is_file())
    os.utime(metadata, ns=(1, 1))  # the images array's metadata touched: another data set for the cheap fingerprint
    assert xai_data.open(path).fingerprint() != before
    rechunked = write_zarr(tmp_path / "rechunked.zarr", real["floats"], real["labels"], NAMES, chunks=3)
    assert xai_data.open(rechunked).fingerprint() != xai_data.open(path).fingerprint()  # chunking is hashed
    assert xai_data.open(rechunked).fingerprint(full=True) == xai_data.open(path).fingerprint(full=True)


def test_wrong_rank_and_missing_arrays_are_named_at_open(real, tmp_path):
    with pytest.raises(ValueError, match=r"rank 3 \(N, H, W\) or 4"):
        xai_data.open(write_zarr(tmp_path / "rank.zarr", np.zeros((4, 16), np.float32)))
    with pytest.raises(ValueError, match=r"no images array 'pixels' \(images=\)"):
        xai_data.open(real["zarr"], images="pixels")
    with pytest.raises(ValueError, match=r"labels must be integers of shape \(12,\)"):
        xai_data.open(real["zarr"], labels="masks")
    with pytest.raises(ValueError, match="not a zarr directory store"):
        xai_data.ZarrSource(tmp_path)


def test_description_reopens_the_store_in_another_process(real):
    source = xai_data.open(real["zarr"], class_names=("a", "b", "c"))
    source.read([1])  # opens the group, which must not travel
    description = source.describe()
    assert description["kind"] == "zarr" and description["class_names"] == ["a", "b", "c"]
    for again in (xai_data.open(description), pickle.loads(pickle.dumps(source))):
        assert again.class_names == ("a", "b", "c")
        assert np.array_equal(again.read([4, 9])[0], source.read([4, 9])[0])
        assert again.fingerprint() == source.fingerprint()
