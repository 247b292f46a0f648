"""The ``xai-tf`` command line: train, data, demo (explain and evaluate join as they land).

Every subcommand is a thin layer over the library: it parses arguments, calls the public functions,
and writes results under ``--out``. Heavy imports (TensorFlow) happen inside the subcommands so
``xai-tf --help`` stays fast.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from xai_tf._versions import package_versions

MODEL_CHOICES_HELP = "custom-v1, custom-v2 or a backbone: vgg16, vgg19, resnet50, resnet50v2, densenet121, " \
                     "xception, inceptionv3, inceptionresnetv2, efficientnetb0"


def _write_json(path: Path, payload) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, default=str))


# ----------------------------------------------------------------------------------------------- train
def _add_data_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", default="synthetic",
                        help="'synthetic' (embedded radio galaxies) or a data set folder (default: synthetic)")
    parser.add_argument("--n", type=int, default=600, help="number of synthetic images (default 600)")
    parser.add_argument("--image-size", type=int, default=64,
                        help="image height/width; synthetic images are generated at it, files resized to it "
                             "(default 64)")
    parser.add_argument("--color", choices=("grayscale", "rgb"), default="grayscale",
                        help="channels for folder data (default grayscale)")
    parser.add_argument("--skip-bad", action="store_true", help="skip unreadable files (they are listed)")


def _add_train_arguments(parser: argparse.ArgumentParser) -> None:
    _add_data_arguments(parser)
    parser.add_argument("--model", default="custom-v2", help=MODEL_CHOICES_HELP + " (default custom-v2)")
    parser.add_argument("--mode", choices=("feature_extraction", "fine_tune"), default="feature_extraction",
                        help="transfer mode for backbones (default feature_extraction)")
    parser.add_argument("--fine-tune-at", default=None, help="first backbone layer (name or index) to unfreeze")
    parser.add_argument("--weights", default=None,
                        help="backbone weights: imagenet, none or a file path (default: imagenet for backbones)")
    parser.add_argument("--head", choices=("flatten", "gap"), default="flatten")
    parser.add_argument("--binary-head", action="store_true", help="two classes as one sigmoid unit (papers)")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--lr-step-every", type=int, default=None,
                        help="divide the learning rate by 10 every K epochs (paper 003 uses 5)")
    parser.add_argument("--no-augment", action="store_true", help="disable paper 002's augmentation")
    parser.add_argument("--val-fraction", type=float, default=0.2, help="held-out fraction (default 0.2)")
    parser.add_argument("--denoise", default=None,
                        help="train on a denoised copy of the data (tv, bilateral, median, wavelet, nlm, gaussian)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", required=True,
                        help="output folder (model.keras, history.json, report.json, config.json)")
    parser.add_argument("--verbose", type=int, default=1)


def load_data(args):
    """The LabelledImages named by ``--data`` (synthetic or a folder)."""
    from xai_tf import data as data_module

    if args.data == "synthetic":
        return data_module.load("synthetic", n=args.n, image_size=args.image_size, seed=args.seed)
    dataset = data_module.load(args.data, image_size=args.image_size, color=args.color, skip_bad=args.skip_bad)
    for path, reason in getattr(dataset, "skipped", None) or []:
        print(f"skipped {path}: {reason}", file=sys.stderr)
    return dataset


def training_data(args):
    """``load_data``, then the whole data set denoised with ``--denoise`` (paper 002's Task 1)."""
    dataset = load_data(args)
    if args.denoise:
        import dataclasses

        from xai_tf import denoise
        dataset = dataclasses.replace(dataset, images=denoise(dataset.images, args.denoise, verbose=args.verbose))
    return dataset


def build_model(args, input_shape, num_classes):
    from xai_tf import models

    if args.model in ("custom-v1", "custom-v2"):
        return models.build_custom_cnn(input_shape, num_classes, variant=args.model.split("-")[1],
                                       binary_head=args.binary_head)
    if args.model not in models.BACKBONES:
        raise ValueError(f"--model={args.model!r} is not valid; expected {MODEL_CHOICES_HELP}")
    weights = {"none": None, None: "imagenet"}.get(args.weights, args.weights)
    fine_tune_at = args.fine_tune_at
    if fine_tune_at is not None and fine_tune_at.lstrip("-").isdigit():
        fine_tune_at = int(fine_tune_at)
    return models.build_transfer(args.model, input_shape, num_classes, mode=args.mode, fine_tune_at=fine_tune_at,
                                 weights=weights, head=args.head, binary_head=args.binary_head)


def run_train(args) -> dict:
    """Train as the arguments say; writes model.keras, history.json, report.json, config.json to --out."""
    from xai_tf import models

    started = time.time()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    dataset = training_data(args)
    train, held_out = dataset.split(args.val_fraction, seed=args.seed)
    print(f"data: {len(train.labels)} training and {len(held_out.labels)} held-out images, "
          f"classes {list(dataset.class_names)}, shape {dataset.images.shape[1:]}")
    model = build_model(args, dataset.images.shape[1:], len(dataset.class_names))
    result = models.fit(model, train, held_out, epochs=args.epochs, batch_size=args.batch_size,
                        augment=not args.no_augment, learning_rate=args.learning_rate,
                        lr_step_every=args.lr_step_every, checkpoint=out / "best.keras", seed=args.seed,
                        verbose=2 if args.verbose else 0)
    result.model.save(out / "model.keras")
    _write_json(out / "history.json", result.history)
    report = models.classification_report(result.model, held_out, list(dataset.class_names),
                                          path=out / "report.json", verbose=args.verbose)
    config = {key: value for key, value in vars(args).items() if key != "handler"}
    _write_json(out / "config.json", {"command": "train", "arguments": config, "versions": package_versions(),
                                      "seconds": round(time.time() - started, 1)})
    print(f"wrote {out / 'model.keras'}, history.json, report.json ({time.time() - started:.0f} s)")
    return report


# ------------------------------------------------------------------------------------------------ data
def run_data_list(args) -> None:
    from xai_tf.data import list_manifests

    for manifest in list_manifests():
        print(f"{manifest['name']:<24} {manifest.get('title', '')}")


def run_data_verify(args) -> int:
    from xai_tf.data import verify_manifest

    report = verify_manifest(args.name, args.root)
    print(report.summary())
    return 0 if report.ok else 1


# --------------------------------------------------------------------------------------------- explain
def load_model(path):
    """The saved model named by ``--model`` (see ``xai_tf.models.load_model``)."""
    from xai_tf.models import load_model as load

    return load(path, name="--model")


def run_explain(args) -> None:
    """Explain the first ``--limit`` images with each method; write maps.npz, images.npz, explain.json and the grid."""
    import numpy as np

    import xai_tf
    from xai_tf.models.classification_report import predict_classes
    from xai_tf.viz import method_grid

    started = time.time()
    methods = [name.strip() for name in args.methods.split(",") if name.strip()]
    unknown = sorted(set(methods) - set(xai_tf.list_methods()))
    if not methods or unknown:
        raise ValueError(f"--methods has unknown names {unknown}; expected a comma-separated list of: "
                         f"{', '.join(xai_tf.list_methods())}")
    if args.denoise:
        from xai_tf._checks import check_choice
        from xai_tf.denoising import denoise
        check_choice(args.denoise, "--denoise", denoise.methods())
    model = load_model(args.model)
    dataset = load_data(args)
    if args.limit < 1:
        raise ValueError(f"--limit must be >= 1; got {args.limit}")
    chosen = dataset.subset(np.arange(min(args.limit, len(dataset.labels))))
    predictions = predict_classes(model, chosen.images)
    maps = {}
    for method in methods:
        print(f"explaining {len(chosen.labels)} images with {method}")
        maps[method] = xai_tf.explain(model, chosen.images, method, seed=args.seed, verbose=args.verbose)
    if args.denoise:
        maps = {method: xai_tf.denoise(values, args.denoise) for method, values in maps.items()}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out / "maps.npz", **maps)
    np.savez_compressed(out / "images.npz", images=chosen.images, labels=chosen.labels, predictions=predictions)
    _write_json(out / "explain.json", {
        "command": "explain", "arguments": {k: v for k, v in vars(args).items() if k != "handler"},
        "methods": methods, "class_names": list(dataset.class_names), "labels": chosen.labels.tolist(),
        "predictions": predictions.tolist(), "versions": package_versions()})
    titles = [f"{method} ({args.denoise})" if args.denoise else method for method in methods]
    figure_path = out / f"grid.{args.figure_format}"
    method_grid(chosen.images, maps, titles=titles, masks=chosen.masks, boxes=chosen.boxes, labels=chosen.labels,
                predictions=predictions, class_names=list(dataset.class_names), path=figure_path)
    print(f"wrote {out / 'maps.npz'} and {figure_path} ({time.time() - started:.0f} s)")


