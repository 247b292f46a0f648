"""The whole pipeline on the embedded synthetic radio galaxies (``make demo``, ``xai-tf demo``).

``run()`` writes, under ``out_dir`` (default ``runs/demo``):

1. ``train/``: the custom CNN v2 trained as ``xai-tf train --no-augment`` does (model.keras,
   history.json, report.json, config.json). Augmentation is off because on these centred synthetic
   sources the plain model reaches ~0.99 held-out accuracy in 6 epochs at 64x64, while the papers'
   augmentation needs many more epochs for the same.
2. ``explain/``: ``probe_per_class`` held-out FRI and FRII images explained with every registered
   method whose record is cheap enough for it (``xai_tf.list_methods(in_demo_grid=True)``: all but
   the few that need thousands of forward passes per image, RISE and Sobol; the report names the
   methods left out and why), in ``xai-tf explain``'s format (maps.npz, images.npz with
   the ground-truth masks added, explain.json with the model's weight fingerprint).
3. ``evaluation/``: ``xai_tf.evaluate`` (the evaluation unit of ``xai_tf.evaluation.units``, as
   ``xai-tf evaluate`` and the studies run it) on the first ``eval_images`` held-out images (of the
   split ``train/split.json`` records) with ``EVAL_METHODS`` and the registry's default metrics
   (``xai_tf.metrics.registry.DEFAULT_METRICS``).
4. ``report.yaml`` and ``report.html`` (``xai_tf.report.build``); the path is printed.

Evaluation methods (``EVAL_METHODS``): Max-Sensitivity re-explains every image 10 times (paper
001's default), so the slow perturbation methods (LIME, occlusion, XRAI, Score-CAM and the
IG family with many steps) would take most of the 15-minute budget on a 2-core CPU. The demo scores
one representative of each family that runs in well under a second per image: Grad-CAM and
Grad-CAM++ (CAM), vanilla gradient, SmoothGrad and Integrated Gradients (gradients), guided
backpropagation (modified backprop), plus ``random`` as the baseline every AUC is read against.
Every method is still explained and drawn in the report's grids.

Resuming: each stage skips work already done with the same settings: training is skipped when
``xai_tf.runs.trained_with`` says so (the rule studies use too); explanations are cached
per method (``explain/parts/``) keyed by the model's weight fingerprint; the runner resumes itself
(``evaluation.settings.json`` records its settings: other settings start it afresh). When the model
is retrained, the old explanations and evaluation are removed first.
"""
from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import numpy as np

#: Methods scored by the evaluation runner (see the module docstring for why these).
EVAL_METHODS = ("gradcam", "gradcam_pp", "vanilla_gradient", "smoothgrad", "integrated_gradients",
                "guided_backprop", "random")


def _stage(message: str, verbose: int) -> None:
    if verbose:
        print(f"[demo] {message}", flush=True)


def _train_settings(n: int, image_size: int, epochs: int, seed: int, head: str = "flatten") -> dict:
    """The demo's train settings: ``xai-tf train --model custom-v2 --no-augment`` on the synthetic set."""
    from xai_tf.runs import train_settings

    return train_settings(data="synthetic", n=n, image_size=image_size, model="custom-v2", epochs=epochs, seed=seed,
                          no_augment=True, head=head)


def _train(folder: Path, n, image_size, epochs, seed, verbose, head="flatten") -> bool:
    """Train unless a model with the same settings exists; returns True when it trained."""
    from xai_tf import runs

    wanted = _train_settings(n, image_size, epochs, seed, head)
    if runs.trained_with(folder, wanted):
        _stage(f"training skipped: {folder / 'model.keras'} exists with the same settings", verbose)
        return False
    _stage(f"training the custom CNN v2 ({head} head, {epochs} epochs, {n} images of {image_size}x{image_size})",
           verbose)
    runs.train(folder, verbose=verbose, **wanted)
    return True


