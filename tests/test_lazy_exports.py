"""Every lazily exported name of every package resolves (a wrong module name fails only on first use)."""
from __future__ import annotations

import importlib

import pytest

from xai_tf._public_api import packages


@pytest.mark.parametrize("package", packages())
def test_every_exported_name_resolves(package):
    module = importlib.import_module(package)
    names = list(getattr(module, "__all__", []))
    for name in names:
        value = getattr(module, name)  # raises (ModuleNotFoundError, AttributeError) for a broken export
        assert value is not None, f"{package}.{name} resolved to None"
    # a package with a lazy __getattr__ lists (dir) exactly what it exports
    if "__getattr__" in vars(module) and names:
        assert set(names) <= set(dir(module))


def test_write_figures_is_the_function():
    from xai_tf.viz import write_figures
    from xai_tf.viz.figures import write_figures as defined

    assert write_figures is defined
