"""``docs/architecture.md`` tells the truth: every module it names exists, every package is named,
and no import goes up a floor of its table (the imports read by ``tests/test_import_graph.py``)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from test_import_graph import graph, modules

PAGE = Path(__file__).parents[1] / "docs" / "architecture.md"
NAME = re.compile(r"`(xai_tf(?:\.[A-Za-z_][A-Za-z0-9_]*)*)`")


def floors() -> dict[str, int]:
    """``{module or package: floor}`` from the rows ``| floor | names | owns |`` of the Floors table."""
    table = {}
    for line in PAGE.read_text().splitlines():
        cells = [cell.strip() for cell in line.split("|")[1:-1]]
        if len(cells) == 3 and cells[0].isdigit():
            for name in NAME.findall(cells[1]):
                table[name] = int(cells[0])
    return table


def floor_of(module: str, table: dict[str, int]) -> int | None:
    """The floor of the most specific table entry that is ``module`` or a package holding it."""
    found = [name for name in table if module == name or module.startswith(name + ".")]
    return table[max(found, key=len)] if found else None


def test_every_named_module_exists():
    known = set(modules())
    named = set(NAME.findall(PAGE.read_text()))
    # `xai_tf.explainers.registry` or a name inside a module (`xai_tf.metrics.chunk.Chunk`)
    missing = sorted(name for name in named
                     if not any(name == module or name.startswith(module + ".") for module in known))
    assert missing == []


def test_every_package_has_a_floor():
    table = floors()
    packages = sorted({".".join(name.split(".")[:2]) for name in modules() if name != "xai_tf"})
    assert [package for package in packages if floor_of(package, table) is None] == []
    assert len(set(table.values())) == 10


def test_no_import_goes_up_a_floor():
    table = floors()
    upward = []
    for module, targets in graph().items():
        if module == "xai_tf":
            continue
        here = floor_of(module, table)
        for target in targets:
            there = floor_of(target, table)
            if target != "xai_tf" and there is not None and there > here:
                upward.append(f"{module} (floor {here}) imports {target} (floor {there})")
    assert upward == []


@pytest.mark.parametrize("example", ["xai_tf.evaluation.runner", "xai_tf.cli.evaluate"])
def test_the_table_is_read_as_the_page_says(example):
    # a module named in a row belongs to it even inside a package of another floor
    table = floors()
    assert floor_of(example, table) == (7 if example.endswith("runner") else 9)
