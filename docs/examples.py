"""The documentation's example figures and costs, computed at build time on the synthetic data.

``compute(folder)`` trains the demo's custom CNN v2 on synthetic radio galaxies (64x64 px, a few
epochs), then

- explains two held-out images (one FRI, one FRII) with every registered method at its defaults and
  draws them with :func:`xai_tf.viz.method_grid` (``methods/<name>.png``), timing each method after
  a warm-up call (so the time excludes TensorFlow's tracing); the transformers' methods (family
  "attention") explain a small Vision Transformer trained on the same images, and their cost is
  also measured on DeiT-Ti at 224 px;
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
EPOCHS = 15
SEED = 0
#: Methods every metric page scores: one CAM, one gradient and the baseline every score is read against.
SCORED_METHODS = ("gradcam", "vanilla_gradient", "random")
SCORED_IMAGES = 8
#: The example Vision Transformer of the transformers' methods (``xai_tf.models.build_vit``; patch 4 at
#: 64 px): 2 blocks of width 32 reach ~0.85 held-out accuracy in 15 epochs at the default learning rate.
VIT_OPTIONS = {"dim": 32, "depth": 2, "heads": 2, "mlp_dim": 64}
VIT_EPOCHS = 15
#: Methods whose cost on a ViT is measured at 64 and 224 px for the transformers' pages.
TRANSFORMER_COSTS = ("attention_rollout", "transformer_attribution", "gradcam", "vanilla_gradient")
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
    """The demo's model trained on synthetic galaxies; the held-out images it is explained on; the training set."""
    import xai_tf

    data = xai_tf.data.synthetic_radio_galaxies(TRAIN_IMAGES, IMAGE_SIZE, seed=SEED)
    train, test = data.split(0.2, seed=SEED)
    model = xai_tf.models.build_custom_cnn((IMAGE_SIZE, IMAGE_SIZE, 1), data.num_classes, variant="v2", head="gap")
    result = xai_tf.models.fit(model, train, test, epochs=EPOCHS, batch_size=32, augment=False, seed=SEED,
                               verbose=0)
    report = xai_tf.models.classification_report(result.model, test, verbose=0)
    return result.model, test, float(report["accuracy"]), train


def _example_vit(train, test):
    """A small Vision Transformer trained on the same galaxies, for the transformers' methods."""
    import keras

    import xai_tf

    keras.utils.set_random_seed(SEED)
    model = xai_tf.models.build_vit((IMAGE_SIZE, IMAGE_SIZE, 1), train.num_classes, **VIT_OPTIONS)
    result = xai_tf.models.fit(model, train, test, epochs=VIT_EPOCHS, batch_size=32, augment=False, seed=SEED,
                               verbose=0)
    report = xai_tf.models.classification_report(result.model, test, verbose=0)
    return result.model, float(report["accuracy"])


def quickstart_numbers(n: int = 600, image_size: int = 64, epochs: int = 15) -> dict:
    """What the quickstart's Python block prints, computed by running it (``docs/guide/quickstart.md``).

    The block's own lines with its defaults (the builders and ``fit`` are seeded), so the page's
    numbers are the block's numbers and equal on every build; smaller sizes for the test.
    """
    import xai_tf
    from xai_tf import data, models

    galaxies = data.synthetic_radio_galaxies(n, image_size=image_size, seed=0)
    train, test = galaxies.split(0.2, seed=0)
    model = models.build_custom_cnn((image_size, image_size, 1), num_classes=2, variant="v2", head="gap")
    result = models.fit(model, train, test, epochs=epochs, augment=False, verbose=0)
    images = test.images[:8]
    maps = xai_tf.explain(result.model, images, "gradcam", verbose=0)
    sic = xai_tf.metrics.pic(result.model, images, maps, kind="sic", verbose=0)
    baseline = xai_tf.explain(result.model, images, "random", verbose=0)
    random_sic = xai_tf.metrics.pic(result.model, images, baseline, kind="sic", verbose=0)
    return {"sic_auc": float(sic.auc), "included": int(sic.num_included), "images": len(images),
            "random_auc": float(random_sic.auc), "random_included": int(random_sic.num_included),
            "blank_gradcam": int(np.sum(maps.reshape(len(maps), -1).max(axis=1) == 0.0)),
            "predicted": np.asarray(result.model.predict(images, verbose=0).argmax(axis=1)).tolist()}


