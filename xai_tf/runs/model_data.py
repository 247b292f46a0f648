"""The images a saved model is explained or scored on: its split (held out by default), an even pick per class.

``data_for_model`` loads them in memory (``xai_tf.data.load``: synthetic data, MiraBest batches,
figshare files, Object-CXR, class-folder trees); ``lazy_source_for_model`` opens an HDF5 file, a
zarr store, a ``.npy`` array or a FITS folder with ``xai_tf.data.open`` instead
(``xai_tf.data.opening.source_kind`` decides, for every command alike), so an evaluation reads only
the chunk each unit scores. The command line's flags that name them are ``xai_tf.cli.data_flags``'.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from xai_tf.runs.folders import run_folder_of, split_of, trained_settings
from xai_tf.runs.training import TRAIN_DEFAULTS, load_data, train_settings

#: The data settings the recipes over a saved model (``explain_run``, ``evaluate_run``, ...) pass on.
DATA_SETTINGS = """
n, image_size, color, skip_bad, split, data_seed, masks, class_names, data_options : optional
    The data settings of :func:`xai_tf.runs.data_for_model` (the command line's ``--n``,
    ``--image-size``, ``--color``, ``--skip-bad``, ``--split``, ``--data-seed``, ``--masks``,
    ``--classes`` and the FITS flags); default None each (False for ``skip_bad``).
"""

#: The saved model, the output folder and the data of every recipe over a saved model; ``.format(what=...)``.
MODEL_OUT_DATA = """
model : str or os.PathLike
    The saved model: ``.keras``, Keras 2 ``.h5`` or a SavedModel folder; its folder is the train
    run whose split and data settings are used (:func:`xai_tf.runs.data_for_model`).
out : str or os.PathLike
    The output folder ({what}).
data : str
    ``"synthetic"`` or a data-set path (``--data``).
"""

#: Their ``verbose``; ``.format(doing="explaining")`` (or "scoring").
VERBOSE = """
verbose : {{0, 1, 2}}, optional
    Verbosity of loading and {doing} (default 1).