def _probe_indices(labels: np.ndarray, per_class: int, num_classes: int) -> np.ndarray:
    """The first ``per_class`` held-out images of each class, class by class."""
    chosen = [np.flatnonzero(labels == label)[:per_class] for label in range(num_classes)]
    return np.concatenate(chosen).astype(np.int64)


def _explain(folder: Path, model, fingerprint: str, held_out, per_class: int, seed: int, verbose: int) -> None:
    """Explain the probe images with every method, cached per method; writes an explain folder (``xai_tf.runs``)."""
    import xai_tf
    from xai_tf import runs
    from xai_tf._io import write_json
    from xai_tf.models.head import head_of

    parts = folder / "parts"
    state_file = folder / "state.json"
    indices = _probe_indices(held_out.labels, per_class, held_out.num_classes)
    state = {"model_weights": fingerprint, "indices": indices.tolist(), "seed": seed}
    if parts.exists() and (not state_file.is_file() or json.loads(state_file.read_text()) != state):
        shutil.rmtree(parts)  # cached maps of another model or other images
    parts.mkdir(parents=True, exist_ok=True)
    write_json(state_file, state)
    probes = held_out.subset(indices)
    predictions = head_of(model).predicted_classes(probes.images)
    # the records say which methods are cheap enough here; the report names the others and why
    methods = list(xai_tf.list_methods(in_demo_grid=True))
    maps, seconds = {}, {}
    for position, method in enumerate(methods, start=1):
        cached = parts / f"{method}.npy"
        if cached.is_file():
            maps[method] = np.load(cached)
            continue
        _stage(f"explaining {len(indices)} probe images with {method} ({position}/{len(methods)})", verbose)
        started = time.time()
        maps[method] = xai_tf.explain(model, probes.images, method, seed=seed, verbose=verbose)
        seconds[method] = round(time.time() - started, 2)
        np.save(cached, maps[method])
    runs.write_explain_folder(folder, images=probes.images, labels=probes.labels, predictions=predictions,
                              maps=maps, class_names=held_out.class_names, masks=probes.masks, indices=indices,
                              meta={"command": "demo explain", "model_weights": fingerprint, "seconds": seconds,
                                    "cam_layer": runs.cam_layer_of(model),
                                    "arguments": {"model": str(folder.parent / "train" / "model.keras"),
                                                  "held_out_indices": indices.tolist(), "seed": seed}})


