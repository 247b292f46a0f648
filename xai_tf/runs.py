"""Run recipes and run-folder formats, written and read in one place: train runs and explain folders.

Used by the CLI (``xai-tf train``, ``xai-tf explain``), the demo and the report, so that no caller
builds another's arguments and every folder format has one writer and one reader.

A train run folder (:func:`train`) holds ``model.keras`` (the trained model), ``best.keras`` (the
best epoch, when checkpointing), ``history.json`` (metric -> per-epoch values), ``report.json`` (the
held-out classification report), ``split.json`` (the train and held-out indices with the data
set's fingerprint: what the model was trained on) and ``config.json`` (``{"command": "train",
"arguments": the settings, "versions", "seconds"}``).

An explain folder (:func:`write_explain_folder`) holds ``maps.npz`` (one ``(N, H, W)`` array per
method), ``images.npz`` (``images``, ``labels``, ``predictions`` and, where known, ``masks`` and
``indices``) and ``explain.json`` (methods, class names, labels, predictions, the model's weight
fingerprint when known, the arguments and package versions).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from xai_tf._io import fingerprint, write_json
from xai_tf._versions import package_versions

#: The models ``--model`` names besides the backbones: paper 002's custom CNNs, then the ViT variants.
CUSTOM_MODELS = ("custom-v1", "custom-v2")
VIT_MODELS = ("vit-tiny", "vit-small", "vit-base")
#: The table of the backbone records, read without TensorFlow while ``xai_tf.models.backbones`` is not loaded.
_BACKBONE_TABLE = Path(__file__).parent / "models" / "backbones.py"


def backbone_names() -> tuple[str, ...]:
    """The registered backbones' names (``xai_tf.models.list_backbones()``), without TensorFlow when possible.

    When ``xai_tf.models.backbones`` is loaded, its live registry is read (backbones registered at
    run time included); else the names in the records' table are read from the module's source, so
    that ``xai-tf train --help`` and a study's config check answer without importing TensorFlow.

    Returns
    -------
    tuple of str
        The backbone names, in registration order.
    """
    import importlib

    registry = sys.modules.get("xai_tf.models.backbones")
    if registry is None:
        try:
            return _table_names(_BACKBONE_TABLE.read_text(encoding="utf-8"))
        except (OSError, SyntaxError, ValueError):  # a table this reader does not follow: the live one
            registry = importlib.import_module("xai_tf.models.backbones")
    return registry.list_backbones()


def _table_names(source: str) -> tuple[str, ...]:
    """The first arguments of the ``BackboneRecord(...)`` calls of the module's ``for _record in (...)`` table."""
    import ast

    names = [ast.literal_eval(call.args[0]) for node in ast.parse(source).body
             if isinstance(node, ast.For) and isinstance(node.iter, ast.Tuple)
             for call in node.iter.elts
             if isinstance(call, ast.Call) and getattr(call.func, "id", None) == "BackboneRecord" and call.args]
    if not names or not all(isinstance(name, str) for name in names):
        raise ValueError("no BackboneRecord table found")
    return tuple(names)


def model_names() -> tuple[str, ...]:
    """Every name ``xai-tf train --model`` and a study's ``model:`` accept.

    Returns
    -------
    tuple of str
        ``CUSTOM_MODELS``, ``VIT_MODELS``, then :func:`backbone_names`.
    """
    return CUSTOM_MODELS + VIT_MODELS + backbone_names()


def model_choices_help() -> str:
    """The text listing the ``--model`` choices (``xai-tf train --help``, the errors), from the records.

    Returns
    -------
    str
        ``"custom-v1, custom-v2, a Vision Transformer (vit-tiny, ...) or a backbone: vgg16, ..."``.
    """
    return (f"{', '.join(CUSTOM_MODELS)}, a Vision Transformer ({', '.join(VIT_MODELS)}) or a backbone: "
            f"{', '.join(backbone_names())}")

