"""Loaders: tiny files written here in each real format are read back exactly; bad files are named."""
import os
import pickle

import numpy as np
import pytest
from PIL import Image

from xai_tf.data import (
    BadFileError,
    ForbiddenPickleError,
    load,
    load_figshare_mat,
    load_image_folder,
    load_mirabest,
    load_object_cxr,
)

RNG = np.random.default_rng(0)


def random_uint8(shape):
    return RNG.integers(0, 256, size=shape, dtype=np.uint8)


# --------------------------------------------------------------------------- class folders


def write_png(path, array):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)
    return path


@pytest.fixture
def gray_tree(tmp_path):
    """root/{cats,dogs}/*.png, 8-bit grey, 6x5 pixels."""
    written = {}
    for name, count in [("dogs", 2), ("cats", 3)]:
        for k in range(count):
            array = random_uint8((6, 5))
            written[f"{name}/{k}.png"] = array
            write_png(tmp_path / name / f"{k}.png", array)
    (tmp_path / "cats" / "notes.txt").write_text("not an image")
    (tmp_path / "cats" / ".hidden.png").write_bytes(b"junk")
    return tmp_path, written


def test_image_folder_reads_every_pixel_and_label(gray_tree):
    root, written = gray_tree
    data = load_image_folder(root)
    assert data.class_names == ("cats", "dogs")  # sorted folder names
    assert data.images.shape == (5, 6, 5, 1)
    for image, label, path in zip(data.images, data.labels, data.paths):
        relative = os.path.relpath(path, root)
        np.testing.assert_array_equal(image[..., 0], written[relative] / np.float32(255))
        assert data.class_names[label] == relative.split(os.sep)[0]
    assert data.masks is None and data.skipped == []


def test_image_folder_colour_options_and_resize(tmp_path):
    rgb = random_uint8((4, 4, 3))
    grey = random_uint8((4, 4))
    write_png(tmp_path / "a" / "rgb.png", rgb)
    write_png(tmp_path / "b" / "grey.png", grey)
    auto = load_image_folder(tmp_path)  # one colour file -> 3 channels, grey repeated losslessly
    assert auto.images.shape == (2, 4, 4, 3)
    np.testing.assert_array_equal(auto.images[0], rgb / np.float32(255))
    np.testing.assert_array_equal(auto.images[1], np.repeat(grey[..., None], 3, -1) / np.float32(255))
    gray = load_image_folder(tmp_path, color="grayscale")
    expected = (rgb / 255.0) @ np.array([0.299, 0.587, 0.114])
    np.testing.assert_allclose(gray.images[0, ..., 0], expected, atol=1e-6)
    resized = load_image_folder(tmp_path, image_size=(2, 3))
    assert resized.images.shape == (2, 2, 3, 3)
    # shrinking a constant image keeps it constant
    write_png(tmp_path / "b" / "flat.png", np.full((4, 4), 51, np.uint8))
    flat = load_image_folder(tmp_path, image_size=2, color="grayscale")
    np.testing.assert_allclose(flat.images[flat.paths.index(str(tmp_path / "b" / "flat.png"))], 0.2, atol=1e-6)


def test_image_folder_mixed_sizes_need_image_size(tmp_path):
    write_png(tmp_path / "a" / "small.png", random_uint8((4, 4)))
    write_png(tmp_path / "b" / "big.png", random_uint8((5, 4)))
    with pytest.raises(ValueError, match="big.png is 5x4.*image_size"):
        load_image_folder(tmp_path)


def test_tiff_16_bit_and_float_sar_patches(tmp_path):
    sixteen = RNG.integers(0, 65536, size=(5, 6), dtype=np.uint16)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    Image.fromarray(sixteen).save(tmp_path / "a" / "x.tif")
    sar = RNG.gamma(1.0, 3.0, size=(5, 6)).astype(np.float32)  # speckle-like intensities, not in [0, 1]
    Image.fromarray(sar, mode="F").save(tmp_path / "b" / "y.tiff")
    with pytest.raises(BadFileError, match=r"y.tiff.*normalize='minmax'"):
        load_image_folder(tmp_path)
    data = load_image_folder(tmp_path, normalize="minmax")
    np.testing.assert_allclose(data.images[1, ..., 0], (sar - sar.min()) / (sar.max() - sar.min()), rtol=1e-6)
    np.testing.assert_allclose(data.images[0, ..., 0], (sixteen - sixteen.min()) / (sixteen.max() - sixteen.min()),
                               rtol=1e-6)
    by_dtype = load_image_folder(tmp_path / "a" / "..", normalize="dtype", skip_bad=True)
    np.testing.assert_allclose(by_dtype.images[0, ..., 0], sixteen / 65535.0, rtol=1e-6)
    assert next(reason for _, reason in by_dtype.skipped).startswith("holds float pixels")


