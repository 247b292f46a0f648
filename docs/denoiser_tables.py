"""The user guide's table of denoisers, written from the denoiser records (``xai_tf.denoising``).

:func:`pages.generate` writes it to ``docs/_generated/denoisers_table.md``, which
``guide/denoise.md`` includes; a registered denoiser gets its row without editing the docs.
"""
from __future__ import annotations


def _parameter(name: str, parameter) -> str:
    default = f'"{parameter.default}"' if isinstance(parameter.default, str) else repr(parameter.default)
    text = f"`{name}={default}`"
    return f"{text} ({parameter.help})" if parameter.help else text


def denoisers_table() -> str:
    """Markdown: one row per registered denoiser (name, filter and library, parameters, defaults' source).

    Returns
    -------
    str
        The table, with a header, ending in a newline.
    """
    from xai_tf.denoising import describe_denoisers

    rows = ["| name | filter (library) | parameters and defaults | defaults from |", "| --- | --- | --- | --- |"]
    for name, record in describe_denoisers().items():
        parameters = ", ".join(_parameter(key, parameter) for key, parameter in record.parameters.items())
        rows.append(f"| `{name}` | {record.library or record.description} | {parameters or 'none'} | "
                    f"{record.source or '-'} |")
    return "\n".join(rows) + "\n"
