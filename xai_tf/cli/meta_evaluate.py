"""``xai-tf meta-evaluate``: can the metrics be trusted (MetaQuantus' tests, ``xai_tf.evaluation.meta_evaluate``)."""
from __future__ import annotations

import argparse

from xai_tf._docstrings import fill_doc
from xai_tf.cli._docs import COMMANDS, LOUD, STATUS_0
from xai_tf.cli.data_flags import VERBOSE_HELP, add_data_arguments, fits_options
from xai_tf.cli.startup import META_HELP
from xai_tf.evaluation.config import TARGETS


@fill_doc(commands=COMMANDS, loud=LOUD)
def add_meta_command(commands, loud: bool = False) -> None:
    """Add ``xai-tf meta-evaluate --model M --methods a,b --metrics x,y --out DIR`` (:func:`run_meta_evaluate`).

    Parameters
    ----------
    {commands}
    {loud}
    """
    from xai_tf.cli.catalogue import catalogue
    from xai_tf.evaluation.shards import parse_shard

    def shard_argument(text: str) -> str:  # checked while parsing (usage error, exit 2); "auto" read from SLURM
        try:
            parse_shard(text)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None
        return text

    metrics = catalogue(loud)  # the registry's names and meta-evaluate's defaults, without TensorFlow when cached
    defaults = metrics["meta"]
    meta = commands.add_parser(
        "meta-evaluate", help=META_HELP,
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


@fill_doc(status_0=STATUS_0)
def run_meta_evaluate(args) -> int:
    """Run ``xai-tf meta-evaluate``: :func:`xai_tf.runs.meta_evaluate_run`, then print its table.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed ``xai-tf meta-evaluate`` arguments (see :func:`add_meta_command`).

    Returns
    -------
    {status_0}
        Also when a sharded run still misses shards: it prints which.

    Raises
    ------
    ValueError
        From :func:`xai_tf.runs.meta_evaluate_run`: ``--limit`` below 2, data or settings that do not
        fit; from :func:`xai_tf.cli.data_flags.fits_options`, FITS flags for data that are not FITS.
    """
    from xai_tf.evaluation.meta import text_table
    from xai_tf.runs import meta_evaluate_run

    result = meta_evaluate_run(
        args.model, args.out, data=args.data, metrics=args.metrics, methods=args.methods, limit=args.limit,
        seed=args.seed, verbose=args.verbose, n=args.n, image_size=args.image_size, color=args.color,
        skip_bad=args.skip_bad, split=args.split, data_seed=args.data_seed, masks=args.masks,
        class_names=args.classes, data_options=fits_options(args), tests=args.tests,
        perturbations=args.perturbations, model_noise=tuple(args.model_noise), input_noise=tuple(args.input_noise),
        chunk_size=args.chunk_size, batch_size=args.batch_size, targets=args.targets, shard=args.shard)
    if result.get("complete") is False:
        print(f"shard {result['shard']} done in {result['runs']}; not complete yet: shard(s) "
              f"{', '.join(result['missing'])} (run them with the same --out; the last to finish writes the table)")
        return 0
    print(text_table(result))
    print(f"wrote {', '.join(result['files'])}")
    return 0
