"""The evaluation runner: SIGKILL + resume equals an uninterrupted run, shards merge to one run, bad folders."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import tiny_cnn

from xai_tf import data as xai_data
from xai_tf.evaluation import cli_main, evaluate, merge

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


def _rows(folder):
    return [json.loads(line) for line in (Path(folder) / "results.jsonl").read_text().splitlines()]


def _sorted(rows):
    return sorted(rows, key=lambda row: (row["image"], row["method"]))


def test_sigkill_then_resume_equals_uninterrupted_run(setup):
    root, _, _, _ = setup
    # ``python -m xai_tf.evaluation`` is ``xai-tf evaluate`` (xai_tf.cli forwards to the same cli_main)
    command = [sys.executable, "-m", "xai_tf.evaluation", "--model", str(root / "model.keras"), *CLI_OPTIONS]
    uninterrupted, killed = root / "uninterrupted", root / "killed"
    assert cli_main(command[3:] + ["--out", str(uninterrupted)]) == 0  # the same CLI, in this process

    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    process = subprocess.Popen(command + ["--out", str(killed)], env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    results = killed / "results.jsonl"
    deadline = time.time() + 120
    while time.time() < deadline and process.poll() is None:
        if results.exists() and len(results.read_bytes().splitlines()) >= 4:
            break
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL, "the run finished before it could be killed"
    rows_at_kill = len(results.read_bytes().splitlines())
    assert 4 <= rows_at_kill < 24
    complete_lines = [json.loads(line) for line in results.read_bytes().splitlines() if line.endswith(b"}")]
    units = {}
    for row in complete_lines:
        units.setdefault((row["chunk"], row["method"]), []).append(row["image"])
    finished = sum(len(images) == 2 for images in units.values())  # chunk_size 2: a finished unit has 2 rows
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