def test_covid_layout_with_masks_of_another_size(tmp_path):
    images, masks = {}, {}
    for name in ("COVID", "Normal"):
        for k in range(2):
            images[name, k] = random_uint8((8, 8))
            masks[name, k] = np.zeros((4, 4), np.uint8)
            masks[name, k][k:k + 2, 1:3] = 255
            write_png(tmp_path / name / "images" / f"{name}-{k}.png", images[name, k])
            write_png(tmp_path / name / "masks" / f"{name}-{k}.png", masks[name, k])
    data = load_image_folder(tmp_path, masks_dir="masks")
    assert data.images.shape == (4, 8, 8, 1) and data.masks.shape == (4, 8, 8)
    for i, (name, k) in enumerate([("COVID", 0), ("COVID", 1), ("Normal", 0), ("Normal", 1)]):
        np.testing.assert_array_equal(data.images[i, ..., 0], images[name, k] / np.float32(255))
        expected = np.kron(masks[name, k] > 0, np.ones((2, 2), bool))  # nearest-neighbour upscaling x2
        np.testing.assert_array_equal(data.masks[i], expected)
    # without masks_dir the masks folder is not read as images
    assert len(load_image_folder(tmp_path)) == 4
    # a separate tree masks_dir/<class>/<stem>.* works the same, and is not taken for a class
    for (name, k), mask in masks.items():
        write_png(tmp_path / "mask_tree" / name / f"{name}-{k}.png", mask)
    separate = load_image_folder(tmp_path, masks_dir=tmp_path / "mask_tree", image_size=4)
    assert separate.class_names == ("COVID", "Normal")
    np.testing.assert_array_equal(separate.masks[3], masks["Normal", 1] > 0)
    (tmp_path / "mask_tree" / "Normal" / "Normal-1.png").unlink()
    (tmp_path / "Normal" / "masks" / "Normal-1.png").unlink()
    with pytest.raises(BadFileError, match="Normal-1.png: has no mask"):
        load_image_folder(tmp_path, masks_dir="masks")
    skipped = load_image_folder(tmp_path, masks_dir="masks", skip_bad=True)
    assert len(skipped) == 3 and skipped.skipped[0][0].endswith("Normal-1.png")


def test_corrupt_truncated_and_empty_are_named_or_skipped(gray_tree):
    root, _ = gray_tree
    good = (root / "cats" / "0.png").read_bytes()
    (root / "cats" / "truncated.png").write_bytes(good[: len(good) // 2])
    (root / "dogs" / "garbage.jpg").write_bytes(b"this is not a jpeg")
    (root / "empty").mkdir()
    with pytest.raises(ValueError, match="empty: class folder has no image files"):
        load_image_folder(root)
    (root / "empty").rmdir()
    with pytest.raises(BadFileError, match="truncated.png: cannot be read"):
        load_image_folder(root)
    (root / "empty").mkdir()
    data = load_image_folder(root, skip_bad=True)
    skipped = {os.path.basename(path): reason for path, reason in data.skipped}
    assert set(skipped) == {"empty", "truncated.png", "garbage.jpg"}
    assert len(data) == 5 and data.class_names == ("cats", "dogs", "empty")
    assert data.class_counts() == {"cats": 3, "dogs": 2, "empty": 0}


def test_image_folder_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="root="):
        load_image_folder(tmp_path / "missing")
    with pytest.raises(ValueError, match="no sub-folders"):
        load_image_folder(tmp_path)
    write_png(tmp_path / "a" / "x.png", random_uint8((3, 3)))
    with pytest.raises(ValueError, match="color="):
        load_image_folder(tmp_path, color="cmyk")
    with pytest.raises(TypeError, match="image_size"):
        load_image_folder(tmp_path, image_size="big")
    with pytest.raises(ValueError, match="masks_dir="):
        load_image_folder(tmp_path, masks_dir="nowhere")


# --------------------------------------------------------------------------- MiraBest batches


def write_batch(path, images, labels, protocol=2):
    entry = {"batch_label": "training batch", "labels": [int(v) for v in labels],
             "data": images.reshape(len(images), -1), "filenames": [f"src{i}" for i in range(len(labels))]}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps(entry, protocol=protocol))


