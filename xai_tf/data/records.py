"""The data-format records: every layout ``xai_tf.data.open`` and ``xai_tf.data.load`` read, in ONE ordered table.

Every format is one :class:`SourceRecord`: its name (a lazy source's ``describe()["kind"]``), how a
path is detected (a predicate), its suffixes, the lazy source class and/or the whole-set loader
that read it, their options, the phrase errors use, a one-line description and the extra to
install. ``open`` and ``source_kind`` (:mod:`xai_tf.data.opening`), ``load``
(:mod:`xai_tf.data.loading`), the reopening of a description (``opening.KINDS``), the "expected ..."
errors, the docstrings' detection order and the guide's table of formats (``docs/source_tables.py``)
read :data:`RECORDS`. A new format is its module and one record in the table at the bottom of this
file (``register_source`` does the same at run time, e.g. in a test or a plug-in).

Order is detection order. ``open`` tries the records that have a lazy ``source``, in order;
``load`` tries the records that have a whole-set ``loader`` first, in order, then the others
(their source read whole): so a class-folder tree is read by its loader before the lazy formats, as
``load`` always did, and after them by ``open``.
"""
from __future__ import annotations

import inspect
import re
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from xai_tf._docstrings import fill_doc
from xai_tf._registry import REGISTER_RETURNS, UNREGISTER_DOC, Registry
from xai_tf.data.figshare import is_figshare_dir, load_figshare_mat
from xai_tf.data.folders import is_image_folder, load_image_folder
from xai_tf.data.imagefiles import IMAGE_SUFFIXES
from xai_tf.data.mirabest import is_mirabest, load_mirabest
from xai_tf.data.object_cxr import is_object_cxr, load_object_cxr, object_cxr_arguments
from xai_tf.data.source_arrays import HDF5_SUFFIXES, HDF5Source, NumpySource, is_hdf5, is_npy
from xai_tf.data.source_fits import FITS_SUFFIXES, FitsSource, is_fits_folder
from xai_tf.data.source_folders import FolderSource
from xai_tf.data.source_zarr import ZarrSource, is_zarr
from xai_tf.data.sources import ImageSource

_NAME = re.compile(r"[a-z0-9][a-z0-9_]*")


