"""The documentation's generated pages: one per method, one per metric, the API reference, the notebooks.

Every page is written from what the package itself declares (the method records, the metric
registry, :mod:`xai_tf._public_api`), so a new method or metric gets its page without editing the
docs. ``conf.py`` calls :func:`generate` when Sphinx starts; the pages land in ``docs/_generated``
(not committed). What a page says about a method's or metric's checks is the list of tests that
name it (:func:`checking_tests`), so it stays true when tests are added.
"""
from __future__ import annotations

import ast
import inspect
import re
from collections import defaultdict
from pathlib import Path

import backbone_tables
import denoiser_tables
import examples
import execute_notebooks
import source_tables
import which_method

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
GENERATED = DOCS / "_generated"
#: Tests listed per page at most (the rest are counted).
MAX_TESTS = 12
#: Test files (name prefixes) whose tests check methods, and metrics.
METHOD_TEST_FILES = ("test_explain", "test_xrai", "test_vit", "test_method_oracles")
METRIC_TEST_FILES = ("test_metrics", "test_pic")
#: API reference pages: file name -> (the dotted prefix of the names it documents, its title), in order.
API_PAGES = {
    "top-level": ("xai_tf", "The top-level functions"),
    "explainers": ("xai_tf.explainers", "Saliency methods"),
    "denoising": ("xai_tf.denoising", "Denoising"),
    "metrics": ("xai_tf.metrics", "Metrics"),
    "evaluation": ("xai_tf.evaluation", "Evaluation runner"),
    "data": ("xai_tf.data", "Data"),
    "models": ("xai_tf.models", "Models"),
    "viz": ("xai_tf.viz", "Figures"),
    "callbacks": ("xai_tf.callbacks", "Keras callbacks"),
    "study": ("xai_tf.study", "Studies"),
    "report": ("xai_tf.report", "Reports"),
    "runs": ("xai_tf.runs", "Run folders (train and explain recipes)"),
    "cli": ("xai_tf.cli", "Command line"),
}


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text() != text:  # unchanged pages keep their time: Sphinx skips them
        path.write_text(text)


# --------------------------------------------------------------------------------------------------
# which tests check what


_PAPER_MENTION = re.compile(r"\b([Pp]apers? 00[0-4])\b")
_INLINE_CODE = re.compile(r"(``.+?``|`[^`]*`)")


def link_paper_mentions(text: str, markdown: bool = True) -> str:
    """``text`` with every "paper 00N" outside code turned into a link to the Papers page.

    Parameters
    ----------
    text : str
        A Markdown page (MyST) or reStructuredText (a docstring).
    markdown : bool
        MyST's ``{doc}`` role (default) or reStructuredText's ``:doc:``.

    Returns
    -------
    str
        The text with the mentions linked; fenced code blocks and inline code left alone.
    """
    role = "{doc}" if markdown else ":doc:"
    lines, fenced = [], False
    for line in text.split("\n"):
        if line.lstrip().startswith("```"):
            fenced = not fenced
        elif not fenced:
            parts = _INLINE_CODE.split(line)
            line = "".join(part if index % 2 else _PAPER_MENTION.sub(rf"{role}`\1 </papers>`", part)
                           for index, part in enumerate(parts))
        lines.append(line)
    return "\n".join(lines)


def _test_functions() -> list[tuple[str, str, str]]:
    """``(file, test name, source)`` of every test function in ``tests/``."""
    found = []
    for path in sorted((ROOT / "tests").glob("test_*.py")):
        source = path.read_text()
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                found.append((path.name, node.name, ast.get_source_segment(source, node) or ""))
    return found


def checking_tests(words: list[str], tests, files: tuple[str, ...]) -> tuple[list[str], int]:
    """Tests that check a method or metric, and how many other tests use it.

    A test checks it when the test's name contains one of ``words``, or when it lives in one of
    ``files`` (the method or metric tests) and names one of ``words`` (as a string literal or a call).
    Other tests that name it only use it (as a sample method in the callbacks' tests, say).

    Parameters
    ----------
    words : list of str
        The method's or metric's registry name and its function or class names.
    tests : list of tuple
        :func:`_test_functions`.
    files : tuple of str
        Prefixes of the test files that test this kind of thing (``"test_explain"``, ``"test_metrics"``).

    Returns
    -------
    checks : list of str
        ``"tests/<file>::<test>"`` entries, those titled by a word first.
    others : int
        How many more tests name it.
    """
    patterns = [re.compile(rf"""["']{re.escape(word)}["']|\b{re.escape(word)}\(""") for word in words]
    # a whole part of the test's name: "sic" titles test_sic_..., not test_hsic_...
    titles = [re.compile(rf"(^|_){re.escape(word)}(_|$)") for word in words]
    titled, in_files, others = [], [], 0
    for file, name, source in tests:
        if any(title.search(name) for title in titles):
            titled.append(f"tests/{file}::{name}")
        elif any(pattern.search(source) for pattern in patterns):
            if file.startswith(files):
                in_files.append(f"tests/{file}::{name}")
            else:
                others += 1
    return titled + in_files, others