def _timed(model, images, method) -> tuple[np.ndarray, float]:
    """Maps and seconds per image, after a warm-up call (tracing and caches excluded)."""
    import xai_tf

    xai_tf.explain(model, images[:1], method, seed=SEED, verbose=0)
    start = time.perf_counter()
    maps = xai_tf.explain(model, images, method, seed=SEED, verbose=0)
    return maps, (time.perf_counter() - start) / len(images)


def _transformer_costs(vit, probe) -> dict:
    """Seconds per image of the transformers' methods (and a gradient) on the example ViT at 64 px and
    on DeiT-Ti (random weights) at 224 px."""
    import keras

    import xai_tf

    keras.utils.set_random_seed(SEED)
    deit_tiny = xai_tf.models.build_vit((224, 224, 3), 2, variant="tiny")
    large = np.random.default_rng(SEED).random((2, 224, 224, 3), dtype=np.float32)
    costs = {}
    for method in TRANSFORMER_COSTS:
        costs[method] = {"64": _timed(vit, probe.images, method)[1], "224": _timed(deit_tiny, large, method)[1]}
        print(f"[docs] {method} on a ViT: {costs[method]['64'] * 1000:.1f} ms per image at 64 px, "
              f"{costs[method]['224'] * 1000:.1f} ms at 224 px", flush=True)
    return costs


def _probe(test):
    """One held-out FRI and one FRII image."""
    chosen = [int(np.flatnonzero(test.labels == label)[0]) for label in range(test.num_classes)]
    return test.subset(chosen)


def _explain_examples(models: dict, probe, folder: Path) -> dict:
    """Every method's example figure and cost: on the CNN, the transformers' methods on the ViT."""
    import xai_tf

    predictions = {key: model.predict(probe.images, verbose=0).argmax(axis=1) for key, model in models.items()}
    found = {}
    for name in xai_tf.list_methods():
        key = "vit" if xai_tf.explainers.method_record(name).family == "attention" else "cnn"
        maps, seconds = _timed(models[key], probe.images, name)
        figure = xai_tf.viz.method_grid(probe.images, {name: maps}, masks=probe.masks, labels=probe.labels,
                                        predictions=predictions[key], class_names=probe.class_names, cell_size=2.0)
        xai_tf.viz.figures.save_figure(figure, folder / "methods" / f"{name}.png")
        found[name] = {"seconds_per_image": seconds, "min": float(maps.min()), "max": float(maps.max()),
                       "model": key}
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
    from xai_tf.metrics.curve_metric import CurveMetric
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
    model, test, accuracy, train = _example_model()
    print(f"[docs] example model trained ({time.perf_counter() - start:.0f} s, accuracy {accuracy:.3f})", flush=True)
    vit, vit_accuracy = _example_vit(train, test)
    print(f"[docs] example ViT trained (accuracy {vit_accuracy:.3f})", flush=True)
    probe = _probe(test)
    quickstart = quickstart_numbers()
    print(f"[docs] quickstart: SIC AUC {quickstart['sic_auc']:.3f} over {quickstart['included']} images", flush=True)
    examples = {
        "quickstart": quickstart,
        "settings": {"image_size": IMAGE_SIZE, "train_images": TRAIN_IMAGES, "epochs": EPOCHS, "seed": SEED,
                     "scored_methods": list(SCORED_METHODS), "scored_images": SCORED_IMAGES,
                     "version": xai_tf.__version__},
        "accuracy": accuracy,
        "vit": {"options": VIT_OPTIONS, "epochs": VIT_EPOCHS, "accuracy": vit_accuracy,
                "costs": _transformer_costs(vit, probe)},
        "methods": _explain_examples({"cnn": model, "vit": vit}, probe, folder),
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
