"""The public API, listed once: what the docstring test checks and the API reference documents.

Public means: every name in ``__all__`` of ``xai_tf`` and of each subpackage (functions, classes and
the public methods those classes define), every registered saliency method's function, every
registered metric's class, the functions of :mod:`xai_tf.runs` and of the command line's modules
(:mod:`xai_tf.cli`: one per command; ``xai-tf evaluate`` is ``xai_tf.cli.evaluate.cli_main``).
"""
from __future__ import annotations

import importlib
import inspect
import pkgutil
import types
from collections.abc import Iterator

import xai_tf

#: Modules whose own public functions are public although no ``__all__`` lists them.
MODULES_BY_FUNCTION = ("xai_tf.runs", "xai_tf.cli.program", "xai_tf.cli.train", "xai_tf.cli.data",
                       "xai_tf.cli.explain", "xai_tf.cli.evaluate", "xai_tf.cli.meta_evaluate", "xai_tf.cli.compare",
                       "xai_tf.cli.study", "xai_tf.cli.report", "xai_tf.cli.demo", "xai_tf.cli.data_flags")


def packages() -> list[str]:
    """``xai_tf`` and every subpackage, by import name.

    Returns
    -------
    list of str
        ``["xai_tf", "xai_tf.callbacks", ...]``.
    """
    return ["xai_tf"] + [info.name for info in pkgutil.walk_packages(xai_tf.__path__, "xai_tf.") if info.ispkg]


def _is_documentable(value) -> bool:
    return inspect.isfunction(value) or inspect.isclass(value)


def _own_methods(cls: type) -> Iterator[tuple[str, object]]:
    """Public methods and properties ``cls`` itself introduces.

    An override (a metric's ``score``, a callback's ``on_epoch_end``) is documented where its base
    class declares it (the metric protocol, Keras), and Sphinx shows the inherited docstring.
    """
    for name, value in vars(cls).items():
        if name.startswith("_") or any(hasattr(base, name) for base in cls.__mro__[1:]):
            continue
        if isinstance(value, (staticmethod, classmethod)):
            value = value.__func__
        if inspect.isfunction(value) or isinstance(value, property):
            yield name, value


def public_objects() -> dict[str, object]:
    """Every public function, class, method and property, by its documented dotted name.

    Returns
    -------
    dict of str to object
        ``{"xai_tf.explain": <function explain>, "xai_tf.evaluation.Store.open": ..., ...}``; an
        object exported from several packages appears once, under its shortest name.
    """
    from xai_tf.explainers.registry import RECORDS
    from xai_tf.metrics.registry import METRICS

    found: dict[int, tuple[str, object]] = {}

    def add(name: str, value) -> None:
        key = id(value)
        if key not in found or len(name) < len(found[key][0]):
            found[key] = (name, value)

    for package in packages():
        module = importlib.import_module(package)
        for name in getattr(module, "__all__", ()):
            value = getattr(module, name)
            if isinstance(value, types.ModuleType) or not _is_documentable(value):
                continue
            add(f"{package}.{name}", value)
    for module_name in MODULES_BY_FUNCTION:
        module = importlib.import_module(module_name)
        for name, value in vars(module).items():
            if not name.startswith("_") and inspect.isfunction(value) and value.__module__ == module_name:
                add(f"{module_name}.{name}", value)
    for record in RECORDS.values():
        function = record.function
        add(f"{function.__module__}.{function.__qualname__}", function)
    for metric in METRICS.values():
        cls = type(metric)
        add(f"{cls.__module__}.{cls.__qualname__}", cls)
    objects = dict(found.values())
    for name, value in list(objects.items()):
        if inspect.isclass(value):
            for method_name, method in _own_methods(value):
                objects.setdefault(f"{name}.{method_name}", method)
    return dict(sorted(objects.items()))
