"""Numpydoc blocks written once and placed into every docstring that shares them: ``fill_doc``.

Many functions share a parameter (``request`` in every saliency method, Integrated Gradients'
``n_steps``/``baseline`` in five methods, a data source's options in three sources). Its numpydoc
entry is written once, as a module-level string, and each docstring that lists the parameter holds a
placeholder line instead of the entry::

    REQUEST = '''
    request : xai_tf.explainers.base.Request
        The sanitised call built by :func:`xai_tf.explain` ...
    '''

    @fill_doc(request=REQUEST)
    def vanilla_gradient(request, *, channel_reduction="sum"):
        '''Vanilla Gradient ...

        Parameters
        ----------
        {request}
        channel_reduction : ...
        '''

A placeholder is a line that holds only ``{name}``; at import it is replaced by the block ``name``,
indented like the placeholder. The finished docstring is the function's ``__doc__``, so ``help()``,
Sphinx's API pages and the numpydoc validator (``tests/test_docstrings.py``) read the whole text,
and ``duplicates`` on the source sees each entry once. Braces elsewhere in a docstring are left
alone. Our own code (about 40 lines): ``numpydoc`` and ``docrep`` exist, but the first has no
substitution and the second adds a dependency for what a regular expression does.
"""
from __future__ import annotations

import re
import textwrap
from collections.abc import Mapping

#: A line holding only ``{name}`` (a Python identifier), with its indentation.
_PLACEHOLDER = re.compile(r"^(?P<indent>[ \t]*)\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)\}[ \t]*$", re.MULTILINE)


def fill(docstring: str, blocks: Mapping[str, str], owner: str = "docstring") -> str:
    """``docstring`` with every placeholder line ``{name}`` replaced by ``blocks[name]``.

    Parameters
    ----------
    docstring : str
        The text, as written in the source (indented).
    blocks : mapping of str to str
        ``{name: numpydoc text}``; each block is dedented, stripped of blank first and last lines
        and indented like its placeholder.
    owner : str, optional
        What the docstring belongs to, named in the error (default "docstring").

    Returns
    -------
    str
        The docstring with the blocks in place; unchanged where it has no placeholder.

    Raises
    ------
    KeyError
        If a placeholder names no block (a typo would otherwise reach the API pages).
    """
    def replace(match: re.Match) -> str:
        name = match.group("name")
        if name not in blocks:
            raise KeyError(f"{owner}: the docstring placeholder {{{name}}} names no shared block; "
                           f"known: {sorted(blocks)}")
        text = textwrap.dedent(blocks[name]).strip("\n")
        return textwrap.indent(text, match.group("indent"))
    return _PLACEHOLDER.sub(replace, docstring)


def fill_doc(**blocks: str):
    """Decorate a function or class whose docstring holds ``{name}`` placeholder lines.

    Parameters
    ----------
    **blocks : str
        ``name=text``: the numpydoc block each placeholder ``{name}`` stands for (usually a
        module-level constant shared by several functions; ``fill_doc(**SHARED)`` passes a dict).

    Returns
    -------
    callable
        The decorator; it sets ``__doc__`` in place and returns the object itself (no wrapper, so
        signatures, ``inspect`` and pickling are unchanged). Under ``python -OO`` (no docstrings)
        it does nothing.
    """
    def decorate(obj):
        if obj.__doc__:
            obj.__doc__ = fill(obj.__doc__, blocks, getattr(obj, "__qualname__", repr(obj)))
        return obj
    return decorate
