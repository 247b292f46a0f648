"""The ``xai-tf`` command line: train, data, explain, evaluate, compare, demo, report, study.

Every subcommand is a thin layer over the library: it parses arguments, calls the public functions,
and writes results under ``--out``. Heavy imports (TensorFlow) happen inside the subcommands so
``xai-tf --help`` stays fast.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from xai_tf import _cli_startup, runs


# ----------------------------------------------------------------------------------------------- train
def _add_train_arguments(parser: argparse.ArgumentParser) -> None:
    runs.add_data_arguments(parser, for_model=False)
    parser.add_argument("--model", default="custom-v2", help=runs.model_choices_help() + " (default custom-v2)")
    parser.add_argument("--mode", choices=("feature_extraction", "fine_tune"), default="feature_extraction",
                        help="transfer mode for backbones (default feature_extraction)")
    parser.add_argument("--fine-tune-at", default=None, help="first backbone layer (name or index) to unfreeze")
    parser.add_argument("--weights", default=None,
                        help="backbone weights: imagenet, none or a file path (default: imagenet for backbones)")
    parser.add_argument("--head", choices=("flatten", "gap"), default="flatten",
                        help="classifier head of a custom CNN or a backbone: flatten (papers 002/004) or global "
                             "average pooling (default flatten)")
    parser.add_argument("--binary-head", action="store_true", help="two classes as one sigmoid unit (papers)")
    parser.add_argument("--epochs", type=int, default=10, help="training epochs (default 10)")
    parser.add_argument("--batch-size", type=int, default=32, help="images per training batch (default 32)")
    parser.add_argument("--learning-rate", type=float, default=1e-3, help="Adam learning rate (default 0.001)")
    parser.add_argument("--lr-step-every", type=int, default=None,
                        help="divide the learning rate by 10 every K epochs (paper 003 uses 5)")
    parser.add_argument("--no-augment", action="store_true", help="disable paper 002's augmentation")
    parser.add_argument("--val-fraction", type=float, default=0.2, help="held-out fraction (default 0.2)")
    from xai_tf.denoising import list_denoisers

    parser.add_argument("--denoise", default=None,
                        help=f"train on a denoised copy of the data ({', '.join(list_denoisers())})")
    parser.add_argument("--seed", type=int, default=0, help="seed of the data, the split and training (default 0)")
    parser.add_argument("--out", required=True,
                        help="output folder (model.keras, history.json, report.json, split.json, config.json)")
    parser.add_argument("--verbose", type=int, choices=(0, 1, 2), default=1, help=runs.VERBOSE_HELP)


def settings_of(args) -> dict:
    """The train settings (``xai_tf.runs.TRAIN_DEFAULTS``' keys) given by the parsed arguments.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed arguments; every attribute named like a key of ``xai_tf.runs.TRAIN_DEFAULTS``
        (``data``, ``n``, ``image_size``, ``color``, ``skip_bad``, ``model``, ``mode``,
        ``fine_tune_at``, ``weights``, ``head``, ``binary_head``, ``epochs``, ``batch_size``,
        ``learning_rate``, ``lr_step_every``, ``no_augment``, ``val_fraction``, ``denoise``,
        ``seed``) is read; other attributes (``out``, ``verbose``, ``handler``) are ignored.

    Returns
    -------
    dict
        ``{setting: value}`` for the keys of ``TRAIN_DEFAULTS`` that ``args`` has, in
        ``TRAIN_DEFAULTS``' order; absent ones are left out (``xai_tf.runs.train`` fills the defaults).
    """
    from xai_tf.runs import TRAIN_DEFAULTS

    return {key: getattr(args, key) for key in TRAIN_DEFAULTS if hasattr(args, key)}


def run_train(args) -> dict:
    """Train as the arguments say; writes the run folder (``xai_tf.runs.train``) to --out.

    The handler of ``xai-tf train``.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed ``xai-tf train`` arguments: ``out`` (the run folder), ``verbose`` (0, 1 or 2) and the
        train settings :func:`settings_of` reads (``data``, ``n``, ``image_size``, ``color``,
        ``skip_bad``, ``model``, ``mode``, ``fine_tune_at``, ``weights``, ``head``, ``binary_head``,
        ``epochs``, ``batch_size``, ``learning_rate``, ``lr_step_every``, ``no_augment``,
        ``val_fraction``, ``denoise``, ``seed``).

    Returns
    -------
    dict
        The held-out classification report (``xai_tf.models.classification_report``), as
        ``xai_tf.runs.train`` returns it; :func:`main` exits with status 0.

    Raises
    ------
    ValueError, TypeError
        From ``xai_tf.runs.train``: an unknown model or setting, or data that give a class no
        training or no held-out image.
    """
    return runs.train(args.out, verbose=args.verbose, **settings_of(args))


# ------------------------------------------------------------------------------------------------ data
def run_data_list(args) -> None:
    """Print the known data-set manifests, one line each: name and title.

    The handler of ``xai-tf data list`` (``xai_tf.data.list_manifests``).

    Parameters
    ----------
    args : argparse.Namespace
        Parsed ``xai-tf data list`` arguments; none is read.

    Raises
    ------
    FileNotFoundError
        If no manifest is found (:func:`main` exits with status 2).
    """
    from xai_tf.data.manifests import list_manifests, manifests_dir

    if not (manifests := list_manifests()):
        raise FileNotFoundError(f"no data-set manifest found in {manifests_dir()} (set XAI_TF_MANIFESTS to a folder "
                                "of <name>.json manifests, or reinstall xai-tf)")
    for manifest in manifests:
        print(f"{manifest['name']:<24} {manifest.get('title', '')}")


def run_data_verify(args) -> int:
    """Check a local copy of a data set against its manifest and print the verdict; never downloads.

    The handler of ``xai-tf data verify NAME ROOT`` (``xai_tf.data.verify_manifest``): prints the
    report's summary (a verdict line, then one line per problem).

    Parameters
    ----------
    args : argparse.Namespace
        Parsed arguments with ``name`` (a manifest name, see ``xai-tf data list``, or a manifest
        ``.json`` path) and ``root`` (the folder holding the local copy).

    Returns
    -------
    int
        The exit status: 0 when the copy matches the manifest, 1 when problems were found.

    Raises
    ------
    ValueError
        From ``xai_tf.data.verify_manifest``: ``root`` is not a folder, or the manifest is unknown
        or invalid.
    """
    from xai_tf.data import verify_manifest

    report = verify_manifest(args.name, args.root)
    print(report.summary())
    return 0 if report.ok else 1


# --------------------------------------------------------------------------------------------- explain
def run_explain(args) -> None:
    """Explain ``--limit`` images (even per class, seeded) with each method; write the explain folder and grid.

    The handler of ``xai-tf explain``. The images are those of ``xai_tf.runs.data_for_model`` (the
    model's input size and channels; the held-out images when the model's train run recorded its
    split); the explain folder is written by ``xai_tf.runs.write_explain_folder`` and the method grid
    to ``grid.<figure_format>`` in the same folder.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed ``xai-tf explain`` arguments: ``model`` (a saved model path), ``methods``
        (comma-separated method names), ``limit`` (int >= 1: that many images of the split, an even
        number per class drawn with ``seed``, in data order),
        ``figure_format`` (``"png"`` or ``"pdf"``), ``denoise`` (a denoiser name or None), ``seed``,
        ``out`` (the output folder), ``verbose``, and the data flags of
        ``xai_tf.runs.add_data_arguments(for_model=True)``: ``data``, ``n``, ``image_size``,
        ``color``, ``skip_bad``, ``split``, ``data_seed``. Every attribute but ``handler`` is
        recorded in ``explain.json``.

    Raises
    ------
    ValueError
        If ``limit`` is below 1, a method or denoiser is unknown, or the data do not fit the model
        (see ``xai_tf.runs.data_for_model``).
    """
    import xai_tf
    from xai_tf._checks import check_names
    from xai_tf._io import fingerprint
    from xai_tf.evaluation.data_sources import fits_options
    from xai_tf.models import load_model
    from xai_tf.models.head import head_of
    from xai_tf.viz import method_grid

    started = time.time()
    methods = check_names(args.methods, "--methods", xai_tf.list_methods())
    if args.denoise:
        from xai_tf._checks import check_choice
        from xai_tf.denoising import denoise
        check_choice(args.denoise, "--denoise", denoise.methods())
    if args.limit < 1:
        raise ValueError(f"--limit must be >= 1; got {args.limit}")
    model = load_model(args.model, name="--model")
    dataset, indices, split = runs.data_for_model(
        model, args.model, data=args.data, n=args.n, image_size=args.image_size, color=args.color,
        skip_bad=args.skip_bad, data_seed=args.data_seed, seed=args.seed, split=args.split, verbose=args.verbose,
        masks=args.masks, class_names=args.classes, data_options=fits_options(args))
    picked = _cli_startup.per_class(dataset.labels, args.limit, args.seed)
    chosen, indices = dataset.subset(picked), indices[picked]
    predictions = head_of(model).predicted_classes(chosen.images)
    maps = {}
    for method in methods:
        print(f"explaining {len(chosen.labels)} images with {method}")
        maps[method] = xai_tf.explain(model, chosen.images, method, seed=args.seed, verbose=args.verbose)
    if args.denoise:
        maps = {method: xai_tf.denoise(values, args.denoise) for method, values in maps.items()}
    out = Path(args.out)
    runs.write_explain_folder(out, images=chosen.images, labels=chosen.labels, predictions=predictions, maps=maps,
                              class_names=dataset.class_names, indices=indices, masks=chosen.masks,
                              meta={"command": "explain", "model_weights": fingerprint(model.get_weights()),
                                    "split": split, "cam_layer": runs.cam_layer_of(model),
                                    "arguments": {k: v for k, v in vars(args).items() if k != "handler"}})
    titles = [f"{method} ({args.denoise})" if args.denoise else method for method in methods]
    figure_path = out / f"grid.{args.figure_format}"
    method_grid(chosen.images, maps, titles=titles, masks=chosen.masks, boxes=chosen.boxes, labels=chosen.labels,
                predictions=predictions, class_names=list(dataset.class_names), path=figure_path)
    print(f"wrote {out / 'maps.npz'} and {figure_path} ({time.time() - started:.0f} s)")


# -------------------------------------------------------------------------------------------- evaluate
def run_evaluate(argv: list[str]) -> int:
    """Run ``xai-tf evaluate ...`` or ``xai-tf evaluate merge DIR...`` with the evaluation runner's parser.

    Routed before argparse (see ``main``): a subparser's REMAINDER drops arguments starting with ``--``.

    Parameters
    ----------
    argv : list of str
        The command-line arguments after ``evaluate`` (``xai_tf.evaluation.cli_main`` parses them).

    Returns
    -------
    int
        The exit status of ``xai_tf.evaluation.cli_main``: 0 on success, 2 on an error (printed on
        stderr) or an argparse usage error.
    """
    from xai_tf.evaluation import cli_main

    return cli_main(argv)


# ------------------------------------------------------------------------------------------------ demo
def run_demo(args) -> None:
    """Run the whole pipeline on the synthetic radio galaxies: train, explain, denoise, evaluate, report.

    The handler of ``xai-tf demo`` (``xai_tf.demo.run``).

    Parameters
    ----------
    args : argparse.Namespace
        Parsed ``xai-tf demo`` arguments: ``out`` (output folder, default ``runs/demo``), ``n``
        (synthetic images, default 600), ``image_size`` (height and width in pixels, default 64),
        ``epochs`` (default 6), ``seed`` (default 0), ``head`` ("flatten" or "gap") and ``verbose``
        (0, 1 or 2).
    """
    from xai_tf.demo import run

    run(out_dir=args.out, n=args.n, image_size=args.image_size, epochs=args.epochs, seed=args.seed,
        verbose=args.verbose, head=args.head)


# ---------------------------------------------------------------------------------------------- report
def run_report(args) -> None:
    """Build one self-contained HTML report from finished runs and print its path.

    The handler of ``xai-tf report`` (``xai_tf.report.build``).

    Parameters
    ----------
    args : argparse.Namespace
        Parsed ``xai-tf report`` arguments: ``config`` (the report config, a ``.yaml``/``.yml``/
        ``.json`` path) and ``out`` (the HTML path, or None for the config's ``out``).

    Raises
    ------
    ValueError
        From ``xai_tf.report.build`` (``xai_tf.report.ReportConfigError``): an unknown key, a
        folder from another configuration, or an ``out`` that does not end in ``.html``.
    """
    from xai_tf.report import build

    path = build(args.config, out=args.out)
    print(f"wrote {path}")


# ----------------------------------------------------------------------------------------------- study
def run_study(args) -> int:
    """Run ``xai-tf study NAME`` or ``xai-tf study --config FILE``: a whole study (``xai_tf.study.run``).

    Prints the counts of trained and reused models and computed and reused units, then the study's
    ``table.csv``.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed ``xai-tf study`` arguments: ``name`` (a shipped study's name, or None), ``config``
        (a study ``.yaml``/``.json`` path, or None; exactly one of the two is given), ``out`` (the
        output folder, or None for the config's ``out``, else ``runs/study/NAME``), ``dask`` (None,
        ``"local:N"`` or a scheduler address such as ``"tcp://host:8786"``) and ``verbose``.

    Returns
    -------
    int
        The exit status, 0.

    Raises
    ------
    ValueError
        If both or neither of ``name`` and ``config`` are given; from ``xai_tf.study.run``, a bad
        study configuration or ``dask`` value.
    """
    from xai_tf import study

    if (args.name is None) == (args.config is None):
        raise ValueError(f"give a shipped study's name ({', '.join(study.shipped_studies())}) or --config FILE, "
                         "not both")
    result = study.run(args.config or args.name, out=args.out, dask=args.dask, verbose=args.verbose)
    computed, skipped = result["computed"], result["skipped"]
    print(f"{computed['train']} models trained ({skipped['train']} reused), {computed['units']} units computed "
          f"({skipped['cell_chunks']} cell chunks reused), {result['seconds']:.0f} s; results in {result['out']}")
    print((Path(result["out"]) / "table.csv").read_text(), end="")
    return 0


# ---------------------------------------------------------------------------------------------- parser
def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """Build the ``xai-tf`` argument parser with its subcommands.

    Subcommands: ``train``, ``data list``, ``data verify``, ``explain``, ``evaluate`` (listed for
    ``--help`` only: :func:`main` hands its arguments to the evaluation runner), ``demo``, ``study``,
    ``compare``, ``meta-evaluate`` and ``report``. Each sets ``handler`` (``run_train``, ...) in the arguments.

    Parameters
    ----------
    command : str, optional
        The subcommand about to be parsed (``argv[0]``): ``meta-evaluate``, whose options need the
        metric registry (TensorFlow), is built in full only when named. Default None: all in full.

    Returns
    -------
    argparse.ArgumentParser
        The parser; ``parse_args`` gives an ``argparse.Namespace`` with ``command``, ``handler`` and
        the subcommand's options (dashes turned into underscores: ``--image-size`` is
        ``image_size``).
    """
    parser = argparse.ArgumentParser(prog="xai-tf", description="Explain Keras image classifiers.")
    parser.add_argument(_cli_startup.TF_LOG_FLAG, action="store_true",
                        help="show TensorFlow's and absl's start-up lines (hidden by default; anywhere on the line)")
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

    from xai_tf._cli_startup import describe_methods_offline

    explain = commands.add_parser("explain", help="saliency maps of a saved model on a data set, plus the grid",
                                  description="Saliency maps of a saved model on a data set, plus the grid.",
                                  epilog="methods (--methods), by family; [seeded]: --seed changes the maps, "
                                         "[layer=]: computed at the last convolution:\n" + describe_methods_offline(),
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
    explain.add_argument("--model", required=True,
                         help="saved model: .keras, Keras 2 .h5 or a SavedModel folder (see xai_tf.models.load_model)")
    explain.add_argument("--methods", default="gradcam",
                         help="comma-separated method names, listed below (default gradcam)")
    explain.add_argument("--limit", type=int, default=8, help="explain K images, even per class (seeded; default 8)")
    explain.add_argument("--figure-format", choices=("png", "pdf"), default="png", help="grid format (default png)")
    runs.add_data_arguments(explain, for_model=True)
    from xai_tf.denoising import list_denoisers

    explain.add_argument("--denoise", default=None, help=f"denoise the maps ({', '.join(list_denoisers())})")
    explain.add_argument("--seed", type=int, default=0, help="seed of the stochastic methods (default 0)")
    explain.add_argument("--out", required=True, help="output folder (maps.npz, images.npz, explain.json, grid)")
    explain.add_argument("--verbose", type=int, choices=(0, 1, 2), default=1, help=runs.VERBOSE_HELP)
    explain.set_defaults(handler=run_explain)

    evaluate = commands.add_parser(
        "evaluate", add_help=False,
        help="score methods over a data set, resumable and shardable (`xai-tf evaluate --help`)")
    evaluate.set_defaults(handler=None)  # listed for --help; main() hands its arguments to the runner

    demo = commands.add_parser("demo", help="the whole pipeline on the embedded synthetic radio galaxies")
    demo.add_argument("--out", default="runs/demo", help="output folder (default runs/demo)")
    demo.add_argument("--n", type=int, default=600, help="synthetic images (default 600)")
    demo.add_argument("--image-size", type=int, default=64, help="image height/width (default 64)")
    demo.add_argument("--epochs", type=int, default=6, help="training epochs (default 6)")
    demo.add_argument("--seed", type=int, default=0, help="seed of everything (default 0)")
    demo.add_argument("--head", choices=("flatten", "gap"), default="flatten",
                      help="the CNN's classifier head: flatten (default, paper 002's model) or gap (global average "
                           "pooling: Grad-CAM far better than random; use with --epochs 15)")
    demo.add_argument("--verbose", type=int, choices=(0, 1, 2), default=1, help=runs.VERBOSE_HELP)
    demo.set_defaults(handler=run_demo)

    study = commands.add_parser(
        "study", help="a whole study (models x methods x denoisers x metrics) from one config, resumable",
        description="Train the models, explain, denoise and score every cell; rerun to resume. See xai_tf.study.")
    study.add_argument("name", nargs="?", default=None, help="a shipped study (e.g. paper004-synthetic)")
    study.add_argument("--config", default=None, help="study .yaml or .json (see xai_tf.study.config)")
    study.add_argument("--out", default=None, help="output folder (default: the config's out, else runs/study/NAME)")
    study.add_argument("--dask", default=None,
                       help="local:N (a LocalCluster of N processes) or tcp://host:8786 (a running scheduler); "
                            "default in-process")
    study.add_argument("--verbose", type=int, choices=(0, 1, 2), default=1, help=runs.VERBOSE_HELP)
    study.set_defaults(handler=run_study)
    from xai_tf.evaluation.cli import add_compare_command, add_meta_command
    add_compare_command(commands)  # xai-tf compare RUN: which method (xai_tf.evaluation.compare)
    if command in (None, "meta-evaluate"):  # its options read the metric registry: TensorFlow
        add_meta_command(commands)  # xai-tf meta-evaluate: can the metrics be trusted (xai_tf.evaluation.meta)
    else:
        commands.add_parser("meta-evaluate", help=_cli_startup.META_HELP)

    from xai_tf.report.config import SCHEMA

    report = commands.add_parser("report", help="one self-contained HTML report from finished runs",
                                 description="One self-contained HTML report from finished runs. " + SCHEMA,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    report.add_argument("--config", required=True, help="experiment .yaml or .json naming the run folders")
    report.add_argument("--out", default=None, help="HTML path (default: the config's `out`)")
    report.set_defaults(handler=run_report)
    return parser


def main(argv=None) -> int:
    """Run the ``xai-tf`` command line (the ``xai-tf`` console script).

    ``xai-tf evaluate ...`` goes to :func:`run_evaluate` before argparse; the other subcommands are
    parsed by :func:`build_parser` and run by their handler. TensorFlow is imported only once a
    command runs (``--help`` and usage errors answer without it, but for ``evaluate`` and
    ``meta-evaluate``, whose flags come from the metric registry), with its and absl's start-up
    lines (oneDNN notices, cuInit) silenced (``TF_CPP_MIN_LOG_LEVEL=3`` unless the user set it,
    and the lines printed before it is read sent to ``/dev/null``) unless ``--tf-log`` (anywhere
    on the line) or ``--verbose 2`` is given; Keras' progress bars are off when standard output
    is not a terminal.

    Parameters
    ----------
    argv : list of str, optional
        The arguments after the program name, e.g. ``["train", "--out", "runs/train"]``; default
        ``sys.argv[1:]``.

    Returns
    -------
    int
        The exit status: the handler's int when it returns one (``data verify``: 1 when problems
        were found), else 0; 2 when the handler raises ValueError, TypeError or FileNotFoundError
        (the message is printed on stderr as ``xai-tf <command>: error: ...``).

    Raises
    ------
    SystemExit
        From argparse, for ``--help`` (status 0) or a usage error (status 2).
    """
    argv, loud = _cli_startup.prepare(sys.argv[1:] if argv is None else list(argv))
    command = argv[0] if argv else ""  # "" (no command): the usage, without TensorFlow
    if command == "evaluate":  # starts TensorFlow once its arguments are read
        return run_evaluate(argv[1:])
    args = build_parser(command).parse_args(argv)  # --help and usage errors exit here, before TensorFlow loads
    if args.command != "data":
        _cli_startup.start_tensorflow(loud)
    try:
        status = args.handler(args)
    except (ValueError, TypeError, FileNotFoundError) as error:
        print(f"xai-tf {args.command}: error: {error}", file=sys.stderr)
        return 2
    return status if isinstance(status, int) else 0


if __name__ == "__main__":
    sys.exit(main())
