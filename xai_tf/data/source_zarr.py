"""``ZarrSource``: a zarr directory store's image array, read a chunk of rows at a time (zarr 2.18+ or 3.x).

The same options and conventions as :class:`~xai_tf.data.HDF5Source` (they share
``source_arrays.StoreSource``): arrays ``images`` ``(N, H, W)`` or ``(N, H, W, C)``, ``labels``
``(N,)`` and optional ``masks`` ``(N, H, W)`` in one group, class names in a ``class_names``
attribute of the images array or of the group. The cheap fingerprint hashes the arrays' shapes,
dtypes and chunking and the sizes and modification times of the store's metadata files
(``zarr.json``, or ``.zgroup`` / ``.zarray`` / ``.zattrs`` for zarr format 2), never a chunk:
rewriting pixels in place without touching the metadata needs ``fingerprint(full=True)`` to show.

Requires the ``zarr`` extra (``pip install xai-tf[zarr]``).
"""
from __future__ import annotations

from pathlib import Path

from xai_tf._docstrings import fill_doc
from xai_tf.data.imagefiles import BadFileError
from xai_tf.data.source_arrays import STORE_OPTIONS, StoreSource

#: The metadata files of a zarr group or array (format 3, then format 2).
METADATA_FILES = ("zarr.json", ".zgroup", ".zarray", ".zattrs")


def is_zarr(path) -> bool:
    """True when ``path`` is a zarr directory store: a folder holding ``zarr.json`` or ``.zgroup``."""
    path = Path(path)
    return path.is_dir() and ((path / "zarr.json").is_file() or (path / ".zgroup").is_file())


def _import_zarr():
    try:
        import zarr
    except ImportError as error:
        raise ImportError("zarr stores need zarr: pip install xai-tf[zarr]") from error
    return zarr


@fill_doc(store_options=STORE_OPTIONS.format(array="array", container="group"))
class ZarrSource(StoreSource):
    """A zarr directory store's image array, read a chunk of rows at a time; the store is opened per process.

    Parameters
    ----------
    path : str or pathlib.Path
        The ``.zarr`` folder: a zarr group (format 2 or 3) holding the arrays below.
    {store_options}

    Raises
    ------
    ValueError
        If ``path`` is not a zarr group, lacks the images array, or an array has the wrong rank or
        length (named).
    TypeError
        If an array name is not a str.
    ImportError
        If zarr is not installed (``pip install xai-tf[zarr]``).
    """

    kind, format = "zarr", "zarr"

    def __init__(self, path, images: str = "images", labels: str | None = "labels", masks: str | None = None,
                 class_names=None, *, skip_bad: bool = False):
        _import_zarr()
        if not is_zarr(path):
            raise ValueError(f"path={str(path)!r} is not a zarr directory store (a folder with zarr.json or .zgroup)")
        self._open_named(path, images, labels, masks, class_names, skip_bad)

    def _open_store(self):
        zarr = _import_zarr()
        try:
            return zarr.open_group(str(self.path), mode="r")
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise BadFileError(self.path, f"cannot be opened as a zarr group ({error})") from error

    @staticmethod
    def _is_array(store, name: str) -> bool:
        return isinstance(store[name], _import_zarr().Array)

    def _metadata(self):
        stamps = []
        for folder in [self.path, *(self.path / name for name in self._names.values() if name is not None)]:
            for name in METADATA_FILES:
                if (folder / name).is_file():
                    stat = (folder / name).stat()
                    stamps.append([str((folder / name).relative_to(self.path)), stat.st_size, stat.st_mtime_ns])
        images, masks = self._arrays()
        chunks = [list(array.chunks) for array in (images, masks) if array is not None]
        return [stamps, self._names, chunks] + super()._metadata()
