"""The cost of ``xai_tf.evaluation.meta_evaluate`` per metric, against one plain evaluation of the same metric.

A meta-evaluation scores the methods once unperturbed and K times under each failure mode (minor,
disruptive) of each test (model weights, input), so it costs about ``1 + 2 K x tests`` evaluations
(21 with the paper's K = 5 and both tests) plus the predictions of each perturbed run. The
reference, measured side by side in the same run, is one ``xai_tf.evaluate`` of the same model,
data, methods and metric; the ratio says how many evaluations' worth the meta-evaluation took.
The model is a tiny CNN (``weights=None``-style, seeded) on the synthetic radio galaxies, so the
figure is the toolkit's own overhead and the metrics' cost, not a large network's. Run::

    .venv/bin/python benchmarks/bench_meta.py [--metrics sic,deletion,...] [--images 16] [--perturbations 5]
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np

from xai_tf import data as xai_data
from xai_tf.evaluation import evaluate, meta_evaluate

METRICS = "sic,deletion,insertion,max_sensitivity,pointing_game,xai_entropy"
METHODS = "vanilla_gradient,input_x_gradient,gradcam"


def tiny_cnn(size: int) -> keras.Model:
    keras.utils.set_random_seed(0)
    inputs = keras.Input((size, size, 1))
    x = keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="conv1")(inputs)
    x = keras.layers.MaxPooling2D(2)(x)
    x = keras.layers.Conv2D(16, 3, padding="same", activation="relu", name="last_conv")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(2, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name="bench_cnn")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--metrics", default=METRICS, help=f"comma-separated (default {METRICS})")
    parser.add_argument("--methods", default=METHODS, help=f"comma-separated (default {METHODS})")
    parser.add_argument("--images", type=int, default=16, help="synthetic images (default 16)")
    parser.add_argument("--image-size", type=int, default=32, help="image side in pixels (default 32)")
    parser.add_argument("--perturbations", type=int, default=5, help="K (default 5, the paper's)")
    parser.add_argument("--tests", default="model,input", help="model and/or input (default both)")
    args = parser.parse_args()

    model = tiny_cnn(args.image_size)
    data = xai_data.load("synthetic", n=args.images, image_size=args.image_size, seed=0)
    tests = [name for name in args.tests.split(",") if name]
    runs = 1 + 2 * args.perturbations * len(tests)
    # warm-up: compile the model's functions once, so that neither side pays it
    with tempfile.TemporaryDirectory() as folder:
        evaluate(model, data, args.methods, "xai_entropy", Path(folder) / "warm", verbose=0)
    print(f"{args.images} images of {args.image_size} px, methods {args.methods}, K = {args.perturbations}, tests "
          f"{','.join(tests)} ({runs} scored runs per meta-evaluation)")
    print(f"{'metric':>18} {'evaluate s':>11} {'meta s':>9} {'ratio':>7} {'per run':>8}  "
          "MC (IAC_NR IAC_AR IEC_NR IEC_AR)")
    for metric in args.metrics.split(","):
        with tempfile.TemporaryDirectory() as folder:
            started = time.perf_counter()
            evaluate(model, data, args.methods, metric, Path(folder) / "plain", verbose=0)
            plain = time.perf_counter() - started
            started = time.perf_counter()
            result = meta_evaluate(model, data, metric, args.methods, Path(folder) / "meta", tests=tests,
                                   perturbations=args.perturbations, verbose=0)
            meta = time.perf_counter() - started
        for column, entry in result["columns"].items():
            criteria = " ".join("n/a" if entry[n] is None else f"{entry[n]:.2f}"
                                for n in ("iac_nr", "iac_ar", "iec_nr", "iec_ar"))
            mc = "n/a" if entry["mc"] is None else f"{entry['mc']:.2f}"
            print(f"{column:>18} {plain:>11.2f} {meta:>9.2f} {meta / plain:>7.1f} {meta / runs / plain:>8.2f}  "
                  f"{mc} ({criteria})")
        if not result["columns"]:
            print(f"{metric:>18} {plain:>11.2f} {meta:>9.2f} {meta / plain:>7.1f}  (no column with a direction)")
    print(f"'per run': the meta-evaluation's time per scored run over one plain evaluation's time "
          f"(~1 when the runs dominate; numpy {np.__version__})")


if __name__ == "__main__":
    main()
