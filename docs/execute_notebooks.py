"""Execute the notebooks at build time so that the site shows their figures and printed results.

Each notebook has one cell tagged ``parameters`` (papermill's convention). ``render`` replaces the
values named in ``DOCS_PARAMETERS`` (smaller than the notebooks' own defaults, so that the whole
documentation builds in minutes on two CPU cores; the page says which values were used), runs the
notebook top to bottom with nbclient in a temporary folder, and writes the executed copy to
``docs/_generated/notebooks``. A copy is re-executed only when the package's code, the notebook or
this file change (:func:`fingerprint`). The notebooks in ``notebooks/`` stay
without outputs.
"""
from __future__ import annotations

import os
import re
import sys
import tempfile
import time
from pathlib import Path

import examples

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
TIMEOUT = 900  # seconds per cell: a hung kernel fails the build instead of hanging it
#: Values replaced in each notebook's parameters cell for the site (the rest keep their defaults).
DOCS_PARAMETERS = {
    "01_quickstart": {"N_IMAGES": "400", "EPOCHS": "6"},
    "02_transfer_and_finetune": {"N_IMAGES": "200", "DENSE_UNITS": "64", "HEAD_EPOCHS": "2",
                                 "FINE_TUNE_EPOCHS": "1", "NESTED_EPOCHS": "1", "N_EXPLAIN": "4"},
    "03_quantitative_evaluation": {"EPOCHS": "6", "N_EVAL": "8", "SENSITIVITY_SAMPLES": "5"},
    "04_training_callbacks": {"EPOCHS": "4", "N_PROBES": "4"},
    "05_regression_and_segmentation": {"N_IMAGES": "400", "EPOCHS": "8", "N_EVAL": "8"},
    "06_vision_transformers": {"N_EVAL": "24"},
}


def fingerprint(notebook: Path) -> str:
    """What an executed copy depends on: the package's code, the notebook and this file.

    Parameters
    ----------
    notebook : pathlib.Path
        The notebook in ``notebooks/``.

    Returns
    -------
    str
        16 hexadecimal digits (:func:`examples.fingerprint` of the notebook and this file).
    """
    return examples.fingerprint(notebook, Path(__file__))


def with_parameters(source: str, values: dict[str, str]) -> str:
    """The parameters cell ``source`` with the ``values`` of the names it assigns replaced.

    Parameters
    ----------
    source : str
        The cell's source, one ``NAME = value  # comment`` per line.
    values : dict of str to str
        Python expressions by name.

    Returns
    -------
    str
        The new source; comments are kept.

    Raises
    ------
    ValueError
        If a name of ``values`` is not assigned in the cell.
    """
    missing = set(values) - set(re.findall(r"^(\w+)\s*=", source, flags=re.MULTILINE))
    if missing:
        raise ValueError(f"the parameters cell assigns no {sorted(missing)}")

    def replace(match: re.Match) -> str:
        name = match.group(1)
        if name not in values:
            return match.group(0)
        comment = match.group(3) or ""
        return f"{name} = {values[name]}" + (f"  {comment}" if comment else "")

    return re.sub(r"^(\w+)\s*=\s*([^#\n]*?)\s*(#.*)?$", replace, source, flags=re.MULTILINE)


def _execute(path: Path, values: dict[str, str]):
    import nbclient
    import nbformat

    nb = nbformat.read(path, as_version=4)
    cells = [cell for cell in nb.cells if "parameters" in cell.metadata.get("tags", [])]
    if len(cells) != 1:
        raise ValueError(f"{path.name}: needs exactly one cell tagged 'parameters'; found {len(cells)}")
    cells[0].source = with_parameters(cells[0].source, values)
    changed = ", ".join(f"`{name} = {value}`" for name, value in values.items())
    note = nbformat.v4.new_markdown_cell(
        f"*Rendered when the documentation was built, with {changed} in the parameters cell (smaller than "
        f"the notebook's defaults, to build quickly on two CPU cores). Run `notebooks/{path.name}` for the "
        f"full settings.*")
    nb.cells.insert(1, note)  # under the notebook's title
    environment = {"JUPYTER_PATH": os.pathsep.join(filter(None, [str(Path(sys.prefix) / "share" / "jupyter"),
                                                                 os.environ.get("JUPYTER_PATH", "")])),
                   "TF_CPP_MIN_LOG_LEVEL": "2"}
    saved = {key: os.environ.get(key) for key in environment}
    os.environ.update(environment)
    try:
        with tempfile.TemporaryDirectory() as work:
            nbclient.NotebookClient(nb, timeout=TIMEOUT, kernel_name="python3",
                                    resources={"metadata": {"path": work}}).execute()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return nb


def render(folder: Path) -> list[Path]:
    """Execute every notebook into ``folder`` (skipping copies that are up to date).

    Parameters
    ----------
    folder : pathlib.Path
        Where the executed copies go (``docs/_generated/notebooks``).

    Returns
    -------
    list of pathlib.Path
        The executed notebooks, in name order.
    """
    import nbformat

    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        current = fingerprint(path)
        target = folder / path.name
        if target.exists() and nbformat.read(target, as_version=4).metadata.get("xai_tf_docs") == current:
            written.append(target)
            continue
        start = time.perf_counter()
        nb = _execute(path, DOCS_PARAMETERS.get(path.stem, {}))
        nb.metadata["xai_tf_docs"] = current
        nbformat.write(nb, target)
        print(f"[docs] executed {path.name} ({time.perf_counter() - start:.0f} s)", flush=True)
        written.append(target)
    return written
