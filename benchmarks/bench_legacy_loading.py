"""Time to load and convert Keras 2 models, side by side with tf_keras loading the same files.

Models (``weights=None``, seeded, written with tf_keras in the run): paper 002's custom CNN shape
(Conv-BN-Pool-Conv-Flatten-Dropout-Dense), paper 002's ``Sequential([VGG16(64x64), Flatten,
Dense(32), Dense(1, "sigmoid")])`` and a ResNet50 (32x32) with a GAP head. For each, three sources:

- ``.h5``: ``xai_tf.models.load_model(file)`` (h5py + rebuild) vs ``tf_keras.models.load_model(file)``;
- ``SavedModel``: ``load_model(folder)`` (tf_keras reads the folder, then rebuild) vs
  ``tf_keras.models.load_model(folder)``;
- live object: ``load_model(model)`` (rebuild + output check) vs nothing (no tf_keras reference:
  the figure is absolute).

Each measurement is the median of ``--rounds`` runs in turn (load from other processes hits both
alike); the ratio is xai-tf / tf_keras. The max |difference| of the predictions is printed too. Run::

    .venv/bin/python benchmarks/bench_legacy_loading.py [--rounds 3] [--models custom,vgg16,resnet50]
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import tf_keras

from xai_tf.models import load_model


def build(kind: str):
    layers, apps = tf_keras.layers, tf_keras.applications
    tf_keras.utils.set_random_seed(0)
    if kind == "custom":
        return tf_keras.Sequential([
            tf_keras.Input((64, 64, 3)), layers.Conv2D(32, 3, activation="relu"), layers.BatchNormalization(),
            layers.MaxPooling2D(), layers.Conv2D(64, 3, activation="relu"), layers.Flatten(), layers.Dropout(0.5),
            layers.Dense(64, activation="relu"), layers.Dense(2, activation="softmax")])
    if kind == "vgg16":
        backbone = apps.VGG16(include_top=False, weights=None, input_shape=(64, 64, 3))
        return tf_keras.Sequential([backbone, layers.Flatten(), layers.Dense(32, "relu"), layers.Dense(1, "sigmoid")])
    backbone = apps.ResNet50(include_top=False, weights=None, input_shape=(32, 32, 3))
    inputs = tf_keras.Input((32, 32, 3))
    x = layers.GlobalAveragePooling2D()(backbone(inputs, training=False))
    return tf_keras.Model(inputs, layers.Dense(2, activation="softmax")(x))


def timed(function, rounds: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(rounds):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return float(np.median(times)), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="runs per measurement (median); default 3")
    parser.add_argument("--models", default="custom,vgg16,resnet50", help="comma-separated: custom, vgg16, resnet50")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench_legacy_"))
    print(f"{'model':<10}{'source':<12}{'xai-tf s':>10}{'tf_keras s':>12}{'ratio':>8}{'max |diff|':>12}")
    for kind in args.models.split(","):
        model = build(kind)
        model.save(folder / f"{kind}.h5")
        model.save(folder / f"{kind}_savedmodel")
        images = np.random.default_rng(0).uniform(0, 1, (4, *model.inputs[0].shape[1:])).astype(np.float32)
        expected = model.predict(images, verbose=0)
        sources = {".h5": folder / f"{kind}.h5", "SavedModel": folder / f"{kind}_savedmodel", "object": model}
        for source, what in sources.items():
            ours, converted = timed(lambda what=what: load_model(what), args.rounds)
            difference = float(np.abs(np.asarray(converted(images)) - expected).max())
            if source == "object":
                print(f"{kind:<10}{source:<12}{ours:>10.2f}{'-':>12}{'-':>8}{difference:>12.2g}")
                continue
            theirs, _ = timed(lambda what=what: tf_keras.models.load_model(what, compile=False), args.rounds)
            print(f"{kind:<10}{source:<12}{ours:>10.2f}{theirs:>12.2f}{ours / theirs:>8.2f}{difference:>12.2g}")


if __name__ == "__main__":
    main()