def run(out_dir="runs/demo", n: int = 600, image_size: int = 64, epochs: int = 6, seed: int = 0,
        probe_per_class: int = 4, eval_images: int = 40, eval_methods=EVAL_METHODS, verbose: int = 1,
        head: str = "flatten") -> Path:
    """Train, explain, denoise, evaluate and report on the synthetic radio galaxies; returns the report path.

    out_dir: output folder (default ``runs/demo``). n, image_size, seed: the synthetic data set
        (defaults 600 images of 64x64, seed 0); 20% is held out (stratified, as ``xai-tf train``).
    epochs: training epochs of the custom CNN v2 without augmentation (default 6).
    probe_per_class: held-out images per class explained with every method (default 4; LIME,
        occlusion and XRAI take about a second per image each).
    eval_images: held-out images scored by the evaluation runner (default 40).
    eval_methods: methods the runner scores (default ``EVAL_METHODS``; ``random`` is the baseline).
    verbose: 0 quiet, 1 stage lines and progress bars.
    head: the CNN's classifier head, "flatten" (default, paper 002) or "gap" (global average
        pooling; ``xai_tf.models.build_custom_cnn``). Measured by ``tools/choose_demo_model.py`` on
        the held-out images: with "flatten" and 6 epochs Grad-CAM is all zero on most FRI images and
        no better than random in the Pointing Game; "gap" with ``epochs=15`` is far better. The
        default stays paper 002's model, so the demo's results are the same as before.
    """
    import xai_tf
    from xai_tf import runs
    from xai_tf._checks import check_positive
    from xai_tf._io import fingerprint, write_json
    from xai_tf.evaluation import evaluate
    from xai_tf.metrics.registry import DEFAULT_METRICS
    from xai_tf.models import load_model
    from xai_tf.report import build

    for value, name in ((n, "n"), (image_size, "image_size"), (epochs, "epochs"),
                        (probe_per_class, "probe_per_class"), (eval_images, "eval_images")):
        check_positive(value, name, integer=True)
    eval_methods = list(eval_methods)
    unknown = sorted(set(eval_methods) - set(xai_tf.list_methods()))
    if unknown:
        raise ValueError(f"eval_methods has unknown methods {unknown}; valid: {', '.join(xai_tf.list_methods())}")
    started = time.time()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    train_dir, explain_dir, eval_dir = out / "train", out / "explain", out / "evaluation"

    _stage(f"1/4 train -> {train_dir}", verbose)
    if _train(train_dir, n, image_size, epochs, seed, verbose, head):
        for stale in (explain_dir, eval_dir):
            if stale.exists():
                _stage(f"removing {stale}: it belongs to the previous model", verbose)
                shutil.rmtree(stale)
    model = load_model(train_dir / "model.keras")
    weights = fingerprint(model.get_weights())
    # The held-out images of the split the training run recorded (xai_tf.runs: split.json; a train
    # folder written before splits were recorded gets the same split recomputed).
    data = runs.load_data(runs.train_settings(data="synthetic", n=n, image_size=image_size, seed=seed), verbose)
    recorded = runs.read_train_run(train_dir)["split"]
    held_out = data.subset(recorded["held_out"] if recorded else data.split_indices(0.2, seed=seed)[1])

    _stage(f"2/4 explain {probe_per_class} held-out images per class with every method -> {explain_dir}", verbose)
    _explain(explain_dir, model, weights, held_out, probe_per_class, seed, verbose)

    count = min(eval_images, len(held_out))
    eval_metrics = list(DEFAULT_METRICS)  # the registry names them (no metric name is written here)
    _stage(f"3/4 evaluate {', '.join(eval_methods)} on {count} held-out images ({', '.join(eval_metrics)}) "
           f"-> {eval_dir}", verbose)
    settings = {"model_weights": weights, "images": count, "methods": eval_methods, "seed": seed}
    settings_file = out / "evaluation.settings.json"
    if eval_dir.exists() and (not settings_file.is_file() or json.loads(settings_file.read_text()) != settings):
        _stage(f"removing {eval_dir}: it was run with other settings", verbose)
        shutil.rmtree(eval_dir)
    write_json(settings_file, settings)
    evaluate(model, held_out.subset(np.arange(count)), eval_methods, eval_metrics, eval_dir, seed=seed,
             verbose=verbose, extra_config={"model_path": str(train_dir / "model.keras"), "data_source": "synthetic",
                                            "held_out_of": {"n": n, "image_size": image_size, "seed": seed}})

    _stage("4/4 report", verbose)
    config = {
        "title": f"xai-tf demo: synthetic radio galaxies ({n} images, {image_size}x{image_size})",
        "data": {"source": "synthetic", "n": n, "image_size": image_size, "seed": seed},
        "runs": [{"name": "custom-v2" if head == "flatten" else f"custom-v2-{head}", "dir": "train"}],
        "explain": {"dir": "explain", "per_class": probe_per_class, "denoised_grid": "tv"},
        "denoise": {"explanation": "vanilla_gradient"},  # a noisy map: what denoising is for (paper 002)
        "evaluation": ["evaluation"],
    }
    import yaml

    from xai_tf._io import write_atomic
    write_atomic(out / "report.yaml", yaml.safe_dump(config, sort_keys=False).encode())
    path = build(out / "report.yaml", out=out / "report.html")
    print(f"report: {path.resolve()} (demo took {time.time() - started:.0f} s; regenerate it with "
          f"`xai-tf report --config {out / 'report.yaml'}`)", flush=True)
    return path