#: The settings of a train run and their defaults (``xai-tf train``'s flags, the same names).
TRAIN_DEFAULTS = {
    "data": "synthetic", "n": 600, "image_size": 64, "color": "grayscale", "skip_bad": False,
    "model": "custom-v2", "mode": "feature_extraction", "fine_tune_at": None, "weights": None, "head": "flatten",
    "binary_head": False, "epochs": 10, "batch_size": 32, "learning_rate": 1e-3, "lr_step_every": None,
    "no_augment": False, "val_fraction": 0.2, "denoise": None, "seed": 0,
}


def train_settings(**settings) -> dict:
    """Return ``TRAIN_DEFAULTS`` updated by ``settings``.

    Parameters
    ----------
    **settings
        Train settings by name, each a key of ``TRAIN_DEFAULTS`` (``xai-tf train``'s flags with
        underscores: ``model="custom-v1"``, ``epochs=5``, ...); also ``data_options`` (a dict of
        the data source's own options, passed to ``xai_tf.data.load``: a study's ``data.options``).

    Returns
    -------
    dict
        A new dict with every key of ``TRAIN_DEFAULTS``, in its order: the given value, else the
        default (and ``data_options`` when given).

    Raises
    ------
    TypeError
        If a setting is not a key of ``TRAIN_DEFAULTS`` (the unknown ones and the valid ones are
        named).
    """
    unknown = sorted(set(settings) - set(TRAIN_DEFAULTS) - {"data_options"})  # data_options: a study's data.options
    if unknown:
        raise TypeError(f"unknown train setting(s) {unknown}; valid: {', '.join(TRAIN_DEFAULTS)}")
    return {**TRAIN_DEFAULTS, **settings}


def load_data(settings: dict, verbose: int = 1, masks=None, class_names=None):
    """Load the data set the settings name: ``data`` "synthetic" (``n``, ``image_size``, ``seed``) or a folder.

    Synthetic data are generated with ``n``, ``image_size``, ``seed`` and ``color`` (a line says the
    data are synthetic); any other ``data`` is a path loaded with ``xai_tf.data.load``
    (``image_size``, ``color``, ``skip_bad``), the files it skipped are listed on stderr and its
    conversions (``info["conversions"]``: resizing, colour, range scaling) printed on one line.

    Parameters
    ----------
    settings : dict
        Train settings (see :func:`train_settings`); reads ``data``, ``n``, ``image_size``,
        ``color``, ``skip_bad`` and ``seed``.
    verbose : int, optional
        Verbosity (default 1); not read here (the skipped files are always listed).
    masks : str or pathlib.Path, optional
        Ground-truth masks of a class-folder tree (``xai_tf.data.load_image_folder``'s
        ``masks_dir``: a folder ``masks/<class>/<image stem>.*`` or a sub-folder name inside each
        class folder); default None. Not for the synthetic galaxies, which carry their own.
    class_names : sequence of str, optional
        The model's class names, by index, for a class-folder tree (``xai_tf.data.load_image_folder``'s
        ``classes``: each sub-folder is labelled by its index there); default None, the sorted
        sub-folders. Required for a folder with one class sub-folder (``--classes``).

    Returns
    -------
    xai_tf.data.LabelledImages
        The images (float32 in [0, 1], NHWC), labels and class names of the data set.

    Raises
    ------
    ValueError, TypeError
        From ``xai_tf.data.load``: a path that does not exist or holds no known layout, or a bad
        option value.
    """
    from xai_tf import data as data_module

    if settings["data"] == "synthetic":
        if masks is not None:
            raise ValueError("--masks is for a folder of your own; the synthetic galaxies come with their masks")
        if class_names is not None:
            raise ValueError("--classes is for a folder of your own; the synthetic galaxies have theirs")
        print(f"data: synthetic radio galaxies (--data synthetic: {settings['n']} generated images, "
              f"{settings['image_size']} px, seed {settings['seed']}), not images of your own")
        return data_module.load("synthetic", n=settings["n"], image_size=settings["image_size"], seed=settings["seed"],
                                color=settings["color"])
    extra = {} if masks is None else {"masks_dir": masks}
    extra.update(settings.get("data_options") or {})  # a study's data.options: the source's own options
    if class_names is not None:
        if not Path(settings["data"]).is_dir():
            raise ValueError(f"--classes is for a class-folder tree; {settings['data']} is not a folder")
        extra["classes"] = list(class_names)
    dataset = data_module.load(settings["data"], image_size=settings["image_size"], color=settings["color"],
                               skip_bad=settings["skip_bad"], **extra)
    for path, reason in getattr(dataset, "skipped", None) or []:
        print(f"skipped {path}: {reason}", file=sys.stderr)
    if dataset.info.get("conversions"):
        print(f"data: converted {settings['data']}: {'; '.join(dataset.info['conversions'])}")
    return dataset


