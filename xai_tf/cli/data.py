"""``xai-tf data list`` and ``xai-tf data verify NAME ROOT``: the data-set manifests (``xai_tf.data.manifests``)."""
from __future__ import annotations

from xai_tf.cli._docs import adds_command


@adds_command
def add_data_command(commands) -> None:
    """Add ``xai-tf data``, its subcommands ``list`` (:func:`run_data_list`), ``verify`` (:func:`run_data_verify`)."""
    data = commands.add_parser("data", help="list data-set manifests, verify a local copy")
    data_commands = data.add_subparsers(dest="data_command", required=True)
    data_list = data_commands.add_parser("list", help="list the known data sets")
    data_list.set_defaults(handler=run_data_list)
    verify = data_commands.add_parser("verify", help="check a local copy against its manifest (never downloads)")
    verify.add_argument("name", help="manifest name (see `xai-tf data list`) or a manifest .json path")
    verify.add_argument("root", help="folder holding the local copy")
    verify.set_defaults(handler=run_data_verify)


def run_data_list(args) -> None:
    """Print the known data-set manifests, one line each: name and title.

    The handler of ``xai-tf data list`` (``xai_tf.data.list_manifests``).

    Parameters
    ----------
    args : argparse.Namespace
        Parsed ``xai-tf data list`` arguments; none is read.

    Raises
    ------
    FileNotFoundError
        If no manifest is found (``xai_tf.cli.main`` exits with status 2).
    """
    from xai_tf.data.manifests import list_manifests, manifests_dir

    if not (manifests := list_manifests()):
        raise FileNotFoundError(f"no data-set manifest found in {manifests_dir()} (set XAI_TF_MANIFESTS to a folder "
                                "of <name>.json manifests, or reinstall xai-tf)")
    for manifest in manifests:
        print(f"{manifest['name']:<24} {manifest.get('title', '')}")


def run_data_verify(args) -> int:
    """Check a local copy of a data set against its manifest and print the verdict; never downloads.

    The handler of ``xai-tf data verify NAME ROOT`` (``xai_tf.data.verify_manifest``): prints the
    report's summary (a verdict line, then one line per problem).

    Parameters
    ----------
    args : argparse.Namespace
        Parsed arguments with ``name`` (a manifest name, see ``xai-tf data list``, or a manifest
        ``.json`` path) and ``root`` (the folder holding the local copy).

    Returns
    -------
    int
        The exit status: 0 when the copy matches the manifest, 1 when problems were found.

    Raises
    ------
    ValueError
        From ``xai_tf.data.verify_manifest``: ``root`` is not a folder, or the manifest is unknown
        or invalid.
    """
    from xai_tf.data import verify_manifest

    report = verify_manifest(args.name, args.root)
    print(report.summary())
    return 0 if report.ok else 1
