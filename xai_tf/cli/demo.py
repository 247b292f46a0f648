"""``xai-tf demo``: the whole pipeline on the embedded synthetic radio galaxies (``xai_tf.demo.run``)."""
from __future__ import annotations

from xai_tf.cli._docs import adds_command
from xai_tf.cli.data_flags import VERBOSE_HELP


@adds_command
def add_demo_command(commands) -> None:
    """Add ``xai-tf demo`` with its data, training and output settings (:func:`run_demo`)."""
    demo = commands.add_parser("demo", help="the whole pipeline on the embedded synthetic radio galaxies")
    demo.add_argument("--out", default="runs/demo", help="output folder (default runs/demo)")
    demo.add_argument("--n", type=int, default=600, help="synthetic images (default 600)")
    demo.add_argument("--image-size", type=int, default=64, help="image height/width (default 64)")
    demo.add_argument("--epochs", type=int, default=6, help="training epochs (default 6)")
    demo.add_argument("--seed", type=int, default=0, help="seed of everything (default 0)")
    demo.add_argument("--head", choices=("flatten", "gap"), default="flatten",
                      help="the CNN's classifier head: flatten (default, paper 002's model) or gap (global average "
                           "pooling: Grad-CAM far better than random; use with --epochs 15)")
    demo.add_argument("--verbose", type=int, choices=(0, 1, 2), default=1, help=VERBOSE_HELP)
    demo.set_defaults(handler=run_demo)


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