def training_data(settings: dict, verbose: int = 1, dataset=None):
    """Return the training data: :func:`load_data` (or ``dataset``), denoised with ``denoise`` when set.

    With ``settings["denoise"]`` the whole data set's images are denoised with that filter (paper
    002's Task 1: train on denoised images).

    Parameters
    ----------
    settings : dict
        Train settings (see :func:`train_settings`); reads ``denoise`` (a denoiser name of
        ``xai_tf.denoise.methods()`` or None) and, when ``dataset`` is None, the data settings.
    verbose : int, optional
        0 quiet, 1 (default) progress of the denoising.
    dataset : xai_tf.data.LabelledImages, optional
        The data set already loaded with these settings; default None: loaded with
        :func:`load_data`.

    Returns
    -------
    xai_tf.data.LabelledImages
        The data set, with its images denoised (float32, same shape) when ``denoise`` is set.
    """
    import dataclasses

    dataset = load_data(settings, verbose) if dataset is None else dataset
    if settings["denoise"]:
        from xai_tf import denoise
        dataset = dataclasses.replace(dataset, images=denoise(dataset.images, settings["denoise"], verbose=verbose))
    return dataset


def build_model(settings: dict, input_shape, num_classes: int):
    """Build the untrained model the settings name (a custom CNN, or a ``build_transfer`` backbone).

    ``custom-v1``/``custom-v2`` are ``xai_tf.models.build_custom_cnn`` variants, ``vit-tiny``,
    ``vit-small``, ``vit-base`` ``xai_tf.models.build_vit`` variants; a backbone name
    goes to ``xai_tf.models.build_transfer`` with ``mode``, ``fine_tune_at`` (a string of digits
    is turned into an int), ``weights`` (``None`` means ``"imagenet"``, ``"none"`` no pre-trained
    weights) and ``head``.

    Parameters
    ----------
    settings : dict
        Train settings (see :func:`train_settings`); reads ``model``, ``binary_head``, ``mode``,
        ``fine_tune_at``, ``weights`` and ``head``.
    input_shape : tuple of int
        ``(H, W, C)`` of the images.
    num_classes : int
        Number of classes.

    Returns
    -------
    keras.Model
        The built, uncompiled and untrained model.

    Raises
    ------
    ValueError
        If ``settings["model"]`` is neither a custom CNN, a ViT nor a registered backbone
        (``xai_tf.models.list_backbones()``).
    """
    from xai_tf import models

    name = settings["model"]
    if name in ("custom-v1", "custom-v2"):
        return models.build_custom_cnn(input_shape, num_classes, variant=name.split("-")[1],
                                       binary_head=settings["binary_head"], seed=settings["seed"],
                                       head=settings["head"])
    if name.startswith("vit-") and name[4:] in models.VIT_VARIANTS:
        return models.build_vit(input_shape, num_classes, variant=name[4:], binary_head=settings["binary_head"],
                                seed=settings["seed"])
    if name not in models.list_backbones():
        raise ValueError(f"--model={name!r} is not valid; expected {model_choices_help()}")
    weights = {"none": None, None: "imagenet"}.get(settings["weights"], settings["weights"])
    fine_tune_at = settings["fine_tune_at"]
    if isinstance(fine_tune_at, str) and fine_tune_at.lstrip("-").isdigit():
        fine_tune_at = int(fine_tune_at)
    return models.build_transfer(name, input_shape, num_classes, mode=settings["mode"], fine_tune_at=fine_tune_at,
                                 weights=weights, head=settings["head"], binary_head=settings["binary_head"],
                                 seed=settings["seed"])


