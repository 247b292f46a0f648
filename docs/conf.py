"""Sphinx configuration of xai-tf's documentation (``make docs``: strict, any warning fails).

Why Sphinx + numpydoc + the PyData theme + MyST-NB: numpydoc is both the renderer of the docstrings
and the validator ``tests/test_docstrings.py`` runs, so the reference and its test read the same
sections; ``sphinx-build -W`` is the established strict build; the PyData theme is the one NumPy,
SciPy and scikit-image users know; MyST-NB renders the executed notebooks and lets the guide be
Markdown. The method, metric, API and notebook pages are generated when the build starts
(``pages.generate``, into ``_generated/``).
"""
from __future__ import annotations

import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS))

import pages  # noqa: E402  (after the path change above)

import xai_tf  # noqa: E402

project = "xai-tf"
author = "the xai-tf developers"
copyright = "2026, the xai-tf developers (Apache-2.0)"
release = version = xai_tf.__version__

# sphinx-mathjax-offline copies MathJax 3 into the site (_static/mathjax) and points mathjax_path at
# it: formulas render without the internet (tests/test_docs_offline.py)
extensions = ["sphinx.ext.autodoc", "sphinx.ext.mathjax", "sphinx-mathjax-offline", "numpydoc", "myst_nb"]
# quickstart_output.md is included into the quickstart page, not a page of its own (and denoisers_table.md into
# the denoise page, backbones_table.md into the models page)
exclude_patterns = ["_build", "**/.ipynb_checkpoints", "_generated/examples/**", "_generated/quickstart_output.md",
                    "_generated/which_method_evidence.md", "_generated/denoisers_table.md",
                    "_generated/backbones_table.md"]

# docstrings: numpydoc renders the sections; members are listed explicitly by the API pages
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
autodoc_typehints = "none"  # the docstrings give the types, with shapes
autodoc_member_order = "bysource"
# every cross-reference must resolve (types in the Parameters sections are plain text, not links)
nitpicky = True

# Markdown and notebooks: the notebooks are executed by pages.generate, not by MyST-NB
myst_enable_extensions = ["dollarmath", "colon_fence"]
myst_heading_anchors = 3
nb_execution_mode = "off"
nb_output_stderr = "remove"  # TensorFlow's start-up logging on the kernel's stderr, not the notebook's output

html_theme = "pydata_sphinx_theme"
html_title = f"xai-tf {version}"
html_theme_options = {"navigation_depth": 2, "show_toc_level": 2}
html_show_sourcelink = False


def _generate(app) -> None:
    pages.generate()


def _link_papers_in_page(app, docname, source) -> None:
    # every "paper 00N" in a Markdown page links to the Papers page (notebooks and that page aside)
    if docname != "papers" and str(app.env.doc2path(docname)).endswith(".md"):
        source[0] = pages.link_paper_mentions(source[0])


def _link_papers_in_docstring(app, what, name, obj, options, lines) -> None:
    lines[:] = pages.link_paper_mentions("\n".join(lines), markdown=False).split("\n")


def setup(app):
    app.connect("builder-inited", _generate)
    app.connect("source-read", _link_papers_in_page)
    app.connect("autodoc-process-docstring", _link_papers_in_docstring)
