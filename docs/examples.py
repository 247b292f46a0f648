"""The documentation's example figures and costs, computed at build time on the synthetic data.

``compute(folder)`` trains the demo's custom CNN v2 on synthetic radio galaxies (64x64 px, a few
epochs), then

- explains two held-out images (one FRI, one FRII) with every registered method at its defaults and
  draws them with :func:`xai_tf.viz.method_grid` (``methods/<name>.png``), timing each method after
  a warm-up call (so the time excludes TensorFlow's tracing);
- scores ``SCORED_IMAGES`` held-out images with every registered metric through
  :func:`xai_tf.evaluate` for ``SCORED_METHODS`` (a CAM, a gradient and the random baseline), one
  evaluation folder per metric so that each metric's time is its own, and draws either the
  evaluation's own curve figure (curve metrics) or the per-image values (``metrics/<name>.png``).

Everything lands in ``folder`` with ``examples.json`` (times, means, what was run). The pages
(``docs/pages.py``) read that file; ``conf.py`` recomputes it only when the package's sources, the
this file change (``fingerprint``), so that editing a page's text rebuilds in seconds.
"""
from __future__ import annotations

import functools
import hashlib
import json
import shutil
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
IMAGE_SIZE = 64
TRAIN_IMAGES = 400
EPOCHS = 6
SEED = 0
#: Methods every metric page scores: one CAM, one gradient and the baseline every score is read against.
SCORED_METHODS = ("gradcam", "vanilla_gradient", "random")
SCORED_IMAGES = 8
#: Options changed from the defaults for the examples: removing one pixel per step (the papers')
#: takes 4,096 model calls per image at 64x64 px; 16 pixels per step draws the same curve shape.
DOCS_OPTIONS = {"monotonicity_features_in_step": 16, "pixel_flipping_features_in_step": 16,
                "non_sensitivity_features_in_step": 16}


def _code_of(path: Path) -> bytes:
    """A Python file's syntax tree without its docstrings: editing documentation changes no example."""
    import ast

    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and body
                and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)):
            node.body = body[1:] or [ast.Pass()]
    return ast.dump(tree).encode()


@functools.cache  # parsed once per build: the examples and each of the four notebooks ask for it
def _code_digest() -> str:
    """Digest of the package's code and this file's code (docstrings left out)."""
    digest = hashlib.sha256()
    for path in sorted((ROOT / "xai_tf").rglob("*.py")):
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(_code_of(path))
    digest.update(_code_of(Path(__file__)))
    return digest.hexdigest()


def fingerprint(*files: Path) -> str:
    """Hash of what the examples depend on: the package's code, this file and ``files``.

    Docstrings are left out of the package's code, so that documenting a function does not
    recompute the examples.

    Parameters
    ----------
    *files : pathlib.Path
        More files whose bytes count (the notebooks, for their executed copies).

    Returns
    -------
    str
        16 hexadecimal digits.
    """
    digest = hashlib.sha256(_code_digest().encode())
    for path in files:
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _example_model():
    """The demo's model trained on synthetic galaxies; the held-out images it is explained on."""
    import xai_tf

    data = xai_tf.data.synthetic_radio_galaxies(TRAIN_IMAGES, IMAGE_SIZE, seed=SEED)
    train, test = data.split(0.2, seed=SEED)
    model = xai_tf.models.build_custom_cnn((IMAGE_SIZE, IMAGE_SIZE, 1), data.num_classes, variant="v2")
    result = xai_tf.models.fit(model, train, test, epochs=EPOCHS, batch_size=32, augment=False, seed=SEED,
                               verbose=0)
    report = xai_tf.models.classification_report(result.model, test, verbose=0)
    return result.model, test, float(report["accuracy"])


def _probe(test):
    """One held-out FRI and one FRII image."""
    chosen = [int(np.flatnonzero(test.labels == label)[0]) for label in range(test.num_classes)]
    return test.subset(chosen)


def _explain_examples(model, probe, folder: Path) -> dict:
    import xai_tf

    predictions = model.predict(probe.images, verbose=0).argmax(axis=1)
    found = {}
    for name in xai_tf.list_methods():
        xai_tf.explain(model, probe.images[:1], name, seed=SEED, verbose=0)  # warm-up: tracing, caches
        start = time.perf_counter()
        maps = xai_tf.explain(model, probe.images, name, seed=SEED, verbose=0)
        seconds = (time.perf_counter() - start) / len(probe.images)
        figure = xai_tf.viz.method_grid(probe.images, {name: maps}, masks=probe.masks, labels=probe.labels,
                                        predictions=predictions, class_names=probe.class_names, cell_size=2.0)
        xai_tf.viz.figures.save_figure(figure, folder / "methods" / f"{name}.png")
        found[name] = {"seconds_per_image": seconds, "min": float(maps.min()), "max": float(maps.max())}
        print(f"[docs] method {name}: {seconds * 1000:.1f} ms per image", flush=True)
    return found