@dataclass(frozen=True, kw_only=True)
class SourceRecord:
    """One data format as ``xai_tf.data.open`` and ``xai_tf.data.load`` know it.

    Parameters
    ----------
    name : str
        The format's name: what ``xai_tf.data.opening.source_kind`` returns and a lazy
        source's ``describe()["kind"]`` (lowercase letters, digits and underscores).
    title : str
        A few words naming it in messages (``"HDF5"``, ``"MiraBest batches"``): ``load``'s
        "option(s) ... not understood by the <title> loader".
    expected : str
        What a path of this format is, as the "found no data set ...; expected ..." errors list it
        (``"an HDF5 file"``).
    description : str
        One line for docstrings and the guide's table: the layout and the library that reads it.
    source : type, optional
        The lazy source, an :class:`~xai_tf.data.ImageSource` subclass called as
        ``source(path, **options)`` (``xai_tf.data.open``); its ``describe()`` must say
        ``"kind": name``. Default None: ``open`` does not read this format.
    loader : callable, optional
        The whole-set loader, returning a ``LabelledImages`` (``xai_tf.data.load``); called with the
        caller's options and ``arguments(path, options)``. Default None: ``load`` reads ``source``
        whole instead. At least one of ``source`` and ``loader`` is required.
    arguments : callable, optional
        ``arguments(path, options) -> dict``: the loader's keyword arguments that come from the
        path (it may take options out of ``options``, as Object-CXR's ``split``). Default None:
        ``{<the loader's first parameter>: path}``.
    detect : callable, optional
        ``detect(path) -> bool`` for an existing ``pathlib.Path``: whether the path holds this
        format. Default None: a file whose name ends with one of ``suffixes`` (any case).
    suffixes : tuple of str, optional
        The file suffixes of the format (of the files inside, for a folder format), for the
        default ``detect`` and the guide's table; default none.
    options : tuple of str, optional
        The options the format takes; default None: the parameters of ``source`` (else
        ``loader``) after the path, read from its signature.
    extra : str, optional
        The ``pip install xai-tf[extra]`` the format needs (``"fits"``); default None.

    Raises
    ------
    ValueError
        If ``name`` is not lowercase letters, digits and underscores, a text field is not one
        non-empty line, neither ``source`` nor ``loader`` is given, or ``detect`` is None and
        there are no ``suffixes``.
    TypeError
        If ``source`` is not an ``ImageSource`` subclass or ``loader``, ``arguments`` or ``detect``
        is not callable.
    """

    name: str
    title: str
    expected: str
    description: str
    source: type | None = None
    loader: Callable | None = None
    arguments: Callable | None = None
    detect: Callable | None = None
    suffixes: tuple = ()
    options: tuple | None = None
    extra: str | None = None

    def __post_init__(self):
        if not isinstance(self.name, str) or not _NAME.fullmatch(self.name):
            raise ValueError(f"SourceRecord name must be lowercase letters, digits and underscores; got {self.name!r}")
        where = f"SourceRecord {self.name!r}"
        for key in ("title", "expected", "description"):
            value = getattr(self, key)
            if not isinstance(value, str) or not value.strip() or "\n" in value:
                raise ValueError(f"{where}: {key} must be one non-empty line; got {value!r}")
        if self.source is None and self.loader is None:
            raise ValueError(f"{where}: give a lazy source, a whole-set loader or both")
        if self.source is not None and not (isinstance(self.source, type) and issubclass(self.source, ImageSource)):
            raise TypeError(f"{where}: source must be an ImageSource subclass; got {self.source!r}")
        for key in ("loader", "arguments", "detect"):
            if getattr(self, key) is not None and not callable(getattr(self, key)):
                raise TypeError(f"{where}: {key} must be callable; got {getattr(self, key)!r}")
        object.__setattr__(self, "suffixes", tuple(str(suffix).lower() for suffix in self.suffixes))
        if self.detect is None and not self.suffixes:
            raise ValueError(f"{where}: give detect= or the suffixes a file of this format ends with")
        if self.options is None:
            opener = self.source.__init__ if self.source is not None else self.loader
            names = [name for name, parameter in inspect.signature(opener).parameters.items()
                     if name != "self" and parameter.kind not in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD)]
            object.__setattr__(self, "options", tuple(names[1:]))  # the first is the path
        object.__setattr__(self, "options", tuple(self.options))

    def detects(self, path: Path) -> bool:
        """Whether ``path`` holds this format (``detect``, or a file with one of ``suffixes``).

        Parameters
        ----------
        path : pathlib.Path
            An existing file or folder.

        Returns
        -------
        bool
            True when the format's predicate accepts it.
        """
        if self.detect is not None:
            return bool(self.detect(path))
        return path.is_file() and path.name.lower().endswith(self.suffixes)

    def loader_arguments(self, path: Path, options: dict) -> dict:
        """The keyword arguments ``loader`` gets from ``path`` (``arguments``, else its first parameter).

        Parameters
        ----------
        path : pathlib.Path
            The detected path.
        options : dict
            The caller's options (``arguments`` may take some out).

        Returns
        -------
        dict
            ``{parameter: value}``.
        """
        if self.arguments is not None:
            return self.arguments(path, options)
        return {next(iter(inspect.signature(self.loader).parameters)): path}


#: name -> record of every registered format, in detection order.
RECORDS: Registry[SourceRecord] = Registry("data format", SourceRecord)


@fill_doc(returns=REGISTER_RETURNS.format(kind="data format", record="~xai_tf.data.SourceRecord"))
def register_source(record: SourceRecord, *, before: str | None = None) -> SourceRecord:
    """Add a format's record, so that ``open``, ``load``, ``--data``, studies and the docs' table know it.

    Parameters
    ----------
    record : SourceRecord
        The format's record; its name must not be registered yet (``unregister_source`` first to
        replace one).
    before : str, optional
        The registered format it is tried before (detection order); default None: after all.

    {returns}
        Also if ``before`` is not registered.
    """
    return RECORDS.add(record, before=before)


@fill_doc(unregister=UNREGISTER_DOC.format(kind="data format", record="SourceRecord"))
def unregister_source(name: str) -> SourceRecord | None:
    """{unregister}"""
    return RECORDS.remove(name)


def list_sources() -> tuple[str, ...]:
    """Names of the registered data formats, in detection order.

    Returns
    -------
    tuple of str
        ``("mirabest", "object_cxr", "figshare", "hdf5", "npy", "zarr", "fits", "folder")`` plus any
        format registered since.
    """
    return tuple(RECORDS)


