"""The data flags every ``xai-tf`` command shares (``--data``, ``--n``, ``--split``, ...) and ``--verbose``'s help.

The images those flags name are picked by ``xai_tf.runs.data_for_model`` or, for an HDF5 file, a
zarr store, a ``.npy`` array or a FITS folder read a chunk at a time,
``xai_tf.runs.lazy_source_for_model`` (commands given a saved model), or ``xai_tf.runs.load_data``
(``xai-tf train``). A FITS folder's own flags (``--catalogue``, ``--fits-normalize``, ...; added by
``xai_tf.data.source_fits.add_fits_arguments``) are read back by :func:`fits_options`, which
refuses them for data that are not FITS.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from xai_tf.runs.folders import SPLITS
from xai_tf.runs.training import TRAIN_DEFAULTS

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


def fits_options(args) -> dict:
    """The FITS source options given on the command line (``--catalogue``, ``--fits-*``), by option name.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed arguments of a command whose parser has the FITS flags
        (``xai_tf.data.source_fits.add_fits_arguments``) and ``--data``; a flag not on the parser
        counts as not given.

    Returns
    -------
    dict
        ``{option: value}`` of the flags given (e.g. ``{"normalize": "sigma_clip", "sigma": 2.0}``),
        ready for ``xai_tf.data.FitsSource``; empty when none was.

    Raises
    ------
    ValueError
        If a flag is given and ``--data`` is not a folder of FITS cutouts (the flag is named).
    """
    from xai_tf.data.opening import source_kind
    from xai_tf.data.source_fits import FITS_FLAGS

    given = {flag: option for flag, option in FITS_FLAGS.items() if getattr(args, f"fits_{option}", None) is not None}
    data = getattr(args, "data", None)
    if given and (data in (None, "synthetic") or not Path(data).exists() or source_kind(data) != "fits"):
        raise ValueError(f"{', '.join(given)} appl{'y' if len(given) > 1 else 'ies'} to FITS cutouts only; --data "
                         f"{data} is not a folder of FITS files")
    return {option: getattr(args, f"fits_{option}") for option in given.values()}
