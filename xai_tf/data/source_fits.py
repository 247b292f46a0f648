"""``FitsSource``: radio-astronomy cutouts, one FITS file per object, read a chunk at a time (astropy, memmap).

Layouts: ``root/<class>/<cutouts>.fits`` (like image folders), or one flat folder plus a catalogue
naming each file and its label (``file`` and ``label`` columns by default, as public FIRST / LoTSS
cutout collections ship them): a CSV file, or a FITS binary table (``catalogue="labels.fits"``; the
first table HDU, columns by name). The ``radio_fits_cutouts`` manifest describes the flat layout.
Each cutout's image HDU is read with ``memmap=True`` (degenerate axes such as FIRST's
``(1, 1, H, W)`` are dropped), its blank (NaN) pixels handled as ``nan=`` says, and it is scaled to
[0, 1] as ``normalize=`` says:

- ``"minmax"``: the cutout's own min..max to 0..1;
- ``"sigma_clip"``: MiraBest's preprocessing (Porter & Bowles 2023, after Aniyan & Thorat 2017):
  pixels below ``sigma`` times the background's standard deviation (estimated with iterative
  ``sigma``-clipping) above its median are set to that threshold, then min..max after clipping to 0..1;
- ``"none"``: pixels must already lie in [0, 1].

Requires the ``fits`` extra (``pip install xai-tf[fits]``: astropy).
"""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from xai_tf._checks import check_choice, check_number
from xai_tf.data.imagefiles import BadFileError, image_size_arg, natural_key, resize
from xai_tf.data.sources import FileSource

FITS_SUFFIXES = (".fits", ".fit", ".fts", ".fits.gz", ".fit.gz")
NORMALIZATIONS = ("minmax", "sigma_clip", "none")
NAN_RULES = ("zero", "min", "error")


def is_fits(path: Path) -> bool:
    """True when ``path``'s name ends with a FITS suffix (``.fits``, ``.fit``, ``.fts``, gzipped too)."""
    return path.name.lower().endswith(FITS_SUFFIXES)


def fits_files(folder: Path) -> list[Path]:
    """The FITS files under ``folder`` (hidden ones left out), in natural order."""
    return sorted((path for path in folder.rglob("*") if path.is_file() and is_fits(path)
                   and not any(part.startswith(".") for part in path.relative_to(folder).parts)), key=natural_key)


def is_fits_folder(path) -> bool:
    """True for a folder of FITS cutouts: a sub-folder (not hidden) holding FITS files, or FITS files at its top."""
    path = Path(path)
    if not path.is_dir():
        return False
    subfolders = [child for child in path.iterdir() if child.is_dir() and not child.name.startswith(".")]
    # in class folders, or flat (the catalogue, a CSV or a FITS table, is FitsSource's to find)
    return any(fits_files(child) for child in subfolders) or any(is_fits(child) for child in path.iterdir())


def read_cutout(path, hdu=None) -> np.ndarray:
    """The 2-D image of one FITS file as float64 (memory-mapped when uncompressed); BadFileError if none."""
    from astropy.io import fits

    try:
        with fits.open(path, memmap=True, lazy_load_hdus=True) as hdus:
            chosen = [hdus[hdu]] if hdu is not None else list(hdus)
            for unit in chosen:
                if unit.is_image and unit.data is not None and unit.data.ndim >= 2:
                    data = np.asarray(unit.data)
                    squeezed = data.reshape([n for n in data.shape if n != 1] or [1])
                    if squeezed.ndim != 2:
                        raise BadFileError(path, f"has an image of shape {data.shape}; a cutout must be 2-D "
                                                 "(degenerate axes of length 1 are dropped)")
                    return squeezed.astype(np.float64)
    except BadFileError:
        raise
    except (OSError, ValueError, TypeError, IndexError, KeyError) as error:
        raise BadFileError(path, f"cannot be read as FITS ({error})") from error
    raise BadFileError(path, "has no image HDU" + ("" if hdu is None else f" at hdu={hdu}"))


