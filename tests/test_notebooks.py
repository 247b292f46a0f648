"""Execute the six notebooks top to bottom with nbclient, in small settings.

Each notebook has one cell tagged ``parameters`` (papermill's convention) holding its sizes; the test
replaces that cell's source with tiny settings, runs the notebook in a temporary folder on the
``python3`` kernel of the interpreter running pytest, and checks what the notebook computed: the JSON
summary its last cell prints (and, for the callbacks notebook, the files it wrote).
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
TIMEOUT = 300  # seconds per cell: a hung kernel fails the test instead of the suite

SMALL = {
    "01_quickstart": """
N_IMAGES = 160
IMAGE_SIZE = 32
EPOCHS = 4
BATCH_SIZE = 16
N_EXPLAIN = 6
METHODS = ["vanilla_gradient", "gradcam", "random"]
DENOISER = "tv"
PIC_THRESHOLDS = [0.05, 0.2, 0.5]
ENTROPY = "webp"
MIN_PRED_VALUE = 0.0
SEED = 0
""",
    "02_transfer_and_finetune": """
BACKBONE = "vgg16"
WEIGHTS = None
IMAGE_SIZE = 32
N_IMAGES = 40
HEAD = "flatten"
DENSE_UNITS = 16
HEAD_EPOCHS = 1
FINE_TUNE_EPOCHS = 1
NESTED_EPOCHS = 0
BATCH_SIZE = 16
N_EXPLAIN = 3
CAM_LAYER = "block5_conv3"
SEED = 0
""",
    "03_quantitative_evaluation": """
N_IMAGES = 160
IMAGE_SIZE = 32
EPOCHS = 3
BATCH_SIZE = 16
N_EVAL = 4
METHODS = ["vanilla_gradient", "gradcam", "random"]
PIC_THRESHOLDS = [0.05, 0.2, 0.5]
ENTROPY = "webp"
MIN_PRED_VALUE = 0.0
SENSITIVITY_RADIUS = 0.02
SENSITIVITY_SAMPLES = 2
TOLERANCE = 4
RANDOMIZATION_MODES = ["full"]
SECOND_VARIANT = "v1"
RUN_EVALUATE = True
OUT_DIR = "runs/nb03"
SEED = 0
""",
    "04_training_callbacks": """
N_IMAGES = 96
IMAGE_SIZE = 32
EPOCHS = 2
BATCH_SIZE = 16
N_PROBES = 4
SALIENCY_METHODS = ["gradcam"]
PIC_METHODS = ["gradcam", "random"]
PIC_KINDS = ["sic"]
PIC_THRESHOLDS = [0.05, 0.2, 0.5]
ENTROPY = "webp"
MIN_PRED_VALUE = 0.0
EVERY_N_EPOCHS = 1
LOG_DIR = "runs/nb04/tb"
OUT_DIR = "runs/nb04/grids"
SEED = 0
""",
    "05_regression_and_segmentation": """
N_IMAGES = 120
IMAGE_SIZE = 32
EPOCHS = 3
BATCH_SIZE = 16
N_EXPLAIN = 2
N_EVAL = 4
METHODS = ["gradcam", "integrated_gradients", "random"]
SEED = 0
""",
    "06_vision_transformers": """
N_IMAGES = 80
IMAGE_SIZE = 32
CNN_EPOCHS = 1
VIT_EPOCHS = 1
VIT_OPTIONS = {"dim": 16, "depth": 2, "heads": 2, "mlp_dim": 32}
N_EXPLAIN = 2
N_EVAL = 4
SEED = 0
""",
}


def _kernel_environment() -> dict:
    """Settings for the kernel: the venv's ``python3`` kernelspec is found through ``JUPYTER_PATH``
    (jupyter_client then starts it with ``sys.executable``, the interpreter running pytest), and
    TensorFlow's C++ logging is quieted."""
    jupyter_path = [str(Path(sys.prefix) / "share" / "jupyter"), os.environ.get("JUPYTER_PATH", "")]
    return {"JUPYTER_PATH": os.pathsep.join(filter(None, jupyter_path)), "TF_CPP_MIN_LOG_LEVEL": "2"}


