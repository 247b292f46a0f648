"""``ImageSource``: a labelled image set read lazily, a chunk of rows at a time.

A source knows its length, image shape, dtype and class names without reading pixels; ``read(indices)``
returns just those rows in the project's conventions (float32 NHWC in [0, 1], int64 labels, bool
masks or None). Evaluations read only the chunk they score through it, so a data set far larger than
memory is scored with the memory of one chunk. ``fingerprint()`` is cheap (file names, sizes and
modification times, or the array store's metadata); ``fingerprint(full=True)`` hashes every row.

The concrete sources live in their own modules (``source_arrays``: NumPy, memmaps, HDF5, zarr;
``source_folders``: image folders; ``source_fits``: FITS cutouts; ``source_tf``: ``tf.data``);
``xai_tf.data.open`` picks one from a path.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from xai_tf._docstrings import fill_doc
from xai_tf.data.imagefiles import BadFileError
from xai_tf.data.labelled import LabelledImages

#: Rows read at a time by ``to_labelled`` and ``fingerprint(full=True)``.
READ_BLOCK = 256

#: The rows ``read`` and ``read_good`` take (numpydoc Parameters section).
ROWS_PARAMETER = """
Parameters
----------
indices : array-like of int, shape (M,)
    Rows to read, each in [0, N - 1].
