"""``xai-tf compare RUN``: which method, by paired tests and ranks (``xai_tf.evaluation.compare``), or how rankings
move between runs that differ in a metric option (``xai_tf.evaluation.parameterisation``)."""
from __future__ import annotations

from xai_tf._docstrings import fill_doc
from xai_tf.cli._docs import STATUS_0, adds_command


@adds_command
def add_compare_command(commands) -> None:
    """Add ``xai-tf compare RUN [--metric sic] [--alpha 0.05]`` to the commands of ``xai-tf`` (:func:`run_compare`)."""
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


@fill_doc(status_0=STATUS_0)
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
    {status_0}
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
