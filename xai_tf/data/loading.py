"""``load(source)``: one entry point that picks the right loader from what is at a path.

This is what ``xai-tf train --data synthetic|PATH`` calls. Which loader reads a path is decided by
the format records (:mod:`xai_tf.data.records`): the formats with a whole-set loader first (MiraBest
batches, Object-CXR, figshare, class-folder trees), then those read whole through their lazy
sources (``xai_tf.data.open``: HDF5, ``.npy``, zarr, FITS); see :func:`load`.
"""
from __future__ import annotations

import inspect
from pathlib import Path

import numpy as np

from xai_tf._checks import check_choice
from xai_tf._docstrings import fill_doc
from xai_tf.data.labelled import LabelledImages
from xai_tf.data.opening import load_source
from xai_tf.data.records import detection_text, expected_text, load_records
from xai_tf.data.synthetic import synthetic_radio_galaxies

SYNTHETIC_DEFAULT_N = 600


@fill_doc(load_order=detection_text(load_records()))
def load(source, **options) -> LabelledImages:
    """Load a data set from ``"synthetic"`` or a path, dispatching on what is there.

    This is what ``xai-tf train --data synthetic|PATH`` calls. A path is read by the first
    registered format (:func:`~xai_tf.data.list_sources`) whose predicate accepts it, those with a
    whole-set loader first, then those read whole through their lazy source
    (:func:`~xai_tf.data.open`); the built-in ones, in order:

    {load_order}

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
    for record in load_records():
        if not record.detects(path):
            continue
        if record.loader is None:  # a lazy source, read whole
            return load_source(path, **options)
        fixed = record.loader_arguments(path, options)
        return _call(record.loader, record.title, options, **fixed)
    raise ValueError(f"source={str(source)!r}: found no data set there; expected {expected_text(load_records())}")


def _call(loader, kind: str, options: dict, **fixed):
    accepted = [name for name in inspect.signature(loader).parameters if name not in fixed]
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise TypeError(f"option(s) {', '.join(unknown)} not understood by the {kind} loader "
                        f"{loader.__name__}; it takes: {', '.join(accepted)}")
    return loader(**fixed, **options)
