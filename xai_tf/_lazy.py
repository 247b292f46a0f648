"""Lazy re-exports for package ``__init__`` modules: a name is imported on first use only.

Keeps ``import xai_tf.viz`` (and friends) cheap and lets each concept live in its own module.
"""
from __future__ import annotations

import importlib
import sys


def lazy_exports(package: str, table: dict[str, str]):
    """Return ``(__getattr__, __dir__)`` serving ``name -> f"{package}.{table[name]}".name``."""

    def __getattr__(name: str):
        if name not in table:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module = importlib.import_module(f"{package}.{table[name]}")
        return getattr(module, name)

    def __dir__():  # the lazy names and those the package imports eagerly (its __all__)
        return sorted(set(table) | set(getattr(sys.modules[package], "__all__", ())))

    return __getattr__, __dir__
