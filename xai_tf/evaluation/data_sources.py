"""``xai-tf evaluate --data`` on a lazy source: HDF5 files, ``.npy`` arrays and FITS folders, read a chunk at a time.

``xai_tf.data.load`` (what ``--data`` has always meant) reads synthetic data, MiraBest batches,
figshare files, Object-CXR and class-folder trees into memory; it has no reader for HDF5, ``.npy``
or FITS. Those paths are opened with ``xai_tf.data.open`` instead, so the evaluation reads only the
chunk each unit scores. Every other ``--data`` goes through ``load`` exactly as before.
"""
from __future__ import annotations

from pathlib import Path

#: The kinds of ``xai_tf.data.open`` that ``--data`` routes to a lazy source (``load`` reads none of them).
LAZY_KINDS = ("hdf5", "npy", "fits")


def lazy_source_for_model(model, data, model_path=None, *, skip_bad: bool = False, split=None, classes: bool = True):
    """The lazy source ``--data`` names when it is an HDF5 file, a ``.npy`` array or a FITS folder; else None.

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

    Returns
    -------
    xai_tf.data.ImageSource or None
        The source, or None when ``data`` is ``"synthetic"``, a path that ``xai_tf.data.load`` reads
        and no source does, or a split is to be picked.

    Raises
    ------
    ValueError
        If the source's images do not have the model's input shape, or its number of classes is
        not the model's; the source's own errors pass through.
    """
    from xai_tf.data.opening import open as open_source
    from xai_tf.data.opening import source_kind

    if not isinstance(data, (str, Path)) or data == "synthetic" or not Path(data).exists():
        return None
    kind = source_kind(data)
    if kind not in LAZY_KINDS:
        return None
    from xai_tf.runs import run_folder_of

    if split not in (None, "all") or (split is None and run_folder_of(model_path) is not None):
        return None  # the split's images, loaded as before
    height, width, channels = (int(v) for v in model.input_shape[1:4])
    options = {"skip_bad": skip_bad, **({"image_size": (height, width)} if kind == "fits" else {})}
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
