"""The documentation reads offline: formulas are rendered by a MathJax copied into the site.

A small Sphinx project with the documentation's own extensions (read from ``docs/conf.py``) is
built; its page must load MathJax from the site itself (no CDN), and the file must be there. Where
Chromium is installed, the page is also opened with the network disabled and the formula must come
out rendered.
"""
from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("sphinx")
DOCS = Path(__file__).resolve().parents[1] / "docs"


def docs_extensions() -> list[str]:
    tree = ast.parse((DOCS / "conf.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "extensions" for t in node.targets):
            return ast.literal_eval(node.value)
    raise AssertionError("docs/conf.py sets no extensions")


@pytest.fixture(scope="module")
def built_page(tmp_path_factory):
    source = tmp_path_factory.mktemp("docs_source")
    extensions = [name for name in docs_extensions() if name not in ("numpydoc", "myst_nb")]
    (source / "conf.py").write_text(f"extensions = {extensions!r}\n")
    (source / "index.rst").write_text("Formula\n=======\n\n.. math::\n\n   \\mathrm{SIC} = \\int_0^1 s(t)\\,dt\n")
    out = tmp_path_factory.mktemp("docs_html")
    subprocess.run([sys.executable, "-m", "sphinx", "-W", "-q", "-b", "html", str(source), str(out)], check=True)
    return out / "index.html"


def test_formulas_load_a_local_mathjax(built_page):
    html = built_page.read_text()
    scripts = re.findall(r'<script[^>]*src="([^"]+)"', html)
    mathjax = [src for src in scripts if "mathjax" in src.lower()]
    assert mathjax, "the page loads no MathJax"
    assert all(not src.startswith(("http:", "https:", "//")) for src in scripts), scripts
    for src in mathjax:
        assert (built_page.parent / src.split("?")[0]).is_file(), src
    assert "\\mathrm{SIC}" in html  # the TeX is in the page, for MathJax to typeset


def _chromium() -> str | None:
    return next((path for name in ("chromium", "chromium-browser", "google-chrome", "headless_shell")
                 if (path := shutil.which(name))), None)


@pytest.mark.skipif(_chromium() is None, reason="no Chromium installed: the rendered-math check needs a "
                                                "headless browser (apt-get install chromium)")
def test_formulas_render_with_the_network_off(built_page):
    # --proxy-server to a closed port: any request to the network fails, local files still load
    result = subprocess.run([_chromium(), "--headless", "--no-sandbox", "--proxy-server=127.0.0.1:9",
                             "--virtual-time-budget=10000", "--dump-dom", built_page.as_uri()],
                            capture_output=True, text=True, timeout=120)
    assert "mjx-container" in result.stdout  # MathJax replaced the TeX with its rendered output
