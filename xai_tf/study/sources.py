"""A study's data read lazily: file-based data sets (HDF5, ``.npy``, FITS folders, image folders) a chunk at a time.

When the study's ``data.source`` is a path that ``xai_tf.data.load`` reads through a lazy source
(``xai_tf.data.open``: an HDF5 file, a ``.npy`` array or a folder holding ``images.npy``, a folder of
FITS cutouts, a class-folder tree of image files), the client opens the source (nothing but its
metadata is read) and each score task carries the source's description (``describe()``) and the
cell's image indices. A worker reopens the source by that description (once per worker) and reads
only the rows of its chunk, with the conversions ``xai_tf.data.load`` applies to the whole set
(resizing to ``data.image_size``, ``data.color``), so every image is the one the in-memory path
scores. The cells record the source's cheap fingerprint (file names, sizes, modification times).

Synthetic data, MiraBest batches, figshare files, Object-CXR and ``skip_bad: true`` studies are
loaded in memory as before (a skipped file shifts the indices of the whole set, which a chunk read
alone cannot know).
"""
from __future__ import annotations

import hashlib
import inspect
import json
from pathlib import Path

import numpy as np

from xai_tf.data.sources import READ_BLOCK, ImageSource

#: Constructor arguments a study sets itself (``data.image_size``, ``data.color``, ``data.skip_bad``).
FIXED_OPTIONS = ("self", "path", "root", "image_size", "color", "skip_bad")


def study_kind(path) -> str | None:
    """The lazy source kind the study reads ``path`` with, or None when it is loaded in memory.

    ``xai_tf.data.load``'s detection order is kept: MiraBest batches, Object-CXR CSVs and figshare
    folders are loaded in memory; then a class-folder tree (``"folder"``) or what
    ``xai_tf.data.opening.source_kind`` names (``"hdf5"``, ``"npy"``, ``"fits"``).

    Parameters
    ----------
    path : str or pathlib.Path
        The study's ``data.source``.

    Returns
    -------
    str or None
        A key of ``xai_tf.data.opening.KINDS``, or None ("synthetic", a missing path, another layout).
    """
    from xai_tf.data.figshare import is_figshare_dir
    from xai_tf.data.mirabest import is_mirabest
    from xai_tf.data.opening import source_kind

    if str(path) == "synthetic" or not Path(path).exists():
        return None
    path = Path(path)
    if is_mirabest(path) or is_figshare_dir(path):
        return None
    csvs = [path] if path.is_file() else sorted(path.glob("*.csv"))
    for csv in csvs:  # an Object-CXR annotation file (xai_tf.data.load reads it first)
        if csv.suffix.lower() == ".csv":
            with open(csv, encoding="utf-8", errors="replace") as handle:
                if handle.readline().strip().lower().replace(" ", "") in ("image_name,annotation",
                                                                         "image_path,annotation"):
                    return None
    return source_kind(path)


def source_option_names(kind: str) -> tuple[str, ...]:
    """The options ``data.options`` may give a source of ``kind`` (its constructor's, less the study's own).

    Parameters
    ----------
    kind : str
        A key of ``xai_tf.data.opening.KINDS``.

    Returns
    -------
    tuple of str
        Option names, in the constructor's order.
    """
    from xai_tf.data.opening import KINDS

    return tuple(name for name in inspect.signature(KINDS[kind].__init__).parameters if name not in FIXED_OPTIONS)


