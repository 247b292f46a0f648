"""``open(spec)``: the lazy source for a path, an array, a ``tf.data.Dataset`` or a source's description.

``xai_tf.data.load`` reads a whole data set into a ``LabelledImages``; ``xai_tf.data.open`` returns an
:class:`~xai_tf.data.ImageSource` that reads rows only when asked (``read(indices)``). Detection
order for a path: an HDF5 file (``.h5``, ``.hdf5``, ``.he5``), a ``.npy`` file or a folder with
``images.npy``, a zarr directory store (a folder with ``zarr.json`` or ``.zgroup``: ``.zarr``), a
folder of FITS cutouts (class sub-folders, or flat with a catalogue CSV), then a
class-folder tree of image files.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from xai_tf.data.labelled import LabelledImages
from xai_tf.data.source_arrays import ArraySource, HDF5Source, NumpySource
from xai_tf.data.source_fits import FitsSource, fits_files, is_fits
from xai_tf.data.source_folders import FolderSource
from xai_tf.data.source_zarr import ZarrSource, is_zarr
from xai_tf.data.sources import ImageSource

#: The sources a description (``ImageSource.describe()``) can name, by ``"kind"``.
KINDS = {"hdf5": HDF5Source, "npy": NumpySource, "zarr": ZarrSource, "folder": FolderSource, "fits": FitsSource}
HDF5_SUFFIXES = (".h5", ".hdf5", ".he5")


def open(spec, **options) -> ImageSource:
    """Open a data set lazily: the images are read only when a chunk of them is asked for.

    Parameters
    ----------
    spec : str, pathlib.Path, dict, ImageSource, LabelledImages, numpy.ndarray or tf.data.Dataset
        A path (an HDF5 file ``.h5`` / ``.hdf5``; a ``.npy`` images file or a folder holding
        ``images.npy``; a zarr directory store ``.zarr``; a folder of FITS cutouts, in class
        sub-folders or flat with a catalogue (CSV or FITS table); a class-folder tree of image
        files, as :func:`~xai_tf.data.load_image_folder` reads);
        a source's ``describe()`` dictionary (how a Dask worker reopens the client's source); a
        source (returned as is); a ``LabelledImages`` or an images array (wrapped, in memory); or a
        finite ``tf.data.Dataset`` (read through once into an on-disk index).
    **options
        Passed to the source's constructor: :class:`~xai_tf.data.HDF5Source` (``images``,
        ``labels``, ``masks``, ``class_names``) and :class:`~xai_tf.data.ZarrSource` (the same),
        :class:`~xai_tf.data.NumpySource` (``labels``,
        ``class_names``, ``masks``), :class:`~xai_tf.data.FitsSource` (``catalogue``,
        ``file_column``, ``label_column``, ``classes``, ``image_size``, ``normalize``, ``sigma``,
        ``nan``, ``hdu``), :class:`~xai_tf.data.FolderSource` (``image_size``, ``color``,
        ``normalize``, ``classes``), :class:`~xai_tf.data.TFDatasetSource` (``class_names``,
        ``max_images``); every source takes ``skip_bad`` (default False).

    Returns
    -------
    ImageSource
        The lazy source: ``len``, ``image_shape``, ``class_names``, ``read(indices)``,
        ``fingerprint()``, ``to_labelled()``.

    Raises
    ------
    ValueError
        If the path does not exist or holds no data set a source reads, or a description names an
        unknown kind; the sources' own errors (a wrong-rank HDF5 dataset, an infinite dataset, an
        unreadable first file) pass through.
    TypeError
        If ``spec`` is of another type, options are given with a source, or an option is not one the
        chosen source takes.
    """
    if isinstance(spec, ImageSource):
        if options:
            raise TypeError(f"spec is already a source; options {sorted(options)} cannot apply to it")
        return spec
    if isinstance(spec, dict):
        description = dict(spec)
        kind = description.pop("kind", None)
        if kind not in KINDS:
            raise ValueError(f"spec: a description's kind must be one of {sorted(KINDS)}; got {kind!r}")
        return KINDS[kind](description.pop("path"), **{**description, **options})
    if isinstance(spec, LabelledImages):
        return ArraySource(spec.images, spec.labels, spec.class_names, spec.masks, **options)
    if isinstance(spec, np.ndarray):
        return ArraySource(spec, **options)
    if type(spec).__module__.startswith("tensorflow"):
        from xai_tf.data.source_tf import TFDatasetSource

        return TFDatasetSource(spec, **options)
    if not isinstance(spec, (str, Path)):
        raise TypeError(f"spec must be a path, a source description, a source, a LabelledImages, an array or a "
                        f"tf.data.Dataset; got {type(spec).__name__}")
    path = Path(spec)
    if not path.exists():
        raise ValueError(f"spec={str(spec)!r} does not exist")
    kind = source_kind(path)
    if kind is None:
        raise ValueError(f"spec={str(spec)!r}: found no data set a source reads; expected an HDF5 file, a .npy file "
                         "(or a folder with images.npy), a zarr store, a folder of FITS cutouts or one sub-folder of "
                         "images per class")
    return KINDS[kind](path, **options)


def source_kind(path) -> str | None:
    """The kind of source ``open`` picks for ``path`` (a key of ``KINDS``), or None.

    Parameters
    ----------
    path : str or pathlib.Path
        An existing file or folder.

    Returns
    -------
    str or None
        ``"hdf5"``, ``"npy"``, ``"zarr"``, ``"fits"``, ``"folder"``, or None when no source reads it.
    """
    from xai_tf.data.folders import is_image_folder

    path = Path(path)
    if path.is_file():
        if path.suffix.lower() in HDF5_SUFFIXES:
            return "hdf5"
        return "npy" if path.suffix.lower() == ".npy" else None
    if not path.is_dir():
        return None
    if (path / "images.npy").is_file():
        return "npy"
    if is_zarr(path):
        return "zarr"
    subfolders = [child for child in path.iterdir() if child.is_dir() and not child.name.startswith(".")]
    # FITS cutouts in class folders, or flat (the catalogue, a CSV or a FITS table, is FitsSource's to find)
    if any(fits_files(child) for child in subfolders) or any(is_fits(child) for child in path.iterdir()):
        return "fits"
    return "folder" if is_image_folder(path) else None


def load_source(path, image_size=None, color=None, skip_bad: bool = False, verbose: int = 1, **options):
    """Read an HDF5 file, a ``.npy`` array, a zarr store or a FITS folder whole (``xai_tf.data.load`` on one).

    Parameters
    ----------
    path : str or pathlib.Path
        A path :func:`source_kind` reads as ``"hdf5"``, ``"npy"``, ``"zarr"`` or ``"fits"``.
    image_size : None, int or tuple of (int, int), optional
        None (default: as stored) or the size every image is resized to (bilinear, antialiased).
    color : {None, "auto", "grayscale", "rgb"}, optional
        None or ``"auto"`` (default: as stored), else the channels every image is converted to.
    skip_bad : bool, optional
        Leave bad rows out, listed in ``skipped`` (default False).
    verbose : int, optional
        Accepted for the loaders' common signature; nothing is shown.
    **options
        The source's own options (:func:`open`).

    Returns
    -------
    LabelledImages
        The images, with ``info["conversions"]`` saying what was resized or converted.
    """
    from xai_tf.data.imagefiles import describe_conversions, image_size_arg, resize, to_color

    size = image_size_arg(image_size)
    if source_kind(path) == "fits" and size is not None:
        options["image_size"] = size  # cutouts are resized after scaling, by the source
    dataset = open(path, skip_bad=skip_bad, **options).to_labelled()
    images = list(dataset.images)
    conversions = describe_conversions(images, size, color or "auto")
    if size is not None and dataset.image_shape[:2] != size:
        images = [resize(image, size) for image in images]
    if color in ("grayscale", "rgb"):
        images = [to_color(image, color) for image in images]
    dataset.images = np.stack(images).astype(np.float32)
    dataset.info["conversions"] = conversions
    return dataset