def scale_cutout(image: np.ndarray, normalize: str, nan: str, sigma: float, path) -> np.ndarray:
    """One cutout (float64 2-D) to float32 in [0, 1]: blank pixels by ``nan``, then ``normalize``."""
    finite = np.isfinite(image)
    if not finite.any():
        raise BadFileError(path, "holds only NaN/blank pixels")
    if not finite.all():
        if nan == "error":
            raise BadFileError(path, f"holds {int((~finite).sum())} NaN/blank pixels; pass nan='zero' or nan='min'")
        image = np.where(finite, image, 0.0 if nan == "zero" else image[finite].min())
    if normalize == "none":
        if image.min() < 0 or image.max() > 1:
            raise BadFileError(path, f"holds pixels in [{image.min():.4g}, {image.max():.4g}], not [0, 1]; pass "
                                     "normalize='minmax' or 'sigma_clip'")
        return image.astype(np.float32)
    if normalize == "sigma_clip":
        image = np.maximum(image, clip_threshold(image, sigma))
    low, high = float(image.min()), float(image.max())
    return ((image - low) / (high - low) if high > low else np.zeros_like(image)).astype(np.float32)


def clip_threshold(image: np.ndarray, sigma: float, iterations: int = 5) -> float:
    """``median + sigma * std`` of the background, estimated by ``iterations`` rounds of ``sigma``-clipping."""
    values = image.ravel()
    for _ in range(iterations):
        median, std = np.median(values), values.std()
        kept = values[np.abs(values - median) <= sigma * std]
        if kept.size == values.size or kept.size == 0:
            break
        values = kept
    return float(np.median(values) + sigma * values.std())


