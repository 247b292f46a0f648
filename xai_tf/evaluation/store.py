"""One evaluation output folder: lock, configuration, results (JSON lines) and arrays (``.npz``).

Files (see ``xai_tf.evaluation`` for what they hold):

- ``config.json``: ``{"config": ..., "versions": ..., "created": ...}``; a later run with another
  configuration is refused with the differing keys named (:meth:`Store.check_config`);
- ``results.jsonl``: one row per (image, method), appended and fsync'ed; a truncated or unreadable
  line or a duplicate row is reported and dropped (the file is rewritten without it);
- ``arrays/chunk{c:06d}_{method}.npz``: the maps and metric arrays of one unit of work, written
  atomically; a corrupt file is reported and removed so the unit is redone;
- ``.lock``: the process writing the folder (a stale lock of a stopped process is removed).

Every file is written through ``xai_tf._io`` (atomic writes; :func:`xai_tf._io.fingerprint` is the
one hash of arrays). The units of work that fill a store are ``xai_tf.evaluation.units``'.
"""
from __future__ import annotations

import io
import json
import os
import socket
import sys
import time
from pathlib import Path

import numpy as np

from xai_tf._io import write_atomic
from xai_tf._versions import package_versions

RESULTS = "results.jsonl"
CONFIG = "config.json"
LOCK = ".lock"


class EvaluationError(ValueError):
    """A problem with an output folder (other configuration, another process, unreadable files)."""


def json_value(value):
    """NumPy scalars as plain JSON values; non-finite floats as ``None``."""
    if isinstance(value, (np.floating, float)):
        return None if not np.isfinite(value) else float(value)
    if isinstance(value, (np.integer, np.bool_)):
        return int(value)
    return value


def plain_rows(path: Path) -> list[dict]:
    """The readable rows of a results file, without repairing it (merging only reads)."""
    rows = []
    if path.exists():
        for line in path.read_text().splitlines():
            try:
                rows.append(json.loads(line))
            except ValueError:
                continue
    return rows


def read_config(folder: Path) -> dict:
    """The ``config`` entry of ``folder/config.json``; EvaluationError when it is not an evaluation folder."""
    path = Path(folder) / CONFIG
    if not path.exists():
        raise EvaluationError(f"{folder} is not an evaluation folder (no {CONFIG})")
    try:
        stored = json.loads(path.read_text())
    except ValueError as error:
        raise EvaluationError(f"{path} is unreadable ({error}); use a new output folder") from None
    if not isinstance(stored, dict) or not isinstance(stored.get("config"), dict):
        raise EvaluationError(f"{folder} is not an evaluation folder: its {CONFIG} has no 'config' entry "
                              "(a folder of `xai-tf train` or of another command?)")
    return stored["config"]