class StudySource(ImageSource):
    """A source as the study scores it: resized to ``image_size``, converted to ``color``, optionally a subset.

    Parameters
    ----------
    base : ImageSource
        The opened source (``xai_tf.data.open``).
    image_size : int
        Height and width of the study's images (``data.image_size``); rows of another size are
        resized (bilinear, antialiased, as ``xai_tf.data.load``), masks by nearest neighbour.
    color : {"grayscale", "rgb"}
        Channels of the study's images (``data.color``).
    rows : array-like of int, shape (M,), optional
        The base rows this view holds, in order (a cell's images); default None: every row.
    """

    def __init__(self, base: ImageSource, image_size: int, color: str, rows=None):
        height, width, channels = base.image_shape
        if color == "grayscale" and channels == 3:
            channels = 1
        elif color == "rgb" and channels == 1:
            channels = 3
        self.base, self.size, self.color = base, (int(image_size), int(image_size)), color
        self.rows = None if rows is None else base.check_indices(np.asarray(rows, np.int64))
        self.filled = None  # a positions_view's record of the positions given so far (fill)
        count = len(base) if self.rows is None else len(self.rows)
        super().__init__(count, (*self.size, channels), base.class_names, has_masks=base.has_masks)

    def subset(self, rows) -> StudySource:
        """The view of the rows at ``rows`` (positions in this view), read lazily like this one.

        Parameters
        ----------
        rows : array-like of int, shape (M,)
            Positions in this view.

        Returns
        -------
        StudySource
            ``read(i)`` reads this view's row ``rows[i]``.
        """
        rows = self.check_indices(np.asarray(rows, np.int64))
        return StudySource(self.base, self.size[0], self.color, rows if self.rows is None else self.rows[rows])

    def positions_view(self, size: int) -> StudySource:
        """A view of a cell's ``size`` positions whose source rows are given chunk by chunk (:meth:`fill`).

        A study worker gets each unit's positions and their rows, never the cell's whole index list
        (a unit as large as the data set would make a survey's study quadratic); reading a position
        before its rows were given is an error, never a silent row 0.

        Parameters
        ----------
        size : int
            The cell's number of images.

        Returns
        -------
        StudySource
            An empty view: ``len`` is ``size``, nothing readable until :meth:`fill`.
        """
        view = StudySource(self.base, self.size[0], self.color, rows=np.zeros(int(size), np.int64))
        view.filled = np.zeros(int(size), bool)  # the positions whose rows were given
        return view

    def fill(self, positions, rows) -> None:
        """Give the source rows of ``positions`` of a :meth:`positions_view`.

        Parameters
        ----------
        positions : array-like of int, shape (M,)
            Positions in the view.
        rows : array-like of int, shape (M,)
            Their rows in the source.

        Raises
        ------
        ValueError
            If this is not a positions view, the two lengths differ, or an index is out of range.
        """
        if self.filled is None:
            raise ValueError("fill is for a positions_view; this view holds all its rows")
        positions = self.check_indices(np.asarray(positions, np.int64))
        rows = self.base.check_indices(np.asarray(rows, np.int64))
        if len(positions) != len(rows):
            raise ValueError(f"positions ({len(positions)}) and rows ({len(rows)}) must have the same length")
        self.rows[positions] = rows
        self.filled[positions] = True

    def read(self, indices):
        """Read the rows at ``indices`` from the base source (only those), converted as the study's images.

        Parameters
        ----------
        indices : array-like of int, shape (M,)
            Positions in this view.

        Returns
        -------
        images : numpy.ndarray, shape (M, image_size, image_size, C), float32
            In [0, 1].
        labels : numpy.ndarray, shape (M,), int64
            Class indices.
        masks : numpy.ndarray, shape (M, image_size, image_size), bool, or None
            When the source has masks.
        """
        from xai_tf.data.imagefiles import resize, to_color

        indices = self.check_indices(indices)
        if self.filled is not None and not self.filled[indices].all():
            raise ValueError(f"positions {indices[~self.filled[indices]].tolist()[:5]} of this view were read before "
                             "their source rows were given (fill)")
        images, labels, masks = self.base.read(indices if self.rows is None else self.rows[indices])
        self.rows_read += len(indices)
        if images.shape[1:3] != self.size:
            images = np.stack([resize(image, self.size) for image in images])
            if masks is not None:
                masks = np.stack([resize(mask, self.size, nearest=True) for mask in masks])
        images = np.stack([to_color(image, self.color) for image in images]).astype(np.float32)
        return images, labels, masks

    def _rows(self, indices: np.ndarray) -> list:
        images, labels, masks = self.read(indices)
        self.rows_read -= len(indices)  # counted once, by ImageSource._outcomes
        return [(image, label, None if masks is None else mask)
                for image, label, mask in zip(images, labels, masks if masks is not None else labels)]

    def fingerprint(self, full: bool = False) -> str:
        """The base source's fingerprint with the study's conversions (see ``ImageSource.fingerprint``).

        Parameters
        ----------
        full : bool, optional
            False (default): from the base source's cheap fingerprint, ``image_size`` and ``color``
            (no pixel read). True: ``xai_tf._io.fingerprint([images, labels])`` of the whole view as
            loaded in memory, computed block by block (:func:`full_fingerprint`).

        Returns
        -------
        str
            16 hexadecimal digits.
        """
        if full:
            return full_fingerprint(self)
        text = json.dumps(["study", self.base.fingerprint(), list(self.size), self.color,
                           None if self.rows is None else self.rows.tolist()])
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def describe(self) -> dict:
        """Describe the view for another process (:func:`open_study_source`).

        Returns
        -------
        dict
            ``{"source": the base's describe(), "image_size", "color"}`` (JSON-able).
        """
        return {"source": self.base.describe(), "image_size": self.size[0], "color": self.color}


