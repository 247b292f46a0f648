"""Issue-21 metrics: milliseconds per image, batched (xai-tf) against a per-image loop of the same arithmetic.

For each model (the demo's custom CNN v2 ``build_custom_cnn((s, s, 1), 2, variant="v2")`` and a
ResNet50 with ``weights=None``, both untrained: timing does not depend on the weights) at each size
(default 64 and 224 px), every perturbation metric is timed twice on the same ``--n`` real photographs
(scikit-image's sample images resized, grey for the CNN; SLIC needs real structure) and random maps:

- **batched**: the public function of ``xai_tf.metrics`` with the reference's defaults (all the
  perturbations of the images through one compiled forward function, ``--batch-size`` at a time).
  Where a metric needs more than ``--cap`` model calls per image (Pixel-Flipping, Monotonicity and
  Non-Sensitivity make one per pixel, Infidelity one per 4x4 patch), its time is projected from the
  engine's throughput measured on 256 deletion copies, and marked ``~``.
- **loop**: the way Quantus computes it: one image, one perturbation, one eager ``model(x)`` call at a
  time, building each perturbed image in NumPy. It is timed on the first ``--loop-cap`` perturbations
  of each image and projected linearly to all of them (marked ``~``).

The first call of each function (tracing) is made before timing. The last table line projects
Pixel-Flipping at 224 px, one pixel per step, on the CNN (``--pixel-flipping-full`` runs it for one
image instead). Times are wall-clock on a machine that may be shared; the CPU count and load are printed.

    python benchmarks/bench_metrics.py                      # 2 images, 64 and 224 px, CNN and ResNet50
    python benchmarks/bench_metrics.py --models cnn --sizes 64 --n 4
"""
from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np

from xai_tf.metrics.axiomatic import axioms
from xai_tf.metrics.faithfulness import correlation, fidelity, infidelity, irof, pixel_flipping, road
from xai_tf.metrics.perturbation import fill_values, importance_ranks, perturbed_scores


def build(kind: str, size: int):
    from xai_tf import models

    keras.utils.set_random_seed(0)
    if kind == "cnn":
        return models.build_custom_cnn((size, size, 1), 2, variant="v2"), 1
    return keras.applications.ResNet50(weights=None, input_shape=(size, size, 3), classes=2), 3


def photographs(n: int, size: int, channels: int) -> np.ndarray:
    """``n`` real images (scikit-image's astronaut, coffee, chelsea, ...), resized to ``size``, grey or RGB."""
    from skimage import color, data, transform

    sources = [data.astronaut(), data.coffee(), data.chelsea(), data.rocket()]
    out = []
    for i in range(n):
        image = transform.resize(sources[i % len(sources)], (size, size), anti_aliasing=True)
        out.append(color.rgb2gray(image)[..., None] if channels == 1 else image)
    return np.clip(np.stack(out), 0, 1).astype(np.float32)


def eager_probability(model, image, target):
    return float(np.asarray(model(image[None], training=False))[0, target])


# ------------------------------------------------------------------ loop references (one call per copy)
def loop_causal(model, image, saliency, target, mode, cap):
    pixels = saliency.size
    order = np.argsort(-saliency.ravel(), kind="stable")
    counts = np.linspace(0, pixels, 11, dtype=np.int32)
    flat, base = image.reshape(pixels, -1), np.zeros_like(image).reshape(pixels, -1)
    for k in counts[:cap]:
        copy = (flat if mode == "deletion" else base).copy()
        copy[order[:k]] = (base if mode == "deletion" else flat)[order[:k]]
        eager_probability(model, copy.reshape(image.shape), target)
    return len(counts)


def loop_flipping(model, image, saliency, target, cap):
    flat = image.reshape(saliency.size, -1).copy()
    order = np.argsort(-saliency.ravel(), kind="stable")
    for k in range(min(cap, saliency.size)):
        flat[order[k]] = image.min()
        eager_probability(model, flat.reshape(image.shape), target)
    return saliency.size


def loop_random_subsets(model, image, saliency, target, cap, runs, make):
    rng = np.random.default_rng(0)
    eager_probability(model, image, target)
    for _ in range(min(cap, runs)):
        eager_probability(model, make(image, rng), target)
    return runs + 1