def read_catalogue(path: Path) -> dict[str, list[str]]:
    """A catalogue's columns as stripped strings, by name: a CSV file, or a FITS file's first table HDU."""
    if not is_fits(path):
        with open(path, newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        return {name: [(row[name] or "").strip() for row in rows] for name in (rows[0] if rows else [])}
    from astropy.table import Table

    try:
        table = Table.read(path, format="fits", character_as_bytes=False)
    except (OSError, ValueError, TypeError) as error:
        raise ValueError(f"catalogue {path}: cannot be read as a FITS table ({error})") from error
    return {name: [str(value).strip() for value in table[name]] for name in table.colnames}


class FitsSource(FileSource):
    """FITS cutouts (one file per object) in class sub-folders or a flat folder with a catalogue (CSV or FITS table).

    Parameters
    ----------
    root : str or pathlib.Path
        A folder with one sub-folder of FITS files per class, or a flat folder of FITS files with
        a catalogue CSV (``catalogue``).
    catalogue : str or pathlib.Path, optional
        The catalogue naming each cutout and its label: a CSV file, or a FITS binary table (a name
        ending ``.fits``, ``.fit``, ``.fts``; its first table HDU); a relative path is taken in
        ``root``. Default None: class sub-folders, or the one ``*.csv`` in ``root`` when it has no
        sub-folders (a FITS table is never guessed: name it).
    file_column : str, optional
        The catalogue's column of file names, relative to ``root`` (default ``"file"``).
    label_column : str, optional
        The catalogue's column of labels: class names or integer class indices (default ``"label"``).
    classes : sequence of str, optional
        Class names by index; default the sorted sub-folders, or the catalogue's sorted distinct
        labels (integer labels: ``"0" ... str(max)``).
    image_size : None, int or tuple of (int, int), optional
        None (default: the first cutout's size; another size is a bad row) or the size every
        cutout is resized to (bilinear, after scaling).
    normalize : {"minmax", "sigma_clip", "none"}, optional
        ``"minmax"`` (default), ``"sigma_clip"`` (MiraBest's preprocessing, Porter & Bowles 2023) or
        ``"none"``; see the module notes.
    sigma : float, optional
        The clipping level of ``"sigma_clip"`` in background standard deviations, >= 0.1 (default 3,
        MiraBest's).
    nan : {"zero", "min", "error"}, optional
        Blank (NaN) pixels become 0 before scaling (default ``"zero"``), the cutout's finite minimum
        (``"min"``), or make the row bad (``"error"``). A cutout with no finite pixel is always bad.
    hdu : int, optional
        The HDU holding the image; default None: the first image HDU with data.
    skip_bad : bool, optional
        Pass over bad cutouts in ``read_good`` (default False); see :class:`~xai_tf.data.ImageSource`.

    Raises
    ------
    ValueError
        If ``root`` is not a folder, has no FITS files, the catalogue lacks a column or names a
        missing file, or an option is not one of its choices.
    TypeError
        If ``sigma`` is not a number.
    BadFileError
        (A ValueError) when the first cutout cannot be read (its size is the source's).
    ImportError
        If astropy is not installed (``pip install xai-tf[fits]``).
    """

    def __init__(self, root, catalogue=None, *, file_column: str = "file", label_column: str = "label",
                 classes=None, image_size=None, normalize: str = "minmax", sigma: float = 3.0, nan: str = "zero",
                 hdu: int | None = None, skip_bad: bool = False):
        try:
            import astropy.io.fits  # noqa: F401
        except ImportError as error:
            raise ImportError("FITS cutouts need astropy: pip install xai-tf[fits]") from error
        root = Path(root)
        if not root.is_dir():
            raise ValueError(f"root={str(root)!r} is not a folder of FITS cutouts")
        self.normalize = check_choice(normalize, "normalize", NORMALIZATIONS)
        self.nan = check_choice(nan, "nan", NAN_RULES)
        self.sigma = check_number(sigma, "sigma", low=0.1)
        self.size, self.hdu, self.root = image_size_arg(image_size), hdu, root
        sub_folders = sorted(path for path in root.iterdir() if path.is_dir() and not path.name.startswith(".")
                             and fits_files(path))
        if catalogue is None and not sub_folders:
            found = sorted(root.glob("*.csv"))
            if len(found) != 1:
                raise ValueError(f"root={str(root)!r} has no class sub-folders of FITS files and "
                                 f"{len(found)} CSV files; pass catalogue=<the CSV naming each file and its label>")
            catalogue = found[0].name
        if catalogue is not None:
            names, self.files, self.labels = self._from_catalogue(root / catalogue, file_column, label_column, classes)
        else:
            names = tuple(classes) if classes is not None else tuple(path.name for path in sub_folders)
            unknown = [path.name for path in sub_folders if path.name not in names]
            if unknown:
                raise ValueError(f"classes={list(names)}: the folder(s) {unknown} of {root} are not among them")
            self.files, self.labels = [], []
            for path in sub_folders:
                found = fits_files(path)
                self.files.extend(found)
                self.labels.extend([names.index(path.name)] * len(found))
        if not self.files:
            raise ValueError(f"root={str(root)!r}: no FITS files ({', '.join(FITS_SUFFIXES)})")
        first = read_cutout(self.files[0], hdu)
        self._options = {"catalogue": None if catalogue is None else str(catalogue), "file_column": file_column,
                         "label_column": label_column, "classes": None if classes is None else list(classes),
                         "image_size": None if self.size is None else list(self.size), "normalize": normalize,
                         "sigma": self.sigma, "nan": nan, "hdu": hdu, "skip_bad": bool(skip_bad)}
        super().__init__(len(self.files), (*(self.size or first.shape), 1), names, skip_bad=skip_bad)

    @staticmethod
    def _from_catalogue(path: Path, file_column: str, label_column: str, classes):
        if not path.is_file():
            raise ValueError(f"catalogue={str(path)!r} is not a file")
        columns = read_catalogue(path)
        for column, option in ((file_column, "file_column"), (label_column, "label_column")):
            if column not in columns:
                raise ValueError(f"catalogue {path}: no column {column!r} ({option}); columns: {list(columns)}")
        raw = columns[label_column]
        if classes is not None:
            names = tuple(classes)
        elif all(value.lstrip("-").isdigit() for value in raw):
            names = tuple(str(v) for v in range(max(int(v) for v in raw) + 1))
        else:
            names = tuple(sorted(set(raw)))
        labels = []
        for value in raw:
            if value in names:
                labels.append(names.index(value))
            elif value.isdigit() and int(value) < len(names):
                labels.append(int(value))
            else:
                raise ValueError(f"catalogue {path}: label {value!r} is not one of the classes {list(names)}")
        files = [path.parent / name for name in columns[file_column]]
        missing = [str(file) for file in files if not file.is_file()]
        if missing:
            raise ValueError(f"catalogue {path} names {len(missing)} missing file(s), first {missing[0]}")
        return names, files, labels

    def _rows(self, indices) -> list:
        rows = []
        for index in indices:
            path = self.files[index]
            try:
                image = scale_cutout(read_cutout(path, self.hdu), self.normalize, self.nan, self.sigma, path)
            except BadFileError as error:
                rows.append(error)
                continue
            image = image[..., None]
            rows.append((resize(image, self.size) if self.size is not None else image, self.labels[index], None))
        return rows

    def describe(self) -> dict:
        """Describe the source for ``xai_tf.data.open`` (see :meth:`~xai_tf.data.ImageSource.describe`).

        Returns
        -------
        dict
            ``{"kind": "fits", "path": ..., <every option>}``.
        """
        return {"kind": "fits", "path": str(self.root), **self._options}


#: FitsSource's options as command-line flags (``--data`` a FITS folder): flag -> option.
FITS_FLAGS = {"--catalogue": "catalogue", "--file-column": "file_column", "--label-column": "label_column",
              "--fits-normalize": "normalize", "--fits-sigma": "sigma", "--fits-nan": "nan", "--fits-hdu": "hdu"}


def add_fits_arguments(parser) -> None:
    """Add FitsSource's options as flags (``--catalogue``, ``--file-column``, ``--label-column``, ``--fits-*``).

    Each flag is stored under its option's name with a ``fits_`` prefix (``args.fits_normalize``),
    default None (not given: the source's own default, shown in the help). The flags' names,
    choices and defaults follow :class:`FitsSource`'s constructor.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The subcommand's parser; the flags are added to it in an argument group.
    """
    import inspect

    defaults = {name: parameter.default for name, parameter in inspect.signature(FitsSource).parameters.items()}
    kinds = {"sigma": {"type": float, "metavar": "S"}, "hdu": {"type": int, "metavar": "N"},
             "normalize": {"choices": NORMALIZATIONS}, "nan": {"choices": NAN_RULES},
             "catalogue": {"metavar": "FILE"}, "file_column": {"metavar": "NAME"}, "label_column": {"metavar": "NAME"}}
    helps = {"catalogue": "FITS folders: the catalogue naming each cutout and its label, a CSV file or a FITS table "
                          "(relative to --data; default: class sub-folders, or the folder's one .csv)",
             "file_column": "FITS folders: the catalogue's column of file names",
             "label_column": "FITS folders: the catalogue's column of labels (class names or indices)",
             "normalize": "FITS folders: how each cutout is scaled to [0, 1]",
             "sigma": "FITS folders: the clipping level of sigma_clip, in background standard deviations",
             "nan": "FITS folders: blank (NaN) pixels become 0, the cutout's minimum, or make it bad",
             "hdu": "FITS folders: the HDU holding the image (default: the first image HDU with data)"}
    group = parser.add_argument_group("FITS cutouts (only with --data a folder of FITS files; xai_tf.data.FitsSource)")
    for flag, option in FITS_FLAGS.items():
        default = "" if defaults[option] is None else f" (default {defaults[option]})"
        group.add_argument(flag, dest=f"fits_{option}", default=None, help=helps[option] + default, **kinds[option])
