"""Every command line and Python block of README.md and the user guide runs as written (issue 31, item 7).

The ```bash / ```console / ```sh / ```python blocks of each page are run in order, in a folder of the
page's own (so ``runs/custom``, ``runs/eval``, ... of one page never meet another page's), sharing one
namespace per page: ``xai-tf`` lines through ``xai_tf.cli.main`` in this process (a line ending in ``\\``
continues on the next; ``#`` starts a comment), Python blocks with ``exec``. A block that cannot run here
is in ``SKIPPED`` (page, block index, and for a command line the command's index), with its reason; every
other block must run, and a command must exit with status 0.

Sizes: the examples train on 600 images of 64 px for 6-10 epochs. The test rewrites only what
``SUBSTITUTIONS`` lists (40 images of 32 px, 1 epoch), the same way in every block, so that a page's
blocks stay consistent with each other (a model trained by one block fits the data of the next).

Context: every guide page starts with ``runs/custom``, the run folder of the README's first command
(``xai-tf train --data synthetic --model custom-v2 --epochs 10 --out runs/custom``, substituted), which the
guide's examples load; a page that continues from the quickstart (``explain.md`` uses its ``model``, ``test``
and ``images``) also starts from ``CONTEXT`` (those names at the test's sizes), and the reports page from a
report config ``experiment.yaml`` over that run (``FILES``).
"""
from __future__ import annotations

import os
import re
import shlex
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
#: The pages, in the order their blocks run (a page's blocks in the page's order).
PAGES = ("README.md", "docs/guide/quickstart.md", "docs/guide/models.md", "docs/guide/targets.md",
         "docs/guide/explain.md", "docs/guide/which_method.md", "docs/guide/transformers.md", "docs/guide/denoise.md",
         "docs/guide/evaluate.md",
         "docs/guide/data.md", "docs/guide/studies.md", "docs/guide/reports.md", "docs/guide/callbacks.md")