def source_record(name: str) -> SourceRecord:
    """The :class:`~xai_tf.data.SourceRecord` of ``name``; ValueError listing the registered names otherwise.

    Parameters
    ----------
    name : str
        A registered format's name.

    Returns
    -------
    SourceRecord
        Its record.

    Raises
    ------
    ValueError
        If ``name`` is not registered; the message lists the registered ones.
    """
    return RECORDS.record(name)


def lazy_records() -> list[SourceRecord]:
    """The records ``open`` tries on a path, in order: those with a lazy ``source``.

    Returns
    -------
    list of SourceRecord
        In detection order.
    """
    return [record for record in RECORDS.values() if record.source is not None]


def load_records() -> list[SourceRecord]:
    """The records ``load`` tries on a path, in order: those with a whole-set ``loader``, then the others.

    Returns
    -------
    list of SourceRecord
        In detection order within each group.
    """
    whole = [record for record in RECORDS.values() if record.loader is not None]
    return whole + [record for record in RECORDS.values() if record.loader is None]


def expected_text(records) -> str:
    """The records' ``expected`` phrases as one list for an error: ``"a, b or c"``.

    Parameters
    ----------
    records : sequence of SourceRecord
        In the order to list.

    Returns
    -------
    str
        The phrases joined by commas, the last by "or".
    """
    phrases = [record.expected for record in records]
    return phrases[0] if len(phrases) < 2 else f"{', '.join(phrases[:-1])} or {phrases[-1]}"


def detection_text(records) -> str:
    """The records as a numbered reStructuredText list (docstrings): name, description, suffixes.

    Parameters
    ----------
    records : sequence of SourceRecord
        In detection order.

    Returns
    -------
    str
        One item per record, ``"1. ``hdf5``: <description>."``, wrapped at 96 characters.
    """
    return "\n".join(textwrap.fill(f"{number}. ``{record.name}``: {record.description}.", 96, subsequent_indent="   ")
                     for number, record in enumerate(records, start=1))


# ------------------------------------------------------------------------------ the built-in formats
for _record in (
    SourceRecord(name="mirabest", title="MiraBest batches", expected="MiraBest batches", loader=load_mirabest,
                 detect=is_mirabest,
                 description="MiraBest batches (``data_batch_*`` / ``test_batch``, directly or in ``batches/``)"),
    SourceRecord(name="object_cxr", title="Object-CXR", expected="an Object-CXR CSV with its images",
                 loader=load_object_cxr, arguments=object_cxr_arguments, detect=is_object_cxr, suffixes=(".csv",),
                 options=("split", "images_dir", "image_size", "color", "skip_bad", "verbose"),
                 description="an Object-CXR CSV (header ``image_name,annotation``), given directly or found in "
                             "the folder (``split=`` picks one of several), with its images"),
    SourceRecord(name="figshare", title="figshare .mat files", expected="figshare .mat files",
                 loader=load_figshare_mat, detect=is_figshare_dir, suffixes=(".mat",),
                 description="figshare brain-tumour ``.mat`` files, one per slice, with tumour masks and boxes"),
    SourceRecord(name="hdf5", title="HDF5", expected="an HDF5 file", source=HDF5Source, detect=is_hdf5,
                 suffixes=HDF5_SUFFIXES, description="an HDF5 file's arrays ``images``, ``labels``, ``masks`` (h5py)"),
    SourceRecord(name="npy", title=".npy", expected="a .npy file (or a folder with images.npy)", source=NumpySource,
                 detect=is_npy, suffixes=(".npy",),
                 description="a ``.npy`` images file, or a folder holding ``images.npy`` with optional "
                             "``labels.npy`` and ``masks.npy`` (memory-mapped)"),
    SourceRecord(name="zarr", title="zarr", expected="a zarr store", source=ZarrSource, detect=is_zarr,
                 suffixes=(".zarr",), extra="zarr",
                 description="a zarr directory store (a folder with ``zarr.json`` or ``.zgroup``), arrays as HDF5's"),
    SourceRecord(name="fits", title="FITS", expected="a folder of FITS cutouts", source=FitsSource,
                 detect=is_fits_folder, suffixes=FITS_SUFFIXES, extra="fits",
                 description="a folder of FITS cutouts, in class sub-folders or flat with a catalogue (CSV or FITS "
                             "table; astropy)"),
    SourceRecord(name="folder", title="class-folder tree", expected="one sub-folder of images per class",
                 source=FolderSource, loader=load_image_folder, detect=is_image_folder, suffixes=IMAGE_SUFFIXES,
                 description="a class-folder tree of image files, ``root/<class>/<images>`` (Pillow)"),
):
    register_source(_record)
del _record
