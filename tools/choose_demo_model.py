"""Which model should the demo and the quickstart train? Measured: is Grad-CAM better than random on it?

Issue 31 item 2: on the demo's model (custom CNN v2, Flatten head, 6 epochs) Grad-CAM maps are often
all zero. This trains each candidate recipe on the synthetic radio galaxies exactly as the demo does
(``runs.train_settings``: 600 images, 64 px, seed 0, no augmentation, 20% held out) and prints, on
the held-out images: accuracy, the fraction of all-zero Grad-CAM maps (per class) and the Pointing
Game of Grad-CAM and of the random baseline against the synthetic masks, with McNemar's exact test
(the pairs are the same images).

Run: ``.venv/bin/python tools/choose_demo_model.py`` (about 5 minutes on 2 CPU cores);
``--epochs 6 15`` and ``--heads flatten gap`` choose the grid.
"""
from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np


def measure(head: str, epochs: int, n: int, image_size: int, seed: int) -> dict:
    """Train one recipe as the demo does and score Grad-CAM against random on the held-out images."""
    from scipy import stats

    import xai_tf
    from xai_tf import models, runs
    from xai_tf.models.head import head_of

    settings = runs.train_settings(data="synthetic", n=n, image_size=image_size, model="custom-v2", epochs=epochs,
                                   seed=seed, no_augment=True, head=head)
    with tempfile.TemporaryDirectory() as folder:  # trained exactly as `xai-tf train` (and the demo) train
        runs.train(folder, verbose=0, **settings)
        model = models.load_model(Path(folder) / "model.keras")
        held_out = runs.split_of(Path(folder), runs.load_data(settings, 0), "held-out")[0]
    predicted = head_of(model).predicted_classes(held_out.images)
    row = {"head": head, "epochs": epochs, "accuracy": float(np.mean(predicted == held_out.labels))}
    hits = {}
    for method in ("gradcam", "random"):
        maps = xai_tf.explain(model, held_out.images, method, seed=seed, verbose=0)
        score = xai_tf.metrics.pointing_game(maps, held_out.masks)
        hits[method] = np.asarray(score.hits, dtype=bool)
        row[f"pointing_game_{method}"] = float(hits[method].mean())
        if method == "gradcam":
            blank = maps.reshape(len(maps), -1).max(axis=1) <= 0.0
            row["gradcam_all_zero"] = float(blank.mean())
            row["gradcam_all_zero_per_class"] = {name: float(blank[predicted == label].mean())
                                                 if np.any(predicted == label) else None
                                                 for label, name in enumerate(held_out.class_names)}
    only_gradcam = int(np.sum(hits["gradcam"] & ~hits["random"]))
    only_random = int(np.sum(~hits["gradcam"] & hits["random"]))
    discordant = only_gradcam + only_random
    row["mcnemar_p"] = float(stats.binomtest(only_gradcam, discordant).pvalue) if discordant else 1.0
    row["images"] = len(held_out)
    return row


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--heads", nargs="+", default=["flatten", "gap"])
    parser.add_argument("--epochs", nargs="+", type=int, default=[6, 15])
    parser.add_argument("--n", type=int, default=600)
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    for head in args.heads:
        for epochs in args.epochs:
            print(json.dumps(measure(head, epochs, args.n, args.image_size, args.seed)), flush=True)


if __name__ == "__main__":
    main()
