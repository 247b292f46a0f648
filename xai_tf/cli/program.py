"""The ``xai-tf`` program: the parser with every command (one module each in ``xai_tf.cli``) and the dispatch.

Every command is a thin layer over the library: its module adds its flags and a handler that
parses them into one library call and prints what it returned. TensorFlow is imported only once a
command runs, so ``xai-tf --help`` and ``xai-tf <command> --help`` answer without it
(``xai_tf.cli.startup``).
"""
from __future__ import annotations

import argparse
import sys

from xai_tf._docstrings import fill_doc
from xai_tf.cli._docs import LOUD
from xai_tf.cli.compare import add_compare_command
from xai_tf.cli.data import add_data_command
from xai_tf.cli.demo import add_demo_command
from xai_tf.cli.explain import add_explain_command
from xai_tf.cli.report import add_report_command
from xai_tf.cli.startup import META_HELP, TF_LOG_FLAG, prepare, start_tensorflow
from xai_tf.cli.study import add_study_command
from xai_tf.cli.train import add_train_command


@fill_doc(loud=LOUD)
def run_evaluate(argv: list[str], loud: bool = False) -> int:
    """Run ``xai-tf evaluate ...`` or ``xai-tf evaluate merge DIR...`` with the evaluation runner's parser.

    Routed before argparse (see :func:`~xai_tf.cli.main`): a subparser's REMAINDER drops arguments starting with ``--``.

    Parameters
    ----------
    argv : list of str
        The command-line arguments after ``evaluate`` (``xai_tf.cli.evaluate.cli_main`` parses them).
    {loud}

    Returns
    -------
    int
        The exit status of ``xai_tf.cli.evaluate.cli_main``: 0 on success, 2 on an error (printed on
        stderr) or an argparse usage error.
    """
    from xai_tf.cli.evaluate import cli_main

    return cli_main(argv, loud)


@fill_doc(loud=LOUD)
def build_parser(command: str | None = None, loud: bool = False) -> argparse.ArgumentParser:
    """Build the ``xai-tf`` argument parser with its subcommands.

    Subcommands: ``train``, ``data list``, ``data verify``, ``explain``, ``evaluate`` (listed for
    ``--help`` only: :func:`~xai_tf.cli.main` hands its arguments to the evaluation runner), ``demo``, ``study``,
    ``compare``, ``meta-evaluate`` and ``report``, each added by its module's ``add_<command>_command``
    (``xai_tf.cli.train``, ...), which sets ``handler`` (``run_train``, ...) in the arguments.

    Parameters
    ----------
    command : str, optional
        The subcommand about to be parsed (``argv[0]``): ``meta-evaluate``, whose options need the
        metric registry (TensorFlow), is built in full only when named. Default None: all in full.
    {loud}

    Returns
    -------
    argparse.ArgumentParser
        The parser; ``parse_args`` gives an ``argparse.Namespace`` with ``command``, ``handler`` and
        the subcommand's options (dashes turned into underscores: ``--image-size`` is
        ``image_size``).
    """
    parser = argparse.ArgumentParser(prog="xai-tf", description="Explain Keras image classifiers.")
    parser.add_argument(TF_LOG_FLAG, action="store_true",
                        help="show TensorFlow's and absl's start-up lines (hidden by default; anywhere on the line)")
    commands = parser.add_subparsers(dest="command", required=True)
    add_train_command(commands)
    add_data_command(commands)
    add_explain_command(commands)
    evaluate = commands.add_parser(
        "evaluate", add_help=False,
        help="score methods over a data set, resumable and shardable (`xai-tf evaluate --help`)")
    evaluate.set_defaults(handler=None)  # listed for --help; main() hands its arguments to the runner
    add_demo_command(commands)
    add_study_command(commands)
    add_compare_command(commands)  # xai-tf compare RUN: which method (xai_tf.evaluation.compare)
    if command in (None, "meta-evaluate"):  # its options read the metric registry: TensorFlow
        from xai_tf.cli.meta_evaluate import add_meta_command

        add_meta_command(commands, loud)  # xai-tf meta-evaluate: can the metrics be trusted (xai_tf.evaluation.meta)
    else:
        commands.add_parser("meta-evaluate", help=META_HELP)
    add_report_command(commands)
    return parser


def main(argv=None) -> int:
    """Run the ``xai-tf`` command line (the ``xai-tf`` console script).

    ``xai-tf evaluate ...`` goes to :func:`~xai_tf.cli.program.run_evaluate` before argparse; the other subcommands are
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
    argv, loud = prepare(sys.argv[1:] if argv is None else list(argv))
    command = argv[0] if argv else ""  # "" (no command): the usage, without TensorFlow
    if command == "evaluate":  # starts TensorFlow once its arguments are read
        return run_evaluate(argv[1:], loud)
    args = build_parser(command, loud).parse_args(argv)  # --help and usage errors exit here, before TensorFlow
    if args.command != "data":
        start_tensorflow(loud)
    try:
        status = args.handler(args)
    except (ValueError, TypeError, FileNotFoundError) as error:
        print(f"xai-tf {args.command}: error: {error}", file=sys.stderr)
        return 2
    return status if isinstance(status, int) else 0