LANGUAGES = ("bash", "console", "sh", "shell", "python")
BLOCK = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```", re.S | re.M)

#: (pattern, replacement, why): the only rewriting of the blocks, applied to every block of every page.
SUBSTITUTIONS = (
    (r"synthetic_radio_galaxies\(600, image_size=64", "synthetic_radio_galaxies(40, image_size=32",
     "40 synthetic images of 32 px instead of 600 of 64"),
    (r"(build_custom_cnn\(|keras\.Input\()\(64, 64, 1\)", r"\1(32, 32, 1)",
     "the models for those images at 32 px"),
    (r"\bepochs=\d+", "epochs=1", "one training epoch"),
    (r"--epochs \d+", "--epochs 1", "one training epoch"),
    (r"(xai-tf train --data synthetic)(?!.*--n )", r"\1 --n 40 --image-size 32",
     "the synthetic training set of the command line at 40 images of 32 px (explain/evaluate regenerate "
     "a run's data from its config.json)"),
)

#: (page, block, command or None): why the block (or one command of a command block) does not run here.
SKIPPED = {
    ("README.md", 0, None): "make demo / make test: the whole pipeline and the test suite (tests/test_demo.py)",
    ("README.md", 2, None): "build_transfer without weights=None downloads ImageNet weights; user_sequential_model "
                            "is a placeholder for the reader's model",
    ("README.md", 3, 1): "needs the GAMA data set in /data/gama and ImageNet weights (a download)",
    ("README.md", 3, 3): "needs the MiraBest files in /data/mirabest (external data)",
    ("README.md", 3, 6): "needs shard folders runs/eval-1, runs/eval-2 (evaluate.md runs the same merge)",
    ("README.md", 3, 7): "needs a report config experiment.yaml (reports.md runs the same command)",
    ("docs/guide/quickstart.md", 0, None): "pip install from the package index (network)",
    ("docs/guide/quickstart.md", 1, None): "make demo / make test: the whole pipeline and the test suite",
    ("docs/guide/models.md", 1, None): "classifier.h5 is a placeholder for the reader's file",
    ("docs/guide/models.md", 2, None): "exported/ is a placeholder for the reader's SavedModel folder",
    ("docs/guide/models.md", 3, None): "nested_model is a placeholder for the reader's model with a nested backbone",
    ("docs/guide/models.md", 5, None): "downloads ImageNet weights (weights='imagenet')",
    ("docs/guide/models.md", 8, 1): "needs the GAMA data set in /data/gama and ImageNet weights (a download)",
    ("docs/guide/targets.md", 0, None): "redshift_model is a placeholder for the reader's regressor "
                                        "(notebook 05 runs Regression, tests/test_notebooks.py)",
    ("docs/guide/targets.md", 1, None): "unet and lesion_masks are placeholders for the reader's segmentation model "
                                        "(notebook 05 runs Segmentation)",
    ("docs/guide/targets.md", 2, None): "detector, boxes and class_ids are placeholders for the reader's detector",
    ("docs/guide/targets.md", 3, None): "a two-input model and its catalogue are placeholders for the reader's",
    ("docs/guide/targets.md", 4, None): "regressor is a placeholder for the reader's regression model",
    ("docs/guide/explain.md", 0, None): "the call's signature, not an example (method and params are placeholders)",
    ("docs/guide/explain.md", 8, None): "mine.keras, myfolder/ and mymasks/ are placeholders for the reader's files "
                                        "(tests/test_cli.py::test_own_folder_with_masks_on_the_command_line runs "
                                        "the same commands)",
    ("docs/guide/explain.md", 9, None): "the same placeholders in Python",
    ("docs/guide/evaluate.md", 3, None): "a SLURM array job script (needs a SLURM cluster)",
    ("docs/guide/evaluate.md", 7, None): "20 perturbed evaluations (max_sensitivity of smoothgrad): 104 s at "
                                         "8 images of 32 px on 2 cores, measured; tests/test_meta_evaluation.py runs "
                                         "meta_evaluate at small sizes",
    ("docs/guide/evaluate.md", 8, None): "needs make demo's run folder runs/demo (its run and output are on the page)",
    ("docs/guide/evaluate.md", 9, None): "a SLURM array job script (needs a SLURM cluster)",
    ("docs/guide/evaluate.md", 10, None): "needs three evaluations with different sensitivity_radius, which the "
                                         "page describes but does not show",
    ("docs/guide/evaluate.md", 11, None): "the same three evaluations as the block before",
    ("docs/guide/studies.md", 0, None): "a usage synopsis ([--out DIR] [--dask ...]) and a shipped study that "
                                        "trains the paper's models at full size (tests/test_study.py)",
    ("docs/guide/studies.md", 1, None): "study.yaml's models include a VGG16 and the reader's model file; dask= "
                                        "starts a Dask LocalCluster",
    ("docs/guide/studies.md", 4, None): "a SLURM cluster through dask_jobqueue",
    ("docs/guide/studies.md", 5, None): "a remote Dask scheduler over TLS with the reader's certificates",
    ("docs/guide/callbacks.md", 2, None): "starts the TensorBoard server (a long-running process)",
}

#: The README's first command: the run folder every guide page starts from.
README_TRAIN = "xai-tf train --data synthetic --model custom-v2 --epochs 10 --out runs/custom"
#: The names a page that continues from the quickstart assumes, at the test's sizes (run before its first block).
CONTEXT = """
import numpy as np
import xai_tf
from xai_tf import data, models

galaxies = data.synthetic_radio_galaxies(40, image_size=32, seed=0)
train, test = galaxies.split(0.2, seed=0)
model = models.load_model("runs/custom/model.keras")
images = test.images[:8]
"""
#: A report config over the page's folders, for the pages that build ``experiment.yaml`` (the reader's own).
REPORT_CONFIG = """
title: Doc blocks
data: {source: synthetic, n: 40, image_size: 32, seed: 0}
runs: [{name: custom, dir: runs/custom}]
"""
PRELUDES = {"docs/guide/models.md": CONTEXT, "docs/guide/explain.md": CONTEXT, "docs/guide/denoise.md": CONTEXT}
FILES = {"docs/guide/reports.md": {"experiment.yaml": REPORT_CONFIG}}


def _blocks(page: str) -> list[tuple[int, str, str]]:
    """``[(index, language, code)]`` of the page's fenced blocks (the index counts every fence)."""
    text = (ROOT / page).read_text()
    return [(index, match.group(1), match.group(2)) for index, match in enumerate(BLOCK.finditer(text))]


def _small(code: str) -> str:
    for pattern, replacement, _ in SUBSTITUTIONS:
        code = re.sub(pattern, replacement, code)
    return code


def _commands(code: str) -> list[str]:
    """The command lines of a shell block (``\\`` continues a line; blank and comment lines left out)."""
    joined = re.sub(r"\\\n\s*", " ", code)
    return [line.strip() for line in joined.splitlines() if line.strip() and not line.strip().startswith("#")]


CASES = [pytest.param(page, index, language, code, id=f"{page.split('/')[-1]}#{index}")
         for page in PAGES for index, language, code in _blocks(page) if language in LANGUAGES]


class _Pages:
    """Each page's folder and namespace, and how far its blocks have run."""

    def __init__(self, root: Path):
        self.root, self.state = root, {}
        assert README_TRAIN in (ROOT / "README.md").read_text()
        self.base = root / "base"
        self.trained = False

    def base_run(self) -> Path:
        """``runs/custom`` of the README's first command (substituted), trained once and copied to the pages.

        The README's own run when its block ran first (the same command), else trained here.
        """
        readme = self.state.get("README.md", {}).get("folder")
        if readme is not None and (readme / "runs" / "custom" / "model.keras").is_file():
            return readme / "runs" / "custom"
        if not self.trained:
            self.base.mkdir(parents=True, exist_ok=True)
            _run_command(README_TRAIN, self.base)
            self.trained = True
        return self.base / "runs" / "custom"

    def page(self, page: str) -> dict:
        if page not in self.state:
            folder = self.root / re.sub(r"\W", "_", page)
            folder.mkdir(parents=True)
            state = {"folder": folder, "namespace": {"__name__": f"doc_{folder.name}"}, "done": -1}
            self.state[page] = state
            if page != "README.md":  # the README trains runs/custom itself; the guide's pages start from it
                shutil.copytree(self.base_run(), folder / "runs" / "custom")
            for name, text in FILES.get(page, {}).items():
                (folder / name).write_text(text)
            if page in PRELUDES:
                _exec(PRELUDES[page], state["namespace"], folder, f"{page} (context)")
        return self.state[page]


def _exec(code: str, namespace: dict, folder: Path, name: str) -> None:
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        exec(compile(code, name, "exec"), namespace)  # noqa: S102 - the docs' own examples
    finally:
        os.chdir(cwd)


def _run_command(line: str, folder: Path) -> None:
    from xai_tf.cli import main

    words = shlex.split(_small(line), comments=True)
    assert words[0] == "xai-tf", f"not an xai-tf command and not in SKIPPED: {line!r}"
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        status = main(words[1:])
    except SystemExit as error:  # argparse's usage errors
        status = error.code
    finally:
        os.chdir(cwd)
    assert status == 0, f"{line!r} exited with status {status}"


def _run_block(pages: _Pages, page: str, index: int, language: str, code: str) -> None:
    state = pages.page(page)
    if language == "python":
        _exec(_small(code), state["namespace"], state["folder"], f"{page} block {index}")
        return
    for number, line in enumerate(_commands(code)):
        if (page, index, number) not in SKIPPED:
            _run_command(line, state["folder"])


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    return _Pages(tmp_path_factory.mktemp("doc_blocks"))


def test_every_guide_page_is_run():
    guide = {f"docs/guide/{path.name}" for path in (ROOT / "docs" / "guide").glob("*.md")} - {"docs/guide/index.md"}
    assert guide <= set(PAGES) and "README.md" in PAGES


def test_every_skipped_block_exists_and_says_why():
    blocks = {(page, index): (language, code) for page in PAGES for index, language, code in _blocks(page)}
    for (page, index, command), reason in SKIPPED.items():
        assert (page, index) in blocks and blocks[(page, index)][0] in LANGUAGES, (page, index)
        if command is not None:
            assert command < len(_commands(blocks[(page, index)][1])), (page, index, command)
        assert len(reason) > 20


@pytest.mark.parametrize("page, index, language, code", CASES)
def test_doc_block_runs(pages, page, index, language, code):
    if (page, index, None) in SKIPPED:
        pytest.skip(SKIPPED[(page, index, None)])
    state = pages.page(page)
    for earlier, earlier_language, earlier_code in _blocks(page):  # the page's blocks before it, once, in order
        if state["done"] < earlier < index and earlier_language in LANGUAGES and (page, earlier, None) not in SKIPPED:
            state["done"] = earlier
            _run_block(pages, page, earlier, earlier_language, earlier_code)
    state["done"] = index  # run once, even if it fails: the blocks after it then fail on their own
    _run_block(pages, page, index, language, code)