@pytest.fixture
def mirabest_dir(tmp_path):
    folder = tmp_path / "batches"
    train = random_uint8((6, 150, 150))
    test = random_uint8((3, 150, 150))
    write_batch(folder / "data_batch_1", train[:4], [0, 5, 8, 3], protocol=2)
    write_batch(folder / "data_batch_2", train[4:], [6, 1], protocol=pickle.HIGHEST_PROTOCOL)
    write_batch(folder / "test_batch", test, [2, 7, 9])
    names = ["100", "102", "104", "110", "112", "200", "201", "210", "300", "310"]
    (folder / "batches.meta").write_bytes(pickle.dumps({"label_names": names, "num_cases_per_batch": 157}))
    return tmp_path, np.concatenate([train, test]), np.array([0, 5, 8, 3, 6, 1, 2, 7, 9])


def test_mirabest_batches_read_exactly_in_every_subset(mirabest_dir):
    root, images, fine = mirabest_dir
    full = load_mirabest(root, subset="full")
    assert full.class_names[:3] == ("100", "102", "104") and len(full) == 9
    np.testing.assert_array_equal(full.images[..., 0], images / np.float32(255))
    np.testing.assert_array_equal(full.labels, fine)
    confident = load_mirabest(root)  # default: fr_confident
    keep = np.isin(fine, [0, 1, 2, 5, 6])
    np.testing.assert_array_equal(confident.images[..., 0], images[keep] / np.float32(255))
    np.testing.assert_array_equal(confident.labels, [0, 1, 1, 0, 0])
    assert confident.class_names == ("FRI", "FRII")
    assert confident.paths[0].endswith("data_batch_1#0") and confident.paths[-1].endswith("test_batch#0")
    fr_all = load_mirabest(root, subset="fr_all", split="train")
    np.testing.assert_array_equal(fr_all.labels, [0, 1, 0, 1, 0])  # 0,5,3,6,1 (hybrid 8 dropped)
    one = load_mirabest(root / "batches" / "test_batch", subset="full", image_size=75, color="rgb")
    assert one.images.shape == (3, 75, 75, 3)


def test_malicious_pickle_is_refused_and_its_payload_never_runs(tmp_path, mirabest_dir):
    root, _, _ = mirabest_dir
    marker = tmp_path / "payload-ran"

    class Payload:
        def __reduce__(self):
            return os.system, (f"touch {marker}",)

    evil = {"labels": [0], "data": np.zeros((1, 22500), np.uint8), "extra": [Payload()]}
    (root / "batches" / "data_batch_3").write_bytes(pickle.dumps(evil, protocol=2))
    with pytest.raises(ForbiddenPickleError, match=r"data_batch_3.*refusing to load global '(posix|nt)\.system'"):
        load_mirabest(root)
    with pytest.raises(ForbiddenPickleError):  # skip_bad never waves unsafe content through
        load(root, skip_bad=True)
    assert not marker.exists()
    pickle.loads(pickle.dumps(evil, protocol=2))  # control: a plain unpickler does run it
    assert marker.exists()


def test_other_globals_are_refused_by_name(tmp_path):
    class Evaluated:
        def __reduce__(self):
            return eval, ("1 + 1",)

    path = tmp_path / "data_batch_1"
    path.write_bytes(pickle.dumps({"labels": [0], "data": Evaluated()}))
    with pytest.raises(ForbiddenPickleError, match="builtins.eval"):
        load_mirabest(path)


