"""``load(source)``: one entry point that picks the right loader from what is at a path.

This is what ``xai-tf train --data synthetic|PATH`` calls. Detection order for a path:
MiraBest batches (``data_batch_*`` / ``test_batch``, directly or in ``batches/``), figshare ``.mat``
files, an Object-CXR CSV (header ``image_name,annotation``, given directly or found in the folder),
then a class-folder tree, then an HDF5 file, a ``.npy`` array or a folder of FITS cutouts (read whole
through their lazy sources, ``xai_tf.data.open``).
"""
from __future__ import annotations

import inspect
from pathlib import Path

import numpy as np

from xai_tf._checks import check_choice
from xai_tf.data.figshare import is_figshare_dir, load_figshare_mat
from xai_tf.data.folders import is_image_folder, load_image_folder
from xai_tf.data.labelled import LabelledImages
from xai_tf.data.mirabest import is_mirabest, load_mirabest
from xai_tf.data.object_cxr import load_object_cxr
from xai_tf.data.opening import load_source, source_kind
from xai_tf.data.synthetic import synthetic_radio_galaxies

SYNTHETIC_DEFAULT_N = 600


def load(source, **options) -> LabelledImages:
    """Load a data set from ``"synthetic"`` or a path, dispatching on what is there.

    This is what ``xai-tf train --data synthetic|PATH`` calls. Detection order for a path: MiraBest
    batches (``data_batch_*`` / ``test_batch``, directly or in ``batches/``), an Object-CXR CSV
    (header ``image_name,annotation``, given directly or found in the folder), figshare ``.mat``
    files, then a class-folder tree, then what :func:`~xai_tf.data.open` reads (an HDF5 file, a
    ``.npy`` array, a folder of FITS cutouts), read whole.

    Parameters
    ----------
    source : str or pathlib.Path
        ``"synthetic"`` (see :func:`~xai_tf.data.synthetic_radio_galaxies`), or a path to a MiraBest batch
        folder/file, a folder of figshare ``.mat`` files, an Object-CXR CSV (or a folder with exactly
        one such CSV, or several and ``split="train"|"dev"``), or a class-folder tree.
    **options
        Passed on to the chosen loader; the common ones are ``image_size`` (int or (H, W)),
        ``color`` (``"grayscale"`` | ``"rgb"``, plus ``"auto"`` for folders and Object-CXR) and
        ``skip_bad=False``. For ``"synthetic"``: ``n`` (default 600), ``image_size`` (default
        150), ``seed``, ``noise``, ``class_balance``, ``distractors``; ``color`` (default
        ``"grayscale"``; ``"rgb"`` repeats the grey channel) and ``skip_bad`` (ignored: generated
        data has no files to skip) are also accepted. For a class-folder tree: ``classes`` (the
        model's class names by index; required for a folder with one class sub-folder). For
        Object-CXR: ``split`` (which CSV of a folder) and ``images_dir`` (default: the folder
        named like the CSV beside it, such as ``train/`` beside ``train.csv``, else the CSV's own
        folder). An option the chosen loader does not take raises TypeError listing the ones it
        does. For an HDF5 file, a ``.npy`` array or a FITS folder: ``image_size``, ``color``,
        ``skip_bad`` and the source's own options (:func:`~xai_tf.data.open`).

    Returns
    -------
    LabelledImages
        The data set, images float32 (N, H, W, C) in [0, 1]; for files, ``info["conversions"]``
        lists what was done to the user's images (resized, grey to RGB, RGB to grey, range scaling),
        one sentence each (empty when nothing was).

    Raises
    ------
    TypeError
        If ``source`` is neither a str nor a path, or an option is not understood by the chosen
        loader.
    ValueError
        If the path does not exist or holds no recognised data set, or if a folder holds several
        Object-CXR CSVs and no (or a wrong) ``split``; the loaders' own errors pass through.
    """
    if isinstance(source, str) and source == "synthetic":
        options.setdefault("n", SYNTHETIC_DEFAULT_N)
        options.pop("skip_bad", None)  # generated data has no files to skip
        color = check_choice(options.pop("color", "grayscale"), "color", ("auto", "grayscale", "rgb"))
        data = _call(synthetic_radio_galaxies, "synthetic", options)
        if color == "rgb":
            data.images = np.repeat(data.images, 3, axis=-1)
        return data
    if not isinstance(source, (str, Path)):
        raise TypeError(f"source must be 'synthetic' or a path; got {type(source).__name__}")
    path = Path(source)
    if not path.exists():
        raise ValueError(f"source={str(source)!r} is neither 'synthetic' nor an existing path")
    if is_mirabest(path):
        return _call(load_mirabest, "MiraBest batches", options, path_or_dir=path)
    csv_path = _object_cxr_csv(path, options.pop("split", None))
    if csv_path is not None:
        images_dir = options.pop("images_dir", None) or _object_cxr_images(csv_path)
        return _call(load_object_cxr, "Object-CXR", options, images_dir=images_dir, csv_path=csv_path)
    if is_figshare_dir(path):
        return _call(load_figshare_mat, "figshare .mat files", options, dir_or_files=path)
    if is_image_folder(path):
        return _call(load_image_folder, "class-folder tree", options, root=path)
    if source_kind(path) is not None:  # an HDF5 file, a .npy array or a folder of FITS cutouts, read whole
        return load_source(path, **options)
    raise ValueError(f"source={str(source)!r}: found no data set there; expected MiraBest batches, figshare .mat "
                     "files, an Object-CXR CSV with its images, one sub-folder of images per class, an HDF5 file, "
                     "a .npy array or a folder of FITS cutouts")


def _call(loader, kind: str, options: dict, **fixed):
    accepted = [name for name in inspect.signature(loader).parameters if name not in fixed]
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise TypeError(f"option(s) {', '.join(unknown)} not understood by the {kind} loader "
                        f"{loader.__name__}; it takes: {', '.join(accepted)}")
    return loader(**fixed, **options)


def _is_object_cxr_csv(path: Path) -> bool:
    try:
        with open(path, encoding="utf-8") as handle:
            header = handle.readline().strip().lower().replace(" ", "")
    except (OSError, UnicodeDecodeError):
        return False
    return header in ("image_name,annotation", "image_path,annotation")


def _object_cxr_csv(path: Path, split) -> Path | None:
    if path.is_file():
        return path if path.suffix.lower() == ".csv" and _is_object_cxr_csv(path) else None
    candidates = sorted(csv for csv in path.glob("*.csv") if _is_object_cxr_csv(csv))
    if split is not None:
        chosen = [csv for csv in candidates if csv.stem == split]
        if not chosen:
            raise ValueError(f"split={split!r}: no {split}.csv with Object-CXR annotations in {path}")
        return chosen[0]
    if len(candidates) > 1:
        raise ValueError(f"{path} holds several Object-CXR CSVs ({', '.join(csv.name for csv in candidates)}); "
                         f"pass split= one of {', '.join(csv.stem for csv in candidates)}")
    return candidates[0] if candidates else None


def _object_cxr_images(csv_path: Path) -> Path:
    """The challenge layout keeps ``train.csv`` beside ``train/``; else the CSV's own folder."""
    sibling = csv_path.with_suffix("")
    return sibling if sibling.is_dir() else csv_path.parent
