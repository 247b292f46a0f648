"""Evaluating from disk: peak memory and throughput of lazy sources against the in-memory path, as N grows.

The synthetic radio galaxies (64 px, with masks) are written as a folder of PNGs, a folder of FITS
cutouts, an HDF5 file and a zarr store (when zarr is installed) at each ``--sizes`` N; each is
evaluated with 2 methods x 3 metrics (``gradcam,random`` x ``xai_entropy,sparseness,pointing_game``;
the folder sources have no masks, so they score ``xai_entropy,sparseness,complexity``) in a fresh
Python process, which reports its peak RSS and images per second. Side by
side, in the same run, the in-memory path (``xai_tf.data.LabelledImages``) on the same images.
Issue 29's targets: peak RSS of a lazy source flat (<= 1.2x) from the smallest to the largest N;
images per second within 10% of in memory.

``--dask`` also runs the same scoring as a study (``xai_tf.study.run``, the path that takes a Dask
client; ``xai_tf.evaluate`` runs in one process) on a ``LocalCluster`` of 2 worker processes, with
the HDF5 file as its data, and reports each worker's peak RSS (``client.run``) and the
client's. A study on a file-based source opens it on the client (metadata only) and each worker
reads only the rows of its chunks (``xai_tf.study.sources``), so these should stay flat with N too.

    python benchmarks/bench_scale.py                        # N = 200 and 2,000
    python benchmarks/bench_scale.py --sizes 2000 20000     # the issue's sizes (long; "2000,20000" works too)
    python benchmarks/bench_scale.py --repeats 3            # best of 3 interleaved runs per kind (shared machines)
    python benchmarks/bench_scale.py --sizes 200 400 --dask # and a 2-worker Dask LocalCluster study per N

Peak RSS is ``VmHWM`` of ``/proc/self/status`` (the high-water mark of the process's own memory
since it started its program), not ``getrusage``'s ``ru_maxrss``: Linux carries ``ru_maxrss`` over
``fork`` + ``exec``, so a child of this script (which holds a whole set while writing it) would
report at least the parent's size (1,190 MB for every lazy source at N = 20,000, an artefact).
Elsewhere ``ru_maxrss`` is used.

The model is an untrained seeded tiny CNN: the figures are about reading, not about the model.
Times are wall-clock on a machine that may be shared: the CPU count and load are printed.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

BLOCK = 500  # images generated (and written) at a time

PEAK_RSS = r"""
def peak_rss_mb():  # this process's own peak RSS in MB: VmHWM (Linux), else ru_maxrss
    try:
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024
    except (OSError, StopIteration):
        import resource
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
"""

CHILD = PEAK_RSS + r"""
import json, sys, time
import numpy as np
import keras
import xai_tf
from xai_tf import data

kind, path, out, metrics = sys.argv[1:5]
if kind == "memory":
    with np.load(path) as stored:
        dataset = data.LabelledImages(images=stored["images"], labels=stored["labels"], class_names=("FRI", "FRII"),
                                      masks=stored["masks"])
else:
    dataset = data.open(path, **({"normalize": "none", "classes": ("FRI", "FRII")} if kind == "fits" else {}))
assert kind == "memory" or type(dataset).__name__.lower().startswith(kind.replace("png", "folder")), dataset
keras.utils.set_random_seed(0)
model = keras.Sequential([keras.Input((64, 64, 1)), keras.layers.Conv2D(4, 3, activation="relu"),
                          keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(2, activation="softmax")])
started = time.perf_counter()
xai_tf.evaluate(model, dataset, "gradcam,random", metrics, out, chunk_size=32, verbose=0)
seconds = time.perf_counter() - started
print(json.dumps({"seconds": seconds, "images_per_s": len(dataset) / seconds,
                  "peak_rss_mb": peak_rss_mb()}))
"""

DASK_CHILD = PEAK_RSS + r"""
import json, sys, time
import keras
from distributed import Client, LocalCluster
import xai_tf.study

path, out, metrics = sys.argv[1:4]
keras.utils.set_random_seed(0)
model = keras.Sequential([keras.Input((64, 64, 1)), keras.layers.Conv2D(4, 3, activation="relu"),
                          keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(2, activation="softmax")])
