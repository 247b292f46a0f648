"""AIC/SIC on real images at several sizes: PAIR's reference vs ``pic(blur="exact")`` vs ``pic(blur="fast")``.

Per image size and entropy (WebP, Shannon) it prints seconds per image (PAIR's reference, exact,
fast, a bare forward pass over the same number of images), how often fast and exact take the same
include/exclude decision, the mean and max per-image |AUC fast - AUC exact|, exact's own
seed-to-seed spread (the same maps scored with the next seed's random masks), and the aggregated
(median-curve) AUC of each method under both fills with the method ranking. A table for the README
closes the run.

Images and models (everything ships with the installed packages; nothing downloads):

- 32x32: scikit-learn's digits (8x8, upsampled bilinearly to 32x32, one channel), held-out
  images of a small CNN trained here for ``--epochs`` epochs on the other digits.
- 64, 150, 224: crops of scikit-image's ``astronaut``, ``coffee``, ``chelsea``, ``retina`` and
  ``hubble_deep_field`` (random square crops, resized with anti-aliasing). The classifier is a
  small CNN with ``weights=None`` plus a fixed "image detail" logit (mean |Laplacian|, calibrated
  on the crops so a typical crop scores ~0.98), so that blurring lowers the score and images pass
  PAIR's exclusion rules without trained weights. This model reads the fill's texture directly:
  a harder test of the fast fill than a trained classifier.

Maps: ``--methods`` through ``xai_tf.explain`` (default random, vanilla_gradient (abs_sum),
gradcam, smoothgrad). PAIR's reference is ``saliency.metrics.pic.compute_pic_metric`` (np.trapz
put back for NumPy 2; for Shannon its WebP estimator swapped for paper 004's histogram entropy, as
the paper's code does; for one-channel images its WebP estimator swapped for ours, which encodes
``(H, W, 1)`` as grayscale where PAIR's raises); it runs on ``--reference-images`` included images
of the first method and its time is per image.

    python benchmarks/bench_pic.py                                # 32, 64, 150, 224; both entropies
    python benchmarks/bench_pic.py --sizes 32,64 --images 16
    python benchmarks/bench_pic.py --sizes 224 --entropy shannon --reference-images 2

``--fills`` compares the fills alone instead: per size, CPU seconds per image (one thread; the
seed mask and the 13 thresholds' masks of every method's map) of PAIR's
``create_blurred_image``, ``blur_exact`` and ``blur_fast`` with each triangulator of the support
(``default``: Qhull for small supports, ours above; ``grid``: ours; ``qhull``; ``triangle`` when
the optional package is installed),
each fast fill's speed-up over PAIR, and its fidelity against ``pic(blur="exact")``: the same
include/exclude decision, the mean and max per-image |AUC - AUC exact| and the max over methods of
the aggregated (median-curve) |AUC - AUC exact|.

    python benchmarks/bench_pic.py --fills --sizes 64,150,224 --reference-images 1
"""
from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np

import xai_tf
from xai_tf.metrics.information_curves import blur as blurring
from xai_tf.metrics.information_curves import information
from xai_tf.metrics.information_curves.pic import pic
from xai_tf.metrics.information_curves.pic_options import PAIR_THRESHOLDS, draw_random_masks

PHOTOS = ("astronaut", "coffee", "chelsea", "retina", "hubble_deep_field")


# ----------------------------------------------------------------------------------------------
# images and models
# ----------------------------------------------------------------------------------------------
def digits(size: int = 32):
    """scikit-learn's digits as ``(N, size, size, 1)`` float32 in [0, 1] (bilinear upsampling), labels, shuffled."""
    import tensorflow as tf
    from sklearn.datasets import load_digits

    data = load_digits()
    order = np.random.default_rng(0).permutation(len(data.target))
    small = (data.images[order] / 16.0).astype(np.float32)[..., None]
    images = tf.image.resize(small, (size, size), method="bilinear").numpy()
    return np.clip(images, 0.0, 1.0), data.target[order].astype(np.int64)


def digits_model(images, labels, epochs: int):
    """A small CNN trained on ``images``/``labels`` (the digits not used for scoring)."""
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input(images.shape[1:]),
        keras.layers.Conv2D(16, 3, activation="relu"), keras.layers.MaxPooling2D(),
        keras.layers.Conv2D(32, 3, activation="relu"), keras.layers.MaxPooling2D(),
        keras.layers.Conv2D(32, 3, activation="relu", name="last_conv"),
        keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(images, labels, epochs=epochs, batch_size=64, verbose=0)
    return model


