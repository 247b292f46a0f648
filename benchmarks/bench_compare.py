"""``xai_tf.evaluation.compare`` on 10 methods x 10 metrics x 1,200 images vs a naive per-pair SciPy loop.

The stored values are synthetic (a folder in the evaluation's format: ``config.json`` +
``results.jsonl``, with PIC-style exclusions in SIC), so the figure is the comparison alone: reading
the rows, 45 pairs x 10 metrics of bootstrap intervals (2,000 resamples), paired tests and Holm, the
Friedman test, average ranks and critical difference per metric, Kendall's W and tau, the files and
the 10 critical-difference diagrams. The naive loop, measured side by side in the same run, does
the same statistics pair by pair with SciPy (``scipy.stats.bootstrap`` for the interval,
``wilcoxon`` / ``binomtest``, ``friedmanchisquare``) and writes nothing; the issue's target is
under 10 s for ``compare``. Run::

    .venv/bin/python benchmarks/bench_compare.py [--methods 10] [--images 1200] [--naive-pairs 45]

``--naive-pairs`` times the naive loop on that many pairs per metric and scales it to all of them
(its bootstrap is the slow part), so that the benchmark stays short on 2 shared cores.
"""
from __future__ import annotations

import argparse
import itertools
import json
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
from scipy import stats

from xai_tf.evaluation import compare

METRICS = ["sic", "aic", "max_sensitivity", "xai_entropy", "pointing_game", "deletion", "insertion", "mufidelity",
           "sparseness", "complexity"]


def write_folder(folder: Path, methods: list[str], images: int) -> np.ndarray:
    """A synthetic evaluation folder; returns the values (metrics, images, methods), NaN where excluded."""
    rng = np.random.default_rng(0)
    values = rng.normal(size=(len(METRICS), images, len(methods))) + np.linspace(0, 0.3, len(methods))
    values[METRICS.index("pointing_game")] = values[METRICS.index("pointing_game")] > 0.5
    excluded = rng.random((images, len(methods))) < 0.05
    values[0][excluded] = np.nan
    config = {"methods": methods, "metrics": METRICS, "options": {}, "shard": None, "data_images": images,
              "chunk_size": 8, "data_fingerprint": "bench", "data_shape": [64, 64, 1], "seed": 0}
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps({"config": config}))
    lines = []
    for image in range(images):
        for position, method in enumerate(methods):
            row = {"image": image, "method": method, "chunk": image // 8}
            for number, metric in enumerate(METRICS):
                value = values[number, image, position]
                row[metric] = None if np.isnan(value) else float(value)
            if np.isnan(values[0, image, position]):
                row["sic_excluded"] = "below the minimum score"
            lines.append(json.dumps(row) + "\n")
    (folder / "results.jsonl").write_text("".join(lines))
    return values


def naive(values: np.ndarray, pairs_per_metric: int) -> float:
    """Seconds of the per-pair SciPy loop, scaled from ``pairs_per_metric`` pairs to every pair."""
    k = values.shape[2]
    pairs = list(itertools.combinations(range(k), 2))
    timed = pairs[:pairs_per_metric]
    started = time.perf_counter()
    for number, metric in enumerate(METRICS):
        table = values[number]
        p_values = []
        for i, j in timed:
            valid = np.isfinite(table[:, i]) & np.isfinite(table[:, j])
            d = table[valid, i] - table[valid, j]
            stats.bootstrap((d,), np.mean, n_resamples=2000, method="percentile", random_state=0)
            if metric == "pointing_game":
                a, b = table[valid, i], table[valid, j]
                only_a, only_b = int(np.sum((a == 1) & (b == 0))), int(np.sum((a == 0) & (b == 1)))
                p_values.append(stats.binomtest(only_a, only_a + only_b).pvalue if only_a + only_b else 1.0)
            else:
                p_values.append(stats.wilcoxon(d).pvalue)
        complete = np.isfinite(table).all(axis=1)
        stats.friedmanchisquare(*table[complete].T)
    return (time.perf_counter() - started) * len(pairs) / len(timed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--methods", type=int, default=10)
    parser.add_argument("--images", type=int, default=1200)
    parser.add_argument("--naive-pairs", type=int, default=45, help="pairs per metric the naive loop times")
    args = parser.parse_args()
    methods = [f"method{m}" for m in range(args.methods)]
    with tempfile.TemporaryDirectory() as folder:
        values = write_folder(Path(folder), methods, args.images)
        compare(folder, write=False, resamples=200)  # warm-up: imports, the q_alpha quantile
        started = time.perf_counter()
        result = compare(folder)
        seconds = time.perf_counter() - started
    reference = naive(values, args.naive_pairs)
    pairs = len(result["pairs"])
    print(f"compare: {args.methods} methods x {len(METRICS)} metrics x {args.images} images ({pairs} pairs, "
          f"2000 resamples): {seconds:.2f} s (target < 10 s)")
    print(f"naive per-pair SciPy loop (scipy.stats.bootstrap + wilcoxon/binomtest + friedmanchisquare, no files): "
          f"{reference:.2f} s{'' if args.naive_pairs >= args.methods * (args.methods - 1) // 2 else ' (scaled)'}")
    print(f"ratio naive / compare: {reference / seconds:.1f}x")


if __name__ == "__main__":
    main()
