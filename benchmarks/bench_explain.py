"""Speed of xai-tf's batched explainers: against the upstream libraries, and per image for #22's methods.

Suites (``--suites``, default all three):

``reference``: ours against the upstream libraries, side by side in one run:

- Integrated Gradients and SmoothGrad: ours vs a per-image PAIR ``saliency`` ``GetMask`` /
  ``GetSmoothedMask`` loop (the papers' workflow, PAIR's example ``call_model_function`` with a
  GradientTape on the logits, ``batch_size=20`` as in PAIR's notebook);
- Score-CAM: ours vs ``tf-keras-vis`` ``Scorecam`` (batched itself) on a flat functional model.

Both sides are warmed up (traced) first; the figure is the best of ``--repeats`` runs. Maps are
checked to agree before timings are printed.

``methods``: milliseconds per image of every method with a ``MethodRecord`` marked by issue #22
(rise, kernel_shap, vargrad, squaregrad, sobol, hsic, fem, gradient_shap) at their default
parameters, on the demo's model (custom CNN v2, one grayscale channel, two classes; untrained:
the cost does not depend on the weights) at each of ``--sizes`` (default 64 and 224 pixels),
after a warm-up that traces the compiled functions.

``rise``: RISE with 4,000 masks on one 224-pixel image against 4,000 plain forward passes of the
same model (63 calls of a 64-image batch through the model's compiled forward function); the
issue asks for at most 5x.

Run::

    .venv/bin/python benchmarks/bench_explain.py [--suites reference,methods,rise] [--images 32] [--size 64]
        [--repeats 2] [--sizes 64,224] [--method-images 2]
"""
from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np
import tensorflow as tf

from xai_tf.explainers import explain, method_parameters
from xai_tf.models import build_custom_cnn
from xai_tf.models.head import head_of

#: The methods of issue #22, timed by the ``methods`` suite.
NEW_METHODS = ("rise", "kernel_shap", "vargrad", "squaregrad", "sobol", "hsic", "fem", "gradient_shap")
#: Tiny settings that trace every compiled function of a method without doing its full work.
WARM_UP = {"rise": {"n_masks": 8}, "kernel_shap": {"n_samples": 8}, "vargrad": {"n_samples": 2},
           "squaregrad": {"n_samples": 2}, "sobol": {"n_designs": 1}, "hsic": {"n_designs": 8},
           "gradient_shap": {"n_samples": 2}}


def build_model(size: int) -> keras.Model:
    """A small flat CNN in the spirit of the papers' custom CNNs (softmax head, 3 classes)."""
    keras.utils.set_random_seed(0)
    inputs = keras.Input((size, size, 3))
    x = keras.layers.Conv2D(16, 3, padding="same", activation="relu")(inputs)
    x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.Conv2D(32, 3, padding="same", activation="relu")(x)
    x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.Conv2D(32, 3, padding="same", activation="relu", name="last_conv")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dense(32, activation="relu")(x)
    return keras.Model(inputs, keras.layers.Dense(3, activation="softmax", name="predictions")(x))


def pair_call_model_function(model):
    """PAIR's TF2 example ``call_model_function`` (eager GradientTape), on the target logit."""
    import saliency.core as pair

    logits_model = keras.Model(model.inputs, model.get_layer("predictions").input)
    head = model.get_layer("predictions")

    def call_model_function(images, call_model_args=None, expected_keys=None):
        target = call_model_args["target"]
        images = tf.convert_to_tensor(images, tf.float32)
        with tf.GradientTape() as tape:
            tape.watch(images)
            logits = tf.matmul(logits_model(images), head.kernel) + head.bias
            score = logits[:, target]
        return {pair.INPUT_OUTPUT_GRADIENTS: tape.gradient(score, images).numpy()}
    return call_model_function


def best_time(function, repeats):
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return min(times), result


