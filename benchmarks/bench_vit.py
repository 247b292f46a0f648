"""Cost of the transformers' methods per image, at 64 and 224 pixels, against a forward pass and per-image loops.

For each size (``--sizes``, default 64 and 224) a ViT is built with ``xai_tf.models.build_vit``
(DeiT-Ti: width 192, 12 blocks, 3 heads, random weights; the cost does not depend on the weights;
patch 4 at 64 px, 16 at 224 px) and ``--images`` images are explained, after a warm-up call that
traces the compiled functions, with:

- ``attention_rollout``, ``transformer_attribution``, ``gradcam`` (on the patch tokens) and
  ``vanilla_gradient``, batched as ``xai_tf.explain`` runs them;
- the same two attention methods one image at a time (``batch_size=1``), the loop the unofficial
  Keras rollout scripts run;
- a plain forward pass of the model (``model.predict``-free: its compiled call on the batch).

Printed: milliseconds per image, the ratio to the forward pass and to a vanilla gradient, and the
speed-up of the batched attention methods over the per-image loop. Best of ``--repeats`` runs.

Run::

    .venv/bin/python benchmarks/bench_vit.py [--sizes 64,224] [--images 8] [--repeats 2]
"""
from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np
import tensorflow as tf

import xai_tf

METHODS = ("attention_rollout", "transformer_attribution", "gradcam", "vanilla_gradient")
LOOPED = ("attention_rollout", "transformer_attribution")


def best_of(repeats: int, run) -> float:
    """Fastest of ``repeats`` calls of ``run()``, in seconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="64,224")
    parser.add_argument("--images", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    for size in (int(value) for value in args.sizes.split(",")):
        keras.utils.set_random_seed(0)
        model = xai_tf.models.build_vit((size, size, 3), 2, variant="tiny")
        images = np.random.default_rng(0).random((args.images, size, size, 3), dtype=np.float32)
        forward = tf.function(lambda x: model(x, training=False))
        forward(images)  # traced on the timed batch shape
        forward_seconds = best_of(args.repeats, lambda: forward(images).numpy())
        seconds = {}
        for method in METHODS:
            xai_tf.explain(model, images[:1], method, verbose=0)  # warm-up: tracing
            seconds[method] = best_of(args.repeats, lambda m=method: xai_tf.explain(model, images, m, verbose=0))
        looped = {method: best_of(args.repeats, lambda m=method: xai_tf.explain(model, images, m, batch_size=1,
                                                                                verbose=0))
                  for method in LOOPED}
        tokens = model.get_layer("position_embedding").output.shape[1]
        print(f"\nViT DeiT-Ti at {size} px ({tokens} tokens, 12 blocks), {args.images} images, best of "
              f"{args.repeats}: forward pass {forward_seconds / args.images * 1000:.1f} ms per image")
        for method in METHODS:
            per_image = seconds[method] / args.images
            line = (f"  {method:24s} {per_image * 1000:8.1f} ms per image  {seconds[method] / forward_seconds:6.1f}x "
                    f"forward  {seconds[method] / seconds['vanilla_gradient']:5.2f}x vanilla gradient")
            if method in looped:
                line += f"  {looped[method] / seconds[method]:5.1f}x faster than one image at a time"
            print(line, flush=True)


if __name__ == "__main__":
    main()
