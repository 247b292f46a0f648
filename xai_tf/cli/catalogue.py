"""The metric names and option flags ``xai-tf evaluate --help`` lists, without importing TensorFlow.

The metric records live in ``xai_tf.metrics.registry``, whose modules import TensorFlow (~5 s).
Their names, option flags and help lines are kept in a small JSON file, ``metric-catalogue-<key>.json``
in the user's cache folder (``$XAI_TF_CACHE``, else ``$XDG_CACHE_HOME/xai-tf``, else
``~/.cache/xai-tf``), written the first time the registry is read. ``<key>`` is a SHA-256 of the
package version and the source of every module under ``xai_tf/metrics/`` and of
``xai_tf/evaluation/meta.py``, so an edited metric is never listed from a stale file; a folder that
cannot be written costs only the slower first answer. ``tests/test_cli_startup.py`` checks that the
file's listing equals the live registry's.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parents[1]  # xai_tf/
#: The sources whose content decides the catalogue (the metrics' records and meta-evaluate's defaults).
SOURCES = ("metrics", "evaluation/meta.py")


def cache_dir() -> Path:
    """The catalogue's folder: ``$XAI_TF_CACHE``, else ``$XDG_CACHE_HOME/xai-tf``, else ``~/.cache/xai-tf``."""
    if os.environ.get("XAI_TF_CACHE"):
        return Path(os.environ["XAI_TF_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "xai-tf"


def source_key() -> str:
    """SHA-256 (first 16 hex digits) of the package version and the catalogue's sources, in sorted order."""
    from xai_tf import __version__

    digest = hashlib.sha256(__version__.encode())
    files = []
    for name in SOURCES:
        path = _PACKAGE / name
        files.extend(sorted(path.rglob("*.py")) if path.is_dir() else [path])
    for path in files:
        digest.update(str(path.relative_to(_PACKAGE)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def live_catalogue() -> dict:
    """The catalogue read from the registry itself (imports TensorFlow).

    Returns
    -------
    dict
        ``{"metrics": [names in registry order], "options": [[name, cli flag, help], ...],
        "meta": {"perturbations": K, "model_noise": [minor, disruptive], "input_noise": [...]}}``.
    """
    from xai_tf.evaluation.meta import INPUT_NOISE, MODEL_NOISE, PERTURBATIONS
    from xai_tf.metrics.registry import METRICS, all_options

    return {"metrics": list(METRICS),
            "options": [[name, option.cli_flag, option.help] for name, option in all_options().items()],
            "meta": {"perturbations": PERTURBATIONS, "model_noise": list(MODEL_NOISE),
                     "input_noise": list(INPUT_NOISE)}}


def catalogue(loud: bool = False) -> dict:
    """The catalogue (:func:`live_catalogue`'s dict): from the cache file when current, else live and cached.

    When the registry module is already loaded (a Python session, or a command that started
    TensorFlow), the live registry is used, so metrics registered at run time are listed. Reading
    it starts TensorFlow quietly unless ``loud`` (``--tf-log`` or ``--verbose 2``, default False).
    """
    import sys

    path = cache_dir() / f"metric-catalogue-{source_key()}.json"
    if "xai_tf.metrics.registry" not in sys.modules:
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):  # absent, unreadable or half-written: read the registry
            pass
    from xai_tf.cli.startup import start_tensorflow

    start_tensorflow(loud)  # quietly: its start-up lines do not belong in --help
    found = live_catalogue()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(json.dumps(found), encoding="utf-8")
        os.replace(partial, path)  # atomic: a reader never sees half a file
    except OSError:  # a read-only home: only the next --help is slower
        pass
    return found
