"""No import cycle in xai_tf: between modules, and between its packages (docs/architecture.md: data flows one way).

The imports are read from the source (``ast``), module-level and function-level alike: an import
deferred into a function still makes the two modules depend on each other. ``import xai_tf``
followed by ``xai_tf.explain(...)`` counts as an import of the module the lazy export names.
"""
from __future__ import annotations

import ast
from pathlib import Path

import xai_tf

ROOT = Path(xai_tf.__file__).parent


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(ROOT.rglob("*.py"))}


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The xai_tf modules ``name`` imports (most specific module each import names)."""
    tree = ast.parse(path.read_text())
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()

    def add(target: str) -> None:
        while target and target not in known:  # "xai_tf.metrics.chunk.Chunk" -> "xai_tf.metrics.chunk"
            target = target.rpartition(".")[0]
        if target and target != name:
            found.add(target)

    root_aliases = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "xai_tf":
                    root_aliases.add(alias.asname or "xai_tf")
                elif alias.name.startswith("xai_tf."):
                    add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            if not module.startswith("xai_tf"):
                continue
            for alias in node.names:
                add(f"{module}.{alias.name}")  # a submodule, or a name inside ``module``
    # ``import xai_tf`` then ``xai_tf.explain``: the module behind the lazy export
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in root_aliases:
            target = xai_tf._LAZY.get(node.attr)
            if target is not None:
                add(target[0])
    if name == "xai_tf":  # the lazy exports themselves are not dependencies of the root's own code
        return set()
    return found


def graph() -> dict[str, set[str]]:
    found = modules()
    known = set(found)
    return {name: imports_of(name, path, known) for name, path in found.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one node (Tarjan), each sorted."""
    index, low, stack, on_stack, result = {}, {}, [], set(), []
    counter = [0]

    def visit(node):
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for successor in edges.get(node, ()):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                result.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return result


def package_of(module: str) -> str:
    """``xai_tf.evaluation.store`` -> ``xai_tf.evaluation``; top-level modules are their own package."""
    return ".".join(module.split(".")[:2])


def test_the_reader_sees_the_imports_it_must():
    edges = graph()
    # a module-level import, a function-level one, a relative-free "from package import module", a lazy export
    assert "xai_tf.evaluation.store" in edges["xai_tf.evaluation.runner"]
    assert "xai_tf.explainers" in edges["xai_tf.evaluation.units"]
    assert "xai_tf.runs" in edges["xai_tf.demo"]
    assert "xai_tf.explainers" in edges["xai_tf.demo"]  # import xai_tf; xai_tf.list_methods()
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycle_between_modules():
    assert cycles(graph()) == []


def test_no_import_cycle_between_packages():
    packages: dict[str, set[str]] = {}
    for module, targets in graph().items():
        if module == "xai_tf":
            continue
        source = package_of(module)
        packages.setdefault(source, set()).update(package_of(t) for t in targets if package_of(t) != source)
    assert cycles(packages) == []
