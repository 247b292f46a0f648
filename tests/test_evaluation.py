"""The evaluation runner: SIGKILL + resume equals an uninterrupted run, shards merge to one run, bad folders."""
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import tiny_cnn

from xai_tf import data as xai_data
from xai_tf.cli.evaluate import cli_main
from xai_tf.evaluation import evaluate, merge

METHODS = "gradcam,random"
METRICS = "sic,aic,max_sensitivity,xai_entropy,pointing_game,randomization"
CLI_OPTIONS = ["--data", "synthetic", "--n", "12", "--image-size", "32", "--methods", METHODS, "--metrics", METRICS,
               "--chunk-size", "2", "--pic-entropy", "shannon", "--pic-thresholds", "0.05,0.2,0.5",
               "--pic-min-pred", "0", "--sensitivity-samples", "3", "--verbose", "0"]
OPTIONS = {"pic_entropy": "shannon", "pic_thresholds": [0.05, 0.2, 0.5], "pic_min_pred_value": 0.0,
           "sensitivity_samples": 3}


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("evaluation")
    model = tiny_cnn(input_shape=(32, 32, 1), num_classes=2)
    model.save(root / "model.keras")
    data = xai_data.load("synthetic", n=12, image_size=32, seed=0)
    reference = root / "reference"
    summary = evaluate(model, data, METHODS, METRICS, reference, chunk_size=2, options=OPTIONS, verbose=0)
    assert summary["computed"] == 12 and summary["complete"]
    return root, model, data, reference


KILL_AT = 3
KILL_AFTER_UNITS = """
import os, signal, sys
from xai_tf.cli.evaluate import cli_main
from xai_tf.evaluation.store import Store
written = []
def write_unit(self, unit, rows, arrays):
    if len(written) == {n}:
        self.write_arrays(unit.chunk, unit.method, arrays)
        os.kill(os.getpid(), signal.SIGKILL)
    written.append(unit)
    self.write_arrays(unit.chunk, unit.method, arrays)
    self.append(rows)
Store.write_unit = write_unit
sys.exit(cli_main(sys.argv[1:]))
"""


def _rows(folder):
    return [json.loads(line) for line in (Path(folder) / "results.jsonl").read_text().splitlines()]


def _sorted(rows):
    return sorted(rows, key=lambda row: (row["image"], row["method"]))


def test_sigkill_then_resume_equals_uninterrupted_run(setup):
    root, _, _, _ = setup
    # ``python -m xai_tf.cli.evaluate`` is ``xai-tf evaluate`` (xai_tf.cli forwards to the same cli_main)
    command = [sys.executable, "-m", "xai_tf.cli.evaluate", "--model", str(root / "model.keras"), *CLI_OPTIONS]
    uninterrupted, killed = root / "uninterrupted", root / "killed"
    assert cli_main(command[3:] + ["--out", str(uninterrupted)]) == 0  # the same CLI, in this process

    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    # Deterministic interruption (no clock): the child's Store.write_unit is wrapped so that the
    # process SIGKILLs itself in the middle of its (KILL_AT + 1)-th unit, after that unit's arrays
    # and before its rows: KILL_AT units are finished, one has orphan arrays that resuming redoes.
    child = command[:1] + ["-c", KILL_AFTER_UNITS.format(n=KILL_AT)] + command[3:]
    process = subprocess.run(child + ["--out", str(killed)], env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, timeout=300, check=False)
    assert process.returncode == -signal.SIGKILL, "the run finished before it could be killed"
    results = killed / "results.jsonl"
    complete_lines = [json.loads(line) for line in results.read_bytes().splitlines() if line.endswith(b"}")]
    assert len(complete_lines) == 2 * KILL_AT  # chunk_size 2: two rows per finished unit
    units = {}
    for row in complete_lines:
        units.setdefault((row["chunk"], row["method"]), []).append(row["image"])
    finished = sum(len(images) == 2 for images in units.values())
    assert finished == KILL_AT
    assert (killed / ".lock").exists()  # a stale lock from the killed process: must not block the restart

    resumed = subprocess.run(command + ["--out", str(killed)], env=env, capture_output=True, text=True, check=False)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    # only the unfinished (chunk, method) units were computed again
    assert f"{12 - finished} units computed, {finished} already done" in resumed.stdout
    rows = _rows(killed)
    assert len(rows) == 24 and len({(r["image"], r["method"]) for r in rows}) == 24  # no duplicates
    assert _sorted(rows) == _sorted(_rows(uninterrupted))
    assert json.loads((killed / "summary.json").read_text())["table"] == \
        json.loads((uninterrupted / "summary.json").read_text())["table"]


