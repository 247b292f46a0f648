"""``xai-tf train``: train a custom CNN or a transfer model into a run folder (``xai_tf.runs.train``)."""
from __future__ import annotations

from xai_tf import runs
from xai_tf.cli._docs import adds_command
from xai_tf.cli.data_flags import VERBOSE_HELP, add_data_arguments


@adds_command
def add_train_command(commands) -> None:
    """Add ``xai-tf train``: the data flags, the model and training settings, ``--out`` (:func:`run_train`)."""
    parser = commands.add_parser("train", help="train a custom CNN or a transfer model")
    add_data_arguments(parser, for_model=False)
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
    parser.add_argument("--verbose", type=int, choices=(0, 1, 2), default=1, help=VERBOSE_HELP)
    parser.set_defaults(handler=run_train)


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
        ``xai_tf.runs.train`` returns it; ``xai_tf.cli.main`` exits with status 0.

    Raises
    ------
    ValueError, TypeError
        From ``xai_tf.runs.train``: an unknown model or setting, or data that give a class no
        training or no held-out image.
    """
    from xai_tf.runs import train

    return train(args.out, verbose=args.verbose, **settings_of(args))