def _tests_section(found: tuple[list[str], int]) -> str:
    checks, others = found
    lines = [f"- `{entry}`" for entry in checks[:MAX_TESTS]]
    if len(checks) > MAX_TESTS:
        lines.append(f"- and {len(checks) - MAX_TESTS} more tests of this kind")
    if not checks:
        lines.append("- no test names it alone; the tests parametrised over every registered name cover it")
    if others:
        lines.append(f"\n{others} other tests use it (through the evaluation runner, callbacks, reports, ...).")
    return "\n".join(lines) + "\n"


def console(command: str, arguments: list[str]) -> str:
    """``xai-tf <command> <arguments>`` as a console line, after checking that the CLI parses it.

    Parameters
    ----------
    command : str
        ``"explain"`` or ``"evaluate"``.
    arguments : list of str
        The arguments after the command.

    Returns
    -------
    str
        The line, wrapped with a backslash after the methods.

    Raises
    ------
    ValueError
        If the command line parser rejects the arguments (a page would show a wrong command).
    """
    from xai_tf.cli import build_parser
    from xai_tf.cli.evaluate import build_parser as build_evaluate_parser

    parser, argv = ((build_evaluate_parser(), arguments) if command == "evaluate"
                    else (build_parser(), [command, *arguments]))
    try:
        parser.parse_args(argv)
    except SystemExit:
        raise ValueError(f"xai-tf {command} does not accept {arguments}") from None
    pairs = [" ".join(arguments[i:i + 2]) for i in range(0, len(arguments), 2)]
    return f"xai-tf {command} {' '.join(pairs[:2])} \\\n    {' '.join(pairs[2:])}"


def _milliseconds(seconds: float) -> str:
    milliseconds = seconds * 1000
    return f"{milliseconds:,.0f} ms" if milliseconds >= 10 else f"{milliseconds:.1f} ms"


# --------------------------------------------------------------------------------------------------
# methods


