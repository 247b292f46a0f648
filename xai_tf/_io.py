"""File writing and fingerprints, in one place: every writer of xai-tf goes through these.

- :func:`fingerprint`: the one hash of arrays (model weights, images and labels) used by the
  evaluation store, the run folders, the studies and the report to tell whether two things are the
  same;
- :func:`write_atomic`: bytes to a file through a temporary file and ``os.replace``, so a reader
  (or a run resumed after a crash) never sees half a file;
- :func:`write_json`: indented JSON, atomically;
- :func:`csv_text`: rows as CSV text with 6 significant digits (the tables of evaluations and
  studies).

Private (underscored) because these are conventions of the package's own folders, not API.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import os
from pathlib import Path

import numpy as np


def fingerprint(arrays) -> str:
    """Short SHA-256 (16 hex digits) of a sequence of arrays: dtypes, shapes and bytes.

    Parameters
    ----------
    arrays : iterable of array-like
        E.g. ``model.get_weights()``, or ``[images, labels]``.

    Returns
    -------
    str
        16 hexadecimal digits; equal for arrays with equal dtypes, shapes and values.
    """
    digest = hashlib.sha256()
    for array in arrays:
        array = np.ascontiguousarray(array)
        digest.update(str((array.dtype.str, array.shape)).encode())
        digest.update(array.tobytes())
    return digest.hexdigest()[:16]


def write_atomic(path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and ``os.replace`` (never half a file).

    Parameters
    ----------
    path : path
        The file; its folder is created when missing.
    data : bytes
        The whole content.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + f".tmp{os.getpid()}")
    with open(temporary, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def write_json(path, payload) -> None:
    """``payload`` as indented JSON at ``path``, atomically (objects JSON lacks are written with ``str``)."""
    write_atomic(path, json.dumps(payload, indent=2, default=str).encode())


def csv_text(columns, rows) -> str:
    """Rows (dicts) as CSV text: floats with 6 significant digits, empty cells where a value is missing.

    Parameters
    ----------
    columns : list of str
        The header, in order; each row is read by these keys.
    rows : iterable of dict
        One dict per line.

    Returns
    -------
    str
        The CSV text, header first.
    """
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if row.get(column) is None else
                         f"{row[column]:.6g}" if isinstance(row[column], (float, np.floating)) else row[column]
                         for column in columns])
    return text.getvalue()
