"""``xai-tf explain``: saliency maps of a saved model on a data set, plus the grid (``xai_tf.runs.explain_run``)."""
from __future__ import annotations

import argparse

from xai_tf.cli._docs import adds_command
from xai_tf.cli.data_flags import VERBOSE_HELP, add_data_arguments, fits_options


@adds_command
def add_explain_command(commands) -> None:
    """Add ``xai-tf explain``, its help listing the methods by family without TensorFlow (:func:`run_explain`)."""
    from xai_tf.cli.startup import describe_methods_offline

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
    add_data_arguments(explain, for_model=True)
    from xai_tf.denoising import list_denoisers

    explain.add_argument("--denoise", default=None, help=f"denoise the maps ({', '.join(list_denoisers())})")
    explain.add_argument("--seed", type=int, default=0, help="seed of the stochastic methods (default 0)")
    explain.add_argument("--out", required=True, help="output folder (maps.npz, images.npz, explain.json, grid)")
    explain.add_argument("--verbose", type=int, choices=(0, 1, 2), default=1, help=VERBOSE_HELP)
    explain.set_defaults(handler=run_explain)


def run_explain(args) -> None:
    """Explain ``--limit`` images (even per class, seeded) with each method; write the explain folder and grid.

    The handler of ``xai-tf explain``: :func:`xai_tf.runs.explain_run` with the flags as its
    arguments, every flag but ``handler`` recorded in ``explain.json``.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed ``xai-tf explain`` arguments: ``model`` (a saved model path), ``methods``
        (comma-separated method names), ``limit`` (int >= 1: that many images of the split, an even
        number per class drawn with ``seed``, in data order),
        ``figure_format`` (``"png"`` or ``"pdf"``), ``denoise`` (a denoiser name or None), ``seed``,
        ``out`` (the output folder), ``verbose``, and the data flags of
        ``xai_tf.cli.data_flags.add_data_arguments(for_model=True)``: ``data``, ``n``, ``image_size``,
        ``color``, ``skip_bad``, ``split``, ``data_seed``, ``masks``, ``classes`` and the FITS flags
        (:func:`xai_tf.cli.data_flags.fits_options`).

    Raises
    ------
    ValueError
        From :func:`xai_tf.runs.explain_run`: ``limit`` below 1, an unknown method or denoiser, or
        data that do not fit the model; from :func:`xai_tf.cli.data_flags.fits_options`, FITS flags
        for data that are not FITS cutouts.
    """
    from xai_tf.runs import explain_run

    explain_run(args.model, args.out, data=args.data, methods=args.methods, limit=args.limit,
                figure_format=args.figure_format, denoise=args.denoise, seed=args.seed, verbose=args.verbose,
                n=args.n, image_size=args.image_size, color=args.color, skip_bad=args.skip_bad, split=args.split,
                data_seed=args.data_seed, masks=args.masks, class_names=args.classes,
                data_options=fits_options(args),
                arguments={key: value for key, value in vars(args).items() if key != "handler"})