def demo_model(size: int) -> keras.Model:
    """The demo's architecture (``xai-tf train --model custom-v2`` on the grayscale radio galaxies) at ``size``."""
    keras.utils.set_random_seed(0)
    return build_custom_cnn((size, size, 1), 2)


def methods_suite(sizes, n_images: int) -> None:
    """Milliseconds per image of issue #22's methods at their defaults, at each size."""
    print(f"issue #22 methods at their defaults on the demo model (custom CNN v2, 1 channel), {n_images} images")
    print(f"{'method':14s} " + " ".join(f"{f'ms/image @{size}':>16s}" for size in sizes) + "  forward passes per image")
    table = {}
    for size in sizes:
        model = demo_model(size)
        images = np.random.default_rng(0).random((n_images, size, size, 1), dtype=np.float32)
        for method in NEW_METHODS:
            explain(model, images[:1], method, verbose=0, **WARM_UP.get(method, {}))
            started = time.perf_counter()
            explain(model, images, method, verbose=0)
            table[method, size] = 1000 * (time.perf_counter() - started) / n_images
    passes = {"rise": "n_masks (4,000)", "kernel_shap": "n_samples + 2 (802)", "sobol": "32 x (64 + 2) = 2,112",
              "hsic": "n_designs (500)", "vargrad": "50 gradients", "squaregrad": "50 gradients",
              "gradient_shap": "50 gradients", "fem": "1 (activations)"}
    for method in NEW_METHODS:
        print(f"{method:14s} " + " ".join(f"{table[method, size]:16.1f}" for size in sizes) + f"  {passes[method]}")


