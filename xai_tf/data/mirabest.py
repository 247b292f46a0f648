"""MiraBest radio galaxies (Porter & Scaife 2023): CIFAR-style pickled batches, read safely.

The distribution (``MiraBest_full_batches.tar.gz``) unpacks to ``batches/`` with ``data_batch_1``
... ``data_batch_7`` (train), ``test_batch`` and ``batches.meta``. Each batch is a pickled dict with
``data`` (uint8 ``(N, 150*150)`` rows) and ``labels`` (ten fine classes); the meta file holds
``label_names``. Fine labels 0-4 are FRI (0-2 confident: standard, wide-angle tail, head-tail;
3-4 uncertain), 5-7 FRII (5-6 confident: standard, double-double; 7 uncertain), 8-9 hybrid.
Paper 000 uses the FRI/FRII sources; ``subset="fr_confident"`` (default) is MiraBest's own
"MBFRConfident" selection.

Why our own unpickler: ``pickle.load`` runs whatever callable a file names (``os.system`` ...), so a
downloaded batch could execute code. ``SafeUnpickler`` resolves only the globals needed to rebuild
dicts, lists, strings, numbers and NumPy arrays, and refuses everything else by name before any of
it is called.
"""
from __future__ import annotations

import io
import pickle
from pathlib import Path

import numpy as np

from xai_tf._checks import check_choice
from xai_tf.data.imagefiles import BadFileError, image_size_arg, read_each, stack_images
from xai_tf.data.labelled import LabelledImages

TRAIN_BATCHES = tuple(f"data_batch_{k}" for k in range(1, 8))
TEST_BATCHES = ("test_batch",)
META_FILE = "batches.meta"
SIDE = 150  # every MiraBest image is 150 x 150 grey pixels
FINE_CLASSES = 10
# fine label -> binary label for the FRI/FRII subsets (other fine labels are left out)
SUBSETS = {
    "full": None,
    "fr_confident": {0: 0, 1: 0, 2: 0, 5: 1, 6: 1},
    "fr_all": {0: 0, 1: 0, 2: 0, 3: 0, 4: 0, 5: 1, 6: 1, 7: 1},
}

# The only globals a batch may name: array reconstruction in NumPy 1.x and 2.x, and the bytes
# helper Python 3 writes for protocol-2 pickles. None of them can run arbitrary code; they only
# build arrays/dtypes/bytes from the data that follows.
_ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
    ("numpy.core.numeric", "_frombuffer"), ("numpy._core.numeric", "_frombuffer"),
    ("numpy", "ndarray"), ("numpy", "dtype"),
    ("_codecs", "encode"),
}


class ForbiddenPickleError(pickle.UnpicklingError, ValueError):
    """A pickle names a global outside the data-only allow-list (it could run code when loaded)."""


class SafeUnpickler(pickle.Unpickler):
    """Unpickler that admits only dicts, lists, tuples, strings, bytes, numbers and NumPy arrays."""

    def find_class(self, module: str, name: str):
        if (module, name) not in _ALLOWED_GLOBALS:
            raise ForbiddenPickleError(
                f"refusing to load global '{module}.{name}': only dicts, lists, strings, numbers and "
                "NumPy arrays are allowed in a data batch")
        return super().find_class(module, name)

    def persistent_load(self, pid):
        raise ForbiddenPickleError(f"refusing persistent id {pid!r}: not plain data")