def _execute(nb, tmp_path: Path, monkeypatch) -> None:
    for key, value in _kernel_environment().items():
        monkeypatch.setenv(key, value)
    client = nbclient.NotebookClient(nb, timeout=TIMEOUT, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()


def _stdout(cell) -> str:
    return "".join(out.get("text", "") for out in cell.outputs
                   if out.output_type == "stream" and out.get("name") == "stdout")


def parameter_cell(nb):
    cells = [cell for cell in nb.cells if "parameters" in cell.metadata.get("tags", [])]
    assert len(cells) == 1, "each notebook needs exactly one cell tagged 'parameters'"
    return cells[0]


def run_notebook(name: str, tmp_path: Path, monkeypatch):
    """Execute ``notebooks/{name}.ipynb`` with the SMALL parameters; returns the executed notebook and
    the JSON summary its last code cell prints."""
    path = NOTEBOOKS / f"{name}.ipynb"
    nb = nbformat.read(path, as_version=4)
    cell = parameter_cell(nb)
    defaults = {line.split("=")[0].strip() for line in cell.source.splitlines() if "=" in line}
    small = {line.split("=")[0].strip() for line in SMALL[name].splitlines() if "=" in line}
    assert small == defaults, f"the test's settings must cover the parameters cell exactly: {defaults ^ small}"
    cell.source = SMALL[name].strip()
    _execute(nb, tmp_path, monkeypatch)
    last = [c for c in nb.cells if c.cell_type == "code"][-1]
    return nb, json.loads(_stdout(last))


def png_outputs(nb) -> int:
    """Number of figures the executed notebook shows inline."""
    return sum("image/png" in out.get("data", {}) for cell in nb.cells if cell.cell_type == "code"
               for out in cell.outputs)


def test_kernel_runs_this_interpreter_in_the_temporary_folder(tmp_path, monkeypatch):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import os, sys, xai_tf; print(sys.executable); print(os.getcwd())")])
    _execute(nb, tmp_path, monkeypatch)
    executable, cwd = _stdout(nb.cells[0]).splitlines()
    assert Path(executable).resolve() == Path(sys.executable).resolve()
    assert Path(cwd).resolve() == tmp_path.resolve()


def test_notebooks_have_parameters_and_no_outputs():
    for name in SMALL:
        nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
        nbformat.validate(nb)
        parameter_cell(nb)
        assert all(not cell.get("outputs") for cell in nb.cells if cell.cell_type == "code"), \
            f"{name} is committed with outputs; clear them"
        assert nb.cells[0].cell_type == "markdown"


def test_quickstart(tmp_path, monkeypatch):
    nb, summary = run_notebook("01_quickstart", tmp_path, monkeypatch)
    assert summary["map_shape"] == [6, 32, 32]
    assert set(summary["sic_auc"]) == set(summary["sic_auc_denoised"]) == {"vanilla_gradient", "gradcam", "random"}
    # an AUC is None only where PIC excluded every image (a barely trained model may be unsure)
    aucs = [v for v in summary["sic_auc"].values()] + list(summary["sic_auc_denoised"].values())
    assert all(v is None or 0.0 <= v <= 1.0 for v in aucs)
    assert 0.0 <= summary["test_accuracy"] <= 1.0
    # samples, training curves, two method grids and the SIC figure were drawn inline
    assert png_outputs(nb) == 5


def test_transfer_and_finetune(tmp_path, monkeypatch):
    nb, summary = run_notebook("02_transfer_and_finetune", tmp_path, monkeypatch)
    trainable, frozen = summary["trainable"], summary["frozen"]
    # the same network in both modes; fine-tuning unfreezes VGG16's block5 (3 convs of 3x3x512x512 + bias)
    assert trainable["feature_extraction"] + frozen["feature_extraction"] == \
        trainable["fine_tune"] + frozen["fine_tune"]
    assert trainable["fine_tune"] - trainable["feature_extraction"] == 3 * (3 * 3 * 512 * 512 + 512)
    assert summary["phases"] == [1, 2]
    assert summary["transfer_map_shape"] == [3, 32, 32]
    assert summary["nested_same_predictions"] and summary["nested_shares_weights"]
    # Grad-CAM through the nested backbone equals Grad-CAM on the flattened twin (and is not all zero)
    assert summary["nested_gradcam_peak"] > 0
    assert summary["nested_gradcam_max_difference"] <= 1e-5 * summary["nested_gradcam_peak"]
    assert png_outputs(nb) == 3  # training curves and two method grids


def test_quantitative_evaluation(tmp_path, monkeypatch):
    nb, summary = run_notebook("03_quantitative_evaluation", tmp_path, monkeypatch)
    methods = ["vanilla_gradient", "gradcam", "random"]
    for kind in ("sic_auc", "aic_auc"):
        assert set(summary[kind]) == set(methods)
        assert all(v is None or 0.0 <= v <= 1.0 for v in summary[kind].values())
    for method in methods:
        assert len(summary["max_sensitivity"][method]) == 4
        assert all(v is None or v >= 0 for v in summary["max_sensitivity"][method])
        assert all(v > 0 for v in summary["xai_entropy_kb"][method])
    assert set(summary["randomization"]) == {"vanilla_gradient/full", "gradcam/full"}
    # None where the randomised model's maps were constant (rank correlation undefined)
    assert all(v is None or -1.0 <= v <= 1.0 for v in summary["randomization"].values())
    assert all(0.0 <= v <= 1.0 for v in summary["difference_of_means"].values())

    # the resumable runner agrees with the metrics called one by one, and resumes without recomputing
    runner = summary["evaluate"]
    assert runner["complete"] and runner["computed"] > 0
    assert runner["resumed_computed"] == 0 and runner["resumed_skipped"] == runner["computed"]
    for method in ("vanilla_gradient", "gradcam"):  # deterministic: the runner's per-chunk seeds change `random`
        row = runner["table"][method]
        assert row["pointing_game"] == pytest.approx(summary["pointing_accuracy"][method])
        sizes = summary["xai_entropy_kb"][method]
        assert row["xai_entropy"] == pytest.approx(sum(sizes) / len(sizes))
    assert (tmp_path / "runs" / "nb03" / "results.jsonl").is_file()
    assert png_outputs(nb) == 5  # SIC, AIC, Max-Sensitivity, Pointing Game, the runner's SIC figure


def test_training_callbacks(tmp_path, monkeypatch):
    nb, summary = run_notebook("04_training_callbacks", tmp_path, monkeypatch)
    # one PNG grid per epoch, and the notebook read them from disk
    assert summary["grids"] == ["epoch_001.png", "epoch_002.png"]
    for name in summary["grids"]:
        assert (tmp_path / "runs" / "nb04" / "grids" / name).stat().st_size > 0
    # the AUCs reached History (one per epoch) and CSVLogger
    keys = {"sic_auc_gradcam", "sic_auc_random"}
    assert set(summary["history_auc"]) == keys
    assert all(len(values) == 2 for values in summary["history_auc"].values())
    assert keys <= set(summary["csv_header"])
    # TensorBoard events: one tag per method, steps = 0-based epochs, scalars equal to the history
    assert summary["event_steps"] == {"saliency/gradcam": [0, 1], "pic/sic/gradcam": [0, 1],
                                      "pic/sic/random": [0, 1]}
    for method in ("gradcam", "random"):
        logged = summary["event_scalars"][f"pic/sic/{method}"]
        expected = summary["history_auc"][f"sic_auc_{method}"]
        assert [None if v is None else pytest.approx(v, rel=1e-6) for v in expected] == logged
    assert png_outputs(nb) == 3  # first and last grid, AUC and accuracy curves


def test_regression_and_segmentation(tmp_path, monkeypatch):
    nb, summary = run_notebook("05_regression_and_segmentation", tmp_path, monkeypatch)
    assert summary["regression_map_shape"] == summary["segmentation_map_shape"] == [2, 32, 32]
    assert summary["ig_completeness_error"] < 0.05  # IG's completeness, on a regressor
    assert -1.0 <= summary["regression_correlation"] <= 1.0 and 0.0 <= summary["segmentation_iou"] <= 1.0
    for table in summary["tables"].values():
        assert set(table) == {"integrated_gradients", "random"}
        assert all(np.isfinite(value) for row in table.values() for value in row.values())
    assert (tmp_path / "runs/nb05/regression/table.csv").exists()
    assert (tmp_path / "runs/nb05/segmentation/table.csv").exists()
    assert png_outputs(nb) == 2  # the regression and the segmentation grids


def test_vision_transformers(tmp_path, monkeypatch):
    nb, summary = run_notebook("06_vision_transformers", tmp_path, monkeypatch)
    assert summary["vit_map_shapes"] == {method: [2, 32, 32] for method in
                                         ("attention_rollout", "transformer_attribution", "gradcam",
                                          "integrated_gradients")}
    assert summary["rollout_min"] >= 0.0  # rollout is a product of row-stochastic matrices
    assert set(summary["pointing_game"]["vit"]) == {"attention_rollout", "transformer_attribution", "gradcam",
                                                    "integrated_gradients", "random"}
    assert set(summary["pointing_game"]["cnn"]) == {"gradcam", "integrated_gradients", "random"}
    rates = [rate for table in summary["pointing_game"].values() for rate in table.values()]
    assert all(rate in (0.0, 0.25, 0.5, 0.75, 1.0) for rate in rates)  # hits over 4 images
    assert all(-1.0 <= value <= 1.0 for value in summary["randomization_full"].values())
    assert png_outputs(nb) == 2  # the ViT's and the CNN's grids
