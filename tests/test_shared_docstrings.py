"""Shared numpydoc blocks: a placeholder line becomes the block, indented like the placeholder."""
from __future__ import annotations

import inspect

import pytest

from xai_tf._docstrings import fill, fill_doc

SEED = """
seed : int, optional
    Seeds the noise (default 0).
"""


def test_the_placeholder_line_becomes_the_block_at_its_indentation_and_other_braces_stay():
    @fill_doc(seed=SEED)
    def noisy(x, seed=0):
        """Toy.

        Parameters
        ----------
        x : dict
            A mapping such as ``{"a": 1}``; {x} inside a line is not a placeholder.
        {seed}
        """
        return x

    lines = inspect.cleandoc(noisy.__doc__).splitlines()
    assert lines[-3:] == ["    A mapping such as ``{\"a\": 1}``; {x} inside a line is not a placeholder.",
                          "seed : int, optional", "    Seeds the noise (default 0)."]
    assert noisy({"a": 1}) == {"a": 1} and inspect.signature(noisy).parameters["seed"].default == 0


def test_a_placeholder_without_a_block_is_named_and_a_docstring_without_one_is_unchanged():
    with pytest.raises(KeyError, match=r"f: the docstring placeholder \{sed\} names no shared block"):
        fill("Toy.\n\n    {sed}\n", {"seed": SEED}, owner="f")
    assert fill("Toy {seed}.\n", {"seed": SEED}) == "Toy {seed}.\n"

    @fill_doc(seed=SEED)
    class Plain:
        """No placeholder here."""
    assert Plain.__doc__ == "No placeholder here."
