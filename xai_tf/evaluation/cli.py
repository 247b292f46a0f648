"""``xai-tf evaluate ...`` and ``xai-tf evaluate merge DIR...``: argument parsing over the runner.

The metric flags (``--pic-entropy``, ``--sensitivity-radius``, ...) come from the metrics'
declared options (``xai_tf.metrics.registry``), so a new metric's options appear here by themselves.
Every option is read and checked before the model, the data or the output folder is touched.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from xai_tf import _cli_startup
from xai_tf.evaluation.config import TARGETS
from xai_tf.runs import VERBOSE_HELP, add_data_arguments


def build_parser() -> argparse.ArgumentParser:
    """Build the ``xai-tf evaluate`` argument parser, with one flag per registered metric option.

    Returns
    -------
    argparse.ArgumentParser
        The parser: ``--model``, ``--methods``, ``--metrics``, ``--out``, ``--shard``, the data
        flags, ``--seed``, ``--chunk-size``, ``--batch-size``, ``--targets``, each metric option's
        flag (``Option.cli_flag``, default None: the option's default) and ``--verbose``.
    """
    from xai_tf.evaluation.catalogue import catalogue

    metrics = catalogue()  # the registry's names and flags, read without TensorFlow when cached
    parser = argparse.ArgumentParser(
        prog="xai-tf evaluate",
        description="Score saliency methods over a data set; resumable (run the same command again) and "
                    "shardable (--shard k/n, then `xai-tf evaluate merge DIR...`).")
    parser.add_argument("--model", required=True,
                        help="saved model: .keras, Keras 2 .h5 or a SavedModel folder (see xai_tf.models.load_model)")
    parser.add_argument("--methods", required=True, help="comma-separated method names (xai_tf.list_methods())")
    parser.add_argument("--metrics", required=True, help=f"comma-separated, of: {','.join(metrics['metrics'])}")
    parser.add_argument("--out", required=True, help="output folder (one per shard)")
    parser.add_argument("--shard", default=None, help="k/n: score only the k-th of n shards (1-based), or auto: "
                        "this SLURM array task's (SLURM_ARRAY_TASK_ID / SLURM_ARRAY_TASK_COUNT)")
    add_data_arguments(parser, for_model=True)
    parser.add_argument("--seed", type=int, default=0, help="seed of the methods and metrics (default 0)")
    parser.add_argument("--chunk-size", type=int, default=8, help="images per unit of work (default 8)")
    parser.add_argument("--batch-size", type=int, default=64, help="images per compiled model call (default 64)")
    parser.add_argument("--targets", choices=TARGETS, default="predicted",
                        help="explain the predicted class (default) or the label")
    parser.add_argument("--target", default=None, metavar="SPEC",
                        help="explain another target instead of a class: regression[:UNIT] (e.g. regression:0, "
                             "regression:unit=1,sign=-1,output=z), segmentation:class=ID, classes:ID "
                             "(xai_tf.targets.parse_target)")
    for name, flag, help_text in metrics["options"]:
        parser.add_argument(flag, dest=name, default=None, help=help_text)
    parser.add_argument("--verbose", type=int, choices=(0, 1, 2), default=1, help=VERBOSE_HELP)
    return parser


def _options(args) -> dict:
    """The metric options given on the command line, each read and checked (ValueError names the flag)."""
    from xai_tf.metrics.registry import all_options

    return {name: option.from_cli(getattr(args, name)) for name, option in all_options().items()
            if getattr(args, name) is not None}


def _cli_evaluate(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)  # --help and usage errors exit here, before TensorFlow loads
    _cli_startup.start_tensorflow(_cli_startup.LOUD[0])
    from xai_tf.evaluation.data_sources import fits_options, lazy_source_for_model
    from xai_tf.evaluation.runner import evaluate
    from xai_tf.models import load_model
    from xai_tf.runs import data_for_model
    from xai_tf.targets import parse_target

    options = _options(args)
    target = parse_target(args.target) if args.target is not None else args.targets
    model = load_model(args.model, name="--model")
    classes = isinstance(target, str) or target.kind == "classes"
    # an HDF5 file, a .npy array or a FITS folder is read a chunk at a time (xai_tf.data.open); the rest as before
    source_options = fits_options(args)  # --catalogue, --fits-*: refused unless --data is a FITS folder
    data = lazy_source_for_model(model, args.data, args.model, skip_bad=args.skip_bad, split=args.split,
                                 classes=classes, source_options=source_options)
    if data is not None:
        for flag, value in (("--masks", args.masks), ("--classes", args.classes)):
            if value is not None:
                raise ValueError(f"{flag} is for a class-folder tree; {args.data} is read as an array source")
        indices, split = None, "all"
    else:
        data, indices, split = data_for_model(
            model, args.model, data=args.data, n=args.n, image_size=args.image_size, color=args.color,
            skip_bad=args.skip_bad, data_seed=args.data_seed, seed=args.seed, split=args.split, verbose=args.verbose,
            classes=classes, masks=args.masks, class_names=args.classes, data_options=source_options)
        indices = indices.tolist()
    print(f"scoring {len(data)} images ({split} split of {args.data})", file=sys.stderr)
    summary = evaluate(model, data, args.methods, args.metrics, args.out, args.shard, seed=args.seed,
                       chunk_size=args.chunk_size, batch_size=args.batch_size, targets=target,
                       options=options, verbose=args.verbose,
                       extra_config={"model_path": str(args.model), "data_source": args.data, "split": split,
                                     "data_indices": indices})
    print(f"{summary['computed']} units computed, {summary['skipped']} already done; results in {args.out}")
    print((Path(args.out) / "table.csv").read_text(), end="")
    for line in exclusion_lines(args.out, summary):
        print(line)
    return 0


def exclusion_lines(folder, summary: dict) -> list[str]:
    """One line per method and column whose every image was excluded, with the reason counts.

    A metric that leaves images out says why in the row's ``<column>_excluded`` (AIC/SIC do).
    """
    import collections
    import re

    from xai_tf.evaluation.store import RESULTS, plain_rows

    rows = plain_rows(Path(folder) / RESULTS)
    lines = []
    for column in summary["metrics"]:
        for method in summary["methods"]:
            reasons = [row.get(f"{column}_excluded") for row in rows
                       if row["method"] == method and f"{column}_excluded" in row]
            if not reasons or not all(reasons):
                continue
            # the reason without its numbers: "score on the original image 0.41 is below ..." -> one bucket
            counts = collections.Counter(re.sub(r"-?\d[\d.e+-]*", "#", reason) for reason in reasons)
            counted = "; ".join(f"{count} x {reason}" for reason, count in counts.most_common())
            lines.append(f"{column}: every image of {method} was excluded ({counted})")
    return lines


def _cli_merge(argv: list[str]) -> int:
    from xai_tf.evaluation.merge import merge

    parser = argparse.ArgumentParser(prog="xai-tf evaluate merge",
                                     description="Combine shard folders into one summary.")
    parser.add_argument("folders", nargs="+", help="the shards' output folders")
    parser.add_argument("--out", default=None, help="folder for the merged summary (default: <first>/../merged)")
    args = parser.parse_args(argv)
    summary = merge(args.folders, args.out)
    print(f"merged {len(args.folders)} folder(s), {summary['images']} images; complete: {summary['complete']}")
    return 0


def cli_main(argv: list[str]) -> int:
    """Run ``xai-tf evaluate ...`` or ``xai-tf evaluate merge DIR... [--out DIR]``.

    ``xai-tf evaluate`` loads the model and the data, runs :func:`xai_tf.evaluate` and prints the
    counts of units computed and skipped, ``table.csv`` and a line for each method and column whose
    every image was excluded. ``merge`` runs :func:`xai_tf.evaluation.merge` on the folders.

    Parameters
    ----------
    argv : list of str
        The arguments after ``xai-tf evaluate``, e.g. ``["--model", "model.keras", "--methods",
        "gradcam", "--metrics", "sic", "--out", "runs/eval"]`` or ``["merge", "shard1", "shard2"]``.

    Returns
    -------
    int
        The exit code: 0 on success (and for ``--help``); 2 for a usage error, or when a
        ``ValueError``, ``TypeError`` or ``FileNotFoundError`` stopped the run (its message is
        printed to standard error as ``xai-tf evaluate: error: ...``).
    """
    argv = list(argv)
    try:
        if argv and argv[0] == "merge":
            return _cli_merge(argv[1:])
        return _cli_evaluate(argv)
    except (ValueError, TypeError, FileNotFoundError) as error:
        print(f"xai-tf evaluate: error: {error}", file=sys.stderr)
        return 2
    except SystemExit as exit_:  # argparse: --help (0) or a usage error (2)
        return int(exit_.code or 0)


def add_compare_command(commands) -> None:
    """Add ``xai-tf compare RUN [--metric sic] [--alpha 0.05]`` to the subcommands of ``xai-tf`` (``run_compare``)."""
    compare = commands.add_parser(
        "compare", help="which method: paired tests, ranks and critical differences of an evaluation's methods",
        description="Compare an evaluation's methods per metric: paired bootstrap intervals, Wilcoxon or exact McNemar "
                    "tests with Holm-adjusted p-values, Friedman and Nemenyi (critical-difference diagrams), and the "
                    "agreement of the metrics' rankings. Writes comparison.json, comparison.csv and cd_<column>.png "
                    "into the evaluation folder (see xai_tf.evaluation.compare).")
    compare.add_argument("folders", nargs="+", metavar="RUN", help="the evaluation folder (or one run's shard folders)")
    compare.add_argument("--metric", default=None, help="comma-separated metrics or columns (default all)")
    compare.add_argument("--alpha", type=float, default=0.05, help="significance level in (0, 1) (default 0.05)")
    compare.add_argument("--seed", type=int, default=0, help="seed of the bootstrap (default 0)")
    compare.add_argument("--resamples", type=int, default=2000, help="bootstrap resamples (default 2000)")
    compare.add_argument("--parameterisation", action="store_true",
                         help="the folders are separate runs that differ in a metric option: show how the method "
                              "rankings move between them (Kendall tau, Spearman rho; writes parameterisation.json/"
                              "csv into the first folder, see xai_tf.evaluation.parameterisation)")
    compare.set_defaults(handler=run_compare)


def run_compare(args) -> int:
    """Run ``xai-tf compare``: :func:`xai_tf.evaluation.compare` on the folders, then print its rankings.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed ``xai-tf compare`` arguments: ``folders`` (an evaluation folder, or one run's shard
        folders), ``metric`` (comma-separated metric or column names, or None for all), ``alpha``,
        ``seed``, ``resamples`` and ``parameterisation`` (True: the folders are runs that differ in a
        metric option, analysed by :func:`xai_tf.evaluation.parameterisation`).

    Returns
    -------
    int
        The exit status, 0.
    """
    from xai_tf.evaluation.compare import compare, text_report

    metric = None if args.metric is None else [name.strip() for name in args.metric.split(",") if name.strip()]
    if getattr(args, "parameterisation", False):
        from xai_tf.evaluation.parameterisation import parameterisation
        from xai_tf.evaluation.parameterisation import text_report as parameterisation_report

        result = parameterisation(args.folders, metric=metric)
        print(parameterisation_report(result))
        print(f"wrote {', '.join(result['files'])}")
        return 0
    folders = args.folders[0] if len(args.folders) == 1 else args.folders
    result = compare(folders, metric=metric, alpha=args.alpha, seed=args.seed, resamples=args.resamples)
    print(text_report(result))
    print(f"wrote {', '.join(result['files'])}")
    return 0


def add_meta_command(commands) -> None:
    """Add ``xai-tf meta-evaluate --model M --methods a,b --metrics x,y --out DIR`` (``run_meta_evaluate``).

    Parameters
    ----------
    commands : argparse._SubParsersAction
        The subcommands of ``xai-tf`` (what ``add_subparsers`` returns).
    """
    from xai_tf.evaluation.catalogue import catalogue
    from xai_tf.evaluation.shards import parse_shard

    def shard_argument(text: str) -> str:  # checked while parsing (usage error, exit 2); "auto" read from SLURM
        try:
            parse_shard(text)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None
        return text

    metrics = catalogue()  # the registry's names and meta-evaluate's defaults, without TensorFlow when cached
    defaults = metrics["meta"]
    meta = commands.add_parser(
        "meta-evaluate", help="can the metrics be trusted: noise resilience and adversary reactivity (MetaQuantus)",
        description="Meta-evaluate metrics (Hedström et al., TMLR 2023): perturb the model's weights and the input "
                    "minorly (predictions unchanged: scores should not move) and disruptively (predictions change: "
                    "scores should drop), score every method under each perturbation and write the table 'metric: "
                    "MC, IAC_NR, IAC_AR, IEC_NR, IEC_AR' to OUT/meta_evaluation.json and .csv (give an evaluation "
                    "folder as --out and the report shows it). See xai_tf.evaluation.meta.")
    meta.add_argument("--model", required=True, help="saved model (.keras, Keras 2 .h5 or a SavedModel folder)")
    meta.add_argument("--methods", required=True, help="comma-separated method names, two or more")
    meta.add_argument("--metrics", required=True, help=f"comma-separated, of: {','.join(metrics['metrics'])}")
    meta.add_argument("--out", required=True, help="output folder (e.g. the evaluation folder of the same model)")
    meta.add_argument("--shard", type=shard_argument, default=None,
                      help="k/n: every run scores only the k-th of n shards of the images (1-based), into "
                           "OUT/meta_evaluation/<run>/shard-k-of-n/, or auto: this SLURM array task's "
                           "(SLURM_ARRAY_TASK_ID / SLURM_ARRAY_TASK_COUNT); same --out for every shard, and the "
                           "shard that finds all of them complete writes the table")
    add_data_arguments(meta, for_model=True)
    meta.add_argument("--limit", type=int, default=None,
                      help="score at most this many images, an even number per class (seeded by --seed); "
                           "default all of the split: 21 evaluations of every image make this the slow command")
    meta.add_argument("--tests", default="model,input", help="model and/or input (default model,input)")
    meta.add_argument("--perturbations", type=int, default=defaults["perturbations"],
                      help=f"K, perturbations per test and failure mode (default {defaults['perturbations']}, "
                           "the paper's)")
    meta.add_argument("--model-noise", type=float, nargs=2, default=tuple(defaults["model_noise"]),
                      metavar=("MINOR", "DISRUPTIVE"),
                      help="std of the multiplicative N(1, std^2) weight noise (default %(default)s, the paper's)")
    meta.add_argument("--input-noise", type=float, nargs=2, default=tuple(defaults["input_noise"]),
                      metavar=("MINOR", "DISRUPTIVE"),
                      help="half-width of the additive uniform input noise (default %(default)s, the paper's)")
    meta.add_argument("--seed", type=int, default=0, help="seed of the noise, methods and metrics (default 0)")
    meta.add_argument("--chunk-size", type=int, default=8, help="images per unit of work (default 8)")
    meta.add_argument("--batch-size", type=int, default=64, help="images per compiled model call (default 64)")
    meta.add_argument("--targets", choices=TARGETS, default="predicted",
                      help="explain the unperturbed model's predicted class (default) or the label")
    meta.add_argument("--verbose", type=int, choices=(0, 1, 2), default=1, help=VERBOSE_HELP)
    meta.set_defaults(handler=run_meta_evaluate)


def run_meta_evaluate(args) -> int:
    """Run ``xai-tf meta-evaluate``: :func:`xai_tf.evaluation.meta_evaluate`, then print its table.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed ``xai-tf meta-evaluate`` arguments (see :func:`add_meta_command`).

    Returns
    -------
    int
        The exit status, 0 (also when a sharded run still misses shards: it prints which).
    """
    from xai_tf.evaluation.data_sources import fits_options
    from xai_tf.evaluation.meta import meta_evaluate, text_table
    from xai_tf.models import load_model
    from xai_tf.runs import data_for_model

    if args.limit is not None and args.limit < 2:
        raise ValueError(f"--limit must be >= 2 (the Wilcoxon tests need several images); got {args.limit}")
    model = load_model(args.model, name="--model")
    data, _, split = data_for_model(
        model, args.model, data=args.data, n=args.n, image_size=args.image_size, color=args.color,
        skip_bad=args.skip_bad, data_seed=args.data_seed, seed=args.seed, split=args.split, verbose=args.verbose,
        masks=args.masks, class_names=args.classes, data_options=fits_options(args))
    of = ""
    if args.limit is not None and args.limit < len(data):
        of = f" of {len(data)}, an even number per class (--limit {args.limit}, seeded)"
        data = data.subset(_cli_startup.per_class(data.labels, args.limit, args.seed))
    print(f"meta-evaluating on {len(data)} images{of} ({split} split of {args.data})", file=sys.stderr)
    result = meta_evaluate(model, data, args.metrics, args.methods, args.out, tests=args.tests,
                           perturbations=args.perturbations, model_noise=tuple(args.model_noise),
                           input_noise=tuple(args.input_noise), seed=args.seed, chunk_size=args.chunk_size,
                           batch_size=args.batch_size, targets=args.targets, verbose=args.verbose,
                           shard=args.shard)
    if result.get("complete") is False:
        print(f"shard {result['shard']} done in {result['runs']}; not complete yet: shard(s) "
              f"{', '.join(result['missing'])} (run them with the same --out; the last to finish writes the table)")
        return 0
    print(text_table(result))
    print(f"wrote {', '.join(result['files'])}")
    return 0
