"""The generated documentation pages read as sentences: no doubled words, no template leftovers.

Every method and metric page is generated from its record by ``docs/pages.py``; here they are
generated with stand-in example figures (the numbers are not what is checked) and their prose is
read: a doubled word ("It is it scores ..."), an unfilled ``{placeholder}`` or a Python ``None``
in a sentence fails. The tests that check SIC must not include HSIC's (a name inside another).
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
sys.path.insert(0, str(DOCS))
pages = pytest.importorskip("pages")

SETTINGS = {"image_size": 64, "train_images": 400, "epochs": 6, "seed": 0, "scored_methods": ["gradcam"],
            "scored_images": 8, "accuracy": 0.9,
            "vit": {"options": {"dim": 32}, "epochs": 15, "accuracy": 0.85,
                    "costs": {name: {"64": 0.01, "224": 0.1} for name in
                              ("attention_rollout", "transformer_attribution", "gradcam", "vanilla_gradient")}}}


def prose(markdown: str) -> str:
    """The page without its code blocks, inline code and directives: the sentences a reader reads."""
    text = re.sub(r"```.*?```", " ", markdown, flags=re.DOTALL)
    text = re.sub(r"^#.*$", " ", text, flags=re.MULTILINE)  # headings name the page: "# sic", then "SIC ..."
    return re.sub(r"`[^`]*`", " ", text)


def check_prose(name: str, markdown: str) -> None:
    text = prose(markdown)
    doubled = re.findall(r"\b(\w+)\s+\1\b", text, flags=re.IGNORECASE)
    assert not [word for word in doubled if not word.isdigit()], f"{name}: doubled words {doubled}"
    assert not re.search(r"\{[a-z_]+[^}]*\}", text), f"{name}: a template placeholder is left"
    assert "None" not in text.replace("none", ""), f"{name}: a Python None in the prose"


@pytest.fixture(scope="module")
def tests_index():
    return pages._test_functions()


def test_method_pages_read_as_sentences(tests_index):
    from xai_tf.explainers.registry import RECORDS

    baseline = {"seconds_per_image": 0.002}
    for name, record in RECORDS.items():
        model = "vit" if record.family == "attention" else "cnn"
        page = pages._method_page(record, {"seconds_per_image": 0.004, "model": model}, baseline, tests_index,
                                  SETTINGS)
        check_prose(name, page)
        assert ("Vision Transformer" in page) == (model == "vit")


def test_metric_pages_read_as_sentences(tests_index):
    from xai_tf.metrics.registry import METRICS

    for name, metric in METRICS.items():
        columns = [name]
        example = {"seconds_per_image": 0.01, "columns": columns, "options": {},
                   "means": {"gradcam": {name: 0.5}, "random": {name: 0.25}}}
        page = pages._metric_page(metric, example, tests_index, SETTINGS)
        check_prose(name, page)
    sic = pages._metric_page(METRICS["sic"], {"seconds_per_image": 0.01, "columns": ["sic"], "options": {},
                                              "means": {"gradcam": {"sic": 0.5}}}, tests_index, SETTINGS)
    assert "Means:" not in sic  # SIC's summary is the AUC of the median curve, not a mean


def test_tests_are_matched_by_whole_names(tests_index):
    checks, _ = pages.checking_tests(["sic"], tests_index, pages.METRIC_TEST_FILES)
    assert checks and not [entry for entry in checks if "hsic" in entry.split("::")[1]]
    titled = [("test_x.py", "test_hsic_matches", ""), ("test_x.py", "test_sic_curve", ""),
              ("test_x.py", "test_aic_and_sic", "")]
    assert pages.checking_tests(["sic"], titled, ("test_x",))[0] == ["tests/test_x.py::test_sic_curve",
                                                                     "tests/test_x.py::test_aic_and_sic"]


def test_paper_mentions_link_to_the_papers_page_outside_code():
    text = "As in paper 002 and Papers 004.\n`paper 001` stays\n```python\n# paper 003\n```\npaper 000's grid"
    linked = pages.link_paper_mentions(text)
    assert linked.split("\n") == ["As in {doc}`paper 002 </papers>` and {doc}`Papers 004 </papers>`.",
                                  "`paper 001` stays", "```python", "# paper 003", "```",
                                  "{doc}`paper 000 </papers>`'s grid"]
    rst = pages.link_paper_mentions("the ``paper 002`` layer of paper 002", markdown=False)
    assert rst == "the ``paper 002`` layer of :doc:`paper 002 </papers>`"


def test_the_quickstart_prints_the_same_numbers_on_every_run():
    examples = pytest.importorskip("examples")
    first = examples.quickstart_numbers(n=60, image_size=32, epochs=1)
    again = examples.quickstart_numbers(n=60, image_size=32, epochs=1)
    assert first == again or (first.keys() == again.keys() and all(
        first[key] == again[key] or (first[key] != first[key] and again[key] != again[key]) for key in first))
    text = pages.quickstart_output(first)
    assert f"over {first['included']} of 8 images" in text
    assert ("maps are all zero" in text) == (first["blank_gradcam"] > 0)