def open_study_source(description: dict) -> StudySource:
    """Reopen a :class:`StudySource` from its :meth:`~StudySource.describe` dictionary (what a worker does).

    Parameters
    ----------
    description : dict
        ``{"source", "image_size", "color"}``.

    Returns
    -------
    StudySource
        The whole source, converted as the study's images.
    """
    from xai_tf.data.opening import open as open_source

    return StudySource(open_source(description["source"]), description["image_size"], description["color"])


def open_study_data(data: dict) -> StudySource | None:
    """Open the study's data lazily when they are a file-based source; None when they are loaded in memory.

    Parameters
    ----------
    data : dict
        The checked study's ``data`` (``source``, ``image_size``, ``color``, ``skip_bad``, ``options``).

    Returns
    -------
    StudySource or None
        The lazy view (nothing but metadata read), or None for synthetic data, the layouts only
        ``xai_tf.data.load`` reads, and ``skip_bad: true``.
    """
    from xai_tf.data.opening import open as open_source

    kind = study_kind(data["source"])
    if kind is None or data["skip_bad"]:
        return None
    options = dict(data.get("options") or {})
    if kind in ("fits", "folder"):
        options["image_size"] = data["image_size"]
    if kind == "folder":
        options["color"] = data["color"]
    return StudySource(open_source(data["source"], **options), data["image_size"], data["color"])


def full_fingerprint(source: ImageSource) -> str:
    """``xai_tf._io.fingerprint([images, labels])`` of the whole source, read ``READ_BLOCK`` rows at a time.

    Equal to the fingerprint of the same images loaded in memory (what a train run records in its
    ``split.json``), without holding more than one block of images.

    Parameters
    ----------
    source : ImageSource
        The source.

    Returns
    -------
    str
        16 hexadecimal digits.
    """
    digest = hashlib.sha256()
    digest.update(str((np.dtype(np.float32).str, (len(source), *source.image_shape))).encode())
    labels = []
    for start in range(0, len(source), READ_BLOCK):
        images, block_labels, _ = source.read(np.arange(start, min(start + READ_BLOCK, len(source))))
        digest.update(np.ascontiguousarray(images, np.float32).tobytes())
        labels.append(block_labels)
    labels = np.ascontiguousarray(np.concatenate(labels))
    digest.update(str((labels.dtype.str, labels.shape)).encode())
    digest.update(labels.tobytes())
    return digest.hexdigest()[:16]


def split_indices(folder, source: StudySource, split: str, fingerprints: dict) -> np.ndarray:
    """The indices of ``split`` that the train run ``folder`` recorded, checked against the source.

    As ``xai_tf.runs.split_of`` for data in memory: the run's ``split.json`` must record the
    fingerprint of these data (computed once per study by streaming the source, kept in
    ``fingerprints``).

    Parameters
    ----------
    folder : str or pathlib.Path
        The model's train run folder.
    source : StudySource
        The study's data.
    split : {"held-out", "train", "all"}
        Which images.
    fingerprints : dict
        A cache, ``{"full": fingerprint}`` once computed.

    Returns
    -------
    numpy.ndarray, shape (M,), int64
        Indices into the source.

    Raises
    ------
    ValueError
        If the folder records no split, or another data set's fingerprint.
    """
    from xai_tf.runs import read_json

    if split == "all":
        return np.arange(len(source), dtype=np.int64)
    record = read_json(Path(folder) / "split.json", "train run")
    if record is None:
        raise ValueError(f"split={split!r} needs the split a training run recorded; {folder} has no split.json "
                         "(use split: all to take every image)")
    if "full" not in fingerprints:
        fingerprints["full"] = full_fingerprint(source)
    if fingerprints["full"] != record["data_fingerprint"]:
        raise ValueError(f"split={split!r}: the study's data (fingerprint {fingerprints['full']}, "
                         f"{len(source)} images) are not the data the run in {folder} was trained on (fingerprint "
                         f"{record['data_fingerprint']}, {record['images']} images); use split: all")
    return np.asarray(record["held_out" if split == "held-out" else "train"], dtype=np.int64)
