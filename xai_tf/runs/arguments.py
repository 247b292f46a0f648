"""The command line's data flags, and the images a saved model is explained or scored on (held out by default)."""
from __future__ import annotations

import argparse
import sys

import numpy as np

from xai_tf.runs.folders import SPLITS, run_folder_of, split_of, trained_settings
from xai_tf.runs.training import TRAIN_DEFAULTS, load_data, train_settings


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
        ``--catalogue`` and ``--fits-*`` flags: ``xai_tf.evaluation.data_sources.fits_options``);
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


VERBOSE_HELP = ("0 quiet; 1 (default) progress bars on a terminal, one line per unit of work otherwise; "
                "2 also TensorFlow's own start-up log")


def _class_list(text: str) -> list[str]:
    """``--classes``' value: comma-separated class names, none empty or repeated."""
    names = [name.strip() for name in text.split(",")]
    if not all(names) or len(set(names)) != len(names):
        raise argparse.ArgumentTypeError(f"--classes takes distinct, non-empty class names separated by commas; "
                                         f"got {text!r}")
    return names


def add_data_arguments(parser, *, for_model: bool) -> None:
    """Add the data flags every subcommand shares, with the same names and defaults.

    The flags: ``--data``, ``--n``, ``--image-size``, ``--color``, ``--skip-bad`` and, with
    ``for_model``, ``--split``, ``--data-seed`` and a FITS folder's options (``--catalogue``,
    ``--file-column``, ``--label-column``, ``--fits-normalize``, ``--fits-sigma``, ``--fits-nan``,
    ``--fits-hdu``: ``xai_tf.data.source_fits.add_fits_arguments``).

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The subcommand's parser; the flags are added to it.
    for_model : bool
        True for commands given a saved model (``explain``, ``evaluate``): the image size and
        channels default to the model's input, synthetic data is regenerated as its train run
        recorded, and ``--split`` picks the images (held out by default). False for ``train``.
    """
    model_default = " (default: the model's input)" if for_model else ""
    parser.add_argument("--data", required=for_model, default=None if for_model else TRAIN_DEFAULTS["data"],
                        help="'synthetic' (the embedded synthetic radio galaxies) or a data set path"
                             + (" (required: no silent default)" if for_model else " (default: synthetic)"))
    parser.add_argument("--n", type=int, default=None if for_model else TRAIN_DEFAULTS["n"],
                        help="number of synthetic images (default: as the model's train run, else "
                             f"{TRAIN_DEFAULTS['n']})" if for_model else
                             f"number of synthetic images (default {TRAIN_DEFAULTS['n']})")
    parser.add_argument("--image-size", type=int, default=None if for_model else TRAIN_DEFAULTS["image_size"],
                        help="image height/width; synthetic images are generated at it, files resized to it"
                             + (model_default or f" (default {TRAIN_DEFAULTS['image_size']})"))
    parser.add_argument("--color", choices=("grayscale", "rgb"), default=None if for_model else "grayscale",
                        help="image channels, honoured for synthetic and folder data"
                             + (model_default or " (default grayscale)"))
    parser.add_argument("--skip-bad", action="store_true", help="skip unreadable files (they are listed)")
    if for_model:
        from xai_tf.data.source_fits import add_fits_arguments  # --catalogue, --fits-*: FitsSource's options

        add_fits_arguments(parser)
        parser.add_argument("--split", choices=SPLITS, default=None,
                            help="which images: held-out (default when the model's train run recorded its "
                                 "split), train, or all")
        parser.add_argument("--masks", default=None, metavar="DIR",
                            help="ground-truth masks of a folder of your own: DIR/<class>/<image stem>.png, or the "
                                 "name of a sub-folder inside each class folder (e.g. masks); default none")
        parser.add_argument("--classes", type=_class_list, default=None, metavar="NAMES",
                            help="the model's class names in its order, comma-separated (e.g. FRI,FRII): each "
                                 "sub-folder of --data is labelled by its index here; needed for a folder with "
                                 "one class sub-folder; default: the sorted sub-folders")
        parser.add_argument("--data-seed", type=int, default=None,
                            help="seed of the synthetic data (default: as the model's train run, else --seed)")
