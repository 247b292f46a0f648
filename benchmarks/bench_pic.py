"""AIC/SIC speed: PAIR's reference algorithm vs ``pic(blur="exact")`` vs ``pic(blur="fast")`` vs a bare forward pass.

All four run in one process on the same model, images, maps and thresholds. The reference is
PAIR's ``saliency.metrics.pic.compute_pic_metric`` (np.trapz patched back for NumPy 2; for
``--entropy shannon`` its WebP estimator swapped for paper 004's histogram entropy, as the paper's
code does); it takes tens of seconds per 224x224 image, so it runs on ``--reference-images`` images
and its time is scaled per image. The bare forward pass scores as many images as ``pic`` does
(originals, fully blurred images and one per threshold) in batches of ``--batch-size``.

Model (``--model``): ``small`` (default), a cheap CNN like the one the issue timed (its forward pass
over 27 images of 224x224 takes a few hundredths of a second), or a keras.applications backbone with
``weights=None`` (``resnet50`` ...); either plus a fixed "image detail" logit (mean |Laplacian|),
added so that blurring lowers the score and images pass PAIR's exclusion rules without trained
weights.
Images: synthetic 8-bit scenes (smooth blobs, a textured patch, mild noise). Maps: half seeded
uniform noise (the random baseline), half smoothed noise (Grad-CAM-like blobs).

Agreement of ``fast`` with ``exact`` is printed per map type, per image and for the aggregated
(median) curve, next to how far the exact algorithm's own per-image AUCs move when only the random
seed masks change (a second exact run with ``seed=1``; skip it with ``--no-seed-spread``).

    python benchmarks/bench_pic.py                       # 224x224, 13 thresholds, shannon and webp
    python benchmarks/bench_pic.py --entropy shannon --images 8 --reference-images 2
"""
from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np
from scipy.ndimage import gaussian_filter

from xai_tf.metrics import information
from xai_tf.metrics.pic import PAIR_THRESHOLDS, aggregate_curves, pic


class DetailEnergy(keras.layers.Layer):
    """Mean |Laplacian| of the channel-mean image, ``(N, 1)``: large for sharp images, small for blurred ones.

    Written with slices rather than a Conv2D: a 3x3 convolution with 1-2 filters over a full-size
    batch costs more on CPU than the whole small CNN.
    """

    def call(self, images):
        gray = keras.ops.mean(images, axis=-1)
        laplacian = (gray[:, 1:-1, :-2] + gray[:, 1:-1, 2:] + gray[:, :-2, 1:-1] + gray[:, 2:, 1:-1]
                     - 4.0 * gray[:, 1:-1, 1:-1])
        return keras.ops.mean(keras.ops.abs(laplacian), axis=(1, 2))[:, None]


def build_model(name: str, size: int) -> keras.Model:
    """The benchmark classifier: a backbone (``small`` CNN or a keras.applications net, weights=None)
    plus a fixed "image detail" logit (30 x mean |Laplacian|) so that blurring lowers the score and
    images pass PAIR's exclusion rules without trained weights."""
    keras.utils.set_random_seed(0)
    inputs = keras.Input((size, size, 3))
    scaled = inputs * 2.0 - 1.0
    if name == "small":
        # A cheap CNN of the kind the issue timed (27 images of 224x224 in ~0.04 s): a 4x4 patch
        # stem, two strided convolutions, global average pooling and a dense head.
        features = keras.layers.Conv2D(16, 4, strides=4, activation="relu")(scaled)
        for filters in (32, 64):
            features = keras.layers.Conv2D(filters, 3, strides=2, padding="same", activation="relu")(features)
    else:
        backbones = {"resnet50": keras.applications.ResNet50, "mobilenetv2": keras.applications.MobileNetV2,
                     "vgg16": keras.applications.VGG16, "efficientnetb0": keras.applications.EfficientNetB0}
        features = backbones[name](weights=None, include_top=False, input_shape=(size, size, 3))(scaled)
    backbone_logits = keras.layers.Dense(2, kernel_initializer=keras.initializers.RandomNormal(stddev=1e-3))(
        keras.layers.GlobalAveragePooling2D()(features))
    detail = keras.layers.Dense(2, name="detail_logits")
    detail_logits = detail(DetailEnergy()(inputs))
    outputs = keras.layers.Softmax()(keras.layers.Add()([detail_logits, backbone_logits]))
    model = keras.Model(inputs, outputs)
    detail.set_weights([np.array([[30.0, -30.0]], np.float32), np.array([-1.0, 1.0], np.float32)])
    return model