def test_bad_batches_are_named_or_skipped(mirabest_dir):
    root, _, _ = mirabest_dir
    whole = (root / "batches" / "data_batch_2").read_bytes()
    (root / "batches" / "data_batch_2").write_bytes(whole[:100])
    write_batch(root / "batches" / "data_batch_3", random_uint8((2, 7, 11)), [0, 1])
    with pytest.raises(BadFileError, match="data_batch_2: is not a readable pickled batch"):
        load_mirabest(root)
    data = load_mirabest(root, skip_bad=True, subset="full")
    assert [os.path.basename(path) for path, _ in data.skipped] == ["data_batch_2", "data_batch_3"]
    assert "rows hold 77 values; MiraBest rows are 150 x 150" in data.skipped[1][1]
    assert len(data) == 7
    (root / "batches" / "test_batch").write_bytes(pickle.dumps({"labels": [0]}))
    with pytest.raises(BadFileError, match="test_batch: has keys.*expected 'data' and 'labels'"):
        load_mirabest(root, split="test")


def test_mirabest_rows_of_another_size_are_refused_not_reshaped(tmp_path):
    path = tmp_path / "data_batch_1"
    write_batch(path, random_uint8((2, 10, 10)), [0, 5])  # 100 values a row would square to 10 x 10
    with pytest.raises(ValueError, match=r"data_batch_1: 'data' rows hold 100 values; MiraBest rows are "
                                         r"150 x 150 = 22500 grey pixels"):
        load_mirabest(path)
    write_batch(path, random_uint8((2, 150, 150)), [0, 5])
    assert load_mirabest(path).images.shape == (2, 150, 150, 1)  # control: the native size loads


def test_mirabest_label_outside_the_classes_is_refused(mirabest_dir, tmp_path):
    root, _, _ = mirabest_dir
    write_batch(root / "batches" / "data_batch_3", random_uint8((2, 150, 150)), [0, 42])
    for subset in ("full", "fr_confident"):  # never a 43rd class, never silently dropped
        with pytest.raises(ValueError, match=r"data_batch_3: 'labels' holds \[42\]; expected fine labels 0..9"):
            load_mirabest(root, subset=subset)
    two = tmp_path / "two" / "batches"  # a 2-class set: batches.meta names two classes
    write_batch(two / "data_batch_1", random_uint8((2, 150, 150)), [1, 42])
    (two / "batches.meta").write_bytes(pickle.dumps({"label_names": ["FRI", "FRII"]}))
    with pytest.raises(ValueError, match=r"holds \[42\]; expected fine labels 0..1"):
        load_mirabest(two, subset="full")
    write_batch(two / "data_batch_1", random_uint8((2, 150, 150)), [1, 0])
    assert load_mirabest(two, subset="full").class_names == ("FRI", "FRII")


# --------------------------------------------------------------------------- figshare .mat (HDF5)


def write_mat_v73(path, image, mask, label, drop=()):
    """A MATLAB v7.3 file as MATLAB writes it: 512-byte header block, column-major (transposed) data."""
    h5py = pytest.importorskip("h5py")
    with h5py.File(path, "w", userblock_size=512) as handle:
        group = handle.create_group("cjdata")
        fields = {"image": image.T.astype(np.int16), "tumorMask": mask.T.astype(np.uint8),
                  "label": np.array([[float(label)]]), "PID": np.array([[ord(c)] for c in "MR040"], np.uint16),
                  "tumorBorder": np.array([[1.0, 2.0, 3.0, 4.0]]).T}
        for key, value in fields.items():
            if key not in drop:
                group.create_dataset(key, data=value)
    with open(path, "r+b") as handle:
        handle.write(b"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Mon Jan  1 00:00:00 2024 HDF5 schema 1.00 .")


@pytest.fixture
def figshare_dir(tmp_path):
    written = []
    for k, label in enumerate([1, 2, 3, 2], start=1):
        image = RNG.integers(0, 900, size=(6, 7)).astype(np.int16)
        mask = np.zeros((6, 7), bool)
        mask[1:3 + k % 2, 2:5] = True
        write_mat_v73(tmp_path / f"{k}.mat", image, mask, label)
        written.append((image, mask, label))
    (tmp_path / "cvind.mat").write_bytes(b"not a slice")
    return tmp_path, written


