"""Run recipes and run-folder formats, written and read in one place: train runs and explain folders.

Used by the CLI (``xai-tf train``, ``explain``, ``evaluate``, ``meta-evaluate``), the demo and the
report, so that no caller builds another's arguments and every folder format has one writer and
one reader.

A train run folder (:func:`train`) holds ``model.keras`` (the trained model), ``best.keras`` (the
best epoch, when checkpointing), ``history.json`` (metric -> per-epoch values), ``report.json`` (the
held-out classification report), ``split.json`` (the train and held-out indices with the data
set's fingerprint: what the model was trained on) and ``config.json`` (``{"command": "train",
"arguments": the settings, "versions", "seconds"}``).

An explain folder (:func:`write_explain_folder`) holds ``maps.npz`` (one ``(N, H, W)`` array per
method), ``images.npz`` (``images``, ``labels``, ``predictions`` and, where known, ``masks`` and
``indices``) and ``explain.json`` (methods, class names, labels, predictions, the model's weight
fingerprint when known, the arguments and package versions).

The package: ``xai_tf.runs.training`` (the train settings, the data and model they name, ``train``),
``xai_tf.runs.folders`` (the run folders' writers and readers, the recorded split),
``xai_tf.runs.model_data`` (the images a saved model is explained or scored on: ``data_for_model``,
``lazy_source_for_model``, ``per_class``), ``xai_tf.runs.explaining`` (the explain recipe,
``explain_run``) and ``xai_tf.runs.scoring`` (``evaluate_run``, ``meta_evaluate_run``). Every name
is importable from ``xai_tf.runs``; the command line's data flags are ``xai_tf.cli.data_flags``'.
"""
from __future__ import annotations

from xai_tf.runs.explaining import explain_run
from xai_tf.runs.folders import (
    SPLITS,
    cam_layer_of,
    read_explain_folder,
    read_json,
    read_train_run,
    run_folder_of,
    split_of,
    trained_settings,
    trained_with,
    write_explain_folder,
)
from xai_tf.runs.model_data import data_for_model, lazy_source_for_model, per_class
from xai_tf.runs.scoring import evaluate_run, meta_evaluate_run
from xai_tf.runs.training import (
    CUSTOM_MODELS,
    TRAIN_DEFAULTS,
    VIT_MODELS,
    backbone_names,
    build_model,
    load_data,
    model_choices_help,
    model_names,
    train,
    train_settings,
    training_data,
)

__all__ = [
    "CUSTOM_MODELS", "SPLITS", "TRAIN_DEFAULTS", "VIT_MODELS", "backbone_names", "build_model", "cam_layer_of",
    "data_for_model", "evaluate_run", "explain_run", "lazy_source_for_model", "load_data", "meta_evaluate_run",
    "model_choices_help", "model_names", "per_class", "read_explain_folder", "read_json", "read_train_run",
    "run_folder_of", "split_of", "train", "train_settings", "trained_settings", "trained_with", "training_data",
    "write_explain_folder",
]