def photo_crops(count: int, size: int, seed: int = 0) -> np.ndarray:
    """``count`` random square crops of scikit-image's photographs (cycling through ``PHOTOS``),
    side drawn between ``size`` and the photo's short side, resized to ``size`` (anti-aliased)."""
    from skimage import data
    from skimage.transform import resize

    rng = np.random.default_rng(seed)
    photos = [getattr(data, name)() for name in PHOTOS]
    crops = []
    for i in range(count):
        photo = photos[i % len(photos)]
        short = min(photo.shape[:2])
        side = int(rng.integers(size, max(size, short // 2) + 1))
        top = int(rng.integers(0, photo.shape[0] - side + 1))
        left = int(rng.integers(0, photo.shape[1] - side + 1))
        crop = photo[top:top + side, left:left + side].astype(np.float64) / 255.0
        crops.append(resize(crop, (size, size), anti_aliasing=side > size))
    return np.clip(np.stack(crops), 0, 1).astype(np.float32)


class DetailEnergy(keras.layers.Layer):
    """Mean |Laplacian| of the channel-mean image, ``(N, 1)``: large for sharp images, small for blurred ones."""

    def call(self, images):
        gray = keras.ops.mean(images, axis=-1)
        laplacian = (gray[:, 1:-1, :-2] + gray[:, 1:-1, 2:] + gray[:, :-2, 1:-1] + gray[:, 2:, 1:-1]
                     - 4.0 * gray[:, 1:-1, 1:-1])
        return keras.ops.mean(keras.ops.abs(laplacian), axis=(1, 2))[:, None]


def detail_model(images) -> keras.Model:
    """Small CNN (weights=None) + a detail logit ``k (energy - m / 2)``, m = the crops' median energy,
    k = 8 / m: a crop of median detail scores sigmoid(4) ~ 0.98, a fully blurred one much less."""
    keras.utils.set_random_seed(0)
    size = images.shape[1]
    inputs = keras.Input(images.shape[1:])
    features = keras.layers.Conv2D(16, 4, strides=4, activation="relu")(inputs * 2.0 - 1.0)
    for filters in (32, 64):
        features = keras.layers.Conv2D(filters, 3, strides=2, padding="same", activation="relu")(features)
    backbone = keras.layers.Dense(2, kernel_initializer=keras.initializers.RandomNormal(stddev=1e-3))(
        keras.layers.GlobalAveragePooling2D()(features))
    energy = DetailEnergy()
    median = float(np.median(keras.ops.convert_to_numpy(energy(images))))
    scale = 8.0 / max(median, 1e-6)
    detail = keras.layers.Dense(2, name="detail_logits")
    outputs = keras.layers.Softmax()(keras.layers.Add()([detail(energy(inputs)), backbone]))
    model = keras.Model(inputs, outputs, name=f"detail_{size}")
    detail.set_weights([np.array([[scale / 2, -scale / 2]], np.float32),
                        np.array([-scale * median / 4, scale * median / 4], np.float32)])
    return model


def workload(size: int, count: int, epochs: int):
    """Model, held-out images and a description for one image size."""
    if size == 32:
        images, labels = digits(size)
        held_out = len(images) - max(count, 300)
        model = digits_model(images[:held_out], labels[:held_out], epochs)
        accuracy = float(np.mean(np.argmax(model.predict(images[held_out:], verbose=0), 1) == labels[held_out:]))
        return model, images[held_out:held_out + count], (
            f"scikit-learn digits 8x8 -> 32x32 (1 channel), small CNN trained {epochs} epochs on "
            f"{held_out} digits, held-out accuracy {accuracy:.3f}")
    images = photo_crops(count, size)
    return detail_model(images), images, (
        f"crops of scikit-image {', '.join(PHOTOS)}; small CNN (weights=None) + detail logit")


def saliency_maps(model, images, methods):
    maps = {}
    for method in methods:
        params = {"channel_reduction": "abs_sum"} if method == "vanilla_gradient" else {}
        maps[method] = xai_tf.explain(model, images, method, verbose=0, **params)
    return maps


# ----------------------------------------------------------------------------------------------
# PAIR's reference
# ----------------------------------------------------------------------------------------------
def run_reference(model, images, maps, masks, targets, thresholds, entropy, min_pred_value):
    from saliency.metrics import pic as reference

    np.trapz = np.trapezoid  # NumPy 2 removed it; PAIR still calls it
    webp = reference.estimate_image_entropy
    if entropy == "shannon":
        reference.estimate_image_entropy = information.histogram_entropy
    elif images.shape[-1] == 1:
        reference.estimate_image_entropy = information.webp_size
    pixels = np.round(images.astype(np.float64) * 255).astype(np.uint8)
    aucs = []
    try:
        for i in range(len(images)):
            def predict(batch, target=targets[i]):
                return model.predict_on_batch(batch.astype(np.float32) / 255.0)[:, target].astype(np.float64)
            try:
                aucs.append(reference.compute_pic_metric(pixels[i], maps[i], masks[i], predict, list(thresholds),
                                                         min_pred_value=min_pred_value).auc)
            except reference.ComputePicMetricError:
                aucs.append(np.nan)
    finally:
        reference.estimate_image_entropy = webp
    return np.array(aucs)


# ----------------------------------------------------------------------------------------------
# one size
# ----------------------------------------------------------------------------------------------
def bench_size(size, args, rows):
    thresholds = PAIR_THRESHOLDS
    methods = args.methods.split(",")
    model, images, what = workload(size, args.images, args.epochs)
    maps = saliency_maps(model, images, methods)
    n = len(images)
    print(f"\n=== {size}x{size}: {n} images, {what}; methods {', '.join(methods)}; "
          f"{len(thresholds)} thresholds, min_pred_value {args.min_pred_value}")
    options = {"thresholds": thresholds, "min_pred_value": args.min_pred_value, "verbose": 0,
               "batch_size": args.batch_size}

    # Trace the model's forward pass (both fills share it) before anything is timed.
    pic(model, images[:1], maps[methods[0]][:1], entropy="shannon", blur="exact", **options)
    batch = np.repeat(images, len(thresholds) + 2, axis=0)
    model.predict_on_batch(batch[:args.batch_size])
    forward = Clock()
    with forward:
        for start in range(0, len(batch), args.batch_size):
            model.predict_on_batch(batch[start:start + args.batch_size])
    forward = forward.per(n)

    for entropy in args.entropy.split(","):
        runs = {blur: {} for blur in ("exact", "fast", "reseeded")}
        clocks = {"exact": Clock(), "fast": Clock()}
        for method in methods:
            for blur in ("exact", "fast"):
                with clocks[blur]:
                    runs[blur][method] = pic(model, images, maps[method], entropy=entropy, blur=blur, **options)
            if args.seed_spread:
                runs["reseeded"][method] = pic(model, images, maps[method], entropy=entropy, blur="exact",
                                               seed=1, **options)
        per_image = {blur: clock.per(n * len(methods)) for blur, clock in clocks.items()}
        exact0 = runs["exact"][methods[0]]
        chosen = np.flatnonzero(exact0.included)[:args.reference_images]
        clock = Clock()
        with clock:
            reference_aucs = run_reference(model, images[chosen], maps[methods[0]][chosen],
                                           exact0.random_masks[chosen], exact0.targets[chosen], thresholds, entropy,
                                           args.min_pred_value)
        reference = clock.per(len(chosen)) if len(chosen) else (float("nan"), float("nan"))
        reference_gap = (np.nanmax(np.abs(reference_aucs - exact0.aucs[chosen]))
                         if np.any(np.isfinite(reference_aucs)) else float("nan"))

        agree, gaps, spreads, aggregated = [], [], [], {}
        for method in methods:
            exact, fast = runs["exact"][method], runs["fast"][method]
            agree.append(exact.included == fast.included)
            both = exact.included & fast.included
            gaps.append(np.abs(exact.aucs[both] - fast.aucs[both]))
            reseeded_auc = float("nan")
            if args.seed_spread:
                reseeded = runs["reseeded"][method]
                same = exact.included & reseeded.included
                spreads.append(np.abs(exact.aucs[same] - reseeded.aucs[same]))
                reseeded_auc = reseeded.auc
            aggregated[method] = (exact.auc, fast.auc, reseeded_auc, exact.num_included, fast.num_included)
        agree, gaps = np.concatenate(agree), np.concatenate(gaps)
        spread = np.concatenate(spreads).mean() if spreads and np.concatenate(spreads).size else float("nan")
        mean_gap = gaps.mean() if gaps.size else float("nan")
        max_gap = gaps.max() if gaps.size else float("nan")
        ranking = {blur: sorted(methods, key=lambda m, k=k: -np.nan_to_num(aggregated[m][k], nan=-1.0))
                   for k, blur in enumerate(("exact", "fast", "exact, seed 1"))}
        aggregated_gap = max(abs(values[0] - values[1]) for values in aggregated.values())

        print(f"\n  {size}x{size} entropy={entropy}: seconds per image and method, wall / CPU (all threads)")
        print(f"    reference (PAIR, {len(chosen)} image(s))  {reference[0]:8.3f} / {reference[1]:8.3f}   "
              f"max |AUC exact - reference| {reference_gap:.1e}")
        for blur in ("exact", "fast"):
            print(f"    ours {blur:<5}                     {per_image[blur][0]:8.3f} / {per_image[blur][1]:8.3f}   "
                  f"{reference[0] / per_image[blur][0]:6.1f}x / {reference[1] / per_image[blur][1]:6.1f}x "
                  "faster than the reference")
        print(f"    bare forward ({len(thresholds) + 2} images)         {forward[0]:8.3f} / {forward[1]:8.3f}   "
              f"CPU fast / forward = {per_image['fast'][1] / forward[1]:.1f}, fast / exact = "
              f"{per_image['fast'][1] / per_image['exact'][1]:.2f}")
        print(f"    same include/exclude decision: {agree.mean():.1%} of {agree.size} (image, method) pairs")
        print(f"    per-image |AUC fast - exact| over {gaps.size} curves: mean {mean_gap:.4f}, max {max_gap:.4f}; "
              f"exact seed 0 vs seed 1: mean {spread:.4f}")
        for method, (exact_auc, fast_auc, reseeded_auc, n_exact, n_fast) in aggregated.items():
            print(f"    {method:<18} aggregated AUC exact {exact_auc:.4f} ({n_exact} images), "
                  f"fast {fast_auc:.4f} ({n_fast}), |diff| {abs(exact_auc - fast_auc):.4f}; "
                  f"exact with seed 1 {reseeded_auc:.4f}")
        for name, order in ranking.items():
            if name != "exact, seed 1" or args.seed_spread:
                print(f"    ranking {name + ':':<15} {' > '.join(order)}")
        same = ranking["exact"] == ranking["fast"]
        stable = ranking["exact, seed 1"] == ranking["exact"] if args.seed_spread else None
        print(f"    fast ranks the methods {'as' if same else 'NOT as'} exact does; exact with seed 1 ranks them "
              f"{'(not run)' if stable is None else 'as seed 0 does' if stable else 'differently from seed 0'}")
        rows.append((size, entropy, reference[1], per_image["exact"][1], per_image["fast"][1], forward[1],
                     agree.mean(), mean_gap, max_gap, spread, aggregated_gap, same, stable))


# ----------------------------------------------------------------------------------------------
# --fills: the fills alone, each triangulator of the fast fill
# ----------------------------------------------------------------------------------------------
def pic_masks(maps, seeds, thresholds):
    """PAIR's masks: ``map >= quantile(map, 1 - t)`` OR the seed pixels, ``(N, 1 + len(thresholds), H, W)``."""
    quantiles = np.quantile(maps.reshape(len(maps), -1), 1 - np.asarray(thresholds), axis=1).T
    return np.concatenate([seeds[:, None], (maps[:, None] >= quantiles[..., None, None]) | seeds[:, None]], axis=1)


def compare_fills(size, args, rows):
    from functools import partial

    from saliency.metrics import pic as reference

    thresholds = PAIR_THRESHOLDS
    methods = args.methods.split(",")
    model, images, what = workload(size, args.images, args.epochs)
    maps = saliency_maps(model, images, methods)
    n = len(images)
    pixels = np.round(images.astype(np.float64) * 255).astype(np.uint8)
    seeds = draw_random_masks(n, size, size)
    triangulators = ["default"] + [t for t in blurring.TRIANGULATORS
                                   if t != "triangle" or blurring.triangle is not None]
    print(f"\n=== fills {size}x{size}: {n} images, {what}; methods {', '.join(methods)}; default triangulator "
          f"{blurring.default_triangulator(size, size)}; triangulators {', '.join(triangulators)}")
    masks = np.concatenate([pic_masks(maps[m], seeds, thresholds) for m in methods])      # (methods x N, 14, H, W)
    owner = np.tile(np.arange(n), len(methods))
    flat, index = masks.reshape(-1, size, size), np.repeat(owner, masks.shape[1])
    blurring.blur_fast(pixels, flat[:2], index[:2], workers=1)  # load the compiled kernels before timing
    clocks = {"PAIR": Clock(), "exact": Clock(), **{f"fast-{t}": Clock() for t in triangulators}}
    chosen = np.arange(min(args.reference_images, len(masks)))
    for k in chosen:
        with clocks["PAIR"]:
            for mask in masks[k]:
                reference.create_blurred_image(pixels[owner[k]], mask)
    with clocks["exact"]:
        blurring.blur_exact(pixels, flat, index, workers=1)
    for t in triangulators:
        with clocks[f"fast-{t}"]:
            blurring.blur_fast(pixels, flat, index, workers=1, triangulator=None if t == "default" else t)
    per = {name: clock.per(len(chosen) if name == "PAIR" else len(masks))[1] for name, clock in clocks.items()}
    options = {"thresholds": thresholds, "min_pred_value": args.min_pred_value, "verbose": 0,
               "batch_size": args.batch_size}
    fidelity = {}
    default_fast = blurring.blur_fast
    try:
        for entropy in args.entropy.split(","):
            exact = {m: pic(model, images, maps[m], entropy=entropy, blur="exact", **options) for m in methods}
            for t in triangulators:
                blurring.blur_fast = partial(default_fast, triangulator=None if t == "default" else t)
                agree, gaps, aggregated = [], [], []
                for m in methods:
                    fast = pic(model, images, maps[m], entropy=entropy, blur="fast", **options)
                    agree.append(fast.included == exact[m].included)
                    both = fast.included & exact[m].included
                    gaps.append(np.abs(fast.aucs[both] - exact[m].aucs[both]))
                    aggregated.append(abs(fast.auc - exact[m].auc))
                gaps = np.concatenate(gaps)
                fidelity[entropy, t] = (np.concatenate(agree).mean(), gaps.max() if gaps.size else float("nan"),
                                        gaps.size, np.nanmax(aggregated), gaps.mean() if gaps.size else float("nan"))
    finally:
        blurring.blur_fast = default_fast
    print(f"  CPU s per image (14 fills, one thread): PAIR {per['PAIR']:.3f} ({len(chosen)} image(s)), "
          f"exact {per['exact']:.4f}")
    for t in triangulators:
        print(f"  fast-{t:<9} {per[f'fast-{t}']:.4f} s: {per['PAIR'] / per[f'fast-{t}']:6.0f}x PAIR, "
              f"{per['exact'] / per[f'fast-{t}']:5.1f}x exact; " + "; ".join(
                  f"{e}: same include/exclude {fidelity[e, t][0]:.0%}, per-image |dAUC| mean {fidelity[e, t][4]:.4f} "
                  f"max {fidelity[e, t][1]:.4f} ({fidelity[e, t][2]} curves), aggregated |dAUC| max "
                  f"{fidelity[e, t][3]:.4f}" for e in args.entropy.split(",")))
        rows.append((size, t, per["PAIR"], per["exact"], per[f"fast-{t}"],
                     {e: fidelity[e, t] for e in args.entropy.split(",")}))


def print_fill_table(rows, entropies):
    print("\n| size | fill | CPU s/image: PAIR / exact / fast | fast vs PAIR | fast vs exact | "
          + " | ".join(f"{e}: same include/exclude; per-image abs(dAUC) mean / max; aggregated abs(dAUC)"
                       for e in entropies) + " |")
    print("| --- | --- | --- | --- | --- | " + " | ".join("---" for _ in entropies) + " |")
    for size, t, ref, exact, fast, fidelity in rows:
        print(f"| {size} | {t} | {ref:.2f} / {exact:.3f} / {fast:.4f} | {ref / fast:.0f}x | {exact / fast:.1f}x | "
              + " | ".join(f"{fidelity[e][0]:.0%}; {fidelity[e][4]:.3f} / {fidelity[e][1]:.3f}; {fidelity[e][3]:.3f}"
                           for e in entropies) + " |")


class Clock:
    """Wall-clock and CPU seconds (``time.process_time``: every thread of this process) spent in
    ``with`` blocks. The machine may be shared: CPU seconds move less when other processes
    compete for the cores, so the summary table uses them."""

    def __init__(self):
        self.wall = self.cpu = 0.0

    def __enter__(self):
        self._started = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.wall += time.perf_counter() - self._started[0]
        self.cpu += time.process_time() - self._started[1]

    def per(self, count):
        return self.wall / count, self.cpu / count


FIRST_CALL = """
import sys, time
import numpy as np
clock = time.perf_counter()
from xai_tf.metrics.information_curves import blur
from xai_tf.metrics.information_curves.pic_options import PAIR_THRESHOLDS, draw_random_masks
imported = time.perf_counter() - clock
size = int(sys.argv[1])
rng = np.random.default_rng(0)
images = (rng.random((8, size, size, 3)) * 255).astype(np.uint8)
maps = rng.random((8, size, size))
seeds = draw_random_masks(8, size, size)
quantiles = np.quantile(maps.reshape(8, -1), 1 - np.array(PAIR_THRESHOLDS), axis=1).T
masks = np.concatenate([seeds[:, None], (maps[:, None] >= quantiles[..., None, None]) | seeds[:, None]], 1)
index = np.repeat(np.arange(8), masks.shape[1])
times = []
for _ in range(2):
    clock, cpu = time.perf_counter(), time.process_time()
    blur.blur_fast(images, masks.reshape(-1, size, size), index)
    times += [time.perf_counter() - clock, time.process_time() - cpu]
print(imported, *times)
"""


def first_calls(size: int):
    """The fast fill's first call in two fresh processes (a shard of 8 images, 14 fills each): the
    first process may compile the triangulator and the rasteriser and write numba's cache, the
    second loads it."""
    import subprocess
    import sys

    for name in ("first process", "second process"):
        output = subprocess.run([sys.executable, "-c", FIRST_CALL, str(size)], capture_output=True, text=True,
                                check=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}).stdout.split()
        imported, first, first_cpu, second, second_cpu = (float(v) for v in output[-5:])
        print(f"fast fill, {name}: import {imported:.2f} s; 8 images {size}x{size} x 14 fills: first call "
              f"{first:.2f} s ({first_cpu:.2f} s CPU), second call {second:.2f} s ({second_cpu:.2f} s CPU): "
              f"first-call overhead {first - second:.2f} s ({first_cpu - second_cpu:.2f} s CPU)")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="32,64,150,224", help="comma-separated image sizes")
    parser.add_argument("--images", type=int, default=8, help="held-out images per size")
    parser.add_argument("--reference-images", type=int, default=1, help="images for PAIR's reference (slow)")
    parser.add_argument("--entropy", default="webp,shannon", help="comma-separated: webp, shannon")
    parser.add_argument("--methods", default="random,vanilla_gradient,gradcam,smoothgrad")
    parser.add_argument("--min-pred-value", type=float, default=0.5)
    parser.add_argument("--epochs", type=int, default=8, help="training epochs of the digits CNN (32x32)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--no-first-call", dest="first_call", action="store_false",
                        help="skip timing the fast fill's first call in fresh processes")
    parser.add_argument("--fills", action="store_true",
                        help="compare the fills alone: PAIR, exact, fast with each triangulator (see above)")
    parser.add_argument("--no-seed-spread", dest="seed_spread", action="store_false",
                        help="skip the second exact run (seed 1)")
    args = parser.parse_args()
    print(f"fast fill: default triangulator qhull up to 64x64 and for supports of up to {blurring.QHULL_SUPPORT:.0%} "
          f"of the pixels, else {blurring.default_triangulator(224, 224)}; Triangle "
          f"{'installed' if blurring.triangle is not None else 'not installed'}; {os.cpu_count()} CPU(s)")
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.fills:
        rows = []
        for size in sizes:
            compare_fills(size, args, rows)
        print_fill_table(rows, args.entropy.split(","))
        return
    if args.first_call:
        first_calls(max(sizes))
    rows = []
    for size in sizes:
        bench_size(size, args, rows)
    print("\nCPU seconds per image and method (all threads), PAIR's reference / exact / fast / bare forward:")
    print("| size | entropy | CPU s per image: reference / exact / fast / forward | fast vs reference | fast vs exact "
          "| same include/exclude | per-image abs(AUC fast - exact) mean / max | exact seed 0 vs 1 "
          "| max aggregated AUC diff | same ranking (exact seed 1 same as seed 0) |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for size, entropy, ref, exact, fast, forward, agree, mean_gap, max_gap, spread, agg, same, stable in rows:
        print(f"| {size} | {entropy} | {ref:.2f} / {exact:.3f} / {fast:.3f} / {forward:.3f} | {ref / fast:.0f}x "
              f"| {exact / fast:.1f}x | {agree:.0%} | {mean_gap:.3f} / {max_gap:.3f} | {spread:.3f} | {agg:.3f} "
              f"| {'yes' if same else 'no'} ({'-' if stable is None else 'yes' if stable else 'no'}) |")

if __name__ == "__main__":
    main()
