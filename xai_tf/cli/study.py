"""``xai-tf study NAME`` or ``xai-tf study --config FILE``: a whole study, resumable (``xai_tf.study.run``)."""
from __future__ import annotations

from pathlib import Path

from xai_tf._docstrings import fill_doc
from xai_tf.cli._docs import STATUS_0, adds_command
from xai_tf.cli.data_flags import VERBOSE_HELP


@adds_command
def add_study_command(commands) -> None:
    """Add ``xai-tf study [NAME] [--config FILE]`` with its output and Dask settings (:func:`run_study`)."""
    study = commands.add_parser(
        "study", help="a whole study (models x methods x denoisers x metrics) from one config, resumable",
        description="Train the models, explain, denoise and score every cell; rerun to resume. See xai_tf.study.")
    study.add_argument("name", nargs="?", default=None, help="a shipped study (e.g. paper004-synthetic)")
    study.add_argument("--config", default=None, help="study .yaml or .json (see xai_tf.study.config)")
    study.add_argument("--out", default=None, help="output folder (default: the config's out, else runs/study/NAME)")
    study.add_argument("--dask", default=None,
                       help="local:N (a LocalCluster of N processes) or tcp://host:8786 (a running scheduler); "
                            "default in-process")
    study.add_argument("--verbose", type=int, choices=(0, 1, 2), default=1, help=VERBOSE_HELP)
    study.set_defaults(handler=run_study)


@fill_doc(status_0=STATUS_0)
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
    {status_0}

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
