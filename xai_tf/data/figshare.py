"""Figshare brain-tumour MRI (Cheng 2017, doi:10.6084/m9.figshare.1512427): one ``.mat`` file per slice.

Each file (MATLAB v7.3, i.e. HDF5, read with h5py) holds a struct ``cjdata`` with ``image`` (512 x
512 int16 T1-weighted CE-MRI; a few are 256 x 256), ``label`` (1 meningioma, 2 glioma, 3 pituitary),
``PID``, ``tumorBorder`` (outline coordinates) and ``tumorMask`` (binary). MATLAB stores arrays
column-major, so h5py sees them transposed; we transpose back. Older v5 ``.mat`` files (not HDF5)
are read with ``scipy.io.loadmat``. The distribution's ``cvind.mat`` (cross-validation folds) is
not an image and is ignored in folders.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from xai_tf._checks import check_choice
from xai_tf.data.imagefiles import (
    BadFileError,
    image_size_arg,
    natural_key,
    read_each,
    resize,
    stack_images,
)
from xai_tf.data.labelled import LabelledImages

CLASS_NAMES = ("meningioma", "glioma", "pituitary")
REQUIRED_KEYS = ("image", "label", "tumorMask")
IGNORED_FILES = ("cvind.mat",)


def load_figshare_mat(dir_or_files, image_size=None, color: str = "grayscale", skip_bad: bool = False,
                      verbose: int = 1) -> LabelledImages:
    """Load figshare brain-tumour ``.mat`` files with their tumour masks and boxes.

    The data set is Cheng 2017 (doi:10.6084/m9.figshare.1512427), one MATLAB file per MRI slice.
    Each image is min-max scaled to [0, 1] (MRI intensities have no fixed range). Labels 1/2/3 ->
    0/1/2 = ``("meningioma", "glioma", "pituitary")``; ``boxes`` hold the tumour mask's bounding box
    (``[]`` for an empty mask).

    Parameters
    ----------
    dir_or_files : str, pathlib.Path or list of them
        A folder (searched recursively for ``*.mat``, numeric order, ``cvind.mat`` ignored), one
        file, or a list of files.
    image_size : None, int or tuple of (int, int), optional
        None (default: all slices must share a size), an int (square) or ``(height, width)`` in
        pixels (paper 004 uses 225 x 225): images are resized bilinearly, masks by nearest neighbour.
    color : {"grayscale", "rgb"}, optional
        ``"grayscale"`` (default, native, C = 1) or ``"rgb"`` (the grey channel repeated, C = 3).
    skip_bad : bool, optional
        Skip unreadable files / files without ``cjdata/image``, ``label``, ``tumorMask``, listing
        them in ``.skipped``, instead of stopping at the first with an error naming it (default
        False).
    verbose : int, optional
        Progress bar: 0 never, 1 (default) when stderr is a terminal, 2 always.

    Returns
    -------
    LabelledImages
        Images float32 (N, H, W, C) in [0, 1], labels 0..2, ``masks`` (N, H, W) bool, ``boxes`` and
        ``paths`` (one file per image), ``info={"loader": "figshare_mat", "conversions": [...]}``
        (one sentence per conversion done: the per-slice range scaling, resized, grey to RGB).

    Raises
    ------
    ValueError
        If ``color`` is not one of the choices, ``image_size`` is not positive, ``dir_or_files``
        does not exist, holds no ``.mat`` files or is an empty list, no slice could be read, or the
        slices differ in size and ``image_size`` is None.
    TypeError
        If ``image_size`` is neither an int nor a pair.
    BadFileError
        (A ValueError) for the first bad file, unless ``skip_bad=True``.
    """
    check_choice(color, "color", ("grayscale", "rgb"))
    size = image_size_arg(image_size)
    files = _mat_files(dir_or_files)
    images, masks, labels, paths, skipped = [], [], [], [], []
    for file, (image, mask, label) in read_each(files, read_figshare_mat, skipped, skip_bad=skip_bad,
                                                desc="reading .mat", verbose=verbose):
        images.append(image)
        masks.append(mask)
        labels.append(label)
        paths.append(str(file))
    if not images:
        raise ValueError(f"{dir_or_files}: no readable .mat slices ({len(skipped)} skipped)")
    conversions = ["each slice's own min..max scaled to [0, 1] (16-bit MRI intensities)"]
    stacked = stack_images(images, paths, size, color, conversions)
    height, width = stacked.shape[1:3]
    masks = np.stack([resize(mask, (height, width), nearest=True) for mask in masks])
    boxes = [[_bounding_box(mask)] if mask.any() else [] for mask in masks]
    return LabelledImages(images=stacked, labels=np.array(labels, np.int64), class_names=CLASS_NAMES,
                          masks=masks, boxes=boxes, paths=paths, skipped=skipped,
                          info={"loader": "figshare_mat", "conversions": conversions})


def read_figshare_mat(path) -> tuple[np.ndarray, np.ndarray, int]:
    """``(image (H, W, 1) float32 in [0, 1], tumour mask (H, W) bool, label 0..2)`` from one file."""
    import h5py

    path = Path(path)
    if not path.is_file():
        raise BadFileError(path, "does not exist")
    if h5py.is_hdf5(path):
        try:
            with h5py.File(path, "r") as handle:
                if "cjdata" not in handle:
                    raise BadFileError(path, f"has no 'cjdata' struct (top-level keys: {sorted(handle.keys())})")
                group = handle["cjdata"]
                missing = [key for key in REQUIRED_KEYS if key not in group]
                if missing:
                    raise BadFileError(path, f"lacks cjdata/{', cjdata/'.join(missing)}")
                # MATLAB writes column-major: h5py shows (W, H); .T restores (H, W)
                image = np.asarray(group["image"]).T
                mask = np.asarray(group["tumorMask"]).T
                label = np.asarray(group["label"]).ravel()
        except BadFileError:
            raise
        except Exception as error:  # truncated / corrupt HDF5
            raise BadFileError(path, f"cannot be read as HDF5 ({type(error).__name__}: {error})") from error
    else:
        image, mask, label = _read_v5(path)
    if image.ndim != 2 or mask.shape != image.shape:
        raise BadFileError(path, f"image {image.shape} and tumorMask {mask.shape} must be equal 2-D arrays")
    if label.size != 1 or float(label[0]) not in (1.0, 2.0, 3.0):
        raise BadFileError(path, f"label must be 1, 2 or 3; got {label.tolist()}")
    image = image.astype(np.float64)
    if not np.all(np.isfinite(image)):
        raise BadFileError(path, "image holds NaN/Inf")
    low, high = image.min(), image.max()
    image = (image - low) / (high - low) if high > low else np.zeros_like(image)
    return image.astype(np.float32)[..., None], mask.astype(bool), int(label[0]) - 1


def is_figshare_dir(path) -> bool:
    """True for a ``.mat`` file or a folder holding ``.mat`` slices (besides ``cvind.mat``)."""
    path = Path(path)
    if path.is_file():
        return path.suffix.lower() == ".mat"
    return path.is_dir() and any(file.name not in IGNORED_FILES for file in path.rglob("*.mat"))


def _read_v5(path: Path):
    from scipy.io import loadmat

    try:
        content = loadmat(path, squeeze_me=True, struct_as_record=False)
    except Exception as error:
        raise BadFileError(path, f"is neither HDF5 (v7.3) nor a readable v5 .mat ({error})") from error
    if "cjdata" not in content:
        raise BadFileError(path, "has no 'cjdata' struct")
    struct = content["cjdata"]
    missing = [key for key in REQUIRED_KEYS if not hasattr(struct, key)]
    if missing:
        raise BadFileError(path, f"lacks cjdata/{', cjdata/'.join(missing)}")
    return np.asarray(struct.image), np.asarray(struct.tumorMask), np.atleast_1d(np.asarray(struct.label))


def _mat_files(dir_or_files) -> list[Path]:
    if isinstance(dir_or_files, (str, Path)):
        path = Path(dir_or_files)
        if path.is_dir():
            files = sorted((file for file in path.rglob("*.mat") if file.name not in IGNORED_FILES), key=natural_key)
            if not files:
                raise ValueError(f"dir_or_files={str(path)!r} holds no .mat files")
            return files
        if path.is_file():
            return [path]
        raise ValueError(f"dir_or_files={str(path)!r} does not exist")
    files = [Path(file) for file in dir_or_files]
    if not files:
        raise ValueError("dir_or_files is an empty list; expected .mat files")
    return files


def _bounding_box(mask: np.ndarray) -> tuple[int, int, int, int]:
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    return int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1
