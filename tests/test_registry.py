"""The one registry every extension point uses (``xai_tf._registry.Registry``)."""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from xai_tf._registry import Registry


@dataclass(frozen=True)
class Thing:
    name: str


def test_add_keeps_order_inserts_before_a_name_and_remove_gives_the_record_back():
    things = Registry("thing", Thing)
    a, b, c = things.add(Thing("a")), things.add(Thing("b")), Thing("c")
    assert things.add(c, before="b") is c and list(things) == ["a", "c", "b"]
    assert things.remove("a") is a and list(things) == ["c", "b"]
    assert things.remove("a") is None  # a name not registered is ignored
    things.add(things.remove("c"))
    assert list(things) == ["b", "c"] and things.record("b") is b


def test_bad_adds_and_unknown_names_are_named():
    things = Registry("thing", Thing, argument="thing")
    things.add(Thing("a"))
    with pytest.raises(TypeError, match="thing must be a Thing; got str"):
        things.add("a")
    with pytest.raises(ValueError, match=r"thing 'a' is already registered; unregister\('a'\) first"):
        things.add(Thing("a"))
    with pytest.raises(ValueError, match="name must not be empty"):
        things.add(Thing(""))
    with pytest.raises(ValueError, match="before='z' is not valid; expected one of: a"):
        things.add(Thing("b"), before="z")
    with pytest.raises(ValueError, match="thing='z' is not valid; expected one of: a"):
        things.record("z", "thing")
    assert list(things) == ["a"]