def _values_figure(rows: list[dict], columns: list[str], metric, path: Path) -> None:
    """Per-image values (dots) and their mean (bar) per method, one panel per column."""
    from xai_tf.viz.figures import new_figure, save_figure

    figure = new_figure(3.2 * len(columns) + 0.6, 3.2)
    for position, column in enumerate(columns):
        axes = figure.add_subplot(1, len(columns), position + 1)
        for x, method in enumerate(SCORED_METHODS):
            values = np.array([row[column] for row in rows if row["method"] == method
                               and isinstance(row.get(column), (int, float)) and np.isfinite(row[column])], float)
            if values.size:
                axes.bar(x, values.mean(), color="0.85", edgecolor="0.4", width=0.6)
                axes.plot(np.full(values.size, x) + np.linspace(-0.15, 0.15, values.size), values, "o", ms=3,
                          color="C0")
        axes.set_xticks(range(len(SCORED_METHODS)), SCORED_METHODS, fontsize=8)
        direction = metric.direction_of(column)
        axes.set_title(f"{column}" + (f" ({direction} is better)" if direction else ""), fontsize=9)
    figure.tight_layout()
    save_figure(figure, path)


def _metric_examples(model, test, folder: Path, work: Path) -> dict:
    import xai_tf
    from xai_tf.evaluation.summary import read_shards
    from xai_tf.metrics.protocol import CurveMetric
    from xai_tf.metrics.registry import METRICS

    data = test.subset(np.arange(min(SCORED_IMAGES, len(test))))
    found = {}
    for name, metric in METRICS.items():
        out = work / name
        start = time.perf_counter()
        options = {option.name: DOCS_OPTIONS[option.name] for option in metric.options if option.name in DOCS_OPTIONS}
        summary = xai_tf.evaluate(model, data, list(SCORED_METHODS), [name], out, seed=SEED, verbose=0,
                                  options=options)
        seconds = (time.perf_counter() - start) / (len(data) * len(SCORED_METHODS))
        _, rows, _ = read_shards([out])
        columns = [column for column in summary["metrics"] if summary["metric_of"][column] == name]
        target = folder / "metrics" / f"{name}.png"
        curves = sorted(out.glob("curve_*.png"))
        if isinstance(metric, CurveMetric) and curves:
            shutil.copyfile(curves[0], target)
        else:
            _values_figure(rows, columns, metric, target)
        means = {method: {column: summary["table"][method].get(column) for column in columns}
                 for method in SCORED_METHODS}
        found[name] = {"seconds_per_image": seconds, "columns": columns, "means": means, "options": options}
        print(f"[docs] metric {name}: {seconds * 1000:.1f} ms per image and method", flush=True)
    return found


def compute(folder: Path) -> dict:
    """Compute every example into ``folder`` (emptied first) and write ``folder/examples.json``.

    Parameters
    ----------
    folder : pathlib.Path
        Output folder: ``methods/*.png``, ``metrics/*.png`` and ``examples.json``.

    Returns
    -------
    dict
        What ``examples.json`` holds: the model's held-out accuracy, per-method and per-metric times
        and values, and the settings.
    """
    import tempfile

    import xai_tf

    shutil.rmtree(folder, ignore_errors=True)
    (folder / "methods").mkdir(parents=True)
    (folder / "metrics").mkdir(parents=True)
    start = time.perf_counter()
    model, test, accuracy = _example_model()
    print(f"[docs] example model trained ({time.perf_counter() - start:.0f} s, accuracy {accuracy:.3f})", flush=True)
    examples = {
        "settings": {"image_size": IMAGE_SIZE, "train_images": TRAIN_IMAGES, "epochs": EPOCHS, "seed": SEED,
                     "scored_methods": list(SCORED_METHODS), "scored_images": SCORED_IMAGES,
                     "version": xai_tf.__version__},
        "accuracy": accuracy,
        "methods": _explain_examples(model, _probe(test), folder),
    }
    with tempfile.TemporaryDirectory() as work:
        examples["metrics"] = _metric_examples(model, test, folder, Path(work))
    examples["fingerprint"] = fingerprint()
    (folder / "examples.json").write_text(json.dumps(examples, indent=1))
    return examples


def load_or_compute(folder: Path) -> dict:
    """``folder/examples.json`` when its fingerprint is current, else :func:`compute` it again.

    Parameters
    ----------
    folder : pathlib.Path
        Where the examples live (``docs/_generated/examples``).

    Returns
    -------
    dict
        The examples (see :func:`compute`).
    """
    path = folder / "examples.json"
    if path.exists():
        examples = json.loads(path.read_text())
        if examples.get("fingerprint") == fingerprint():
            return examples
    return compute(folder)
