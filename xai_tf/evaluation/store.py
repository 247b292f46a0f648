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

from xai_tf._docstrings import fill_doc
from xai_tf._io import write_atomic
from xai_tf._versions import package_versions

RESULTS = "results.jsonl"
CONFIG = "config.json"
LOCK = ".lock"

#: The numpydoc entries of the two arguments that name one unit's arrays file.
UNIT_KEY = """
chunk : int
    The chunk number.
method : str
    The method's name.
"""


class EvaluationError(ValueError):
    """A problem with an output folder (other configuration, another process, unreadable files)."""


def json_value(value):
    """NumPy scalars as plain JSON values; non-finite floats as ``None``."""
    if isinstance(value, (np.floating, float)):
        return None if not np.isfinite(value) else float(value)
    if isinstance(value, (np.integer, np.bool_)):
        return int(value)
    return value


def json_tree(value):
    """:func:`json_value` applied through dicts, lists, tuples and arrays (strict JSON: NaN as ``None``)."""
    if isinstance(value, dict):
        return {key: json_tree(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [json_tree(item) for item in list(value)]
    return json_value(value)


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
    """One evaluation output folder: its lock, configuration, results file and arrays.

    Creating a ``Store`` touches no file; :meth:`open` creates the folder, takes the lock and
    records or checks the configuration, and :meth:`release` frees the lock. Attributes: ``root``
    (the folder), ``arrays`` (``root/arrays``), ``results`` (``root/results.jsonl``) and
    ``reports`` (the problems reported so far, see :meth:`report`).

    Parameters
    ----------
    out_dir : str or pathlib.Path
        The output folder (one per run or shard); created by :meth:`open` when missing.
    verbose : int, optional
        The run's verbosity, 0, 1 or 2 (default 1), kept as ``verbose``; :meth:`report` prints
        whatever its value.
    """

    def __init__(self, out_dir, verbose: int = 1):
        self.root = Path(out_dir)
        self.arrays = self.root / "arrays"
        self.results = self.root / RESULTS
        self.verbose = verbose
        self.reports: list[str] = []

    def report(self, message: str) -> None:
        """Record a problem found while resuming and print it to standard error.

        The message is appended to ``reports`` (``evaluate`` returns them as ``reported``) and
        printed as ``xai-tf evaluate: <message>``.

        Parameters
        ----------
        message : str
            What was found and what is done about it (e.g. a truncated line that will be redone).
        """
        self.reports.append(message)
        print(f"xai-tf evaluate: {message}", file=sys.stderr)

    # lock ---------------------------------------------------------------------------------------
    def acquire(self, shard_label: str) -> None:
        """Take the folder's lock file ``.lock``, so that no second process writes the folder.

        The lock records this process's id, host and ``shard_label``. A lock left by a stopped
        process on this host (or an unreadable one) is reported and removed.

        Parameters
        ----------
        shard_label : str
            Who holds the lock, shown to a process refused (``"k/n"`` or ``"all"``).

        Raises
        ------
        EvaluationError
            If a live process (or a process on another host) holds the lock, or the lock could
            not be taken after removing a stale one.
        """
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
        """Remove the folder's lock file (nothing happens when there is none)."""
        (self.root / LOCK).unlink(missing_ok=True)

    # opening ------------------------------------------------------------------------------------
    def open(self, config: dict, label: str) -> None:
        """Create the folder, take its lock and record or check its configuration.

        Call :meth:`release` when done (``evaluate`` does it in a ``finally`` block).

        Parameters
        ----------
        config : dict
            The run's configuration (``xai_tf.evaluation.build_config``), JSON-able.
        label : str
            Who holds the lock (``"k/n"`` or ``"all"``), see :meth:`acquire`.

        Raises
        ------
        EvaluationError
            If another live process holds the folder, or the folder holds results of another
            configuration (the lock is released again then).
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
        """Write ``config.json`` in a new folder; in an old one, refuse a different configuration.

        A new ``config.json`` holds ``{"config": config, "versions": package versions, "created":
        start time}``; only ``config`` is compared when resuming.

        Parameters
        ----------
        config : dict
            The run's configuration (``xai_tf.evaluation.build_config``), JSON-able.

        Raises
        ------
        EvaluationError
            If the folder's ``config.json`` is unreadable or not an evaluation's, or its
            configuration differs from ``config`` (every differing key is named, with both values).
        """
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
        """Read the valid rows of the results file, repairing it when needed.

        A truncated or unreadable line, or a second row for the same (image, method), is reported
        (:meth:`report`) and dropped, and the file is rewritten without it.

        Returns
        -------
        list of dict
            One row per (image, method) in file order: ``image``, ``method``, ``chunk``,
            ``target``, ``label`` and the metrics' columns; empty when there is no results file.
        """
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
        """Replace the results file with ``rows``, atomically (repairs, redone units and merges).

        Parameters
        ----------
        rows : list of dict
            The rows to keep, one JSON line each, in order.
        """
        write_atomic(self.results, b"".join(json.dumps(row).encode() + b"\n" for row in rows))

    def append(self, rows: list[dict]) -> None:
        """Append rows to the results file, one JSON line each, flushed and fsync'ed line by line.

        Parameters
        ----------
        rows : list of dict
            JSON-able rows (``xai_tf.evaluation.UnitScorer.score``'s).
        """
        with open(self.results, "ab") as handle:
            for row in rows:
                handle.write(json.dumps(row).encode() + b"\n")
                handle.flush()
                os.fsync(handle.fileno())

    @fill_doc(unit_key=UNIT_KEY)
    def array_path(self, chunk: int, method: str) -> Path:
        """Give the path of one unit's arrays file.

        Parameters
        ----------
        {unit_key}

        Returns
        -------
        pathlib.Path
            ``root/arrays/chunk{chunk:06d}_{method}.npz``.
        """
        return self.arrays / f"chunk{chunk:06d}_{method}.npz"

    @fill_doc(unit_key=UNIT_KEY)
    def read_arrays(self, chunk: int, method: str, indices: np.ndarray) -> dict | None:
        """Read one unit's arrays back, or None when they must be (re)computed.

        A file that cannot be read, or that holds other images than ``indices``, is reported
        (:meth:`report`) and removed, so that the unit is redone.

        Parameters
        ----------
        {unit_key}
        indices : numpy.ndarray, shape (B,)
            The image indices the unit must hold.

        Returns
        -------
        dict of str to numpy.ndarray or None
            ``{array name: array}`` (``indices``, ``targets``, ``maps``, ``masks`` when stored,
            and the metrics' arrays), or None when the file is missing or was corrupt.
        """
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

    @fill_doc(unit_key=UNIT_KEY)
    def write_arrays(self, chunk: int, method: str, arrays: dict) -> None:
        """Write one unit's arrays as a compressed ``.npz``, atomically (:meth:`array_path`).

        Parameters
        ----------
        {unit_key}
        arrays : dict of str to numpy.ndarray
            The arrays to store (no object arrays: they are read back with ``allow_pickle=False``).
        """
        self.arrays.mkdir(parents=True, exist_ok=True)
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **arrays)
        write_atomic(self.array_path(chunk, method), buffer.getvalue())

    def write_unit(self, unit, rows: list[dict], arrays: dict) -> None:
        """Store one finished unit: its arrays first, then its rows.

        In that order, a run stopped in between leaves arrays without rows, which resuming redoes;
        never rows whose arrays are missing.

        Parameters
        ----------
        unit : xai_tf.evaluation.Unit
            The unit (its ``chunk`` and ``method`` name the arrays file).
        rows : list of dict
            The unit's rows, one per image (:meth:`xai_tf.evaluation.UnitScorer.score`).
        arrays : dict of str to numpy.ndarray
            The unit's arrays (maps, indices, targets and the metrics' arrays).
        """
        self.write_arrays(unit.chunk, unit.method, arrays)
        self.append(rows)

    def method_arrays(self, method: str, with_maps: bool = False) -> list[tuple[int, dict]]:
        """Read every stored unit of one method (what a metric's ``stored()`` returns).

        The name must match exactly: ``chunk*_gradcam.npz`` would also match ``guided_gradcam``.

        Parameters
        ----------
        method : str
            The method's name.
        with_maps : bool, optional
            Also read the maps themselves (the largest arrays); default False, as summaries read
            only the metric arrays.

        Returns
        -------
        list of tuple of (int, dict)
            ``[(first image index, {array name: numpy.ndarray})]``, one per stored chunk, in file
            (chunk) order.
        """
        stored = []
        for path in sorted(self.arrays.glob("chunk*.npz")):
            if path.name[len("chunk000000_"):-len(".npz")] != method:
                continue
            with np.load(path, allow_pickle=False) as arrays:
                stored.append((int(arrays["indices"][0]),
                               {key: arrays[key] for key in arrays.files if with_maps or key != "maps"}))
        return stored