def test_figshare_mat_reads_images_masks_labels_in_numeric_order(figshare_dir):
    root, written = figshare_dir
    write_mat_v73(root / "10.mat", written[0][0], written[0][1], 1)  # after 4.mat, not after 1.mat
    data = load_figshare_mat(root)
    assert [os.path.basename(path) for path in data.paths] == ["1.mat", "2.mat", "3.mat", "4.mat", "10.mat"]
    assert data.class_names == ("meningioma", "glioma", "pituitary")
    np.testing.assert_array_equal(data.labels, [0, 1, 2, 1, 0])
    for i, (image, mask, _) in enumerate(written):
        expected = (image - image.min()) / (image.max() - image.min())
        np.testing.assert_allclose(data.images[i, ..., 0], expected, atol=1e-6)
        np.testing.assert_array_equal(data.masks[i], mask)
        rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
        assert data.boxes[i] == [(rows[0], cols[0], rows[-1] + 1, cols[-1] + 1)]
    assert load(root).paths == data.paths  # dispatch finds the .mat folder


def test_figshare_missing_keys_and_corrupt_files_are_named(figshare_dir):
    root, written = figshare_dir
    write_mat_v73(root / "5.mat", written[0][0], written[0][1], 1, drop=("tumorMask",))
    (root / "6.mat").write_bytes(b"\x89HDF\r\n\x1a\n" + b"\x00" * 40)  # HDF5 signature, then nothing
    with pytest.raises(BadFileError, match="5.mat: lacks cjdata/tumorMask"):
        load_figshare_mat(root)
    data = load_figshare_mat(root, skip_bad=True)
    assert [os.path.basename(path) for path, _ in data.skipped] == ["5.mat", "6.mat"]
    assert len(data) == 4


def test_figshare_v5_mat_via_scipy(tmp_path):
    from scipy.io import savemat

    image = RNG.integers(0, 500, size=(5, 5)).astype(np.int16)
    mask = np.eye(5, dtype=np.uint8)
    savemat(tmp_path / "1.mat", {"cjdata": {"image": image, "tumorMask": mask, "label": 3.0}})
    data = load_figshare_mat([tmp_path / "1.mat"], image_size=10)
    assert data.labels.tolist() == [2] and data.images.shape == (1, 10, 10, 1)
    np.testing.assert_array_equal(data.masks[0], np.kron(np.eye(5, dtype=bool), np.ones((2, 2), bool)))
    savemat(tmp_path / "2.mat", {"other": np.zeros(3)})
    with pytest.raises(BadFileError, match="2.mat: has no 'cjdata'"):
        load_figshare_mat(tmp_path)


# --------------------------------------------------------------------------- Object-CXR CSV + images


@pytest.fixture
def object_cxr(tmp_path):
    images = {name: random_uint8((20, 30)) for name in ("00001.png", "00002.png", "00003.png")}
    for name, array in images.items():
        write_png(tmp_path / "dev" / name, array)
    rows = ["image_name,annotation",
            "dev/00001.png,0 2 3 10 8;2 20 10 28 10 24 18",
            "00002.png,",
            "dev/00003.png,1 5 5 15 15"]
    (tmp_path / "dev.csv").write_text("\n".join(rows) + "\n")
    return tmp_path, images


def test_object_cxr_images_labels_boxes_and_masks(object_cxr):
    root, images = object_cxr
    data = load_object_cxr(root / "dev", root / "dev.csv")
    np.testing.assert_array_equal(data.labels, [1, 0, 1])
    for i, name in enumerate(sorted(images)):
        np.testing.assert_array_equal(data.images[i, ..., 0], images[name] / np.float32(255))
    # rectangle x 2..10, y 3..8; polygon (20,10) (28,10) (24,18): boxes are (y0, x0, y1, x1)
    assert data.boxes == [[(3, 2, 8, 10), (10, 20, 18, 28)], [], [(5, 5, 15, 15)]]
    expected_rectangle = np.zeros((20, 30), bool)
    expected_rectangle[3:8, 2:10] = True
    assert (data.masks[0] & expected_rectangle).sum() == expected_rectangle.sum()
    assert data.masks[0][14, 24] and not data.masks[0][16, 21]  # inside / outside the triangle
    assert not data.masks[1].any()
    ellipse = data.masks[2]
    assert ellipse[10, 10] and not ellipse[5, 5] and ellipse.sum() == pytest.approx(np.pi * 25, rel=0.2)
    via_load = load(root, image_size=(10, 15))  # dispatch: the folder's single Object-CXR CSV
    assert via_load.images.shape == (3, 10, 15, 1)
    assert via_load.boxes[0] == [(1, 1, 4, 5), (5, 10, 9, 14)]  # scaled by 1/2


