"""``skip_bad`` in an evaluation: bad images of a lazy source are left out and listed, never shifting indices.

A source opened with ``skip_bad=True`` (``xai_tf.data.open(..., skip_bad=True)``) may hold files that
cannot be read. An evaluation of it scores each unit on the chunk's readable images (their indices
unchanged) and lists the others in the run folder's ``skipped.json``
(``{"skipped": [{"image", "file", "reason"}]}``). A resumed run leaves the listed images out of its
plan, so the units that held them are complete with the rows they have, and nothing is recomputed.
"""
from __future__ import annotations

import json
from pathlib import Path

from xai_tf._docstrings import fill_doc
from xai_tf._io import write_json
from xai_tf.evaluation.units import SCORED, Unit

SKIPPED = "skipped.json"


def read_skipped(folder) -> dict[int, tuple[str, str]]:
    """The images a run folder lists as skipped: ``{image index: (file, reason)}`` (empty without the file).

    Parameters
    ----------
    folder : str or pathlib.Path
        An evaluation output folder.

    Returns
    -------
    dict of int to tuple of (str, str)
        The skipped images' indices, files and reasons.
    """
    path = Path(folder) / SKIPPED
    if not path.exists():
        return {}
    entries = json.loads(path.read_text())["skipped"]
    return {int(entry["image"]): (entry["file"], entry["reason"]) for entry in entries}


def write_skipped(folder, skipped: dict) -> None:
    """Write ``skipped.json`` in ``folder``: the images ``{index: (file, reason)}``, sorted by index.

    Parameters
    ----------
    folder : str or pathlib.Path
        An evaluation output folder.
    skipped : dict of int to tuple of (str, str)
        The skipped images' indices, files and reasons.
    """
    write_json(Path(folder) / SKIPPED, {"skipped": [
        {"image": int(index), "file": file, "reason": reason} for index, (file, reason) in sorted(skipped.items())]})


def merge_skipped(folders, out) -> dict[int, tuple[str, str]]:
    """Write the union of the shard folders' skipped images to ``out/skipped.json`` (when any).

    Parameters
    ----------
    folders : list of str or pathlib.Path
        The shards' folders (``xai_tf.evaluation.merge``).
    out : str or pathlib.Path
        The merged folder.

    Returns
    -------
    dict of int to tuple of (str, str)
        The union, ``{image index: (file, reason)}`` (empty: no file is written).
    """
    merged: dict[int, tuple[str, str]] = {}
    for folder in folders:
        merged.update(read_skipped(folder))
    if merged:
        write_skipped(out, merged)
    return merged


class SkippingScorer:
    """A ``UnitScorer`` of a ``skip_bad`` source: scores each unit's readable images, records the others.

    Parameters
    ----------
    scorer : xai_tf.evaluation.UnitScorer
        The scorer of the source.
    folder : str or pathlib.Path
        The run folder, where ``skipped.json`` is kept.
    """

    def __init__(self, scorer, folder):
        self.scorer, self.folder = scorer, Path(folder)
        self.skipped = read_skipped(self.folder)

    def planned(self, units: list[Unit]) -> list[Unit]:
        """The units less the images already listed as skipped (a unit left with none is dropped).

        Parameters
        ----------
        units : list of Unit
            ``plan_units``' result.

        Returns
        -------
        list of Unit
            The same units, each without its skipped images' indices.
        """
        kept = []
        for unit in units:
            indices = unit.indices[[int(i) not in self.skipped for i in unit.indices]]
            if indices.size:
                kept.append(Unit(unit.chunk, unit.method, indices))
        return kept

    @fill_doc(scored=SCORED.format(rows="One row per readable image (empty when none was).",
                                   arrays="Their arrays (``indices`` are the readable images')."))
    def score(self, unit: Unit) -> tuple[list[dict], dict]:
        """Score the unit's readable images; list the others in ``skipped.json`` first.

        {scored}
        """
        kept = self.scorer.readable(unit.indices)
        found = {index: value for index, value in self.scorer.data.skipped.items() if index not in self.skipped}
        if found:
            self.skipped.update(found)
            write_skipped(self.folder, self.skipped)
        if not kept.size:
            return [], {}
        return self.scorer.score(Unit(unit.chunk, unit.method, kept))