def rise_suite(size: int = 224, n_masks: int = 4000, batch_size: int = 64) -> None:
    """RISE with ``n_masks`` masks on one image against ``n_masks`` forward passes of the same model."""
    assert method_parameters("rise")["n_masks"] == n_masks
    model = demo_model(size)
    image = np.random.default_rng(1).random((1, size, size, 1), dtype=np.float32)
    forward = head_of(model).forward_function()
    batch = tf.constant(np.repeat(image, batch_size, axis=0))
    calls = -(-n_masks // batch_size)
    forward(batch)
    explain(model, image, "rise", n_masks=8, verbose=0)

    def forwards():
        for _ in range(calls):
            forward(batch).numpy()

    forward_time, _ = best_time(forwards, 1)
    rise_time, maps = best_time(lambda: explain(model, image, "rise", batch_size=batch_size, verbose=0), 1)
    assert maps.shape == (1, size, size) and np.all(np.isfinite(maps))
    print(f"RISE, {n_masks} masks, one {size}x{size} image, demo model: {rise_time:.1f} s; "
          f"{calls * batch_size} forward passes: {forward_time:.1f} s; ratio {rise_time / forward_time:.2f}x "
          "(issue #22 asks <= 5x)")


def reference_suite(args) -> None:
    import saliency.core as pair
    from tf_keras_vis.scorecam import Scorecam
    from tf_keras_vis.utils.model_modifiers import ReplaceToLinear
    from tf_keras_vis.utils.scores import CategoricalScore
    model = build_model(args.size)
    images = np.random.default_rng(0).random((args.images, args.size, args.size, 3), dtype=np.float32)
    targets = np.argmax(model.predict(images, verbose=0), axis=1)
    function = pair_call_model_function(model)
    rows = []

    def pair_ig():
        return np.stack([pair.IntegratedGradients().GetMask(image, function, {"target": int(t)}, x_steps=25,
                                                            batch_size=20).sum(-1)
                         for image, t in zip(images, targets)])

    def ours_ig():
        return explain(model, images, "integrated_gradients", targets, steps=25, verbose=0)

    def pair_smoothgrad():
        np.random.seed(0)
        return np.stack([pair.GradientSaliency().GetSmoothedMask(image, function, {"target": int(t)},
                                                                 nsamples=25).sum(-1)
                         for image, t in zip(images, targets)])

    def ours_smoothgrad():
        return explain(model, images, "smoothgrad", targets, n_samples=25, verbose=0)

    scorecam = Scorecam(model, model_modifier=ReplaceToLinear(), clone=True)

    def tkv_scorecam():
        return np.asarray(scorecam(CategoricalScore(list(targets)), images, penultimate_layer="last_conv",
                                   batch_size=64))

    def ours_scorecam():
        return explain(model, images, "scorecam", targets, batch_size=64, verbose=0)

    # warm-up: trace / compile both sides on a couple of images
    explain(model, images[:2], "integrated_gradients", targets[:2], steps=25, verbose=0)
    explain(model, images[:2], "smoothgrad", targets[:2], n_samples=25, verbose=0)
    explain(model, images[:2], "scorecam", targets[:2], batch_size=64, verbose=0)
    pair.IntegratedGradients().GetMask(images[0], function, {"target": int(targets[0])}, x_steps=25, batch_size=20)
    pair.IntegratedGradients().GetMask(images[0], function, {"target": int(targets[0])}, x_steps=5, batch_size=20)

    for name, reference_name, reference, ours, check in [
        ("integrated_gradients (25 steps)", "PAIR GetMask loop", pair_ig, ours_ig, "equal"),
        ("smoothgrad (25 samples)", "PAIR GetSmoothedMask loop", pair_smoothgrad, ours_smoothgrad, "shape"),
        ("scorecam (32 channels)", "tf-keras-vis Scorecam", tkv_scorecam, ours_scorecam, "shape"),
    ]:
        reference_time, reference_maps = best_time(reference, args.repeats)
        our_time, our_maps = best_time(ours, args.repeats)
        if check == "equal":  # same definition: the maps must agree (up to float32 summation order)
            scale = np.abs(reference_maps).max()
            difference = np.abs(our_maps - reference_maps).max() / scale
            assert difference < 1e-2, f"{name}: maps differ by {difference:.2g} of their maximum"
        assert our_maps.shape == reference_maps.shape, name
        rows.append((name, reference_name, reference_time, our_time))

    print(f"{args.images} images of {args.size}x{args.size}x3, CPU threads: "
          f"{tf.config.threading.get_intra_op_parallelism_threads() or os.cpu_count()}")
    print(f"{'method':34s} {'reference':28s} {'reference s':>12s} {'xai-tf s':>10s} {'speed-up':>9s}")
    for name, reference_name, reference_time, our_time in rows:
        print(f"{name:34s} {reference_name:28s} {reference_time:12.2f} {our_time:10.2f} "
              f"{reference_time / our_time:8.1f}x")



def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--suites", default="reference,methods,rise", help="comma-separated: reference, methods, rise")
    parser.add_argument("--images", type=int, default=32, help="images of the reference suite (default 32)")
    parser.add_argument("--size", type=int, default=64, help="image size of the reference suite (default 64)")
    parser.add_argument("--repeats", type=int, default=2, help="best of K runs in the reference suite (default 2)")
    parser.add_argument("--sizes", default="64,224", help="image sizes of the methods suite (default 64,224)")
    parser.add_argument("--method-images", type=int, default=2, help="images per method and size (default 2)")
    args = parser.parse_args(argv)
    suites = [suite.strip() for suite in args.suites.split(",") if suite.strip()]
    unknown = sorted(set(suites) - {"reference", "methods", "rise"})
    if unknown:
        parser.error(f"unknown suites {unknown}; expected reference, methods, rise")
    print(f"CPU threads: {tf.config.threading.get_intra_op_parallelism_threads() or os.cpu_count()}, "
          f"devices: {[device.device_type for device in tf.config.list_logical_devices()]}")
    if "reference" in suites:
        reference_suite(args)
    if "methods" in suites:
        methods_suite([int(size) for size in args.sizes.split(",")], args.method_images)
    if "rise" in suites:
        rise_suite()


if __name__ == "__main__":
    main()
