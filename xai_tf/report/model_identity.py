"""Which model a run folder holds: its weights fingerprint and input shape, cached beside ``model.keras``.

The report checks that explanations and evaluations belong to the runs' models by comparing weight
fingerprints (the evaluation runner's own, ``xai_tf._io.fingerprint``). Loading a model takes most of
a report's time, so ``model_identity`` caches the result in ``FINGERPRINT_CACHE``.
"""
from __future__ import annotations

import json
from pathlib import Path

from xai_tf._io import write_json

#: The file beside ``model.keras`` that caches its weights fingerprint and input shape.
FINGERPRINT_CACHE = ".model_fingerprint.json"


def weights_fingerprint(model) -> str:
    """The fingerprint of ``model``'s weights, as the evaluation runner computes it."""
    # The runner's own fingerprint, so that the two can be compared.
    from xai_tf._io import fingerprint
    return fingerprint(model.get_weights())


def model_identity(path: Path, load_model) -> tuple[str, tuple]:
    """``(weights fingerprint, input shape)`` of a saved model, cached beside it.

    Loading a model (and importing TensorFlow) takes most of a report's time, so the result is kept in
    ``.model_fingerprint.json`` next to ``model.keras``, keyed by the file's size and modification time
    (a re-saved model is loaded again). A read-only folder just means no cache.
    """
    stat = path.stat()
    key = {"name": path.name, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    cache = path.with_name(FINGERPRINT_CACHE)
    try:
        stored = json.loads(cache.read_text())
        if stored["file"] == key:
            return stored["weights"], tuple(stored["input_shape"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    model = load_model(path)
    fingerprint, shape = weights_fingerprint(model), tuple(int(v) for v in model.input_shape[1:])
    try:
        write_json(cache, {"file": key, "weights": fingerprint, "input_shape": list(shape)})
    except OSError:
        pass
    return fingerprint, shape

