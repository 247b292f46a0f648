"""The papers' evaluation on the demo model: 10 methods x SIC + AIC, timed per image, projected to 1,200 images.

Paper 004 scores 1,200+ images x ~10 methods with AIC and SIC. This benchmark runs the same work on
``--n`` held-out images with the demo's model (custom CNN v2 at 64x64, trained without augmentation
on synthetic radio galaxies as ``xai_tf.demo`` trains it: 600 images, 6 epochs, seed 0; or
``--model runs/demo/train/model.keras``), through the public API only (``xai_tf.explain``,
``xai_tf.metrics.pic``). Every method is warmed up first (tracing, compiling the blur), so the
figures are steady-state costs; the warm-up is printed on its own.

Printed per method: explain and score (SIC + AIC) milliseconds per image, then the projection of
the whole evaluation to ``--project`` images (default 1,200) on this machine. Side by side, in the
same run on the same images: XRAI's region step (segmentation + ranking) against PAIR's
``saliency.core.XRAI.GetMask`` given the same base attributions (our batched IG), with the ratio and
whether the maps are equal.

    python benchmarks/bench_evaluation.py                 # 8 images
    python benchmarks/bench_evaluation.py --n 32 --model runs/demo/train/model.keras

The times are wall-clock on a machine that may be shared: the number of CPUs and the load average
are printed with them.
"""
from __future__ import annotations

import argparse
import os
import time
import warnings
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

import xai_tf
from xai_tf.metrics import pic
from xai_tf.metrics.information_curves.pic_options import draw_random_masks

METHODS = ("xrai", "scorecam", "occlusion", "smoothgrad", "integrated_gradients", "vanilla_gradient", "gradcam",
           "gradcam_pp", "guided_backprop", "random")


def demo_model(args):
    """The demo's custom CNN v2: loaded from ``--model``, from the cache folder, or trained here (seeded)."""
    from xai_tf import models

    data = xai_tf.data.synthetic_radio_galaxies(n=args.train_n, image_size=args.image_size, seed=args.seed)
    train, held_out = data.split(0.2, seed=args.seed)  # xai-tf train's split
    cached = Path(args.cache) / f"custom_v2_{args.image_size}_{args.train_n}_{args.epochs}_{args.seed}.keras"
    path = Path(args.model) if args.model else cached
    if path.is_file():
        print(f"model: {path}")
        return models.load_model(path), held_out
    print(f"model: training the custom CNN v2 ({args.epochs} epochs, {len(train.labels)} images) -> {cached}")
    model = models.build_custom_cnn(data.images.shape[1:], len(data.class_names), variant="v2")
    result = models.fit(model, train, held_out, epochs=args.epochs, augment=False, seed=args.seed, verbose=0)
    cached.parent.mkdir(parents=True, exist_ok=True)
    result.model.save(cached)
    return result.model, held_out


