"""``xai-tf evaluate --data`` on a lazy source: HDF5, zarr, ``.npy`` and FITS folders, read a chunk at a time.

``xai_tf.data.load`` (what ``--data`` has always meant) reads synthetic data, MiraBest batches,
figshare files, Object-CXR and class-folder trees into memory. An HDF5 file, a zarr store, a
``.npy`` array or a FITS folder is opened with ``xai_tf.data.open`` instead (``xai_tf.data.opening.
source_kind`` decides, for every command alike), so the evaluation reads only the chunk each unit
scores. Every other ``--data`` goes through ``load`` exactly as before.

A FITS folder's options come from the flags ``xai_tf.data.source_fits.add_fits_arguments`` adds
(``--catalogue``, ``--fits-normalize``, ...); :func:`fits_options` reads them from the parsed
arguments and refuses them for data that are not FITS.
"""
from __future__ import annotations

from pathlib import Path

#: The kinds of ``xai_tf.data.open`` that ``--data`` routes to a lazy source.
LAZY_KINDS = ("hdf5", "npy", "zarr", "fits")


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


def lazy_source_for_model(model, data, model_path=None, *, skip_bad: bool = False, split=None, classes: bool = True,
                          source_options: dict | None = None):
    """The lazy source ``--data`` names when it is an HDF5 file, a zarr store, a ``.npy`` array or a FITS folder.

    A lazy source is scored whole: with a split to pick (``--split held-out`` or ``train``, or no
    ``--split`` and a train run recorded beside the model), the data are loaded in memory as
    before (``xai_tf.runs.data_for_model``), which picks the split's images.

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
        Options of a FITS folder's source (:func:`fits_options`); default None. Refused for other
        data. With a split to pick, ``xai_tf.runs.data_for_model`` applies them (``data_options``).

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

    source_options = dict(source_options or {})
    lazy = isinstance(data, (str, Path)) and data != "synthetic" and Path(data).exists()
    kind = source_kind(data) if lazy else None
    if source_options and kind != "fits":
        raise ValueError(f"FITS options {sorted(source_options)} apply to a folder of FITS cutouts; --data {data} is "
                         "not one")
    if kind not in LAZY_KINDS:
        return None
    from xai_tf.runs import run_folder_of

    if split not in (None, "all") or (split is None and run_folder_of(model_path) is not None):
        return None  # the split's images, loaded as before (runs.data_for_model, with the same source options)
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
