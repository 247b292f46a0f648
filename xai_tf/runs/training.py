"""Train runs: the train settings and their defaults, the data and model they name, and ``train`` (``xai-tf train``)."""
from __future__ import annotations

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
_BACKBONE_TABLE = Path(__file__).parents[1] / "models" / "backbones.py"


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