def scenes(count: int, size: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size] / size
    images = []
    for _ in range(count):
        image = 0.1 + 0.2 * (yy * rng.random() + xx * rng.random())[..., None] * rng.random(3)
        for _ in range(5):
            cy, cx, width = rng.random(3)
            image = image + 0.5 * rng.random(3) * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (0.005 + 0.03 * width))[..., None]
        top, left = rng.integers(0, size // 2, 2)
        patch = 0.15 * np.sin(2 * np.pi * (xx * size / 5 + yy * size / 7))[..., None]
        window = np.zeros((size, size, 1))
        window[top:top + size // 3, left:left + size // 3] = 1
        image = image + patch * window + 0.02 * rng.standard_normal((size, size, 3))
        images.append(np.clip(image, 0, 1))
    return np.stack(images).astype(np.float32)


def saliency_maps(count: int, size: int, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    maps = rng.random((count, size, size)).astype(np.float32)
    for i in range(count // 2, count):
        maps[i] = gaussian_filter(maps[i], size / 16)
    return maps


def run_reference(model, images, maps, masks, targets, thresholds, entropy):
    from saliency.metrics import pic as reference

    np.trapz = np.trapezoid  # NumPy 2 removed it; PAIR still calls it
    webp = reference.estimate_image_entropy
    if entropy == "shannon":
        reference.estimate_image_entropy = information.histogram_entropy
    pixels = np.round(images.astype(np.float64) * 255).astype(np.uint8)
    aucs = []
    for i in range(len(images)):
        def predict(batch, target=targets[i]):
            return model.predict_on_batch(batch.astype(np.float32) / 255.0)[:, target].astype(np.float64)
        try:
            aucs.append(reference.compute_pic_metric(pixels[i], maps[i], masks[i], predict, list(thresholds)).auc)
        except reference.ComputePicMetricError:
            aucs.append(np.nan)
    reference.estimate_image_entropy = webp
    return np.array(aucs)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--images", type=int, default=8, help="images for exact, fast and forward pass")
    parser.add_argument("--reference-images", type=int, default=1, help="images for PAIR's reference (slow)")
    parser.add_argument("--entropy", default="shannon,webp", help="comma-separated: shannon, webp")
    parser.add_argument("--model", default="small",
                        choices=["small", "resnet50", "mobilenetv2", "vgg16", "efficientnetb0"])
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--no-seed-spread", dest="seed_spread", action="store_false",
                        help="skip the second exact run (seed 1) that measures how much per-image AUCs move "
                             "with the random masks alone")
    args = parser.parse_args()

    thresholds = PAIR_THRESHOLDS
    model = build_model(args.model, args.size)
    images = scenes(args.images, args.size)
    maps = saliency_maps(args.images, args.size)
    passes = args.images * (len(thresholds) + 2)
    print(f"model {args.model} (weights=None) + detail logit, {args.images} images {args.size}x{args.size}, "
          f"{len(thresholds)} thresholds, batch {args.batch_size}")

    # Warm up every compiled path on one image so that tracing is not timed.
    for blur in ("fast", "exact"):
        pic(model, images[:1], maps[:1], entropy="shannon", blur=blur, thresholds=thresholds, min_pred_value=0.0,
            verbose=0, batch_size=args.batch_size)
    batch = np.repeat(images, len(thresholds) + 2, axis=0)
    model.predict_on_batch(batch[:args.batch_size])
    clock = time.perf_counter()
    for start in range(0, passes, args.batch_size):
        model.predict_on_batch(batch[start:start + args.batch_size])
    forward = (time.perf_counter() - clock) / args.images

    for entropy in args.entropy.split(","):
        runs = {}
        for blur in ("exact", "fast"):
            clock = time.perf_counter()
            runs[blur] = pic(model, images, maps, entropy=entropy, blur=blur, thresholds=thresholds,
                             min_pred_value=0.0, verbose=0, batch_size=args.batch_size)
            runs[blur].timings["wall"] = (time.perf_counter() - clock) / args.images
        exact, fast = runs["exact"], runs["fast"]
        # The reference runs on images that pass the exclusion rules (excluded ones stop early).
        chosen = np.flatnonzero(exact.included)[:args.reference_images]
        count = len(chosen)
        clock = time.perf_counter()
        reference_aucs = run_reference(model, images[chosen], maps[chosen], exact.random_masks[chosen],
                                       exact.targets[chosen], thresholds, entropy)
        reference = (time.perf_counter() - clock) / max(count, 1)
        both = exact.included & fast.included
        difference = np.abs(exact.aucs[both] - fast.aucs[both])
        agree = np.nanmax(np.abs(reference_aucs - exact.aucs[chosen])) if np.any(np.isfinite(reference_aucs)) else np.nan

        print(f"\nentropy={entropy}: seconds per image")
        print(f"  reference (PAIR, {count} image(s)) {reference:9.3f}")
        for name, run in runs.items():
            split = ", ".join(f"{key} {run.timings[key] / args.images:.3f}" for key in ("blur", "entropy", "model"))
            print(f"  ours {name:<5}                   {run.timings['wall']:9.3f}   ({split})   "
                  f"{reference / run.timings['wall']:7.1f}x faster than reference")
        print(f"  bare forward pass ({len(thresholds) + 2} images) {forward:9.3f}   fast / forward = "
              f"{fast.timings['wall'] / forward:.2f}")
        print(f"  included images: exact {exact.num_included}, fast {fast.num_included} of {args.images}")
        print(f"  mean |AUC fast - AUC exact| = {difference.mean():.4f} (max {difference.max():.4f}); "
              f"aggregated AUC exact {exact.auc:.4f}, fast {fast.auc:.4f}")
        smooth = np.arange(args.images) >= args.images // 2  # see saliency_maps
        # The exact algorithm's own spread: the same maps scored with the next seed's random masks.
        reseeded = pic(model, images, maps, entropy=entropy, blur="exact", thresholds=thresholds,
                       min_pred_value=0.0, verbose=0, batch_size=args.batch_size, seed=1) if args.seed_spread else None
        for name, chosen_maps in (("random", both & ~smooth), ("smooth", both & smooth)):
            if chosen_maps.any():
                gap = np.abs(exact.aucs[chosen_maps] - fast.aucs[chosen_maps])
                line = (f"    {name} maps ({chosen_maps.sum()}): per image mean {gap.mean():.4f}, max {gap.max():.4f}; "
                        f"aggregated (median curve) AUC exact {_aggregated_auc(exact, chosen_maps):.4f}, "
                        f"fast {_aggregated_auc(fast, chosen_maps):.4f}")
                if reseeded is not None:
                    same = chosen_maps & reseeded.included
                    spread = np.abs(exact.aucs[same] - reseeded.aucs[same]).mean()
                    line += f"; exact seed 0 vs seed 1: per image mean {spread:.4f}"
                print(line)
        print(f"  max |AUC exact - AUC reference| = {agree:.2e}")


def _aggregated_auc(result, chosen):
    """AUC of the median curve over the chosen images (PAIR's aggregation)."""
    return aggregate_curves(result.curves[chosen], result.curve_x)[1]


if __name__ == "__main__":
    main()