def safe_load_pickle(path) -> object:
    """Unpickle ``path`` with ``SafeUnpickler`` (latin-1 for Python 2 batches); errors name the file."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise BadFileError(path, f"cannot be read ({error})") from error
    try:
        return SafeUnpickler(io.BytesIO(raw), encoding="latin1").load()
    except ForbiddenPickleError as error:
        raise ForbiddenPickleError(f"{path}: {error}") from None
    except Exception as error:  # truncated or not a pickle at all: EOFError, UnpicklingError, ...
        raise BadFileError(path, f"is not a readable pickled batch ({type(error).__name__}: {error})") from error


def load_mirabest(path_or_dir, split: str = "all", subset: str = "fr_confident", image_size=None,
                  color: str = "grayscale", skip_bad: bool = False) -> LabelledImages:
    """Load MiraBest batches (a batch file, a folder of them, or a folder holding ``batches/``).

    MiraBest (Porter & Scaife 2023) holds 150 x 150 grey radio-galaxy images in CIFAR-style pickled
    batches (``data_batch_1`` ... ``data_batch_7``, ``test_batch``, ``batches.meta``). The batches
    are read with a data-only unpickler: forbidden pickle content (anything that is not plain data)
    always raises ``ForbiddenPickleError``, never skips. Images are uint8 / 255; ``paths`` are
    ``"<batch file>#<row>"``. A batch whose rows are not 150 x 150 grey pixels, or with a fine label
    outside ``batches.meta``'s class names (0-9 without it), is a bad file (``BadFileError``, a
    ValueError naming it; skipped with ``skip_bad``).

    Parameters
    ----------
    path_or_dir : str or pathlib.Path
        A batch file, a folder of batch files, or a folder holding ``batches/``.
    split : {"all", "train", "test"}, optional
        ``"all"`` (default; train then test batches), ``"train"`` or ``"test"``; ignored for a
        single file.
    subset : {"fr_confident", "fr_all", "full"}, optional
        ``"fr_confident"`` (default; MiraBest's own "MBFRConfident" selection, used by paper 000:
        FRI fine labels 0-2 -> 0, FRII 5-6 -> 1), ``"fr_all"`` (0-4 -> FRI, 5-7 -> FRII, hybrids
        left out) or ``"full"`` (ten fine classes named by ``batches.meta``).
    image_size : None, int or tuple of (int, int), optional
        None (default: native 150 x 150), an int (square) or ``(height, width)`` in pixels to
        resize (bilinear).
    color : {"grayscale", "rgb"}, optional
        ``"grayscale"`` (default; native, 1 channel) or ``"rgb"`` (repeated to 3 channels).
    skip_bad : bool, optional
        Skip unreadable batch files, listing them in ``.skipped``, instead of stopping (default
        False).

    Returns
    -------
    LabelledImages
        Images float32 (N, H, W, C) in [0, 1], labels int64 (``class_names`` ``("FRI", "FRII")``
        for the FR subsets, the ten fine names for ``"full"``), ``paths``, and ``info`` with
        ``"loader"``, ``"subset"``, ``"fine_labels"`` (the fine label of each kept image) and
        ``"conversions"`` (one sentence per conversion done: resized, grey to RGB).

    Raises
    ------
    ValueError
        If ``split``, ``subset`` or ``color`` is not one of the choices, ``image_size`` is not
        positive, the path is neither a batch file nor a folder holding batches, no batch could be
        read, or no image has a fine label of the subset.
    TypeError
        If ``image_size`` is neither an int nor a pair.
    BadFileError
        (A ValueError) for the first unreadable or malformed batch, unless ``skip_bad=True``; a
        ``batches.meta`` without ``label_names`` always raises it.
    ForbiddenPickleError
        (A ValueError) if a batch or ``batches.meta`` names a Python global outside the data-only
        allow-list (it could run code when loaded).
    """
    check_choice(split, "split", ("all", "train", "test"))
    check_choice(subset, "subset", tuple(SUBSETS))
    check_choice(color, "color", ("grayscale", "rgb"))
    size = image_size_arg(image_size)
    files, folder = _batch_files(Path(path_or_dir), split)
    # fine labels index batches.meta's label_names (MiraBest's ten classes when there is no meta file)
    names = _meta_names(folder)
    fine_count = len(names) if names else FINE_CLASSES

    def read(file: Path):
        return _read_batch(file, fine_count)

    rows, labels, paths, skipped = [], [], [], []
    for file, (data, batch_labels) in read_each(files, read, skipped, skip_bad=skip_bad,
                                                desc="reading batches", verbose=0):
        rows.append(data)
        labels.append(batch_labels)
        paths.extend(f"{file}#{row}" for row in range(len(batch_labels)))
    if not rows:
        raise ValueError(f"{path_or_dir}: no readable MiraBest batches ({len(skipped)} skipped)")
    images = np.concatenate(rows)
    fine = np.concatenate(labels)

    mapping = SUBSETS[subset]
    if mapping is None:
        class_names = names or tuple(str(k) for k in range(FINE_CLASSES))
        keep = np.ones(len(fine), bool)
        new_labels = fine
    else:
        class_names = ("FRI", "FRII")
        keep = np.isin(fine, list(mapping))
        new_labels = np.array([mapping.get(int(label), -1) for label in fine], np.int64)
    if not keep.any():
        raise ValueError(f"{path_or_dir}: no image has a fine label of subset={subset!r}")
    index = np.flatnonzero(keep)
    stacked, conversions = images[index].astype(np.float32) / 255.0, []
    if size is not None or color == "rgb":
        stacked = stack_images(list(stacked), [paths[i] for i in index], size, color, conversions)
    return LabelledImages(images=stacked, labels=new_labels[index], class_names=class_names,
                          paths=[paths[i] for i in index], skipped=skipped,
                          info={"loader": "mirabest", "subset": subset, "fine_labels": fine[index],
                                "conversions": conversions})


def is_mirabest(path) -> bool:
    """True for a MiraBest batch file or a folder holding batches (directly or in ``batches/``)."""
    path = Path(path)
    if path.is_file():
        return path.name in TRAIN_BATCHES + TEST_BATCHES
    folder = path / "batches" if (path / "batches").is_dir() else path
    return folder.is_dir() and any((folder / name).is_file() for name in TRAIN_BATCHES + TEST_BATCHES)


def _batch_files(path: Path, split: str) -> tuple[list[Path], Path]:
    if path.is_file():
        return [path], path.parent
    folder = path / "batches" if (path / "batches").is_dir() else path
    if not folder.is_dir():
        raise ValueError(f"path_or_dir={str(path)!r} is neither a batch file nor a folder")
    names = {"train": TRAIN_BATCHES, "test": TEST_BATCHES, "all": TRAIN_BATCHES + TEST_BATCHES}[split]
    files = [folder / name for name in names if (folder / name).is_file()]
    if not files:
        raise ValueError(f"{folder} holds none of the MiraBest batch files {', '.join(names)}")
    return files, folder


def _read_batch(file: Path, fine_count: int = FINE_CLASSES) -> tuple[np.ndarray, np.ndarray]:
    """``(images (N, 150, 150, 1) uint8, labels (N,))`` from one batch; layout and labels are checked."""
    entry = safe_load_pickle(file)
    if not isinstance(entry, dict):
        raise BadFileError(file, f"holds a {type(entry).__name__}, expected a dict with 'data' and 'labels'")
    entry = {key.decode("latin1") if isinstance(key, bytes) else key: value for key, value in entry.items()}
    label_key = "labels" if "labels" in entry else "fine_labels" if "fine_labels" in entry else None
    if "data" not in entry or label_key is None:
        raise BadFileError(file, f"has keys {sorted(map(str, entry))}; expected 'data' and 'labels'")
    data = entry["data"]
    labels = np.asarray(entry[label_key])
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8:
        raise BadFileError(file, f"'data' must be a uint8 array; got {type(data).__name__} "
                                 f"{getattr(data, 'dtype', '')}")
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer) or labels.min(initial=0) < 0:
        raise BadFileError(file, "'labels' must be a list of non-negative integers")
    if labels.size and labels.max() >= fine_count:
        bad = sorted({int(label) for label in labels if label >= fine_count})
        raise BadFileError(file, f"'labels' holds {bad}; expected fine labels 0..{fine_count - 1}, one per class "
                                 f"named in {META_FILE} (MiraBest's {FINE_CLASSES} classes when it is absent)")
    if data.ndim == 2:
        data = _unflatten(file, data)
    elif data.ndim == 3:
        data = data[..., None]
    if data.ndim != 4 or data.shape[0] != labels.shape[0] or data.shape[1:] != (SIDE, SIDE, 1):
        raise BadFileError(file, f"'data' has shape {entry['data'].shape} for {labels.shape[0]} labels; "
                                 f"expected {labels.shape[0]} MiraBest images of {SIDE} x {SIDE} grey pixels")
    return data, labels.astype(np.int64)


def _unflatten(file: Path, data: np.ndarray) -> np.ndarray:
    """CIFAR-style rows of ``150 * 150`` grey pixels -> ``(N, 150, 150, 1)``; any other length is refused
    (reshaping, say, 100 values to 10 x 10 would make images MiraBest never had)."""
    length = data.shape[1]
    if length != SIDE * SIDE:
        raise BadFileError(file, f"'data' rows hold {length} values; MiraBest rows are {SIDE} x {SIDE} = "
                                 f"{SIDE * SIDE} grey pixels")
    return data.reshape(-1, SIDE, SIDE, 1)


def _meta_names(folder: Path) -> tuple[str, ...] | None:
    """``label_names`` of ``batches.meta`` in ``folder``, or None when there is no meta file."""
    meta = folder / META_FILE
    if not meta.is_file():
        return None
    entry = safe_load_pickle(meta)
    names = entry.get("label_names", entry.get(b"label_names")) if isinstance(entry, dict) else None
    if not isinstance(names, (list, tuple)) or not names:
        raise BadFileError(meta, "has no 'label_names' list; expected the MiraBest class names")
    return tuple(name.decode("latin1") if isinstance(name, bytes) else str(name) for name in names)