def train(out, *, verbose: int = 1, **settings) -> dict:
    """Train as ``settings`` say (``TRAIN_DEFAULTS``' keys) and write the run folder ``out``.

    The data are split by :meth:`xai_tf.data.LabelledImages.split_indices` (``val_fraction``,
    ``seed``); the model is built after ``keras.utils.set_random_seed(seed)``, so the same settings
    give the same model in every process. ``config.json`` is removed first and written last, so a
    run stopped half-way is never taken for a finished one (:func:`trained_with`).

    Parameters
    ----------
    out : str or pathlib.Path
        The run folder (created): model.keras, best.keras, history.json, report.json, split.json,
        config.json (see the module docstring).
    verbose : int, optional
        0 quiet, 1 (default) one line per epoch and the classification report.
    **settings
        Overrides of ``TRAIN_DEFAULTS``.

    Returns
    -------
    dict
        The held-out classification report (``xai_tf.models.classification_report``: per class
        precision, recall, F1 and support, ``accuracy``, the averages and the confusion matrix).

    Raises
    ------
    ValueError
        If a class gets no training or no held-out image (use more images), or a setting has a bad
        value (e.g. an unknown model).
    TypeError
        If a setting is not a key of ``TRAIN_DEFAULTS``.
    """
    from xai_tf import models

    settings = train_settings(**settings)
    started = time.time()
    out = Path(out)
    raw = load_data(settings, verbose)
    dataset = training_data(settings, verbose, raw)
    train_indices, held_out_indices = dataset.split_indices(settings["val_fraction"], seed=settings["seed"])
    for label, name in enumerate(dataset.class_names):
        counts = [int(np.sum(dataset.labels[indices] == label)) for indices in (train_indices, held_out_indices)]
        if min(counts) == 0:
            raise ValueError(f"the data gives class {name!r} {counts[0]} training and {counts[1]} held-out image(s) "
                             f"({len(dataset)} images in all); training needs both: use more images (--n)")
    train_set, held_out = dataset.subset(train_indices), dataset.subset(held_out_indices)
    print(f"data: {len(train_set.labels)} training and {len(held_out.labels)} held-out images, "
          f"classes {list(dataset.class_names)}, shape {dataset.images.shape[1:]}")
    import keras

    # Seeded before the model is built: its initial weights are drawn then (fit seeds only training),
    # so the same settings give the same model in every process.
    keras.utils.set_random_seed(settings["seed"])
    model = build_model(settings, dataset.images.shape[1:], len(dataset.class_names))
    out.mkdir(parents=True, exist_ok=True)  # only now: a bad setting above leaves no folder behind
    # config.json is written last and says what the folder was trained with (trained_with): remove
    # an older one first, so a run stopped half-way is never taken for a finished one.
    (out / "config.json").unlink(missing_ok=True)
    result = models.fit(model, train_set, held_out, epochs=settings["epochs"], batch_size=settings["batch_size"],
                        augment=not settings["no_augment"], learning_rate=settings["learning_rate"],
                        lr_step_every=settings["lr_step_every"], checkpoint=out / "best.keras",
                        seed=settings["seed"], verbose=2 if verbose else 0)
    result.model.save(out / "model.keras")
    write_json(out / "history.json", result.history)
    write_json(out / "split.json", {"train": train_indices.tolist(), "held_out": held_out_indices.tolist(),
                                    # of the data as loaded (before --denoise): what explain/evaluate load
                                    "data_fingerprint": fingerprint([raw.images, raw.labels]),
                                    "images": len(dataset.labels)})
    report = models.classification_report(result.model, held_out, list(dataset.class_names),
                                          path=out / "report.json", verbose=verbose)
    write_json(out / "config.json", {"command": "train", "arguments": {**settings, "out": str(out)},
                                     "versions": package_versions(), "seconds": round(time.time() - started, 1)})
    print(f"wrote {out / 'model.keras'}, history.json, report.json ({time.time() - started:.0f} s)")
    return report


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
