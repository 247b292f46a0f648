"""``xai-tf evaluate ...`` and ``xai-tf evaluate merge DIR...``: argument parsing over the runner.

The metric flags (``--pic-entropy``, ``--sensitivity-radius``, ...) come from the metrics'
declared options (``xai_tf.metrics.registry``, listed without TensorFlow by
``xai_tf.cli.catalogue``), so a new metric's options appear here by themselves. Every option is
read and checked before the model, the data or the output folder is touched.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from xai_tf._docstrings import fill_doc
from xai_tf.cli._docs import LOUD
from xai_tf.cli.data_flags import VERBOSE_HELP, add_data_arguments, fits_options
from xai_tf.cli.startup import start_tensorflow
from xai_tf.evaluation.config import TARGETS


@fill_doc(loud=LOUD)
def build_parser(loud: bool = False) -> argparse.ArgumentParser:
    """Build the ``xai-tf evaluate`` argument parser, with one flag per registered metric option.

    Parameters
    ----------
    {loud}

    Returns
    -------
    argparse.ArgumentParser
        The parser: ``--model``, ``--methods``, ``--metrics``, ``--out``, ``--shard``, the data
        flags, ``--seed``, ``--chunk-size``, ``--batch-size``, ``--targets``, each metric option's
        flag (``Option.cli_flag``, default None: the option's default) and ``--verbose``.
    """
    from xai_tf.cli.catalogue import catalogue

    metrics = catalogue(loud)  # the registry's names and flags, read without TensorFlow when cached
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


def _cli_evaluate(argv: list[str], loud: bool) -> int:
    args = build_parser(loud).parse_args(argv)  # --help and usage errors exit here, before TensorFlow loads
    start_tensorflow(loud)
    from xai_tf.runs import evaluate_run
    from xai_tf.targets import parse_target

    options = _options(args)
    target = parse_target(args.target) if args.target is not None else args.targets
    summary = evaluate_run(
        args.model, args.out, data=args.data, methods=args.methods, metrics=args.metrics, shard=args.shard,
        seed=args.seed, targets=target, verbose=args.verbose, n=args.n, image_size=args.image_size,
        color=args.color, skip_bad=args.skip_bad, split=args.split, data_seed=args.data_seed, masks=args.masks,
        class_names=args.classes, data_options=fits_options(args),  # --catalogue, --fits-*: FITS folders only
        chunk_size=args.chunk_size, batch_size=args.batch_size, options=options)
    print(f"{summary['computed']} units computed, {summary['skipped']} already done; results in {args.out}")
    print((Path(args.out) / "table.csv").read_text(), end="")
    for line in exclusion_lines(args.out, summary):
        print(line)
    return 0


def exclusion_lines(folder, summary: dict) -> list[str]:
    """One line per method and column whose every image was excluded, with the reason counts.

    A metric that leaves images out says why in the row's ``<column>_excluded`` (AIC/SIC do).

    Parameters
    ----------
    folder : str or pathlib.Path
        The evaluation folder (its ``results.jsonl`` is read).
    summary : dict
        The summary :func:`xai_tf.evaluate` returned: its ``"metrics"`` (columns) and ``"methods"``.

    Returns
    -------
    list of str
        ``"<column>: every image of <method> was excluded (<count> x <reason>; ...)"``, reasons
        with their numbers replaced by ``#``, most frequent first; empty when no such pair.
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


@fill_doc(loud=LOUD)
def cli_main(argv: list[str], loud: bool = False) -> int:
    """Run ``xai-tf evaluate ...`` or ``xai-tf evaluate merge DIR... [--out DIR]``.

    ``xai-tf evaluate`` runs :func:`xai_tf.runs.evaluate_run` (the model, its data, then
    :func:`xai_tf.evaluate`) and prints the counts of units computed and skipped, ``table.csv`` and a
    line for each method and column whose every image was excluded (:func:`exclusion_lines`).
    ``merge`` runs :func:`xai_tf.evaluation.merge` on the folders.

    Parameters
    ----------
    argv : list of str
        The arguments after ``xai-tf evaluate``, e.g. ``["--model", "model.keras", "--methods",
        "gradcam", "--metrics", "sic", "--out", "runs/eval"]`` or ``["merge", "shard1", "shard2"]``.
    {loud}

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
        return _cli_evaluate(argv, loud)
    except (ValueError, TypeError, FileNotFoundError) as error:
        print(f"xai-tf evaluate: error: {error}", file=sys.stderr)
        return 2
    except SystemExit as exit_:  # argparse: --help (0) or a usage error (2)
        return int(exit_.code or 0)


if __name__ == "__main__":  # ``python -m xai_tf.cli.evaluate ...`` = ``xai-tf evaluate ...`` (tests run it so)
    sys.exit(cli_main(sys.argv[1:]))