def test_object_cxr_bad_rows_and_missing_images(object_cxr):
    root, _ = object_cxr
    with open(root / "dev.csv", "a") as handle:
        handle.write("dev/00004.png,\n")
        handle.write("dev/00001.png,7 1 2 3 4\n")
    with pytest.raises(BadFileError, match="00004.png: is named in the CSV but does not exist"):
        load_object_cxr(root / "dev", root / "dev.csv")
    data = load_object_cxr(root / "dev", root / "dev.csv", skip_bad=True)
    assert len(data) == 3
    assert data.skipped[1][0].endswith("dev.csv:6") and "TYPE 0, 1 or 2" in data.skipped[1][1]
    (root / "bad.csv").write_text("name,label\nx,1\n")
    with pytest.raises(BadFileError, match="bad.csv: must start with the header"):
        load_object_cxr(root / "dev", root / "bad.csv")


def test_load_dispatch_errors_are_clear(tmp_path):
    with pytest.raises(ValueError, match="neither 'synthetic' nor an existing path"):
        load(tmp_path / "nothing")
    (tmp_path / "loose.txt").write_text("x")
    with pytest.raises(ValueError, match="found no data set there"):
        load(tmp_path)
    write_png(tmp_path / "a" / "x.png", random_uint8((3, 3)))
    with pytest.raises(TypeError, match="subset.*load_image_folder"):
        load(tmp_path, subset="full")


# --------------------------------------------------------------------------- conversions and classes=


def test_conversions_are_recorded_in_the_metadata(tmp_path):
    write_png(tmp_path / "a" / "0.png", random_uint8((40, 40)))
    write_png(tmp_path / "b" / "0.png", random_uint8((50, 60, 3)))
    as_is = load_image_folder(tmp_path, image_size=(40, 40), color="auto")
    assert as_is.info["conversions"] == ["resized 1 of 2 images (50x60) to 40x40 (bilinear, antialiased)",
                                         "1 of 2 grayscale images repeated to 3 RGB channels"]
    grey = load_image_folder(tmp_path, image_size=32, color="grayscale", normalize="minmax")
    assert grey.info["conversions"] == [
        "each image's own min..max scaled to [0, 1] (normalize='minmax')",
        "resized 2 of 2 images (40x40, 50x60) to 32x32 (bilinear, antialiased)",
        "1 of 2 colour images converted to grayscale (ITU-R 601 luma)"]


def test_a_folder_without_conversion_records_none(gray_tree):
    root, _ = gray_tree
    assert load_image_folder(root).info["conversions"] == []


def test_a_one_class_folder_needs_the_models_class_names(tmp_path):
    for k in range(2):
        write_png(tmp_path / "FRII" / f"{k}.png", random_uint8((6, 6)))
    with pytest.raises(ValueError, match=r"one class folder \('FRII'\).*pass classes="):
        load_image_folder(tmp_path)
    with pytest.raises(ValueError, match="one class folder"):
        load(tmp_path)
    data = load(tmp_path, classes=["FRI", "FRII"])
    assert data.class_names == ("FRI", "FRII") and data.labels.tolist() == [1, 1]
    with pytest.raises(ValueError, match=r"the folder\(s\) \['FRII'\] .* are not among them"):
        load_image_folder(tmp_path, classes=["cats", "dogs"])
    with pytest.raises(TypeError, match="classes must be a sequence of class names"):
        load_image_folder(tmp_path, classes="FRII")


def test_classes_map_several_folders_to_the_models_indices(gray_tree):
    root, _ = gray_tree
    data = load_image_folder(root, classes=("dogs", "birds", "cats"))
    assert data.class_names == ("dogs", "birds", "cats")
    assert sorted(data.labels.tolist()) == [0, 0, 2, 2, 2]
    assert all(("dogs" in path) == (label == 0) for path, label in zip(data.paths, data.labels))