"""


def data_for_model(model, model_path=None, *, data="synthetic", n=None, image_size=None, color=None,
                   skip_bad=False, data_seed=None, seed=0, split=None, verbose=1, classes=True, masks=None,
                   class_names=None, data_options=None):
    """The images ``xai-tf explain`` / ``evaluate`` work on: the model's input size and channels, held out.

    Settings left ``None`` come from the model's train run when it has one (``n``, ``data_seed``:
    the synthetic set is regenerated exactly as it was trained on), else from the defaults (600
    synthetic images, ``data_seed = seed``); ``image_size`` and ``color`` default to the model's
    input and must match it when given. ``split=None`` means the held-out images when the run
    recorded its split, else every image (said on stderr).

    Parameters
    ----------
    model : keras.Model
        The loaded classifier; its input shape gives the image size and channels.
    model_path : str or pathlib.Path, optional
        Where the model was loaded from; its folder is the train run folder when it holds
        ``split.json`` (:func:`run_folder_of`). Default None: no train run.
    data : str, optional
        ``"synthetic"`` (default, the embedded radio galaxies) or a data-set path.
    n : int, optional
        Number of synthetic images; default None: as the model's train run recorded (when it was
        trained on the same ``data``), else 600.
    image_size : int, optional
        Image height and width in pixels; default None: the model's. Must equal the model's input
        size when given.
    color : {"grayscale", "rgb"}, optional
        Image channels; default None: the model's (1 channel: grayscale, else rgb). Must match the
        model when given.
    skip_bad : bool, optional
        Skip unreadable files of a folder data set (they are listed on stderr); default False.
    data_seed : int, optional
        Seed of the synthetic data; default None: as the model's train run recorded (when it was
        trained on the same ``data``), else ``seed``.
    seed : int, optional
        Fallback seed of the synthetic data when neither ``data_seed`` nor a train run gives one
        (default 0).
    split : {"held-out", "train", "all"}, optional
        Which images; default None: ``"held-out"`` when the model's train run recorded its split,
        else ``"all"``.
    verbose : int, optional
        Verbosity passed to :func:`load_data` (default 1).
    classes : bool, optional
        The model is explained as a classifier (default True): its number of classes must be the
        data's. False for a regression or segmentation target (``xai-tf evaluate --target``).
    masks : str or pathlib.Path, optional
        Ground-truth masks of a class-folder tree (``--masks``, :func:`load_data`); default None.
    class_names : sequence of str, optional
        The model's class names, by index, for a class-folder tree (``--classes``, :func:`load_data`):
        a folder with one class sub-folder needs them; default None.
    data_options : dict, optional
        The data source's own options, passed to ``xai_tf.data.load`` (a FITS folder's
        ``--catalogue`` and ``--fits-*`` flags: ``xai_tf.cli.data_flags.fits_options``);
        default None.

    Returns
    -------
    dataset : xai_tf.data.LabelledImages
        The images of the chosen split.
    indices : numpy.ndarray, shape (M,), int64
        Their indices in the loaded data set.
    split : str
        The split used: ``"held-out"``, ``"train"`` or ``"all"``.

    Raises
    ------
    ValueError
        If ``image_size`` or ``color`` does not match the model, ``split`` is not ``"all"`` and no
        train run recorded a split beside the model, the data are not those the run was trained on
        (by fingerprint), or the data's number of classes is not the model's.
    """
    height, width, channels = (int(v) for v in model.input_shape[1:4])
    if image_size is not None and (image_size, image_size) != (height, width):
        raise ValueError(f"--image-size {image_size} does not match the model's input size {height}x{width}; "
                         "leave it out to use the model's")
    model_color = "grayscale" if channels == 1 else "rgb"
    if color is not None and color != model_color:
        raise ValueError(f"--color {color} does not match the model, which takes {channels}-channel images "
                         f"({model_color}); leave it out to use the model's")
    folder = run_folder_of(model_path)
    recorded = (trained_settings(folder) or {}) if folder is not None else {}
    from_run = recorded.get("data") == data
    settings = train_settings(
        data=data, image_size=height, color=model_color, skip_bad=skip_bad,
        n=n if n is not None else (recorded.get("n") if from_run else TRAIN_DEFAULTS["n"]),
        seed=data_seed if data_seed is not None else (recorded.get("seed", seed) if from_run else seed),
        **({"data_options": dict(data_options)} if data_options else {}))
    dataset = load_data(settings, verbose, masks=masks, class_names=class_names)
    if split is None:
        if folder is None:
            print("no split recorded beside the model (no train run folder): using every image", file=sys.stderr)
            split = "all"
        else:
            split = "held-out"
    if split != "all" and folder is None:
        raise ValueError(f"--split {split} needs the split a training run recorded beside the model "
                         f"({model_path} has no split.json next to it); use --split all")
    subset, indices = split_of(folder, dataset, split) if split != "all" else (dataset, np.arange(len(dataset)))
    from xai_tf.models.head import head_of

    if not classes:
        return subset, indices, split
    classes = head_of(model).num_classes
    if classes != len(dataset.class_names):
        raise ValueError(f"the data has {len(dataset.class_names)} class(es) {list(dataset.class_names)} but the "
                         f"model predicts {classes}; pass the data set the model was trained for")
    return subset, indices, split


def per_class(labels, limit: int, seed: int) -> np.ndarray:
    """Indices of ``limit`` images spread evenly over the classes of ``labels``, drawn with ``seed``.

    Each class gets ``limit // classes`` images (the first ``limit % classes`` classes one more);
    a class with too few gives all it has and the others fill up, so ``min(limit, N)`` are chosen.
    ``xai-tf explain --limit`` and ``xai-tf meta-evaluate --limit`` pick their images with it.

    Parameters
    ----------
    labels : array-like of int, shape (N,)
        The class of each image.
    limit : int
        How many images to pick (all ``N`` when ``limit >= N``).
    seed : int
        Seed of the draw (``xai_tf._random.rng_for(seed, 7, class)`` per class).

    Returns
    -------
    numpy.ndarray, shape (min(limit, N),), int64
        The chosen indices, sorted.
    """
    from xai_tf._random import rng_for

    labels = np.asarray(labels)
    classes = np.unique(labels)
    pools = {c: rng_for(seed, 7, int(c)).permutation(np.flatnonzero(labels == c)) for c in classes}
    chosen, wanted = [], min(int(limit), len(labels))
    while len(chosen) < wanted:
        for c in classes:
            taken = sum(int(labels[i]) == c for i in chosen)
            if taken < len(pools[c]) and len(chosen) < wanted:
                chosen.append(int(pools[c][taken]))
    return np.sort(np.asarray(chosen, dtype=np.int64))


def lazy_source_for_model(model, data, model_path=None, *, skip_bad: bool = False, split=None, classes: bool = True,
                          source_options: dict | None = None):
    """The lazy source ``--data`` names when it is an HDF5 file, a zarr store, a ``.npy`` array or a FITS folder.

    A lazy source is scored whole: with a split to pick (``--split held-out`` or ``train``, or no
    ``--split`` and a train run recorded beside the model), the data are loaded in memory as
    before (:func:`data_for_model`), which picks the split's images.

    Parameters
    ----------
    model : keras.Model
        The loaded model; its input shape is what the source's images must have (FITS cutouts
        are resized to its height and width).
    data : str
        The ``--data`` value.
    model_path : str or pathlib.Path, optional
        Where the model was loaded from (its train run folder may record a split); default None.
    skip_bad : bool, optional
        Passed to the source (default False).
    split : {None, "all", "held-out", "train"}, optional
        The ``--split`` value (default None).
    classes : bool, optional
        The model is explained as a classifier (default True): its number of classes must be the
        source's.
    source_options : dict, optional
        Options of a FITS folder's source (``xai_tf.cli.data_flags.fits_options``); default None.
        Refused for other data. With a split to pick, :func:`data_for_model` applies them
        (``data_options``).

    Returns
    -------
    xai_tf.data.ImageSource or None
        The source, or None when ``data`` is ``"synthetic"``, a path that ``xai_tf.data.load`` reads
        and no source does, or a split is to be picked.

    Raises
    ------
    ValueError
        If the source's images do not have the model's input shape, its number of classes is not
        the model's, or ``source_options`` are given for data that are not a FITS folder read
        whole; the source's own errors pass through.
    """
    from xai_tf.data.opening import open as open_source
    from xai_tf.data.opening import source_kind
    from xai_tf.data.records import lazy_records

    source_options = dict(source_options or {})
    lazy = isinstance(data, (str, Path)) and data != "synthetic" and Path(data).exists()
    kind = source_kind(data) if lazy else None
    if source_options and kind != "fits":
        raise ValueError(f"FITS options {sorted(source_options)} apply to a folder of FITS cutouts; --data {data} is "
                         "not one")
    # a format with a lazy source and no whole-set loader (HDF5, .npy, zarr, FITS, and any registered
    # like them) is read chunk by chunk; the others (class folders, MiraBest, ...) are loaded whole
    if kind not in [record.name for record in lazy_records() if record.loader is None]:
        return None
    if split not in (None, "all") or (split is None and run_folder_of(model_path) is not None):
        return None  # the split's images, loaded as before (data_for_model, with the same source options)
    height, width, channels = (int(v) for v in model.input_shape[1:4])
    options = {"skip_bad": skip_bad, **({"image_size": (height, width)} if kind == "fits" else {}), **source_options}
    source = open_source(data, **options)
    if source.image_shape != (height, width, channels):
        raise ValueError(f"--data {data} holds images of shape {source.image_shape}; the model takes "
                         f"{(height, width, channels)}")
    if classes:
        from xai_tf.models.head import head_of

        if head_of(model).num_classes != source.num_classes:
            raise ValueError(f"--data {data} has {source.num_classes} class(es) {list(source.class_names)} but the "
                             f"model predicts {head_of(model).num_classes}; pass the data set the model was trained "
                             "for")
    return source