def test_shards_merge_to_the_unsharded_run(setup, tmp_path):
    _, model, data, reference = setup
    for k in (1, 2, 3):
        summary = evaluate(model, data, METHODS, METRICS, tmp_path / f"shard{k}", shard=f"{k}/3", chunk_size=2,
                           options=OPTIONS, verbose=0)
        assert summary["complete"] and summary["images"] == 4  # chunks k-1 and k+2: 2 x 2 images
    assert cli_main(["merge", *(str(tmp_path / f"shard{k}") for k in (1, 2, 3)), "--out", str(tmp_path / "m")]) == 0
    merged = json.loads((tmp_path / "m" / "summary.json").read_text())
    unsharded = json.loads((reference / "summary.json").read_text())
    assert merged["table"] == unsharded["table"] and merged["pic"] == unsharded["pic"] and merged["complete"]
    assert merged["curves"] == unsharded["curves"] and set(merged["curves"]) == {"sic", "aic"}
    assert _sorted(_rows(tmp_path / "m")) == _sorted(_rows(reference))
    assert (tmp_path / "m" / "table.csv").read_text() == (reference / "table.csv").read_text()
    assert (tmp_path / "m" / "curve_sic.png").exists() and (tmp_path / "m" / "curve_aic.png").exists()


def test_resume_recomputes_nothing_and_repairs_bad_files(setup, tmp_path):
    _, model, data, reference = setup
    folder = tmp_path / "run"
    evaluate(model, data, METHODS, METRICS, folder, chunk_size=2, options=OPTIONS, verbose=0)
    arrays = sorted((folder / "arrays").glob("*.npz"))
    stamps = {path: path.stat().st_mtime_ns for path in arrays}
    again = evaluate(model, data, METHODS, METRICS, folder, chunk_size=2, options=OPTIONS, verbose=0)
    assert again["computed"] == 0 and again["skipped"] == 12
    assert all(path.stat().st_mtime_ns == stamps[path] for path in arrays)

    # A truncated last line and a corrupt npz: reported, those units redone, the rest untouched.
    text = (folder / "results.jsonl").read_bytes()
    (folder / "results.jsonl").write_bytes(text[:-40])
    corrupt = folder / "arrays" / "chunk000001_gradcam.npz"
    corrupt.write_bytes(b"not a zip file")
    repaired = evaluate(model, data, METHODS, METRICS, folder, chunk_size=2, options=OPTIONS, verbose=0)
    assert repaired["computed"] == 2
    assert any("truncated" in message for message in repaired["reported"])
    assert any("chunk000001_gradcam.npz is corrupt" in message for message in repaired["reported"])
    assert _sorted(_rows(folder)) == _sorted(_rows(reference))
    untouched = [path for path in arrays if path.name not in ("chunk000001_gradcam.npz", "chunk000005_random.npz")]
    assert all(path.stat().st_mtime_ns == stamps[path] for path in untouched)


def test_refusals(setup, tmp_path):
    _, model, data, reference = setup
    folder = tmp_path / "run"
    evaluate(model, data, "random", "xai_entropy", folder, chunk_size=6, verbose=0)
    with pytest.raises(ValueError, match=r"different configuration \(metrics: .*; seed: 0 there vs 1 now"):
        evaluate(model, data, "random", "xai_entropy,pointing_game", folder, chunk_size=6, seed=1, verbose=0)
    with pytest.raises(ValueError, match="shard: None there vs '1/2' now"):
        evaluate(model, data, "random", "xai_entropy", folder, shard="1/2", chunk_size=6, verbose=0)
    # another live process holds the folder (its pid is our parent's: alive, not us)
    (folder / ".lock").write_text(json.dumps({"pid": os.getppid(), "host": os.uname().nodename, "shard": "2/2"}))
    assert cli_main(["--model", "unused.keras"]) == 2  # argparse usage error is an exit code, not an exception
    with pytest.raises(ValueError, match="another evaluation"):
        evaluate(model, data, "random", "xai_entropy", folder, chunk_size=6, verbose=0)
    (folder / ".lock").unlink()
    with pytest.raises(ValueError, match="max_sensitivity, xai_entropy"):
        evaluate(model, data, "random", "sharpness", tmp_path / "x", verbose=0)
    bare = xai_data.LabelledImages(images=data.images, labels=data.labels, class_names=data.class_names)
    with pytest.raises(ValueError, match="pointing_game.*masks nor boxes"):
        evaluate(model, bare, "random", "pointing_game", tmp_path / "y", verbose=0)
    with pytest.raises(ValueError, match="only shards of one run"):
        merge([reference, folder], tmp_path / "z")
    np.testing.assert_array_equal(model.input_shape[1:], (32, 32, 1))


def test_summary_mean_std_and_count_equal_an_independent_computation(setup):
    """Every column summarised by the default rule: the mean, the population standard deviation
    (``statistics.pstdev``, ddof 0) and the count of the finite per-image values in results.jsonl."""
    import math
    import statistics

    _, _, _, reference = setup
    summary = json.loads((reference / "summary.json").read_text())
    rows = _rows(reference)
    checked = 0
    for method, entry in summary["table"].items():
        for column in summary["metrics"]:
            if f"{column}_std" not in entry:  # AIC/SIC: the AUC of the aggregated curve (test_pic)
                continue
            values = [row[column] for row in rows if row["method"] == method and row.get(column) is not None
                      and math.isfinite(row[column])]
            assert entry[f"{column}_n"] == len(values), (method, column)
            if values:
                assert entry[column] == pytest.approx(statistics.fmean(values), rel=1e-12, abs=1e-15)
                assert entry[f"{column}_std"] == pytest.approx(statistics.pstdev(values), rel=1e-9, abs=1e-15)
                checked += 1
    assert checked >= 6
