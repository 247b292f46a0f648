"""Shards of an evaluation: ``--shard k/n`` (or ``auto`` in a SLURM array job) and the chunks each shard scores.

Images are cut into chunks of ``chunk_size`` consecutive images (chunk ``c`` holds images
``c*chunk_size ... (c+1)*chunk_size - 1``) and shard ``k`` of ``n`` (1-based) takes the chunks with
``c % n == k - 1``; see ``xai_tf.evaluation`` for why results do not depend on the shard.
"""
from __future__ import annotations

import os

import numpy as np


def parse_shard(shard) -> tuple[int, int] | None:
    """Read a shard specification: ``None``, ``"k/n"``, ``(k, n)`` or ``"auto"``.

    ``"auto"`` reads a SLURM array job's environment: ``n = SLURM_ARRAY_TASK_COUNT`` and
    ``k = (SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN) // SLURM_ARRAY_TASK_STEP + 1`` (MIN defaults to
    0 and STEP to 1 when unset), so ``--array=0-3`` and ``--array=1-4`` both give shards 1/4 ... 4/4.

    Parameters
    ----------
    shard : None, str or tuple of int
        None (all images), ``"k/n"`` (e.g. ``"2/4"``), ``(k, n)``, or ``"auto"``.

    Returns
    -------
    tuple of (int, int) or None
        ``(k, n)`` with ``1 <= k <= n`` (1-based), or None for None.

    Raises
    ------
    ValueError
        If ``shard`` is a string that is not ``"k/n"`` or ``"auto"``, ``k`` is not in ``1 .. n``,
        or ``"auto"`` is used outside a SLURM array job (or its variables are not non-negative
        integers).
    """
    if shard is None:
        return None
    if isinstance(shard, str) and shard.strip() == "auto":
        return _slurm_shard()
    if isinstance(shard, str):
        parts = shard.split("/")
        if len(parts) != 2 or not all(p.strip().isdigit() for p in parts):
            raise ValueError(f"shard must look like 'k/n' (e.g. 2/4) or 'auto'; got {shard!r}")
        shard = (int(parts[0]), int(parts[1]))
    k, n = (int(v) for v in shard)
    if not 1 <= k <= n:
        raise ValueError(f"shard must be k/n with 1 <= k <= n; got {k}/{n}")
    return k, n


def _slurm_shard() -> tuple[int, int]:
    """The (k, n) of this SLURM array task (see ``parse_shard``); ValueError outside an array job."""
    names = ("SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_COUNT")
    missing = [name for name in names if not os.environ.get(name)]
    if missing:
        raise ValueError(f"shard='auto' needs {' and '.join(missing)} (set by `sbatch --array`); use shard='k/n' "
                         "outside a SLURM array job")
    values = {}
    for name, default in (("SLURM_ARRAY_TASK_ID", None), ("SLURM_ARRAY_TASK_COUNT", None),
                          ("SLURM_ARRAY_TASK_MIN", "0"), ("SLURM_ARRAY_TASK_STEP", "1")):
        text = os.environ.get(name) or default
        if not text.strip().isdigit():
            raise ValueError(f"shard='auto': {name}={text!r} is not a non-negative integer")
        values[name] = int(text)
    step = values["SLURM_ARRAY_TASK_STEP"] or 1
    k = (values["SLURM_ARRAY_TASK_ID"] - values["SLURM_ARRAY_TASK_MIN"]) // step + 1
    return parse_shard((k, values["SLURM_ARRAY_TASK_COUNT"]))


def shard_chunks(n: int, chunk_size: int, shard) -> list[tuple[int, np.ndarray]]:
    """List the chunks a shard scores: chunks of consecutive images, those with ``c % n == k - 1``.

    Chunk ``c`` holds images ``c * chunk_size ... (c + 1) * chunk_size - 1`` (the last one fewer).

    Parameters
    ----------
    n : int
        Number of images in the data.
    chunk_size : int
        Consecutive images per chunk, >= 1.
    shard : tuple of (int, int) or None
        ``(k, n_shards)`` from :func:`parse_shard`, or None for every chunk.

    Returns
    -------
    list of tuple of (int, numpy.ndarray)
        ``[(chunk number, image indices)]`` in chunk order; the indices are int64 ``(B,)``.
    """
    chunks = [(c, np.arange(start, min(start + chunk_size, n))) for c, start in enumerate(range(0, n, chunk_size))]
    if shard is None:
        return chunks
    k, count = shard
    return [(c, indices) for c, indices in chunks if c % count == k - 1]
