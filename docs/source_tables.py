"""The data guide's table of formats, from the data-format records (``xai_tf.data.records``).

One row per registered format, in detection order: its name, what a path of it is, its suffixes,
what reads it (the lazy source ``xai_tf.data.open`` returns, the whole-set loader
``xai_tf.data.load`` calls), its options with their defaults and the extra it needs.
``pages.generate`` writes it to ``_generated/sources_table.md``, which ``guide/data.md``
includes, so a new format's record is its row.
"""
from __future__ import annotations

import inspect

HEADER = ("| format | a path that is | suffixes | read by | options | extra |\n"
          "| --- | --- | --- | --- | --- | --- |\n")


def _name(obj) -> str:
    """A MyST cross-reference where ``xai_tf.data`` exports ``obj``, else its dotted name in code."""
    import xai_tf.data

    name = obj.__name__
    if name in xai_tf.data.__all__ and getattr(xai_tf.data, name) is obj:
        role = "class" if inspect.isclass(obj) else "func"
        return f"{{{role}}}`xai_tf.data.{name}`"
    return f"`{obj.__module__}.{obj.__qualname__}`"


def _options(record) -> str:
    defaults = {}
    for opener in (record.loader, record.source):
        if opener is not None:
            for key, parameter in inspect.signature(opener).parameters.items():
                if parameter.default is not inspect.Parameter.empty:
                    defaults.setdefault(key, parameter.default)
    shown = [f"`{key}={defaults[key]!r}`" if key in defaults else f"`{key}`" for key in record.options]
    return ", ".join(shown) or "none"


def _readers(record) -> str:
    readers = []
    if record.source is not None:
        readers.append(f"{_name(record.source)} (lazy)")
    if record.loader is not None:
        readers.append(f"{_name(record.loader)} (whole)")
    return ", ".join(readers)


def sources_table() -> str:
    """The Markdown table of every registered data format, in detection order.

    Returns
    -------
    str
        A header row and one row per record of ``xai_tf.data.records.RECORDS``, ending in a newline.
    """
    from xai_tf.data.records import RECORDS

    rows = [f"| `{r.name}` | {r.description} | {', '.join(f'`{s}`' for s in r.suffixes) or '-'} | {_readers(r)} "
            f"| {_options(r)} | {f'`{r.extra}`' if r.extra else '-'} |\n" for r in RECORDS.values()]
    return HEADER + "".join(rows)