model.save(out + ".keras")
config = {"name": "bench-scale", "data": {"source": path, "image_size": 64, "color": "grayscale"}, "split": "all",
          "models": [{"name": "tiny", "path": out + ".keras"}], "methods": ["gradcam", "random"],
          "denoisers": ["none"], "metrics": metrics.split(","), "chunk_size": 32, "report": False}
with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
        Client(cluster) as client:
    started = time.perf_counter()
    result = xai_tf.study.run(config, out=out, dask=client, verbose=0)
    seconds = time.perf_counter() - started
    peaks = client.run(peak_rss_mb)
images = sum(cell["images"] for cell in result["cells"])
print(json.dumps({"seconds": seconds, "images_per_s": images / seconds, "worker_peak_rss_mb": sorted(peaks.values()),
                  "client_peak_rss_mb": peak_rss_mb()}))
"""


def write_zarr(folder: Path, n: int):
    """An empty zarr group with images (N, 64, 64, 1) float32 and masks (N, 64, 64) bool arrays, or None."""
    try:
        import zarr
    except ImportError:
        return None
    group = zarr.open_group(str(folder / "galaxies.zarr"), mode="w")
    group.attrs["class_names"] = ["FRI", "FRII"]
    return group, group.create_array("images", shape=(n, 64, 64, 1), dtype="float32", chunks=(32, 64, 64, 1)), \
        group.create_array("masks", shape=(n, 64, 64), dtype="bool", chunks=(32, 64, 64))


def write_sets(n: int, folder: Path) -> dict:
    """Write N synthetic galaxies as PNGs, FITS cutouts (class folders), HDF5, zarr (if installed) and .npz."""
    import h5py
    from astropy.io import fits
    from PIL import Image

    from xai_tf.data import synthetic_radio_galaxies

    names = ("FRI", "FRII")
    store = write_zarr(folder, n)
    with h5py.File(folder / "galaxies.h5", "w") as handle:
        images = handle.create_dataset("images", (n, 64, 64, 1), np.float32, chunks=(32, 64, 64, 1))
        masks = handle.create_dataset("masks", (n, 64, 64), bool, chunks=(32, 64, 64))
        labels = np.zeros(n, np.int64)
        everything = {"images": [], "labels": [], "masks": []}
        for start in range(0, n, BLOCK):
            block = synthetic_radio_galaxies(min(BLOCK, n - start), image_size=64, seed=start)
            quantised = np.round(block.images * 255) / 255  # PNG keeps 8 bits: the same images everywhere
            quantised = quantised.astype(np.float32)
            images[start:start + len(block)] = quantised
            masks[start:start + len(block)] = block.masks
            if store is not None:
                store[1][start:start + len(block)] = quantised
                store[2][start:start + len(block)] = block.masks
            labels[start:start + len(block)] = block.labels
            for key, value in (("images", quantised), ("labels", block.labels), ("masks", block.masks)):
                everything[key].append(value)
            for offset, (image, label) in enumerate(zip(quantised, block.labels)):
                index = start + offset
                for kind in ("png", "fits"):
                    (folder / kind / names[label]).mkdir(parents=True, exist_ok=True)
                Image.fromarray((image[..., 0] * 255).round().astype(np.uint8)).save(
                    folder / "png" / names[label] / f"{index:06d}.png")
                fits.PrimaryHDU(image[..., 0]).writeto(folder / "fits" / names[label] / f"{index:06d}.fits")
        handle.create_dataset("labels", data=labels)
        handle["images"].attrs["class_names"] = list(names)
    if store is not None:
        store[0].create_array("labels", data=labels)
    np.savez(folder / "memory.npz", **{key: np.concatenate(value) for key, value in everything.items()})
    # the folder sources list files class by class: the in-memory set in the same order
    order = np.argsort(labels, kind="stable")
    with np.load(folder / "memory.npz") as stored:
        np.savez(folder / "memory_sorted.npz", **{key: stored[key][order] for key in stored.files})
    return {"memory": folder / "memory.npz", "hdf5": folder / "galaxies.h5", "png": folder / "png",
            "fits": folder / "fits", "memory_sorted": folder / "memory_sorted.npz",
            **({"zarr": folder / "galaxies.zarr"} if store is not None else {})}


def run(kind: str, path: Path, out: Path, metrics: str) -> dict:
    if kind == "dask":
        command = [sys.executable, "-c", DASK_CHILD, str(path), str(out), metrics]
    else:
        command = [sys.executable, "-c", CHILD, "memory" if kind.startswith("memory") else kind, str(path), str(out),
                   metrics]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{kind} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=["200", "2000"],
                        help="N, space- or comma-separated (default 200 2000)")
    parser.add_argument("--repeats", type=int, default=1,
                        help="runs of each kind, interleaved; the best images/s and the largest peak RSS are kept")
    parser.add_argument("--workdir", default=None, help="where the sets are written (default: a temporary folder)")
    parser.add_argument("--dask", action="store_true",
                        help="also score the HDF5 set as a study on a 2-worker Dask LocalCluster (per-worker peak RSS)")
    args = parser.parse_args(argv)
    sizes = [int(v) for text in args.sizes for v in text.split(",") if v]
    if not sizes or min(sizes) < 1:
        parser.error(f"--sizes takes positive integers; got {args.sizes}")
    if args.dask:
        try:
            import distributed  # noqa: F401
        except ImportError:
            parser.error("--dask needs Dask distributed: pip install 'dask[distributed]'")
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
    results = {}
    with tempfile.TemporaryDirectory(prefix="xai-tf-bench-scale-", dir=args.workdir) as root:
        for n in sizes:
            folder = Path(root) / f"n{n}"
            folder.mkdir()
            paths = write_sets(n, folder)
            with_masks, without = "xai_entropy,sparseness,pointing_game", "xai_entropy,sparseness,complexity"
            plan = [("memory", paths["memory"], with_masks), ("hdf5", paths["hdf5"], with_masks),
                    *([("zarr", paths["zarr"], with_masks)] if "zarr" in paths else []),
                    ("memory_sorted", paths["memory_sorted"], without), ("png", paths["png"], without),
                    ("fits", paths["fits"], without), *([("dask", paths["hdf5"], with_masks)] if args.dask else [])]
            for repeat in range(args.repeats):  # interleaved, so that a busy spell of the machine hits every kind
                for kind, path, metrics in plan:
                    figures = run(kind, path, folder / (f"out_{kind}" + (f"_{repeat}" if repeat else "")), metrics)
                    if kind == "dask":
                        workers = ", ".join(f"{value:.0f}" for value in figures["worker_peak_rss_mb"])
                        print(f"N={n:>6} {kind:>13} (run {repeat + 1}): {figures['images_per_s']:8.1f} images/s, peak "
                              f"RSS per worker {workers} MB, client {figures['client_peak_rss_mb']:.0f} MB", flush=True)
                        figures["peak_rss_mb"] = max(figures["worker_peak_rss_mb"])
                    else:
                        print(f"N={n:>6} {kind:>13} (run {repeat + 1}): {figures['images_per_s']:8.1f} images/s, "
                              f"peak RSS {figures['peak_rss_mb']:7.0f} MB", flush=True)
                    best = results.setdefault((kind, n), figures)
                    best["images_per_s"] = max(best["images_per_s"], figures["images_per_s"])
                    best["peak_rss_mb"] = max(best["peak_rss_mb"], figures["peak_rss_mb"])
            def stored(kind):
                return (folder / f"out_{kind}" / "results.jsonl").read_bytes()

            compared = [(kind, "memory") for kind in ("hdf5", "zarr") if kind in paths] + \
                [(kind, "memory_sorted") for kind in ("png", "fits")]
            same = ", ".join(f"{kind} {stored(kind) == stored(reference)}" for kind, reference in compared)
            print(f"N={n:>6} results.jsonl identical to in memory: {same}")
    low, high = sizes[0], sizes[-1]
    print(f"best of {args.repeats} run(s); load average now {os.getloadavg()[0]:.2f}")
    for kind in ("memory", "hdf5", "zarr", "png", "fits", "dask"):
        if (kind, high) not in results:
            continue
        growth = results[(kind, high)]["peak_rss_mb"] / results[(kind, low)]["peak_rss_mb"]
        reference = "memory" if kind in ("memory", "hdf5", "zarr", "dask") else "memory_sorted"
        speed = results[(kind, high)]["images_per_s"] / results[(reference, high)]["images_per_s"]
        print(f"{kind:>6}: peak RSS x{growth:.2f} from N={low} to N={high}; images/s at N={high}: {speed:.2f} x in "
              "memory")
    return 0


if __name__ == "__main__":
    sys.exit(main())