def _method_page(record, example: dict, baseline: dict, tests, settings: dict) -> str:
    function = record.function
    dotted = f"{function.__module__}.{function.__qualname__}"
    defaults = record.defaults
    rows = "\n".join(f"| `{name}` | `{value!r}` |" for name, value in defaults.items())
    generic = ["`targets=None` (the predicted class)", "`batch_size=64`", "`verbose=1`"]
    if record.layer:
        generic.append("`layer=None` (the model's last convolution, on a transformer the tokens entering its last "
                       "attention layer; any 4-D or token-sequence layer's name)")
    if record.stochastic:
        generic.append("`seed=0` (same seed, same map)")
    own = (f"Its own parameters and their defaults (pass any of them to `explain` as keywords); like every "
           f"method it also takes {', '.join(generic)}:\n\n| parameter | default |\n|---|---|\n{rows}"
           if rows else f"It has no parameters of its own; like every method it takes {', '.join(generic)}.")
    example_call = ", ".join(f"{name}={value!r}" for name, value in list(defaults.items())[:2])
    vit = settings["vit"] if example.get("model") == "vit" else None
    if vit is not None:  # the transformers' methods explain the example ViT (docs/examples.py)
        baseline = {"seconds_per_image": vit["costs"]["vanilla_gradient"]["64"]}
        explained_by = (f"a small Vision Transformer (`xai_tf.models.build_vit` with "
                        f"{', '.join(f'{k}={v}' for k, v in vit['options'].items())}, 4-pixel patches) trained at "
                        f"build time ({settings['image_size']}x{settings['image_size']} px, {vit['epochs']} epochs, "
                        f"held-out accuracy {vit['accuracy']:.2f})")
        large = vit["costs"].get(record.name, {}).get("224")
        at_224 = "" if large is None else (
            f" On DeiT-Ti (`build_vit(..., variant=\"tiny\")`, 12 blocks of width 192, random weights) at 224x224 "
            f"px: {_milliseconds(large)} per image, {large / vit['costs']['vanilla_gradient']['224']:,.1f}x a vanilla "
            "gradient there.")
    else:
        explained_by = (f"the custom CNN v2 with a global-average-pooling head (`head=\"gap\"`, as the quickstart's) "
                        f"trained at build time ({settings['image_size']}x"
                        f"{settings['image_size']} px, {settings['epochs']} epochs, held-out accuracy "
                        f"{settings['accuracy']:.2f})")
        at_224 = ""
    ratio = example["seconds_per_image"] / baseline["seconds_per_image"]
    return f"""# {record.name}

{record.description[:1].upper() + record.description[1:]}.

| family | stochastic (`seed=` changes the map) | looks at a layer (`layer=`) | shown in the demo's grid |
|---|---|---|---|
| {record.family} | {"yes" if record.stochastic else "no"} | {"yes" if record.layer else "no"} | \
{"yes" if record.in_demo_grid else "no"} |

## Use

```python
# images: (N, H, W, C) float32 in [0, 1]
maps = xai_tf.explain(model, images, "{record.name}"{", " + example_call if example_call else ""})
# maps: (N, H, W) float32, larger = more important
```

```console
{console("explain", ["--model", "model.keras", "--data", "synthetic", "--methods", record.name,
                     "--out", "runs/explain"])}
```

{own}

## Example

![{record.name} on two held-out synthetic radio galaxies](../examples/methods/{record.name}.png)

Two held-out synthetic radio galaxies (one FRI, one FRII; magenta: the ground-truth emission),
explained for the predicted class by {explained_by}, with the defaults above and `seed={settings["seed"]}`.

## Cost

{_milliseconds(example["seconds_per_image"])} per image on the machine that built this page
({settings["image_size"]}x{settings["image_size"]} px, after a warm-up call), **{ratio:,.1f}x** a
vanilla gradient measured the same way ({_milliseconds(baseline["seconds_per_image"])}).{at_224}

## How it is checked

{_tests_section(checking_tests([record.name, function.__name__], tests, METHOD_TEST_FILES))}
## What it computes, and its reference

```{{eval-rst}}
.. autofunction:: {dotted}
   :no-index:
```
"""


def method_pages(examples_found: dict, tests) -> None:
    """Write ``_generated/methods/<name>.md`` for every registered method and their index.

    Parameters
    ----------
    examples_found : dict
        :func:`examples.load_or_compute`'s result.
    tests : list of tuple
        :func:`_test_functions`.
    """
    from xai_tf.explainers.registry import FAMILIES, RECORDS

    folder = GENERATED / "methods"
    settings = dict(examples_found["settings"], accuracy=examples_found["accuracy"], vit=examples_found["vit"])
    baseline = examples_found["methods"]["vanilla_gradient"]
    for name, record in RECORDS.items():  # (examples_found is recomputed when a record is added)
        _write(folder / f"{name}.md", _method_page(record, examples_found["methods"][name], baseline, tests,
                                                    settings))
    by_family = defaultdict(list)
    for record in RECORDS.values():
        by_family[record.family].append(record)
    sections = []
    for family in FAMILIES:
        rows = "\n".join(
            f"| [{record.name}]({record.name}.md) | {record.description} | "
            f"{_milliseconds(examples_found['methods'][record.name]['seconds_per_image'])} |"
            for record in by_family[family])
        sections.append(f"## {family}\n\n| method | what it computes | cost per image |\n|---|---|---|\n{rows}\n")
    toctree = "\n".join(RECORDS)
    _write(folder / "index.md", f"""# Methods

Every saliency method `xai_tf.explain(model, images, method)` knows, by family (the registry's
`xai_tf.list_methods(family=...)`). The cost is the time per image measured when these pages were
built ({settings["image_size"]}x{settings["image_size"]} px, the quickstart's CNN, this machine's CPU; the
transformers' methods, family "attention", on a small Vision Transformer: see their pages).

{chr(10).join(sections)}
```{{toctree}}
:hidden:

{toctree}
```
""")


# --------------------------------------------------------------------------------------------------
# metrics


