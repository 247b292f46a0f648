"""``xai-tf report --config FILE``: one self-contained HTML report from finished runs (``xai_tf.report.build``)."""
from __future__ import annotations

import argparse

from xai_tf.cli._docs import adds_command


@adds_command
def add_report_command(commands) -> None:
    """Add ``xai-tf report``, its help showing the report configuration's schema (:func:`run_report`)."""
    from xai_tf.report.config import SCHEMA

    report = commands.add_parser("report", help="one self-contained HTML report from finished runs",
                                 description="One self-contained HTML report from finished runs. " + SCHEMA,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    report.add_argument("--config", required=True, help="experiment .yaml or .json naming the run folders")
    report.add_argument("--out", default=None, help="HTML path (default: the config's `out`)")
    report.set_defaults(handler=run_report)


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