def mufidelity_copy(image, rng):
    cells = (rng.random((9, 9)) > 0.2).astype(np.float32)
    reps = -(-image.shape[0] // 9)
    mask = np.kron(cells, np.ones((reps, reps)))[:image.shape[0], :image.shape[1], None]
    return (image * mask).astype(np.float32)


def subset_copy(image, rng):
    copy = image.reshape(-1, image.shape[-1]).copy()
    copy[rng.choice(len(copy), 224, replace=False)] = image.min()
    return copy.reshape(image.shape)


def loop_infidelity(model, image, saliency, target, cap):
    copy = image.copy()
    size = image.shape[0]
    steps = 0
    for row in range(0, size, 4):
        for col in range(0, size, 4):
            if steps < cap:
                copy[row:row + 4, col:col + 4] = image.min()
                eager_probability(model, copy, target)
            steps += 1
    return steps


def loop_irof(model, image, saliency, target, cap):
    labels = irof.superpixels(image)
    n = labels.max() + 1
    copy = image.copy()
    for k in range(min(cap, n)):
        copy = np.where((labels == k)[..., None], copy.mean(), copy)
        eager_probability(model, copy, target)
    return n


def loop_road(model, image, saliency, target, cap):
    order = np.argsort(-saliency.ravel(), kind="stable")
    rng = np.random.default_rng(0)
    every = -(-len(road.PERCENTAGES) // cap)  # evenly spaced percentages: small and large solves alike
    for p in road.PERCENTAGES[::every]:
        copy = road.noisy_linear_imputation(image, order[:int(saliency.size * p)], 0.01, rng)
        eager_probability(model, copy, target)
    return len(road.PERCENTAGES) * cap / len(road.PERCENTAGES[::every])


def loop_average(model, image, saliency, target, cap):
    mask = np.abs(saliency)
    mask = (mask - mask.min()) / (mask.max() - mask.min() + 1e-8)
    eager_probability(model, image, target)
    eager_probability(model, (image * mask[..., None]).astype(np.float32), target)
    return 2


LOOPS = {
    "deletion": lambda m, x, a, y, cap: loop_causal(m, x, a, y, "deletion", cap),
    "insertion": lambda m, x, a, y, cap: loop_causal(m, x, a, y, "insertion", cap),
    "mufidelity": lambda m, x, a, y, cap: loop_random_subsets(m, x, a, y, cap, 200, mufidelity_copy),
    "faithfulness_correlation": lambda m, x, a, y, cap: loop_random_subsets(m, x, a, y, cap, 100, subset_copy),
    "pixel_flipping": loop_flipping,
    "monotonicity": loop_flipping,
    "non_sensitivity": loop_flipping,
    "infidelity": loop_infidelity,
    "irof": loop_irof,
    "road": loop_road,
    "average_drop_increase_gain": loop_average,
    "completeness": loop_average,
}

BATCHED = {
    "deletion": lambda m, x, a, y, b: fidelity.causal_curves(m, x, a, y, batch_size=b),
    "insertion": lambda m, x, a, y, b: fidelity.causal_curves(m, x, a, y, mode="insertion", batch_size=b),
    "mufidelity": lambda m, x, a, y, b: fidelity.mu_fidelity(m, x, a, y, batch_size=b),
    "faithfulness_correlation": lambda m, x, a, y, b: correlation.faithfulness_correlation(m, x, a, y, batch_size=b),
    "pixel_flipping": lambda m, x, a, y, b: pixel_flipping.ordered_curves(m, x, a, y, batch_size=b),
    "monotonicity": lambda m, x, a, y, b: pixel_flipping.ordered_curves(m, x, a, y, insert=True, batch_size=b),
    "non_sensitivity": lambda m, x, a, y, b: axioms.non_sensitivity(m, x, a, y, batch_size=b),
    "infidelity": lambda m, x, a, y, b: infidelity.infidelity(m, x, a, y, batch_size=b),
    "irof": lambda m, x, a, y, b: irof.irof_curves(m, x, a, y, batch_size=b),
    "road": lambda m, x, a, y, b: road.road_curves(m, x, a, y, batch_size=b),
    "average_drop_increase_gain": lambda m, x, a, y, b: fidelity.average_drop_increase_gain(m, x, a, y, batch_size=b),
    "completeness": lambda m, x, a, y, b: axioms.completeness(m, x, a, y, batch_size=b),
}
#: Model calls per image of each metric at its defaults, for ``size`` px images (IROF: SLIC's ~100 segments).
COPIES = {
    "deletion": lambda size: 11, "insertion": lambda size: 11, "mufidelity": lambda size: 201,
    "faithfulness_correlation": lambda size: 101, "pixel_flipping": lambda size: size * size,
    "monotonicity": lambda size: size * size, "non_sensitivity": lambda size: size * size + 1,
    "infidelity": lambda size: (-(-size // 4)) ** 2 + 1, "irof": lambda size: 101, "road": lambda size: 50,
    "average_drop_increase_gain": lambda size: 2, "completeness": lambda size: 2,
}


def engine_seconds_per_copy(model, images, maps, targets, copies, batch_size):
    """Seconds per perturbed copy of the batched engine (deletion-style copies), measured on ``copies``."""
    ranks = importance_ranks(maps)
    ids = np.zeros(copies, np.int64)
    counts = np.arange(copies) % (maps[0].size + 1)
    fills = fill_values(images, "black")

    def run():
        return perturbed_scores(model, images, fills, ids, counts, lambda a, b: ranks[ids[a:b]], targets,
                                batch_size=batch_size)
    run()
    start = time.perf_counter()
    run()
    return (time.perf_counter() - start) / copies


def timed(function):
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default="cnn,resnet50")
    parser.add_argument("--sizes", default="64,224")
    parser.add_argument("--n", type=int, default=2, help="images per measurement (default 2)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--cap", type=int, default=1024, help="most model calls per image run in full (default "
                        "1024); above, projected from the engine's throughput")
    parser.add_argument("--loop-cap", type=int, default=12, help="perturbations timed per image in the loop")
    parser.add_argument("--metrics", default=",".join(BATCHED))
    parser.add_argument("--pixel-flipping-full", action="store_true",
                        help="run Pixel-Flipping at 224 px, one pixel per step, on one image, in full")
    args = parser.parse_args(argv)
    print(f"CPUs: {os.cpu_count()}, load average: {os.getloadavg()}")
    print(f"{'model':9} {'px':>4} {'metric':27} {'batched ms/img':>15} {'loop ms/img':>13} {'ratio':>7}")
    for kind in args.models.split(","):
        for size in (int(s) for s in args.sizes.split(",")):
            model, channels = build(kind, size)
            rng = np.random.default_rng(0)
            images = photographs(args.n, size, channels)
            maps = rng.normal(size=(args.n, size, size)).astype(np.float32)
            targets = np.zeros(args.n, np.int64)
            per_copy = engine_seconds_per_copy(model, images[:1], maps[:1], targets[:1], 4 * args.batch_size,
                                               args.batch_size)
            for name in args.metrics.split(","):
                if name != "road" and COPIES[name](size) > args.cap:  # ROAD's cost is its imputation: always run
                    batched, mark = per_copy * COPIES[name](size), "~"
                else:
                    BATCHED[name](model, images[:1], maps[:1], targets[:1], args.batch_size)  # trace
                    batched = timed(lambda name=name, inputs=(model, images, maps, targets): BATCHED[name](
                        *inputs, args.batch_size)) / args.n
                    mark = " "
                loop_total = 0.0
                for image, saliency, target in zip(images, maps, targets):
                    eager_probability(model, image, target)
                    start = time.perf_counter()
                    total = LOOPS[name](model, image, saliency, target, args.loop_cap)
                    spent = time.perf_counter() - start
                    loop_total += spent * max(1.0, total / args.loop_cap)
                loop = loop_total / args.n
                print(f"{kind:9} {size:4d} {name:27} {mark}{batched * 1e3:14.1f} ~{loop * 1e3:12.1f} "
                      f"{loop / batched:6.1f}x", flush=True)
            if kind == "cnn" and size == 224:
                pixels = size * size
                if args.pixel_flipping_full:
                    seconds = timed(lambda inputs=(model, images[:1], maps[:1], targets[:1]):
                                    pixel_flipping.ordered_curves(*inputs, batch_size=args.batch_size))
                    print(f"Pixel-Flipping 224 px, 1 pixel per step ({pixels} copies), 1 image, batched: "
                          f"{seconds:.1f} s")
                else:
                    print(f"Pixel-Flipping 224 px, 1 pixel per step ({pixels} copies), 1 image, batched: "
                          f"~{per_copy * pixels:.1f} s (engine: {per_copy * 1e3:.2f} ms per copy)")


if __name__ == "__main__":
    main()
