"""The guide's backbone table, from the backbone records (``xai_tf.models.backbones``).

One row per registered backbone: its name, what it is, the smallest input it takes, its last
convolution (the default CAM layer), where fine-tuning starts by default, its preprocessing and
its ImageNet weight file. ``pages.generate`` writes it to ``_generated/backbones_table.md``, which
``guide/models.md`` includes, so a new backbone's record is its row.
"""
from __future__ import annotations

HEADER = ("| backbone | what it is | min. size | last convolution (CAM layer) | fine-tuning starts at "
          "| preprocessing | ImageNet weights |\n| --- | --- | --- | --- | --- | --- | --- |\n")


def _fine_tune(start) -> str:
    return f"after `{start[1]}`" if isinstance(start, tuple) else f"`{start}`"


def _preprocessing(preprocessing) -> str:
    from xai_tf.models.backbones import PREPROCESSING_MODES

    if callable(preprocessing):
        return f"its own (`{getattr(preprocessing, '__name__', type(preprocessing).__name__)}`)"
    return f"`{preprocessing}`: {PREPROCESSING_MODES[preprocessing]}"


def backbones_table() -> str:
    """The Markdown table of every registered backbone, in registration order.

    Returns
    -------
    str
        A header row and one row per record of ``xai_tf.models.backbones.RECORDS``.
    """
    from xai_tf.models.backbones import RECORDS

    rows = [f"| `{r.name}` | {r.description} | {r.min_input_size} | `{r.last_conv}` | {_fine_tune(r.fine_tune_at)} "
            f"| {_preprocessing(r.preprocessing)} | {f'`{r.weight_file}`' if r.weight_file else 'none'} |\n"
            for r in RECORDS.values()]
    return HEADER + "".join(rows)

