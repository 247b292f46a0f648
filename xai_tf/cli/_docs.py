"""Numpydoc entries several ``xai_tf.cli`` modules share (placed by ``xai_tf._docstrings.fill_doc``).

Every command module has an ``add_<command>_command(commands)`` whose docstring is its summary
alone: :func:`adds_command` appends the one Parameters section they all share.
"""
from __future__ import annotations

from xai_tf._docstrings import fill_doc

#: The ``commands`` parameter of every ``add_<command>_command``.
COMMANDS = """
commands : argparse._SubParsersAction
    The subcommands of ``xai-tf`` (what ``add_subparsers`` returns); the command is added to them
    with its ``handler`` set.
"""

#: The ``loud`` parameter of the functions that may start TensorFlow after ``xai_tf.cli.startup.prepare``.
LOUD = """
loud : bool, optional
    Show TensorFlow's start-up lines (``--tf-log`` or ``--verbose 2`` on the ``xai-tf`` line, as
    ``xai_tf.cli.startup.prepare`` found) if TensorFlow starts here: to read the metric registry
    for the flags (``xai_tf.cli.catalogue.catalogue``) or to run the command; default False.
"""

#: The exit status of a handler that always succeeds when it returns.
STATUS_0 = """
int
    The exit status, 0.
"""


def adds_command(function):
    """Decorate an ``add_<command>_command(commands)``: its one-paragraph docstring gets the Parameters section.

    Parameters
    ----------
    function : callable
        The function; its docstring is a summary (and description) without sections.

    Returns
    -------
    callable
        ``function`` itself, its ``__doc__`` completed with ``commands`` (:data:`COMMANDS`); unchanged
        under ``python -OO``.
    """
    if function.__doc__:
        function.__doc__ = function.__doc__.rstrip() + "\n\n    Parameters\n    ----------\n    {commands}\n    "
    return fill_doc(commands=COMMANDS)(function)
