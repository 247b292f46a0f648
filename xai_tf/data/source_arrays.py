"""Array sources: NumPy arrays and memmaps (``.npy``), HDF5 datasets and zarr arrays, read a chunk at a time.

Images are stored ``(N, H, W)`` (grey) or ``(N, H, W, C)``; float pixels must lie in [0, 1],
integer pixels are divided by their type's maximum (255, 65535), as the file loaders do. Only the
rows asked for are read from disk (h5py and memmaps read the requested rows, in increasing order).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from xai_tf._docstrings import fill_doc
from xai_tf.data.imagefiles import BadFileError
from xai_tf.data.sources import ImageSource

#: The file suffixes read as HDF5 (``HDF5Source``).
HDF5_SUFFIXES = (".h5", ".hdf5", ".he5")


def is_hdf5(path) -> bool:
    """True for a file whose suffix is an HDF5 one (``.h5``, ``.hdf5``, ``.he5``; any case)."""
    path = Path(path)
    return path.is_file() and path.suffix.lower() in HDF5_SUFFIXES


def is_npy(path) -> bool:
    """True for a ``.npy`` file, or a folder holding ``images.npy`` (``NumpySource``'s layouts)."""
    path = Path(path)
    if path.is_file():
        return path.suffix.lower() == ".npy"
    return path.is_dir() and (path / "images.npy").is_file()


def _check_images_array(images, where: str):
    shape = tuple(int(v) for v in images.shape)
    if len(shape) not in (3, 4):
        raise ValueError(f"{where}: images must have rank 3 (N, H, W) or 4 (N, H, W, C); got shape {shape}")
    dtype = np.dtype(images.dtype)
    if not (np.issubdtype(dtype, np.floating) or np.issubdtype(dtype, np.integer) or dtype.kind == "b"):
        raise TypeError(f"{where}: images must be numeric; got dtype {dtype}")
    return shape[1:] if len(shape) == 4 else (*shape[1:], 1)


def _labels_array(labels, count: int, where: str) -> np.ndarray:
    if labels is None:
        return np.zeros(count, np.int64)
    labels = np.asarray(labels)
    if labels.shape != (count,) or (labels.size and not np.issubdtype(labels.dtype, np.integer)):
        raise ValueError(f"{where}: labels must be integers of shape ({count},), one per image; got {labels.dtype} "
                         f"{labels.shape}")
    return labels.astype(np.int64)


def _class_names(class_names, labels: np.ndarray, given_labels) -> tuple[str, ...]:
    if class_names is not None:
        return tuple(str(name) for name in class_names)
    if given_labels is None:
        return ("?",)
    return tuple(str(label) for label in range(int(labels.max()) + 1))


class ArraySource(ImageSource):
    """Images in an array-like store (NumPy array, memmap, HDF5 dataset, zarr array), read row by chunk.

    Parameters
    ----------
    images : array-like, shape (N, H, W) or (N, H, W, C)
        Anything with ``shape``, ``dtype`` and NumPy indexing by a sorted index array. Float pixels
        must lie in [0, 1]; integer pixels are divided by their type's maximum.
    labels : array-like of int, shape (N,), optional
        Class indices; default None: every image is class 0 of one class ``"?"``.
    class_names : sequence of str, optional
        One name per class; default: ``"0" ... str(max label)``.
    masks : array-like, shape (N, H, W), optional
        Ground-truth masks (True or > 0 where the evidence is); default None.
    skip_bad : bool, optional
        Pass over bad rows in ``read_good`` (default False); see :class:`~xai_tf.data.ImageSource`.
    name : str, optional
        How messages name the store (default ``"array"``).

    Raises
    ------
    ValueError
        If ``images`` is not of rank 3 or 4, ``labels`` or ``masks`` do not hold one entry per image,
        or a label lies outside the class names.
    TypeError
        If ``images`` is not numeric.
    """

    def __init__(self, images, labels=None, class_names=None, masks=None, *, skip_bad: bool = False,
                 name: str = "array"):
        self.name = name
        self._setup(images, labels, class_names, masks, skip_bad)

    def _setup(self, images, labels, class_names, masks, skip_bad):
        shape = _check_images_array(images, self.name)
        count = int(images.shape[0])
        given = labels
        labels = _labels_array(labels, count, self.name)
        names = _class_names(class_names, labels, given)
        if labels.size and (labels.min() < 0 or labels.max() >= len(names)):
            raise ValueError(f"{self.name}: labels must lie in [0, {len(names) - 1}] (one per class name); got "
                             f"[{labels.min()}, {labels.max()}]")
        if masks is not None and tuple(masks.shape) != (count, *shape[:2]):
            raise ValueError(f"{self.name}: masks must have shape {(count, *shape[:2])} (N, H, W); got "
                             f"{tuple(masks.shape)}")
        super().__init__(count, shape, names, has_masks=masks is not None, skip_bad=skip_bad)
        self._images, self._labels, self._masks = images, labels, masks

    def _arrays(self):
        return self._images, self._masks

    def _rows(self, indices: np.ndarray) -> list:
        images_store, masks_store = self._arrays()
        order, inverse = np.unique(indices, return_inverse=True)
        # consecutive rows (an evaluation's chunk) as one slice: h5py reads a slice far faster than a list
        where = slice(int(order[0]), int(order[-1]) + 1) if order[-1] - order[0] + 1 == order.size else order
        try:
            block = np.asarray(images_store[where])[inverse]
            masks = None if masks_store is None else np.asarray(masks_store[where])[inverse]
        except (OSError, RuntimeError, KeyError) as error:
            return [BadFileError(self.where(int(i)), f"cannot be read ({error})") for i in indices]
        if block.ndim == 3:
            block = block[..., None]
        if np.issubdtype(block.dtype, np.integer):
            block = block / float(np.iinfo(block.dtype).max)
        elif block.dtype == bool:
            block = block.astype(np.float32)
        rows = []
        for position, index in enumerate(indices):
            image = block[position].astype(np.float32)
            if not np.any(np.isfinite(image)):
                rows.append(BadFileError(self.where(int(index)), "holds only NaN/Inf pixels"))
                continue
            rows.append((image, self._labels[index], None if masks is None else masks[position] > 0))
        return rows

    def where(self, index: int) -> str:
        """Row ``index``'s name in messages: ``"<name>#<index>"`` (see :meth:`~xai_tf.data.ImageSource.where`)."""
        return f"{self.name}#{index}"

    def _metadata(self):
        images, _ = self._arrays()
        return [self.name, str(images.dtype), list(images.shape), self._labels.tolist()]


def _file_stamp(path: Path) -> list:
    stat = path.stat()
    return [path.name, stat.st_size, stat.st_mtime_ns]


class NumpySource(ArraySource):
    """A ``.npy`` images file read through a memory map (``numpy.load(mmap_mode="r")``).

    Parameters
    ----------
    path : str or pathlib.Path
        The images ``.npy`` file, ``(N, H, W)`` or ``(N, H, W, C)``; or a folder holding
        ``images.npy`` with optional ``labels.npy`` and ``masks.npy`` beside it.
    labels : str, pathlib.Path or array-like of int, optional
        A labels ``.npy`` file or array, shape (N,); default None: ``labels.npy`` beside the images
        when there is one, else every image is class 0.
    class_names : sequence of str, optional
        One name per class; default ``"0" ... str(max label)``.
    masks : str or pathlib.Path, optional
        A masks ``.npy`` file, (N, H, W); default None: ``masks.npy`` beside ``images.npy`` in a folder.
    skip_bad : bool, optional
        Pass over bad rows in ``read_good`` (default False).

    Raises
    ------
    ValueError
        If the file is missing, is not a ``.npy`` array or has the wrong rank (see :class:`~xai_tf.data.ArraySource`).
    """

    def __init__(self, path, labels=None, class_names=None, masks=None, *, skip_bad: bool = False):
        path = Path(path)
        folder = path if path.is_dir() else None
        if folder is not None:
            path = folder / "images.npy"
            labels = labels if labels is not None or not (folder / "labels.npy").exists() else folder / "labels.npy"
            masks = masks if masks is not None or not (folder / "masks.npy").exists() else folder / "masks.npy"
        if not path.is_file():
            raise ValueError(f"path={str(path)!r}: no such .npy file")
        self.path, self.name = path, str(path)
        self._options = {"labels": None if labels is None or not isinstance(labels, (str, Path)) else str(labels),
                         "class_names": None if class_names is None else list(class_names),
                         "masks": None if masks is None else str(masks), "skip_bad": bool(skip_bad)}
        self._arrays_only = labels is not None and not isinstance(labels, (str, Path))
        images = self._open(path)
        label_array = self._open(Path(labels)) if isinstance(labels, (str, Path)) else labels
        mask_array = None if masks is None else self._open(Path(masks))
        self._setup(images, None if label_array is None else np.asarray(label_array), class_names, mask_array,
                    skip_bad)

    @staticmethod
    def _open(path: Path):
        try:
            return np.load(path, mmap_mode="r", allow_pickle=False)
        except (OSError, ValueError) as error:
            raise BadFileError(path, f"cannot be read as a .npy array ({error})") from error

    def _metadata(self):
        files = [Path(name) for name in (self.path, self._options["labels"], self._options["masks"]) if name]
        return [_file_stamp(path) for path in files] + super()._metadata()

    def describe(self) -> dict:
        """Describe the source for ``xai_tf.data.open`` (see :meth:`~xai_tf.data.ImageSource.describe`).

        Returns
        -------
        dict
            ``{"kind": "npy", "path": ..., "labels", "class_names", "masks", "skip_bad"}``.

        Raises
        ------
        TypeError
            If the labels were given as an in-memory array.
        """
        if self._arrays_only:
            raise TypeError("this NumpySource has in-memory labels; save them as a .npy file to describe it")
        return {"kind": "npy", "path": str(self.path), **self._options}


#: The options HDF5Source and ZarrSource share (numpydoc), for a store of ``{array}``s in a ``{container}``.
STORE_OPTIONS = """
images : str, optional
    Name of the images {array}, ``(N, H, W)`` or ``(N, H, W, C)`` (default ``"images"``). Float
    pixels must lie in [0, 1]; integer pixels are divided by their type's maximum.
labels : str or None, optional
    Name of the labels {array}, shape (N,) (default ``"labels"``; when absent, every image is
    class 0).
masks : str, optional
    Name of a masks {array}, (N, H, W); default None (one named ``"masks"`` is used when
    present).
class_names : sequence of str, optional
    One name per class; default the ``class_names`` attribute of the images {array} or of the
    {container}, else ``"0" ... str(max label)``.
skip_bad : bool, optional
    Pass over bad rows in ``read_good`` (default False); see :class:`~xai_tf.data.ImageSource`.
"""


class StoreSource(ArraySource):
    """Named arrays in a store opened once per process (an HDF5 file, a zarr group): HDF5Source and ZarrSource.

    Subclasses set ``kind`` (the description's) and ``format`` (named in messages), and implement
    ``_open_store()`` (the opened store: ``in``, ``[name]``, ``keys()``, ``attrs``) and
    ``_is_array(store, name)``. The images array's ``class_names`` attribute, else the store's, names
    the classes when ``class_names`` is not given.
    """

    kind = ""
    format = ""

    def _open_named(self, path, images: str, labels, masks, class_names, skip_bad: bool):
        self.path, self.name = Path(path), str(path)
        self._handle = None
        handle = self._file()
        for value, option in ((images, "images"), (labels, "labels"), (masks, "masks")):
            if value is not None and not isinstance(value, str):
                raise TypeError(f"{option} must be the name of an array in {path} (a str); got {type(value).__name__}")
        if images not in handle or not self._is_array(handle, images):
            raise ValueError(f"{path}: no images array {images!r} (images=); arrays: {sorted(handle.keys())}")
        if masks is None and "masks" in handle:
            masks = "masks"
        elif masks is not None and masks not in handle:
            raise ValueError(f"{path}: no masks array {masks!r} (masks=); arrays: {sorted(handle.keys())}")
        dataset = handle[images]
        if class_names is None:
            stored = dataset.attrs.get("class_names", handle.attrs.get("class_names"))
            class_names = None if stored is None else [v.decode() if isinstance(v, bytes) else str(v) for v in stored]
        label_array = np.asarray(handle[labels][...]) if labels is not None and labels in handle else None
        self._names = {"images": images, "labels": labels, "masks": masks}
        self._options = {"images": images, "labels": labels, "masks": masks,
                         "class_names": None if class_names is None else list(class_names), "skip_bad": bool(skip_bad)}
        self._setup(dataset, label_array, class_names, None if masks is None else handle[masks], skip_bad)

    def _file(self):
        if self._handle is None:
            self._handle = self._open_store()
        return self._handle

    def _open_store(self):
        raise NotImplementedError

    @staticmethod
    def _is_array(store, name: str) -> bool:
        raise NotImplementedError

    def _arrays(self):
        handle = self._file()
        masks = self._names["masks"]
        return handle[self._names["images"]], None if masks is None else handle[masks]

    def __getstate__(self):  # an open store does not pickle: each process opens it itself
        state = dict(self.__dict__)
        state.update(_handle=None, _images=None, _masks=None)
        return state

    def describe(self) -> dict:
        """Describe the source for ``xai_tf.data.open`` (see :meth:`~xai_tf.data.ImageSource.describe`).

        Returns
        -------
        dict
            ``{"kind": "hdf5" or "zarr", "path": ..., "images", "labels", "masks", "class_names", "skip_bad"}``.
        """
        return {"kind": self.kind, "path": str(self.path), **self._options}


@fill_doc(store_options=STORE_OPTIONS.format(array="dataset", container="file"))
class HDF5Source(StoreSource):
    """An HDF5 file's image dataset (h5py), read a chunk of rows at a time; the file is opened per process.

    Parameters
    ----------
    path : str or pathlib.Path
        The ``.h5`` / ``.hdf5`` file.
    {store_options}

    Raises
    ------
    ValueError
        If the file cannot be opened as HDF5, lacks the images dataset, or a dataset has the wrong
        rank or length (named).
    TypeError
        If a dataset name is not a str.
    """

    kind, format = "hdf5", "HDF5"

    def __init__(self, path, images: str = "images", labels: str | None = "labels", masks: str | None = None,
                 class_names=None, *, skip_bad: bool = False):
        self._open_named(path, images, labels, masks, class_names, skip_bad)

    def _open_store(self):
        import h5py

        try:
            return h5py.File(self.path, "r")
        except (OSError, ValueError) as error:
            raise BadFileError(self.path, f"cannot be opened as HDF5 ({error})") from error

    @staticmethod
    def _is_array(store, name: str) -> bool:
        import h5py

        return isinstance(store[name], h5py.Dataset)

    def _metadata(self):
        return [_file_stamp(self.path), self._names] + super()._metadata()
