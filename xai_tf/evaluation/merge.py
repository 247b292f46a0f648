"""``merge(folders, out_dir)``: shards of one run -> one summary and one results file."""
from __future__ import annotations

from pathlib import Path

from xai_tf.evaluation.skipping import merge_skipped
from xai_tf.evaluation.store import Store
from xai_tf.evaluation.summary import read_shards, summarize


def merge(folders, out_dir=None) -> dict:
    """Combine shard folders of one run into one summary.

    Parameters
    ----------
    folders : list of path
        The shards' folders (disjoint shards of one configuration).
    out_dir : path, optional
        Where ``summary.json``, ``table.csv``, the curve figures (``curve_<column>.png``), the
        merged ``results.jsonl`` and ``skipped.json`` (the union of the shards' skipped images, when
        any: ``xai_tf.evaluation.skipping``) go; default ``<first folder>/../merged``.

    Returns
    -------
    dict
        The merged summary (``xai_tf.evaluation.summarize``).

    Raises
    ------
    ValueError
        No folder given.
    EvaluationError
        The folders are not disjoint shards of one configuration.
    """
    folders = [Path(folder) for folder in folders]
    if not folders:
        raise ValueError("merge needs at least one folder")
    out = Path(out_dir) if out_dir is not None else folders[0].parent / "merged"
    summary = summarize(folders, write_to=out)
    _, rows, _ = read_shards(folders)
    Store(out).rewrite(rows)  # the store's one writer of results files
    merge_skipped(folders, out)  # the images the shards left out (skip_bad), all of them
    return summary