"""


class ImageSource:
    """A labelled image set read lazily: length, shape and classes up front, pixels by ``read(indices)``.

    Subclasses set the attributes below in their constructor and implement ``_rows(indices)`` (one
    outcome per index: ``(image (H, W, C), label, mask (H, W) or None)`` or the ``BadFileError`` of
    that row), ``_metadata()`` (what the cheap fingerprint hashes) and ``describe()``.

    Parameters
    ----------
    count : int
        Number of images, >= 1.
    image_shape : tuple of int
        ``(H, W, C)`` of every image after the source's conversions.
    class_names : sequence of str
        One name per class, index = label; at least one.
    has_masks : bool, optional
        Whether ``read`` returns masks (default False).
    skip_bad : bool, optional
        False (default): a bad row (unreadable file, NaN-only cutout, wrong size) raises
        ``BadFileError`` when read. True: :meth:`read_good` passes it over and records it in
        ``skipped`` (``{index: (where, reason)}``); indices never shift.

    Raises
    ------
    ValueError
        If ``count`` is below 1, ``image_shape`` is not three positive ints or ``class_names`` is empty.
    """

    dtype = np.dtype(np.float32)

    def __init__(self, count: int, image_shape, class_names, *, has_masks: bool = False, skip_bad: bool = False):
        if int(count) < 1:
            raise ValueError(f"a source needs at least one image; got {count}")
        shape = tuple(int(v) for v in image_shape)
        if len(shape) != 3 or min(shape) < 1:
            raise ValueError(f"image_shape must be (H, W, C) of positive ints; got {image_shape!r}")
        self.count, self.image_shape = int(count), shape
        self.class_names = tuple(str(name) for name in class_names)
        if not self.class_names:
            raise ValueError("class_names must name at least one class")
        self.has_masks, self.skip_bad = bool(has_masks), bool(skip_bad)
        self.skipped: dict[int, tuple[str, str]] = {}
        self.rows_read = 0

    def __len__(self) -> int:
        return self.count

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.count} images of {self.image_shape}, classes {list(self.class_names)})"

    @property
    def num_classes(self) -> int:
        """Number of classes (``len(class_names)``)."""
        return len(self.class_names)

    def check_indices(self, indices) -> np.ndarray:
        """Check row indices and return them as int64.

        Parameters
        ----------
        indices : array-like of int, shape (M,)
            Rows to read, each in [0, N - 1]; any order, repeats allowed.

        Returns
        -------
        numpy.ndarray, shape (M,), int64
            The indices.

        Raises
        ------
        TypeError
            If ``indices`` is not a 1-D integer array.
        ValueError
            If it is empty or an index lies outside [0, N - 1].
        """
        indices = np.asarray(indices)
        if indices.ndim != 1 or (indices.size and not np.issubdtype(indices.dtype, np.integer)):
            raise TypeError(f"indices must be a 1-D integer array; got {indices.dtype} with shape {indices.shape}")
        if indices.size == 0:
            raise ValueError("indices is empty; read at least one row")
        if indices.min() < 0 or indices.max() >= self.count:
            raise ValueError(f"indices must lie in [0, {self.count - 1}]; got [{indices.min()}, {indices.max()}]")
        return indices.astype(np.int64)

    @fill_doc(rows=ROWS_PARAMETER)
    def read(self, indices):
        """Read the rows at ``indices``: every one of them, or a named error.

        {rows}

        Returns
        -------
        images : numpy.ndarray, shape (M, H, W, C), float32
            In [0, 1].
        labels : numpy.ndarray, shape (M,), int64
            Class indices into ``class_names``.
        masks : numpy.ndarray, shape (M, H, W), bool, or None
            The ground truth, when the source has masks.

        Raises
        ------
        BadFileError
            (A ValueError) naming the first bad row's file and reason, whatever ``skip_bad`` says.
        """
        indices = self.check_indices(indices)
        outcomes = self._outcomes(indices)
        for outcome in outcomes:
            if isinstance(outcome, BadFileError):
                raise outcome
        return self._stack(outcomes)

    @fill_doc(rows=ROWS_PARAMETER)
    def read_good(self, indices):
        """Read the rows at ``indices`` that can be read (``skip_bad=True``), recording the others.

        {rows}

        Returns
        -------
        kept : numpy.ndarray, shape (K,), int64
            The indices read, in the order given (``indices`` less the bad rows).
        images : numpy.ndarray, shape (K, H, W, C), float32, or None
            In [0, 1]; None when every row was bad.
        labels : numpy.ndarray, shape (K,), int64, or None
            Class indices; None when every row was bad.
        masks : numpy.ndarray, shape (K, H, W), bool, or None
            When the source has masks and a row was read.

        Raises
        ------
        BadFileError
            (A ValueError) for the first bad row when ``skip_bad`` is False.
        """
        indices = self.check_indices(indices)
        outcomes = self._outcomes(indices)
        kept = []
        for index, outcome in zip(indices, outcomes):
            if isinstance(outcome, BadFileError):
                if not self.skip_bad:
                    raise outcome
                self.skipped[int(index)] = (outcome.path, outcome.reason)
            else:
                kept.append(int(index))
        good = [outcome for outcome in outcomes if not isinstance(outcome, BadFileError)]
        if not good:
            return np.array([], np.int64), None, None, None
        return (np.array(kept, np.int64), *self._stack(good))

    def _outcomes(self, indices: np.ndarray) -> list:
        outcomes = self._rows(indices)
        self.rows_read += len(indices)
        return [outcome if isinstance(outcome, BadFileError) else self._checked(index, outcome)
                for index, outcome in zip(indices, outcomes)]

    def _checked(self, index: int, row):
        image, label, mask = row
        image = np.asarray(image, dtype=np.float32)
        where = self.where(int(index))
        if image.shape != self.image_shape:
            return BadFileError(where, f"holds an image of shape {image.shape}; the source's images are "
                                       f"{self.image_shape} (pass image_size= to resize)")
        if not np.all(np.isfinite(image)) or image.min() < 0 or image.max() > 1:
            return BadFileError(where, "holds pixels outside [0, 1] or NaN/Inf after the source's normalisation")
        if not 0 <= int(label) < self.num_classes:
            return BadFileError(where, f"has label {int(label)}, outside [0, {self.num_classes - 1}]")
        return image, int(label), mask

    def _stack(self, rows):
        images = np.stack([row[0] for row in rows]).astype(np.float32, copy=False)
        labels = np.array([row[1] for row in rows], np.int64)
        masks = np.stack([np.asarray(row[2], bool) for row in rows]) if self.has_masks else None
        return images, labels, masks

    def where(self, index: int) -> str:
        """Name row ``index`` in messages: its file, or ``<store>#<index>``.

        Parameters
        ----------
        index : int
            A row in [0, N - 1].

        Returns
        -------
        str
            The file the row comes from, or the array store and the row number.
        """
        return f"{type(self).__name__}#{index}"

    def fingerprint(self, full: bool = False) -> str:
        """Fingerprint the source: cheaply from metadata, or from every row's pixels.

        Parameters
        ----------
        full : bool, optional
            False (default): hash the metadata only (file names, sizes and modification times, or
            the array store's name, shapes, dtypes and modification time), with the image shape and
            class names; no pixel is read. True: hash every row's images and labels as read (with
            ``xai_tf._io.fingerprint``'s conventions), reading the whole set block by block.

        Returns
        -------
        str
            16 hexadecimal digits.

        Raises
        ------
        BadFileError
            With ``full=True``, for the first bad row.
        """
        digest = hashlib.sha256()
        if not full:
            digest.update(json.dumps([type(self).__name__, self.count, self.image_shape, self.class_names,
                                      self._metadata()], default=str).encode())
            return digest.hexdigest()[:16]
        for start in range(0, self.count, READ_BLOCK):
            images, labels, _ = self.read(np.arange(start, min(start + READ_BLOCK, self.count)))
            for array in (images, labels):
                digest.update(str((array.dtype.str, array.shape[1:])).encode())
                digest.update(np.ascontiguousarray(array).tobytes())
        return digest.hexdigest()[:16]

    def _metadata(self):
        return []

    def describe(self) -> dict:
        """Describe the source so another process can open it again (``xai_tf.data.open(description)``).

        Returns
        -------
        dict
            JSON-able: ``{"kind": ..., "path": ..., <the options it was opened with>}``.

        Raises
        ------
        TypeError
            If the source lives in this process's memory only (arrays, a ``tf.data.Dataset``).
        """
        raise TypeError(f"a {type(self).__name__} lives in this process's memory and cannot be described for "
                        "another process; write it to a file (HDF5, .npy, an image folder) and open that")

    def to_labelled(self) -> LabelledImages:
        """Read the whole source into memory (for small sets).

        Returns
        -------
        LabelledImages
            Every readable row in order; with ``skip_bad=True`` the bad rows are left out, listed in
            ``skipped`` as ``(where, reason)`` and ``info["source_indices"]`` holds the kept rows'
            indices in the source (so no index shifts silently).

        Raises
        ------
        BadFileError
            For the first bad row when ``skip_bad`` is False.
        ValueError
            If no row could be read.
        """
        parts = [self.read_good(np.arange(start, min(start + READ_BLOCK, self.count)))
                 for start in range(0, self.count, READ_BLOCK)]
        parts = [part for part in parts if part[1] is not None]
        if not parts:
            raise ValueError(f"{self!r}: no readable image ({len(self.skipped)} skipped)")
        kept = np.concatenate([part[0] for part in parts])
        masks = np.concatenate([part[3] for part in parts]) if self.has_masks else None
        skipped = [self.skipped[index] for index in sorted(self.skipped)]
        return LabelledImages(images=np.concatenate([part[1] for part in parts]),
                              labels=np.concatenate([part[2] for part in parts]), class_names=self.class_names,
                              masks=masks, paths=[self.where(int(index)) for index in kept], skipped=skipped,
                              info={"loader": "source", "source": type(self).__name__, "source_indices": kept})

    def _rows(self, indices: np.ndarray) -> list:
        raise NotImplementedError


class FileSource(ImageSource):
    """An :class:`ImageSource` with one file per image (``files``, below ``root``; ``labels``, ``_options``).

    Names a row by its file and fingerprints the files' relative paths, sizes and modification
    times, with the labels and the reading options: no pixel is read.
    """

    files: list
    root: Path
    labels: np.ndarray
    _options: list

    def where(self, index: int) -> str:
        """Row ``index``'s name in messages: its image file's path (see :meth:`~xai_tf.data.ImageSource.where`)."""
        return str(self.files[index])

    def _metadata(self):
        stamps = []
        for path in self.files:
            stat = path.stat()
            stamps.append([str(path.relative_to(self.root)), stat.st_size, stat.st_mtime_ns])
        return [self.labels, stamps, self._options]


@dataclass
class ChunkRows:
    """The rows of one chunk as an evaluation unit scores them (read once, shared by its steps).

    Parameters
    ----------
    images : numpy.ndarray, shape (B, H, W, C), float32
        The chunk's images.
    labels : numpy.ndarray, shape (B,), int64
        Their labels.
    masks : numpy.ndarray, shape (B, H, W), bool, or None
        Their masks, when the data has them.
    boxes : list of list of tuple, or None
        Their boxes, when the data has them.
    """

    images: np.ndarray
    labels: np.ndarray
    masks: np.ndarray | None = None
    boxes: list | None = None


def read_chunk(data, indices) -> ChunkRows:
    """Read the rows at ``indices`` of a ``LabelledImages`` or an ``ImageSource``, and nothing else.

    Parameters
    ----------
    data : LabelledImages or ImageSource
        The data set.
    indices : numpy.ndarray, shape (B,), int64
        The rows.

    Returns
    -------
    ChunkRows
        The rows; for a ``LabelledImages`` exactly ``data.images[indices]`` and so on.

    Raises
    ------
    TypeError
        If ``data`` is neither.
    BadFileError
        From the source, for a bad row.
    """
    if isinstance(data, LabelledImages):
        return ChunkRows(images=data.images[indices], labels=data.labels[indices],
                         masks=None if data.masks is None else data.masks[indices],
                         boxes=None if not data.boxes else [data.boxes[i] for i in indices])
    if isinstance(data, ImageSource):
        images, labels, masks = data.read(indices)
        return ChunkRows(images=images, labels=labels, masks=masks)
    raise TypeError(f"data must be a LabelledImages or an ImageSource; got {type(data).__name__}")
