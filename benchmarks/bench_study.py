"""A small study in-process vs on a Dask LocalCluster (``dask="local:N"``), side by side in one run.

Both runs start from the same trained models (trained once, in-process, then copied), so the
figure is the scoring: explain + denoise + score of every model x method x denoiser chunk. The
results are checked to be identical (rows and maps of every cell) before the times are printed.
On 2 shared cores the Dask run measures its overhead (worker start-up, TensorFlow imported and each
model loaded once per worker, results moved back); with N GPU workers (``resources: {GPU: 1}``) the
units are independent, so the scoring time should fall towards 1/N of the in-process time. Run::

    .venv/bin/python benchmarks/bench_study.py [--workers 2] [--images 32] [--size 32]
"""
from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

from xai_tf import study
from xai_tf.study import tasks


def config(images: int, size: int) -> dict:
    # 5 * images synthetic images: the held-out fifth is what the study scores
    return {
        "name": "bench", "data": {"source": "synthetic", "n": 5 * images, "image_size": size, "seed": 0},
        "models": [{"name": "v1", "model": "custom-v1", "epochs": 1},
                   {"name": "v2", "model": "custom-v2", "epochs": 1}],
        "methods": ["random", "vanilla_gradient", {"integrated_gradients": {"steps": 8}}],
        "denoisers": ["none", {"gaussian": {"sigma": 1.0}}],
        "metrics": ["sic", "pointing_game"], "chunk_size": 8, "report": False,
    }


def results(out: Path) -> dict:
    found = {}
    for folder in sorted((out / "cells").iterdir()):
        found[folder.name] = sorted((folder / "results.jsonl").read_text().splitlines())
        for path in sorted((folder / "arrays").glob("*.npz")):
            with np.load(path) as stored:
                found[folder.name + "/" + path.name] = stored["maps"].copy()
    return found


def same(first: dict, second: dict) -> bool:
    if sorted(first) != sorted(second):
        return False
    return all(np.array_equal(first[k], second[k]) if isinstance(first[k], np.ndarray) else first[k] == second[k]
               for k in first)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=2, help="LocalCluster worker processes (default 2)")
    parser.add_argument("--images", type=int, default=32, help="held-out images scored per model (default 32)")
    parser.add_argument("--size", type=int, default=32, help="image size (default 32)")
    args = parser.parse_args()
    cfg = config(args.images, args.size)
    with tempfile.TemporaryDirectory(prefix="bench-study-") as root:
        root = Path(root)
        study.run(cfg, out=root / "in-process", verbose=0)  # trains the models (and warms this process up)
        # the Dask run reuses the trained models: only the scoring is compared below
        shutil.copytree(root / "in-process" / "models", root / "dask" / "models")
        shutil.rmtree(root / "in-process" / "cells")
        tasks.CACHE.clear()  # the in-process run loads its models again, as each Dask worker must
        started = time.perf_counter()
        study.run(cfg, out=root / "in-process", verbose=0)
        in_process = time.perf_counter() - started
        started = time.perf_counter()
        study.run(cfg, out=root / "dask", dask=f"local:{args.workers}", verbose=0)
        on_dask = time.perf_counter() - started
        identical = same(results(root / "in-process"), results(root / "dask"))
        # the same on a cluster already started, its workers having imported TensorFlow (a long-lived
        # scheduler, as on a SLURM allocation): what remains is loading the models and moving results
        import distributed

        with distributed.LocalCluster(n_workers=args.workers, processes=True, threads_per_worker=1,
                                      host="127.0.0.1", dashboard_address=None) as cluster, \
                distributed.Client(cluster) as client:
            client.run(lambda: __import__("tensorflow") and None)
            shutil.copytree(root / "in-process" / "models", root / "warm" / "models")
            started = time.perf_counter()
            study.run(cfg, out=root / "warm", dask=client, verbose=0)
            warm = time.perf_counter() - started
        identical = identical and same(results(root / "in-process"), results(root / "warm"))
    cells = 2 * 3 * 2
    print(f"study scoring: {cells} cells x {args.images} images at {args.size} px, chunks of 8")
    print(f"  in-process            {in_process:8.1f} s")
    print(f"  dask local:{args.workers:<2}         {on_dask:8.1f} s   (including cluster start-up)")
    print(f"  dask, started cluster {warm:8.1f} s   (workers up, TensorFlow imported)")
    print(f"  ratio dask / in-process {on_dask / in_process:6.2f} (cold), {warm / in_process:.2f} (started cluster)")
    print(f"  identical results: {identical}")
    if not identical:
        raise SystemExit("the two runs gave different results")


if __name__ == "__main__":
    main()
