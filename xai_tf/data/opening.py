"""``open(spec)``: the lazy source for a path, an array, a ``tf.data.Dataset`` or a source's description.

``xai_tf.data.load`` reads a whole data set into a ``LabelledImages``; ``xai_tf.data.open`` returns an
:class:`~xai_tf.data.ImageSource` that reads rows only when asked (``read(indices)``). Which source
reads a path is decided by the format records (:mod:`xai_tf.data.records`): the first whose
predicate accepts it, among those with a lazy source, in their order (see :func:`open`).
"""
from __future__ import annotations

import textwrap
from collections.abc import Iterator, Mapping
from pathlib import Path

import numpy as np

from xai_tf._docstrings import fill_doc
from xai_tf.data.labelled import LabelledImages
from xai_tf.data.records import RECORDS, detection_text, expected_text, lazy_records
from xai_tf.data.source_arrays import HDF5_SUFFIXES, ArraySource  # noqa: F401  (HDF5_SUFFIXES: kept importable here)
from xai_tf.data.sources import ImageSource


class _Kinds(Mapping):
    """Read-only live view ``{name: source class}`` of the formats with a lazy source (the former dict)."""

    def __getitem__(self, kind):
        record = RECORDS.get(kind)
        if record is None or record.source is None:
            raise KeyError(kind)
        return record.source

    def __iter__(self) -> Iterator[str]:
        return iter([record.name for record in lazy_records()])

    def __len__(self) -> int:
        return len(lazy_records())


#: The sources a description (``ImageSource.describe()``) can name, by ``"kind"``: the records', live.
KINDS: Mapping[str, type] = _Kinds()

#: The built-in formats ``open`` tries on a path, in order (the records' own words).
OPEN_ORDER = detection_text(lazy_records())
#: What ``open``'s ``**options`` go to: every built-in lazy source's options, for its docstring.
OPEN_OPTIONS = textwrap.fill(
    "Passed to the source's constructor: " + ", ".join(
        f":class:`~xai_tf.data.{record.source.__name__}` "
        f"({', '.join(f'``{name}``' for name in record.options if name != 'skip_bad')})" for record in lazy_records())
    + ", :class:`~xai_tf.data.TFDatasetSource` (``class_names``, ``max_images``); every source takes ``skip_bad`` "
      "(default False).", 96)


@fill_doc(open_order=OPEN_ORDER, open_options=OPEN_OPTIONS)
def open(spec, **options) -> ImageSource:
    """Open a data set lazily: the images are read only when a chunk of them is asked for.

    A path is read by the first registered format (:func:`~xai_tf.data.list_sources`) with a lazy
    source whose predicate accepts it; the built-in ones, in order:

    {open_order}

    Parameters
    ----------
    spec : str, pathlib.Path, dict, ImageSource, LabelledImages, numpy.ndarray or tf.data.Dataset
        A path of one of the formats above (a class-folder tree as
        :func:`~xai_tf.data.load_image_folder` reads it);
        a source's ``describe()`` dictionary (how a Dask worker reopens the client's source); a
        source (returned as is); a ``LabelledImages`` or an images array (wrapped, in memory); or a
        finite ``tf.data.Dataset`` (read through once into an on-disk index).
    **options
        {open_options}

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
        raise ValueError(f"spec={str(spec)!r}: found no data set a source reads; expected "
                         f"{expected_text(lazy_records())}")
    return KINDS[kind](path, **options)


#: ``source_kind``'s Returns text, naming the built-in kinds.
KIND_RETURNS = textwrap.fill(
    "The name of the first format with a lazy source whose predicate accepts ``path``, in the records' order "
    "(built in: " + ", ".join('``"' + record.name + '"``' for record in lazy_records()) + "), or None when no source "
    "reads it.",
    96)


@fill_doc(kinds=KIND_RETURNS)
def source_kind(path) -> str | None:
    """The kind of source ``open`` picks for ``path`` (a key of ``KINDS``: a record's name), or None.

    Parameters
    ----------
    path : str or pathlib.Path
        An existing file or folder.

    Returns
    -------
    str or None
        {kinds}
    """
    path = Path(path)
    for record in lazy_records():
        if record.detects(path):
            return record.name
    return None


def load_source(path, image_size=None, color=None, skip_bad: bool = False, verbose: int = 1, **options):
    """Read a lazy source's data set whole (``xai_tf.data.load`` on an HDF5 file, a ``.npy`` array, a zarr store...).

    Parameters
    ----------
    path : str or pathlib.Path
        A path :func:`source_kind` names (``"hdf5"``, ``"npy"``, ``"zarr"``, ``"fits"``, or a
        registered format that has no whole-set loader).
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
    kind = source_kind(path)
    if size is not None and kind is not None and "image_size" in RECORDS[kind].options:
        options["image_size"] = size  # a source that resizes does it itself (FITS: after scaling each cutout)
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