def score(model, images, maps, seed):
    """SIC and AIC AUCs as the evaluation runner asks for them (per-image random masks, defaults)."""
    height, width = images.shape[1:3]
    masks = draw_random_masks(len(images), height, width, 0.01, seed=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # excluded images are expected on a small model
        return {kind: pic(model, images, maps, kind=kind, verbose=0, random_masks=masks) for kind in ("sic", "aic")}


def timed(function, *args, **kwargs):
    """``(value, wall seconds)``; the process CPU seconds of the call are kept in ``timed.cpu``."""
    started, cpu = time.perf_counter(), time.process_time()
    value = function(*args, **kwargs)
    timed.cpu = time.process_time() - cpu
    return value, time.perf_counter() - started


def xrai_attributions(model, images, batch_size):
    """XRAI's base attribution through the public API: mean IG (100 steps) from the image's min and max.

    Returned as ``(N, H, W, C)`` with the channel-summed map in every channel, so that PAIR's channel
    maximum gives back the map.
    """
    low = np.broadcast_to(images.min(axis=(1, 2, 3), keepdims=True), images.shape)
    high = np.broadcast_to(images.max(axis=(1, 2, 3), keepdims=True), images.shape)
    maps = [xai_tf.explain(model, images, "integrated_gradients", steps=100, baseline=baseline,
                           batch_size=batch_size, verbose=0) for baseline in (low, high)]
    mean = 0.5 * (maps[0] + maps[1])
    return np.repeat(mean[..., None], images.shape[-1], axis=-1)


def cell(seconds) -> str:
    wall, cpu = seconds
    return f"{1e3 * wall:>10.1f} ({1e3 * cpu:>5.0f})"


def compare_xrai(images, attributions):
    """Our region step vs PAIR's GetMask per image, on the same attributions; returns seconds and equality."""
    from saliency.core import XRAI, XRAIParameters

    from xai_tf.explainers import segmentation, xrai

    segmentation.clear_cache()
    ours, ours_seconds = timed(xrai.xrai_maps, images, attributions)
    ours_cpu = timed.cpu
    explainer, parameters = XRAI(), XRAIParameters(algorithm="full")
    pair, pair_seconds = timed(lambda: np.stack([
        explainer.GetMask(image, None, base_attribution=attr, extra_parameters=parameters)
        for image, attr in zip(images, attributions)]))
    return (ours_seconds, ours_cpu), (pair_seconds, timed.cpu), bool(np.array_equal(ours, pair))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=8, help="held-out images to explain and score (default 8)")
    parser.add_argument("--methods", default=",".join(METHODS), help="comma-separated (default: the 10)")
    parser.add_argument("--project", type=int, default=1200, help="images to project to (default 1200)")
    parser.add_argument("--model", help="a .keras model (e.g. runs/demo/train/model.keras); default: train")
    parser.add_argument("--cache", default="runs/bench_evaluation", help="where a trained model is kept")
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--train-n", type=int, default=600, help="synthetic images (the demo's 600)")
    parser.add_argument("--epochs", type=int, default=6, help="training epochs (the demo's 6)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--no-pair", action="store_true", help="skip PAIR's XRAI side by side")
    args = parser.parse_args()
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]

    model, held_out = demo_model(args)
    if args.n + 2 > len(held_out.labels):
        raise SystemExit(f"--n {args.n}: only {len(held_out.labels)} held-out images (2 are used to warm up)")
    warm, images = held_out.images[:2], held_out.images[2:2 + args.n]
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"images: {len(images)} held-out of {images.shape[1:]}; {cpus} CPUs, load average "
          f"{' '.join(f'{v:.1f}' for v in os.getloadavg())} (a shared machine slows every figure alike)")

    warm_up = {}
    for method in methods:
        started = time.perf_counter()
        score(model, warm, xai_tf.explain(model, warm, method, batch_size=args.batch_size, verbose=0), args.seed)
        warm_up[method] = time.perf_counter() - started
    print("warm-up (first calls: tracing, blur compile, Numba load), s: "
          + ", ".join(f"{m} {s:.1f}" for m, s in warm_up.items()))

    rows = []
    print(f"\nms per image (wall; CPU in brackets)\n{'method':<22}{'explain':>18}{'SIC+AIC':>18}{'median SIC':>12}"
          f"{'median AIC':>12}")
    for method in methods:
        maps, explain_seconds = timed(xai_tf.explain, model, images, method, batch_size=args.batch_size, verbose=0,
                                      seed=args.seed)
        explain_cpu = timed.cpu
        results, score_seconds = timed(score, model, images, maps, args.seed)
        rows.append(np.array([explain_seconds, explain_cpu, score_seconds, timed.cpu]) / len(images))
        print(f"{method:<22}{cell(rows[-1][:2])}{cell(rows[-1][2:])}{results['sic'].auc:>12.3f}"
              f"{results['aic'].auc:>12.3f}")
    totals = np.sum(rows, axis=0)
    print(f"{'all methods':<22}{cell(totals[:2])}{cell(totals[2:])}")
    wall, cpu = totals[0] + totals[2], totals[1] + totals[3]
    print(f"\nprojection: {len(methods)} methods x SIC+AIC on {args.project} images = {wall * args.project / 60:.1f} "
          f"min on this machine ({wall:.2f} s per image); its CPU time over {cpus} cores = "
          f"{cpu * args.project / cpus / 60:.1f} min (what an otherwise idle machine would take if the work "
          "kept every core busy)")

    if not args.no_pair and "xrai" in methods:
        attributions, ig_seconds = timed(xrai_attributions, model, images, args.batch_size)
        ours, pair, equal = compare_xrai(images, attributions)
        n = len(images)
        print(f"\nXRAI regions (segmentation + ranking) on the same IG attributions, ms per image (wall; CPU):\n"
              f"  ours {1e3 * ours[0] / n:.0f} ({1e3 * ours[1] / n:.0f}), PAIR GetMask {1e3 * pair[0] / n:.0f} "
              f"({1e3 * pair[1] / n:.0f}): {pair[0] / ours[0]:.1f}x faster (CPU {pair[1] / ours[1]:.1f}x); "
              f"maps equal: {equal}")
        print(f"  with the attributions ({1e3 * ig_seconds / n:.0f} ms per image): ours "
              f"{1e3 * (ig_seconds + ours[0]) / n:.0f} ms, PAIR {1e3 * (ig_seconds + pair[0]) / n:.0f} ms")

if __name__ == "__main__":
    main()
