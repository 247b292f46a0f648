"""Every public name has a numpydoc docstring: a summary, Parameters, Returns and Raises.

The public names are listed once, in :mod:`xai_tf._public_api` (the API reference documents the same
list). numpydoc's own validator checks the sections against the signature (every parameter
documented with a type and a description, none that does not exist, a Returns or Yields section
where the function returns a value); this test adds the Raises rule numpydoc leaves out: every
exception class a function raises itself (``raise ValueError(...)`` in its own body, not caught there)
is named in its Raises section.
"""
from __future__ import annotations

import ast
import inspect
import re
import textwrap

import pytest
from numpydoc.docscrape import NumpyDocString, get_doc_object
from numpydoc.validate import validate

from xai_tf._public_api import public_objects

#: numpydoc validation codes that fail the test (numpydoc.validate.ERROR_MSGS says what each means).
CHECKED = {
    "GL08": "no docstring",
    "SS01": "no summary",
    "PR01": "a parameter is not documented",
    "PR02": "a documented parameter does not exist",
    "PR04": "a parameter has no type",
    "PR07": "a parameter has no description",
    "RT01": "no Returns section",
    "RT03": "a return value has no description",
    "YD01": "no Yields section",
}

PUBLIC = public_objects()


def _caught(handler: ast.ExceptHandler) -> set[str]:
    """Names an ``except`` clause catches (``{"*"}`` for a bare ``except`` or ``except Exception``)."""
    kinds = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    names = {kind.id if isinstance(kind, ast.Name) else getattr(kind, "attr", "*") for kind in kinds if kind}
    return {"*"} if handler.type is None or names & {"Exception", "BaseException"} else names


def raised_names(function) -> set[str]:
    """Exception classes ``function`` lets escape from its own body: raised there (not in a nested
    function) and not caught by a ``try`` of the same body around the ``raise``."""
    try:
        source = textwrap.dedent(inspect.getsource(function))
    except (OSError, TypeError):
        return set()
    tree = ast.parse(source).body[0]
    names: set[str] = set()

    def visit(node, top: bool, caught: frozenset) -> None:
        if not top and isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            return
        if isinstance(node, ast.Raise) and node.exc is not None:
            target = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            name = target.id if isinstance(target, ast.Name) else getattr(target, "attr", "")
            if name[:1].isupper() and name not in caught and "*" not in caught:
                names.add(name)
        if isinstance(node, ast.Try):
            inner = caught.union(*(_caught(handler) for handler in node.handlers))
            for child in node.body:
                visit(child, False, inner)
            for child in node.handlers + node.orelse + node.finalbody:
                visit(child, False, caught)
            return
        for child in ast.iter_child_nodes(node):
            visit(child, False, caught)

    visit(tree, True, frozenset())
    return names


def documented_raises(obj) -> set[str]:
    """Exception names in the Raises section of ``obj``'s docstring."""
    doc = NumpyDocString(inspect.getdoc(obj) or "")
    names: set[str] = set()
    for entry in doc["Raises"]:
        names.update(part.strip() for part in f"{entry.name} {entry.type}".replace(",", " ").split() if part)
    return names


def test_the_public_api_list_covers_the_packages_methods_metrics_runs_and_cli():
    names = set(PUBLIC)
    for expected in ("xai_tf.explain", "xai_tf.evaluate", "xai_tf.denoise", "xai_tf.explainers.cam.gradcam",
                     "xai_tf.explainers.rise.rise", "xai_tf.metrics.faithfulness.fidelity.CausalMetric",
                     "xai_tf.metrics.Metric", "xai_tf.metrics.Metric.score", "xai_tf.runs.train", "xai_tf.cli.main",
                     "xai_tf.cli.evaluate.cli_main", "xai_tf.callbacks.MetricCallback", "xai_tf.viz.overlay"):
        assert expected in names
    # an override is documented by the class that declares it
    assert "xai_tf.metrics.faithfulness.fidelity.CausalMetric.score" not in names


def test_the_raises_rule_reads_what_escapes_the_function():
    def example(value):
        if value is None:
            raise TypeError("value")
        try:
            raise KeyError(value)
        except KeyError:
            pass
        try:
            raise IndexError(value)
        except ValueError:
            pass

        def nested():
            raise RuntimeError("not this function's")

        return nested

    assert raised_names(example) == {"TypeError", "IndexError"}


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_public_name_has_a_numpydoc_docstring(name):
    obj = PUBLIC[name]
    # validated by object, not by name: a name that is also a module's (xai_tf.models.classification_report)
    # would resolve to the module
    found = validate(get_doc_object(obj))["errors"]
    errors = [f"{code} ({CHECKED[code]}): {message}" for code, message in found if code in CHECKED]
    function = obj.fget if isinstance(obj, property) else obj
    if inspect.isclass(function):
        function = vars(function).get("__init__") or vars(function).get("__post_init__")
    if function is not None:
        missing = raised_names(function) - documented_raises(obj)
        if missing:
            errors.append(f"Raises section does not name {sorted(missing)}, which the body raises")
    assert not errors, f"{name}:\n  " + "\n  ".join(errors)


#: An array's type must come with its shape: the word "shape", a dimension tuple "(N, H, W)", or a rank.
SHAPE_WORDS = re.compile(r"shape|\([\w ,.]*,[\w ,.]*\)|\(N,?\)|scalar|\b[0-4]-d\b", re.IGNORECASE)
ARRAY_TYPE = re.compile(r"^(numpy\.|np\.)?ndarray|^array[-_]like|^tf\.Tensor"
                        r"|\bor (numpy\.)?ndarray\b|, (numpy\.)?ndarray")


def test_every_documented_array_states_its_shape():
    missing = []
    for name, obj in PUBLIC.items():
        doc = get_doc_object(obj)
        for section in ("Parameters", "Returns", "Yields"):
            for entry in doc[section]:
                kind = entry.type.strip()
                if ARRAY_TYPE.search(kind) and not SHAPE_WORDS.search(f"{kind} {' '.join(entry.desc)}"):
                    missing.append(f"{name}: {section} {entry.name or kind}")
    assert not missing, "arrays documented without their shape:\n  " + "\n  ".join(missing)


def test_the_shape_rule_reads_types_and_descriptions():
    assert ARRAY_TYPE.search("numpy.ndarray") and ARRAY_TYPE.search("LabelledImages or ndarray")
    assert not ARRAY_TYPE.search("dict of str to numpy.ndarray")  # a dict of named arrays: shapes vary
    assert SHAPE_WORDS.search("numpy.ndarray, shape (N, H, W)") and SHAPE_WORDS.search("images (N, H, W, C)")
    assert not SHAPE_WORDS.search("numpy.ndarray of float32 maps")
