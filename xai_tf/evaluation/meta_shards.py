"""Shards of a meta-evaluation (``meta_evaluate(..., shard="k/n")``): their folders, checks and completeness.

Every run of the plan (``unperturbed``, ``<test>_<nr|ar>_<k>``) is an evaluation sharded as
:func:`xai_tf.evaluate` shards one (``xai_tf.evaluation.shards``), each shard in its own folder
``<out>/meta_evaluation/<run>/shard-<k>-of-<n>/``. A shard of a run is complete when its folder's
``summary.json`` says so (``"complete": true``, the evaluation's own flag, written when the shard's
last unit is scored) and its ``config.json`` records that shard; the meta-evaluation is complete
when all ``n`` shards of every run are.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

from xai_tf.evaluation.store import CONFIG, EvaluationError, read_config

#: The name of a shard's folder inside a run's folder: ``shard-<k>-of-<n>``.
FOLDER = "shard-{}-of-{}"
_PATTERN = re.compile(r"shard-(\d+)-of-(\d+)")


def shard_folder(run: Path, shard: tuple[int, int]) -> Path:
    """The folder of shard ``(k, n)`` of the run folder ``run``: ``run/shard-k-of-n``."""
    return Path(run) / FOLDER.format(*shard)


def shard_folders(run: Path, count: int) -> list[Path]:
    """The folders of shards ``1/count ... count/count`` of the run folder ``run``."""
    return [shard_folder(run, (k, count)) for k in range(1, count + 1)]


def check_layout(root: Path, shard: tuple[int, int] | None, settings: dict) -> None:
    """Refuse, before any work, a ``root`` (``<out>/meta_evaluation``) that holds runs this call must not mix with.

    Unsharded (``shard`` None): only shard folders are refused. Sharded: unsharded runs, shards of
    another ``n`` and shards recorded with other meta-evaluation ``settings`` are refused.

    Raises
    ------
    EvaluationError
        Naming the folder and what differs (a ValueError).
    """
    root = Path(root)
    if not root.is_dir():
        return
    for run in sorted(path for path in root.iterdir() if path.is_dir()):
        found = sorted((path, _PATTERN.fullmatch(path.name)) for path in run.iterdir() if path.is_dir())
        found = [(path, match) for path, match in found if match]
        if shard is None:
            if found:
                raise EvaluationError(f"{root} holds sharded runs ({run.name}/{found[0][0].name}); finish them with "
                                      "shard='k/n' or use another out_dir")
            continue
        label = "{}/{}".format(*shard)
        if (run / CONFIG).exists():
            raise EvaluationError(f"shard {label}: {run} holds an unsharded run; shards cannot be mixed with it, use "
                                  "another out_dir")
        for folder, match in found:
            count = int(match.group(2))
            if count != shard[1]:
                raise EvaluationError(f"shard {label}: {folder} is shard {match.group(1)}/{count}; every shard of a "
                                      f"meta-evaluation must have the same n (use shard='k/{count}' or another "
                                      "out_dir)")
            if (folder / CONFIG).exists():
                stored = read_config(folder).get("meta_evaluation") or {}
                differing = [key for key in sorted(set(stored) | set(settings))
                             if key != "run" and stored.get(key) != settings.get(key)]
                if differing:
                    details = "; ".join(f"{key}: {stored.get(key)!r} there vs {settings.get(key)!r} now"
                                        for key in differing)
                    raise EvaluationError(f"{folder} holds a meta-evaluation shard of other settings (meta_evaluation: "
                                          f"{details}); resume with the same settings or use another out_dir")


def missing_shards(root: Path, runs: list[str], shard: tuple[int, int]) -> dict[str, list[str]]:
    """The shards not complete yet after this one: ``{"j/n": [run names]}``, empty when every shard of every run is.

    Each existing shard folder's configuration must equal this shard's but for ``shard``.

    Raises
    ------
    EvaluationError
        If a shard folder holds another configuration (the differing keys are named).
    """
    count = shard[1]
    missing: dict[str, list[str]] = {}
    for run in runs:
        own = read_config(shard_folder(Path(root) / run, shard))
        for k, folder in enumerate(shard_folders(Path(root) / run, count), start=1):
            if not (folder / CONFIG).exists():
                missing.setdefault(f"{k}/{count}", []).append(run)
                continue
            config = read_config(folder)
            differing = sorted(key for key in set(own) | set(config)
                               if key != "shard" and own.get(key) != config.get(key))
            if differing:
                raise EvaluationError(f"{folder} holds a shard of another configuration ({', '.join(differing)}); "
                                      "every shard must be run with the same settings, model and data")
            if not (_complete_flag(folder) and config.get("shard") == f"{k}/{count}"):
                missing.setdefault(f"{k}/{count}", []).append(run)
    return missing


def _complete_flag(folder: Path) -> bool:
    """The ``complete`` flag of ``folder/summary.json`` (False when it is missing or unreadable)."""
    try:
        summary = json.loads((folder / "summary.json").read_text())
    except (OSError, ValueError):
        return False
    return isinstance(summary, dict) and summary.get("complete") is True


def incomplete_result(head: dict, root: Path, shard: tuple[int, int], missing: dict[str, list[str]]) -> dict:
    """What a sharded ``meta_evaluate`` returns while shards are missing: ``head`` (the settings, methods, ...)
    with ``runs``, ``shard``, ``complete`` (False), ``missing`` (the shards ``"j/n"`` not complete yet) and
    ``missing_runs`` (``{"j/n": [run names]}``)."""
    order = sorted(missing, key=lambda label: int(label.split("/")[0]))
    return {**head, "runs": str(root), "shard": "{}/{}".format(*shard), "complete": False, "missing": order,
            "missing_runs": {label: missing[label] for label in order}}