def _metric_page(metric, example: dict, tests, settings: dict) -> str:
    from xai_tf.metrics.curve_metric import CurveMetric
    from xai_tf.metrics.protocol import Metric

    cls = type(metric)
    options = "\n".join(f"- `{option.name}` (default `{option.default!r}`; flag `{option.cli_flag}`): {option.help}"
                        for option in metric.options)
    columns = example["columns"]
    column_rows = "\n".join(f"| `{column}` | {metric.direction_of(column) or 'neither (a diagnostic)'} | "
                            f"{metric.note(column)} |" for column in columns)
    means = "\n".join(
        f"| {method} | " + " | ".join("n/a" if value is None else f"{value:.4g}" for value in values.values()) + " |"
        for method, values in example["means"].items())
    kind = ("It is a curve metric: one curve per image (a model score against how much of the image is "
            "perturbed), stored beside the maps; the value is an area under it." if isinstance(metric, CurveMetric)
            else "It scores the maps the method made." if metric.scores == "maps" else
            "It re-runs the method (on perturbed images or a changed model).")
    summary_kind = ("Means" if type(metric).summarize is Metric.summarize else
                    "The summary table's values (not means of the images' values: this metric summarises its own "
                    "way, see its reference below)")
    changed = ("default options except "
               + ", ".join(f"`{name}={value!r}`" for name, value in example["options"].items())
               + " (one pixel per step takes 4,096 model calls per image at 64x64 px)"
               if example["options"] else "default options")
    figure_text = ("the evaluation's aggregated curve per method" if isinstance(metric, CurveMetric)
                   else "each image's value (dots) and the mean (bar) per method")
    evidence = {"mean": "the mean per image, with a paired Student-t interval against the baseline method",
                "hits": "a hit rate, with a Wilson interval and a McNemar test against the baseline method",
                "sanity": f"a sanity check against a randomised model, judged against the threshold "
                          f"{metric.threshold!r}"}[metric.evidence]
    return f"""# {metric.name}

{(inspect.getdoc(cls) or "").splitlines()[0]}

| reference | better | kind | ground truth | the report judges it as |
|---|---|---|---|---|
| {metric.reference} | {metric.direction or "neither"} | {metric.scores} | {metric.ground_truth or "none"} | \
{metric.evidence} |

{kind} The report's Findings read it as {evidence}.

## Use

```python
summary = xai_tf.evaluate(model, data, methods=["gradcam", "random"], metrics=["{metric.name}"],
                          out_dir="runs/eval")
```

```console
{console("evaluate", ["--model", "model.keras", "--data", "synthetic", "--methods", "gradcam,random",
                      "--metrics", metric.name, "--out", "runs/eval"])}
```

Columns it writes (one value per image, in `results.jsonl`; their means in `table.csv`):

| column | better | meaning |
|---|---|---|
{column_rows}

{"Options (`evaluate(options={...})`, or the flag on the command line):" + chr(10) + chr(10) + options
  if options else "It has no options."}

## Example

![{metric.name} on held-out synthetic radio galaxies](../examples/metrics/{metric.name}.png)

{figure_text.capitalize()}, on {settings["scored_images"]} held-out synthetic radio galaxies explained by
the quickstart's custom CNN v2 (`head="gap"`) trained at build time
({settings["image_size"]}x{settings["image_size"]} px, held-out accuracy {settings["accuracy"]:.2f}),
{changed}, `seed={settings["seed"]}`. {summary_kind}:

| method | {" | ".join(columns)} |
|---|{"---|" * len(columns)}
{means}

## Cost

{_milliseconds(example["seconds_per_image"])} per image and method on the machine that built this page
(`xai_tf.evaluate` with this metric alone, the three methods' explanations included:
`gradcam`, `vanilla_gradient` and `random` cost a few milliseconds).

## How it is checked

{_tests_section(checking_tests([metric.name, cls.__name__], tests, METRIC_TEST_FILES))}
## What it computes, and its reference

```{{eval-rst}}
.. autoclass:: {cls.__module__}.{cls.__qualname__}
   :no-index:
```
"""


def metric_pages(examples_found: dict, tests) -> None:
    """Write ``_generated/metrics/<name>.md`` for every registered metric and their index.

    Parameters
    ----------
    examples_found : dict
        :func:`examples.load_or_compute`'s result.
    tests : list of tuple
        :func:`_test_functions`.
    """
    from xai_tf.metrics.registry import DEFAULT_METRICS, METRICS

    folder = GENERATED / "metrics"
    settings = dict(examples_found["settings"], accuracy=examples_found["accuracy"])
    for name, metric in METRICS.items():
        _write(folder / f"{name}.md", _metric_page(metric, examples_found["metrics"][name], tests, settings))
    rows = "\n".join(
        f"| [{name}]({name}.md) | {metric.reference} | {metric.direction or 'neither'} | "
        f"{'yes' if name in DEFAULT_METRICS else ''} | "
        f"{_milliseconds(examples_found['metrics'][name]['seconds_per_image'])} |"
        for name, metric in METRICS.items())
    toctree = "\n".join(METRICS)
    _write(folder / "index.md", f"""# Metrics

Every metric `xai_tf.evaluate(..., metrics=[...])` and `xai-tf evaluate --metrics` know (the
registry `xai_tf.metrics.METRICS`). "Demo" marks the default set the demo scores. The cost is per image
and method, measured when these pages were built.

| metric | reference | better | demo | cost |
|---|---|---|---|---|
{rows}

```{{toctree}}
:hidden:

{toctree}
```
""")


