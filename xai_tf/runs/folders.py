"""Run folders, one writer and one reader each: train runs, explain folders, and the split a model was trained on."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from xai_tf._io import fingerprint, write_json
from xai_tf._versions import package_versions


def read_json(path: Path, what: str):
    """Read the JSON file at ``path``, or return None when there is no such file.

    Parameters
    ----------
    path : str or pathlib.Path
        The JSON file.
    what : str
        What the file belongs to, named in the error message (e.g. ``"run 'v1'"``).

    Returns
    -------
    object or None
        The decoded JSON value (usually a dict), or None when ``path`` is not a file.

    Raises
    ------
    ValueError
        If the file is not valid JSON (``what`` and the path are named).
    """
    path = Path(path)
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except ValueError as error:
        raise ValueError(f"{what}: {path} is not valid JSON ({error})") from None


def read_train_run(folder, name: str | None = None) -> dict:
    """Read a train run folder (:func:`train`): its name, folder and JSON files.

    Parameters
    ----------
    folder : str or pathlib.Path
        A train run folder.
    name : str, optional
        The run's name; default the folder's name.

    Returns
    -------
    dict
        ``{"name", "dir", "report", "history", "config", "split"}``: ``dir`` the folder as a
        ``pathlib.Path``, the others the contents of ``report.json``, ``history.json``,
        ``config.json`` and ``split.json`` (None where absent).

    Raises
    ------
    ValueError
        If ``folder`` does not exist, or one of its JSON files is not valid JSON.
    """
    folder = Path(folder)
    name = name or folder.name
    if not folder.is_dir():
        raise ValueError(f"run {name!r}: folder {folder} does not exist")
    entry = {"name": name, "dir": folder}
    for key, filename in (("report", "report.json"), ("history", "history.json"), ("config", "config.json"),
                          ("split", "split.json")):
        entry[key] = read_json(folder / filename, f"run {name!r}")
    return entry


def trained_settings(folder) -> dict | None:
    """Return the settings a train run folder was trained with (None when it has no readable config).

    Parameters
    ----------
    folder : str or pathlib.Path
        A train run folder.

    Returns
    -------
    dict or None
        The ``arguments`` recorded in ``config.json`` (``TRAIN_DEFAULTS``' keys plus ``out``), or
        None when ``config.json`` is absent, not valid JSON or not a mapping.
    """
    try:
        config = read_json(Path(folder) / "config.json", "train run")
    except ValueError:
        return None
    return None if not isinstance(config, dict) else config.get("arguments")


def trained_with(folder, settings: dict) -> bool:
    """THE "already trained with these settings?" rule: ``model.keras`` is there and ``config.json`` records them.

    Used by the demo and the studies to skip training. ``config.json`` is the last file a train run
    writes (:func:`train`), so a run stopped half-way answers False and is trained again.

    Parameters
    ----------
    folder : str or pathlib.Path
        A train run folder.
    settings : dict
        The wanted settings (``TRAIN_DEFAULTS``' keys); other recorded arguments (``out``) are ignored.

    Returns
    -------
    bool
        True when ``model.keras`` exists and ``config.json`` records every wanted setting with the
        same value (compared as JSON reads them back: tuples as lists); False otherwise.
    """
    stored = trained_settings(folder)
    if stored is None or not (Path(folder) / "model.keras").is_file():
        return False
    wanted = json.loads(json.dumps(settings, default=str))  # as JSON reads back (tuples -> lists)
    return {key: stored.get(key) for key in wanted} == wanted


def write_explain_folder(folder, *, images, labels, predictions, maps: dict, class_names, meta: dict,
                         masks=None, indices=None) -> None:
    """Write an explain folder (see the module docstring).

    Parameters
    ----------
    folder : str or pathlib.Path
        The explain folder; created when missing (existing files are overwritten).
    images : numpy.ndarray, shape (N, H, W, C)
        The explained images, float in [0, 1].
    labels : numpy.ndarray, shape (N,)
        The images' true class indices (int).
    predictions : numpy.ndarray, shape (N,)
        The model's predicted class indices (int).
    maps : dict of str to numpy.ndarray
        ``{method: maps}``, each of shape ``(N, H, W)``, in method order.
    class_names : sequence of str
        The data set's class names, by class index.
    meta : dict
        More entries of ``explain.json`` (``command``, ``arguments``, ``model_weights``, ``seconds``...).
    masks : numpy.ndarray, shape (N, H, W), optional
        Ground-truth masks of the images; default None: not stored.
    indices : numpy.ndarray, shape (N,), optional
        The images' indices in their data set; default None: not stored.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(folder / "maps.npz", **maps)
    arrays = {"images": images, "labels": labels, "predictions": predictions}
    if masks is not None:
        arrays["masks"] = masks
    if indices is not None:
        arrays["indices"] = indices
    np.savez_compressed(folder / "images.npz", **arrays)
    write_json(folder / "explain.json", {
        **meta, "methods": list(maps), "class_names": list(class_names), "labels": np.asarray(labels).tolist(),
        "predictions": np.asarray(predictions).tolist(), "versions": package_versions()})


def cam_layer_of(model) -> str | None:
    """Return the layer CAM methods use by default (the last convolution), or None for a model without one.

    Parameters
    ----------
    model : keras.Model
        The classifier.

    Returns
    -------
    str or None
        The name of the model's last convolution layer (``xai_tf.models.graph.find_last_conv_layer``,
        nested backbones searched too; on a transformer the tokens entering its last attention
        layer, ``xai_tf.models.graph.default_cam_layer``), or None when it has none.
    """
    from xai_tf.models.graph import default_cam_layer

    try:
        return default_cam_layer(model)
    except ValueError:
        return None


def read_explain_folder(folder) -> dict:
    """Read an explain folder (:func:`write_explain_folder`, ``xai-tf explain``, the demo).

    Parameters
    ----------
    folder : str or pathlib.Path
        The explain folder, holding ``maps.npz``, ``images.npz`` and ``explain.json``.

    Returns
    -------
    dict
        ``{"meta", "maps", "methods", "images", "labels", "predictions", "masks", "indices"}``:
        ``meta`` the content of ``explain.json``; ``maps`` ``{method: (N, H, W) array}``;
        ``methods`` the method names in ``explain.json``'s order (those with maps); ``images``
        ``(N, H, W, C)``; ``labels``, ``predictions`` and ``indices`` ``(N,)`` and ``masks``
        ``(N, H, W)``, each None where not stored.

    Raises
    ------
    ValueError
        If ``folder`` lacks one of the three files (the missing ones are named), or
        ``explain.json`` is not valid JSON.
    """
    folder = Path(folder)
    missing = [name for name in ("maps.npz", "images.npz", "explain.json") if not (folder / name).is_file()]
    if missing:
        raise ValueError(f"{str(folder)!r} lacks {missing}; expected the output folder of `xai-tf explain` or "
                         "of the demo")
    meta = read_json(folder / "explain.json", "explain folder")
    with np.load(folder / "maps.npz") as stored:
        maps = {key: stored[key] for key in stored.files}
    with np.load(folder / "images.npz") as stored:
        arrays = {key: stored[key] for key in stored.files}
    methods = [m for m in meta.get("methods", list(maps)) if m in maps]
    return {"meta": meta, "maps": maps, "methods": methods, "images": arrays["images"],
            "labels": arrays.get("labels"), "predictions": arrays.get("predictions"), "masks": arrays.get("masks"),
            "indices": arrays.get("indices")}


# ---------------------------------------------------------------------------------------------
# held-out by default: the images a command explains or scores
# ---------------------------------------------------------------------------------------------
SPLITS = ("held-out", "train", "all")


def run_folder_of(model_path) -> Path | None:
    """Return the train run folder a saved model belongs to (it holds ``split.json``), or None.

    Parameters
    ----------
    model_path : str, pathlib.Path or None
        The saved model's path (e.g. ``runs/train/model.keras``); anything else (a model object,
        None) gives None.

    Returns
    -------
    pathlib.Path or None
        The model file's folder when it holds ``split.json``, else None.
    """
    if not isinstance(model_path, (str, Path)):
        return None
    folder = Path(model_path).parent
    return folder if (folder / "split.json").is_file() else None


def split_of(folder, data, split: str = "held-out"):
    """The images of ``data`` that a train run ``folder`` held out (or trained on), as LabelledImages.

    Parameters
    ----------
    folder : path
        A train run folder (``xai_tf.runs.train`` / ``xai-tf train``) with its ``split.json``.
    data : LabelledImages
        The same data set the run was trained on (checked by fingerprint).
    split : {"held-out", "train", "all"}
        Which images; default the held-out ones.

    Returns
    -------
    tuple
        ``(LabelledImages subset, indices into data (int64))``.

    Raises
    ------
    ValueError
        The folder records no split, or ``data`` is not the data set the run recorded (both
        fingerprints are named).
    """
    from xai_tf._checks import check_choice

    split = check_choice(split, "split", SPLITS)
    if split == "all":
        return data, np.arange(len(data), dtype=np.int64)
    record = read_json(Path(folder) / "split.json", "train run")
    if record is None:
        raise ValueError(f"split={split!r} needs the split a training run recorded; {folder} has no split.json "
                         "(use split='all' to take every image)")
    given = fingerprint([data.images, data.labels])
    if given != record["data_fingerprint"]:
        raise ValueError(f"split={split!r}: the data given (fingerprint {given}, {len(data)} images) is not the data "
                         f"set the run in {folder} was trained on (fingerprint {record['data_fingerprint']}, "
                         f"{record['images']} images); pass the same data (source, n, image size, color, seed) or "
                         "split='all'")
    indices = np.asarray(record["held_out" if split == "held-out" else "train"], dtype=np.int64)
    return data.subset(indices), indices