class Store:
    """One output folder: config, lock, results file and arrays."""

    def __init__(self, out_dir, verbose: int = 1):
        self.root = Path(out_dir)
        self.arrays = self.root / "arrays"
        self.results = self.root / RESULTS
        self.verbose = verbose
        self.reports: list[str] = []

    def report(self, message: str) -> None:
        self.reports.append(message)
        print(f"xai-tf evaluate: {message}", file=sys.stderr)

    # lock ---------------------------------------------------------------------------------------
    def acquire(self, shard_label: str) -> None:
        """Take the folder's lock; EvaluationError when a live process holds it."""
        lock = self.root / LOCK
        payload = json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "shard": shard_label})
        for _ in range(2):
            try:
                descriptor = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                holder = self._lock_holder(lock)
                if holder is not None:
                    raise EvaluationError(
                        f"{self.root} is being written by another evaluation (pid {holder['pid']}, shard "
                        f"{holder.get('shard')}); give each shard its own --out folder and merge them with "
                        "`xai-tf evaluate merge`") from None
                self.report(f"removed a stale lock left by a stopped run ({lock})")
                lock.unlink(missing_ok=True)
                continue
            with os.fdopen(descriptor, "w") as handle:
                handle.write(payload)
            return
        raise EvaluationError(f"could not lock {self.root}")

    @staticmethod
    def _lock_holder(lock: Path):
        try:
            holder = json.loads(lock.read_text())
            pid = int(holder["pid"])
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if holder.get("host") != socket.gethostname() or pid == os.getpid():
            return holder if holder.get("host") != socket.gethostname() else None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            return holder
        return holder

    def release(self) -> None:
        (self.root / LOCK).unlink(missing_ok=True)

    # opening ------------------------------------------------------------------------------------
    def open(self, config: dict, label: str) -> None:
        """Create the folder, take its lock (``label``: who holds it) and record or check ``config``.

        Raises EvaluationError when another live process holds the folder or it holds another
        configuration (the lock is released again then). Call :meth:`release` when done.
        """
        self.root.mkdir(parents=True, exist_ok=True)
        self.acquire(label)
        try:
            self.check_config(config)
        except BaseException:
            self.release()
            raise

    # config -------------------------------------------------------------------------------------
    def check_config(self, config: dict) -> None:
        """Write ``config.json`` in a new folder; in an old one, refuse a different configuration."""
        path = self.root / CONFIG
        if not path.exists():
            write_atomic(path, json.dumps({"config": config, "versions": package_versions(),
                                           "created": time.strftime("%Y-%m-%dT%H:%M:%S")}, indent=2).encode())
            return
        stored = read_config(self.root)
        keys = sorted(set(stored) | set(config))
        differing = [key for key in keys if stored.get(key) != config.get(key)]
        if differing:
            details = "; ".join(f"{key}: {stored.get(key)!r} there vs {config.get(key)!r} now" for key in differing)
            raise EvaluationError(f"{self.root} holds results of a different configuration ({details}); resume "
                                  "with the same options or choose another output folder")

    # results ------------------------------------------------------------------------------------
    def read_rows(self) -> list[dict]:
        """Valid rows of the results file; bad lines and duplicates are reported and dropped."""
        if not self.results.exists():
            return []
        rows, seen, clean = [], set(), True
        raw = self.results.read_bytes()
        if raw and not raw.endswith(b"\n"):
            clean = False
        for number, line in enumerate(raw.split(b"\n"), start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                key = (int(row["image"]), str(row["method"]))
            except (ValueError, KeyError, TypeError):
                self.report(f"{self.results.name} line {number} is truncated or unreadable; that image will be redone")
                clean = False
                continue
            if key in seen:
                self.report(f"{self.results.name} line {number} repeats image {key[0]} / {key[1]}; dropped")
                clean = False
                continue
            seen.add(key)
            rows.append(row)
        if not clean:
            self.rewrite(rows)
        return rows

    def rewrite(self, rows: list[dict]) -> None:
        """Replace the results file with ``rows`` (atomically): repairs, redone units and merges."""
        write_atomic(self.results, b"".join(json.dumps(row).encode() + b"\n" for row in rows))

    def append(self, rows: list[dict]) -> None:
        with open(self.results, "ab") as handle:
            for row in rows:
                handle.write(json.dumps(row).encode() + b"\n")
                handle.flush()
                os.fsync(handle.fileno())

    def array_path(self, chunk: int, method: str) -> Path:
        return self.arrays / f"chunk{chunk:06d}_{method}.npz"

    def read_arrays(self, chunk: int, method: str, indices: np.ndarray) -> dict | None:
        """The unit's arrays, or None when missing; a corrupt file is reported and removed."""
        path = self.array_path(chunk, method)
        if not path.exists():
            return None
        try:
            with np.load(path, allow_pickle=False) as stored:
                arrays = {key: stored[key] for key in stored.files}
            if not np.array_equal(arrays["indices"], indices):
                raise ValueError("it holds other images")
        except Exception as error:  # noqa: BLE001 (any unreadable file is redone, never fatal)
            self.report(f"{path.name} is corrupt ({type(error).__name__}: {error}); chunk {chunk} / {method} "
                        "will be redone")
            path.unlink(missing_ok=True)
            return None
        return arrays

    def write_arrays(self, chunk: int, method: str, arrays: dict) -> None:
        self.arrays.mkdir(parents=True, exist_ok=True)
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **arrays)
        write_atomic(self.array_path(chunk, method), buffer.getvalue())

    def write_unit(self, unit, rows: list[dict], arrays: dict) -> None:
        """Store one finished unit (``xai_tf.evaluation.units.Unit``): its arrays first, then its rows.

        In that order, a run stopped in between leaves arrays without rows, which resuming redoes;
        never rows whose arrays are missing.
        """
        self.write_arrays(unit.chunk, unit.method, arrays)
        self.append(rows)

    def method_arrays(self, method: str, with_maps: bool = False) -> list[tuple[int, dict]]:
        """Every stored unit of ``method``: ``[(first image index, {name: array})]`` in file order.

        The maps themselves (the largest arrays) only ``with_maps``; summaries read the metric arrays.
        The name must match exactly: ``chunk*_gradcam.npz`` would also match ``guided_gradcam``.
        """
        stored = []
        for path in sorted(self.arrays.glob("chunk*.npz")):
            if path.name[len("chunk000000_"):-len(".npz")] != method:
                continue
            with np.load(path, allow_pickle=False) as arrays:
                stored.append((int(arrays["indices"][0]),
                               {key: arrays[key] for key in arrays.files if with_maps or key != "maps"}))
        return stored