# --------------------------------------------------------------------------------------------------
# API reference


def api_pages() -> None:
    """Write ``_generated/api/<page>.rst``: every public name (:mod:`xai_tf._public_api`) once."""
    from xai_tf._public_api import public_objects

    objects = public_objects()
    pages: dict[str, list[str]] = {page: [] for page in API_PAGES}
    for name, value in objects.items():
        owner = name.rsplit(".", 1)[0]
        if owner in objects:  # a method or property: documented with its class
            continue
        page = next((page for page, (prefix, _) in reversed(API_PAGES.items())
                     if name.startswith(prefix + ".") and (prefix != "xai_tf" or name.count(".") == 1)), None)
        if page is None:
            raise ValueError(f"public name {name} belongs to no API page; add its package to API_PAGES")
        if inspect.isclass(value):
            members = [member.rsplit(".", 1)[1] for member in objects if member.startswith(name + ".")]
            lines = [f".. autoclass:: {name}"] + ([f"   :members: {', '.join(members)}"] if members else [])
        else:
            lines = [f".. autofunction:: {name}"]
        pages[page].append("\n".join(lines))
    for page, (prefix, title) in API_PAGES.items():
        module_doc = "" if page == "top-level" else f".. automodule:: {prefix}\n   :no-members:\n\n"
        body = "\n\n".join(pages[page])
        _write(GENERATED / "api" / f"{page}.rst", f"{title}\n{'=' * len(title)}\n\n{module_doc}{body}\n")
    toctree = "\n".join(f"   {page}" for page in API_PAGES)
    _write(GENERATED / "api" / "index.rst", f"""API reference
=============

Every public name of xai-tf (``xai_tf._public_api``), one page per package.

.. toctree::
   :maxdepth: 1

{toctree}
""")


def quickstart_output(numbers: dict) -> str:
    """The quickstart's sentences about what its block printed, from :func:`examples.quickstart_numbers`.

    Parameters
    ----------
    numbers : dict
        ``examples.json``'s ``"quickstart"`` entry.

    Returns
    -------
    str
        Markdown: the printed line, the random baseline's, and a word on blank Grad-CAM maps.
    """
    def auc(value):
        return "nan" if value != value else f"{value:.3f}"

    blank = numbers["blank_gradcam"]
    blank_text = (
        f" {blank} of the {numbers['images']} Grad-CAM maps are all zero (the figure says so on those panels): "
        "Grad-CAM keeps only the positive part of its weighted channel sum, and for some images every "
        "location of the last convolution counts against the predicted class; other methods (Integrated "
        "Gradients, Score-CAM) still show them." if blank else " No Grad-CAM map is blank.")
    return (f"When this page was built, the block printed `SIC AUC {auc(numbers['sic_auc'])} over "
            f"{numbers['included']} of {numbers['images']} images`; it prints the same on every run (the "
            "builders and `fit` are seeded, `seed=0` by default). The random baseline below gave "
            f"{auc(numbers['random_auc'])} over {numbers['random_included']} images.{blank_text}\n")


def generate() -> None:
    """Write every generated page (examples and notebooks are recomputed only when out of date)."""
    found = examples.load_or_compute(GENERATED / "examples")
    tests = _test_functions()
    method_pages(found, tests)
    metric_pages(found, tests)
    _write(GENERATED / "quickstart_output.md", quickstart_output(found["quickstart"]))
    _write(GENERATED / "denoisers_table.md", denoiser_tables.denoisers_table())
    _write(GENERATED / "which_method_evidence.md", which_method.evidence(found))
    _write(GENERATED / "backbones_table.md", backbone_tables.backbones_table())
    _write(GENERATED / "sources_table.md", source_tables.sources_table())
    api_pages()
    execute_notebooks.render(GENERATED / "notebooks")
    for kind in ("methods", "metrics"):  # pages of names no longer registered
        for stale in (GENERATED / kind).glob("*.md"):
            if stale.stem not in found[kind] and stale.stem != "index":
                stale.unlink()