# -------------------------------------------------------------------------------------------- evaluate
def run_evaluate(argv: list[str]) -> int:
    """``xai-tf evaluate ...`` and ``xai-tf evaluate merge DIR...``: parsed by the evaluation runner.

    Routed before argparse (see ``main``): a subparser's REMAINDER drops arguments starting with ``--``.
    """
    from xai_tf.evaluation import cli_main

    return cli_main(argv)


# ------------------------------------------------------------------------------------------------ demo
def run_demo(args) -> None:
    """The whole pipeline on the synthetic radio galaxies: train, explain, denoise, evaluate, report."""
    from xai_tf.demo import run

    run(out_dir=args.out, n=args.n, image_size=args.image_size, epochs=args.epochs, seed=args.seed,
        verbose=args.verbose)


# ---------------------------------------------------------------------------------------------- report
def run_report(args) -> None:
    from xai_tf.report import build

    path = build(args.config, out=args.out)
    print(f"wrote {path}")


# ---------------------------------------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="xai-tf", description="Explain Keras image classifiers.")
    commands = parser.add_subparsers(dest="command", required=True)

    train = commands.add_parser("train", help="train a custom CNN or a transfer model")
    _add_train_arguments(train)
    train.set_defaults(handler=run_train)

    data = commands.add_parser("data", help="list data-set manifests, verify a local copy")
    data_commands = data.add_subparsers(dest="data_command", required=True)
    data_list = data_commands.add_parser("list", help="list the known data sets")
    data_list.set_defaults(handler=run_data_list)
    verify = data_commands.add_parser("verify", help="check a local copy against its manifest (never downloads)")
    verify.add_argument("name", help="manifest name (see `xai-tf data list`) or a manifest .json path")
    verify.add_argument("root", help="folder holding the local copy")
    verify.set_defaults(handler=run_data_verify)

    explain = commands.add_parser("explain", help="saliency maps of a saved model on a data set, plus the grid")
    explain.add_argument("--model", required=True, help="saved .keras model")
    explain.add_argument("--methods", default="gradcam", help="comma-separated registry names (xai_tf.list_methods())")
    explain.add_argument("--limit", type=int, default=8, help="explain the first K images (default 8)")
    explain.add_argument("--figure-format", choices=("png", "pdf"), default="png")
    _add_data_arguments(explain)
    explain.add_argument("--denoise", default=None, help="denoise the maps (tv, bilateral, median, wavelet, nlm, gaussian)")
    explain.add_argument("--seed", type=int, default=0)
    explain.add_argument("--out", required=True, help="output folder (maps.npz, images.npz, explain.json, grid)")
    explain.add_argument("--verbose", type=int, default=1)
    explain.set_defaults(handler=run_explain)

    evaluate = commands.add_parser(
        "evaluate", add_help=False,
        help="score methods over a data set, resumable and shardable (`xai-tf evaluate --help`)")
    evaluate.set_defaults(handler=None)  # listed for --help; main() hands its arguments to the runner

    demo = commands.add_parser("demo", help="the whole pipeline on the embedded synthetic radio galaxies")
    demo.add_argument("--out", default="runs/demo")
    demo.add_argument("--n", type=int, default=600)
    demo.add_argument("--image-size", type=int, default=64)
    demo.add_argument("--epochs", type=int, default=6)
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--verbose", type=int, default=1)
    demo.set_defaults(handler=run_demo)

    report = commands.add_parser("report", help="one self-contained HTML report from finished runs")
    report.add_argument("--config", required=True, help="experiment .yaml or .json naming the run folders")
    report.add_argument("--out", default=None, help="HTML path (default: the config's `out`)")
    report.set_defaults(handler=run_report)
    return parser


def main(argv=None) -> int:
    # TensorFlow's C++ INFO lines (XLA's "Compiled cluster", one per process, among them) would
    # interleave with the command's own output; warnings and errors still show. A value the user
    # set wins. TensorFlow is imported inside the subcommands, so this is read in time.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["evaluate"]:
        return run_evaluate(argv[1:])
    args = build_parser().parse_args(argv)
    try:
        status = args.handler(args)
    except (ValueError, TypeError, FileNotFoundError) as error:
        print(f"xai-tf {args.command}: error: {error}", file=sys.stderr)
        return 2
    return status if isinstance(status, int) else 0


if __name__ == "__main__":
    sys.exit(main())
