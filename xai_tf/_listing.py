"""The text of a method listing (``xai-tf explain --help``, ``describe_methods``), written once.

Plain formatting of a method record's fields (a mapping), with no import of the records' module:
``xai_tf.explainers.registry`` formats its live records with it, and ``xai_tf.cli.startup``
formats the records it reads from the registry's source without TensorFlow.
"""
from __future__ import annotations

_FLAGS = (("stochastic", "seeded", False), ("layer", "layer=", False), ("in_demo_grid", "not in the demo grid", True))


def help_line(record) -> str:
    """``name: description [flags]`` from a method record's fields (a mapping): the text of
    ``MethodRecord.help_line``, written once here so that it needs no TensorFlow."""
    flags = [label for key, label, default in _FLAGS if bool(record.get(key, default)) != default]
    return f"{record['name']}: {record['description']}" + (f" [{', '.join(flags)}]" if flags else "")


def method_listing(families: dict, records) -> str:
    """``describe_methods``' text: per family of ``families`` (in its order) a header line, then one
    :func:`help_line` per record of that family, in the order given."""
    lines = []
    for family, meaning in families.items():
        chosen = [record for record in records if record["family"] == family]
        if chosen:
            lines.append(f"{family} ({meaning}):")
            lines.extend(f"  {help_line(record)}" for record in chosen)
    return "\n".join(lines)
