"""Studies (xai_tf.study): one config, resumable cells, in-process and on a Dask LocalCluster.

The tiny study: 2 models (custom v1/v2, 1 epoch) x 3 methods x 2 denoisers on the 16 held-out
images of 80 synthetic 32x32 radio galaxies, chunks of 8 (2 chunks per cell).
"""
from __future__ import annotations

import copy
import json
import os
import re
import shutil
import signal
import threading
from pathlib import Path

import numpy as np
import pytest

from xai_tf import study
from xai_tf.evaluation.shards import parse_shard

CONFIG = {
    "name": "tiny",
    "data": {"source": "synthetic", "n": 80, "image_size": 32, "seed": 0},
    "models": [{"name": "v1", "model": "custom-v1", "epochs": 1}, {"name": "v2", "model": "custom-v2", "epochs": 1}],
    "methods": ["random", "vanilla_gradient", {"integrated_gradients": {"steps": 4}}],
    "denoisers": ["none", {"gaussian": {"sigma": 1.0}}],
    "metrics": ["sic", "pointing_game"],
    "chunk_size": 8, "report": False,
}
TIMEOUT = 900  # seconds any one study may take on the shared 2-core machine before the test fails


def bounded(function, timeout=TIMEOUT):
    """``function()`` in a thread; the test fails (instead of hanging) when it runs past ``timeout``."""
    outcome = {}

    def target():
        try:
            outcome["value"] = function()
        except BaseException as error:  # noqa: BLE001 (re-raised in the test's thread)
            outcome["error"] = error

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        pytest.fail(f"the study did not finish within {timeout} s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def cell_results(out) -> dict:
    """``{cell folder name: (sorted result lines, {array file: {name: array}} without timings)}``."""
    results = {}
    for folder in sorted((Path(out) / "cells").iterdir()):
        lines = (folder / "results.jsonl").read_text().splitlines()
        arrays = {}
        for path in sorted((folder / "arrays").glob("*.npz")):
            with np.load(path) as stored:
                arrays[path.name] = {key: stored[key] for key in stored.files if key != "seconds"}
        results[folder.name] = (sorted(lines), arrays)
    return results


def assert_same_results(first, second):
    assert sorted(first) == sorted(second)
    for name in first:
        assert first[name][0] == second[name][0], name
        assert sorted(first[name][1]) == sorted(second[name][1]), name
        for file, arrays in first[name][1].items():
            for key, value in arrays.items():
                np.testing.assert_array_equal(value, second[name][1][file][key], err_msg=f"{name}/{file}/{key}")


def assert_complete(out):
    """Every cell holds one row per held-out image (16), none missing, none twice."""
    cells = sorted((Path(out) / "cells").iterdir())
    assert len(cells) == 2 * 3 * 2
    for folder in cells:
        rows = [json.loads(line) for line in (folder / "results.jsonl").read_text().splitlines()]
        assert sorted(row["image"] for row in rows) == list(range(16)), folder.name
        assert len(list((folder / "arrays").glob("*.npz"))) == 2


@pytest.fixture(scope="module")
def in_process(tmp_path_factory):
    out = tmp_path_factory.mktemp("study") / "in-process"
    result = bounded(lambda: study.run(CONFIG, out=out, verbose=0))
    return out, result


@pytest.fixture(scope="module")
def client():
    distributed = pytest.importorskip("distributed", reason="dask[distributed] is not installed")
    cluster = distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, host="127.0.0.1",
                                       dashboard_address=None)
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


def test_in_process_study_writes_every_cell_and_the_tables(in_process):
    out, result = in_process
    assert_complete(out)
    assert result["computed"] == {"train": 2, "units": 2 * 3 * 2}  # one unit per model x method x chunk
    table = json.loads((out / "table.json").read_text())
    assert [(r["model"], r["method"], r["denoiser"]) for r in table] == [
        (m, method, d) for m in ("v1", "v2") for method in ("random", "vanilla_gradient", "integrated_gradients")
        for d in ("none", "gaussian")]
    assert all(r["images"] == 16 and r["complete"] and r["seconds"] > 0 for r in table)
    # the combined table is the cells' own summaries
    for row, cell in zip(table, result["cells"]):
        summary = json.loads((Path(cell["folder"]) / "summary.json").read_text())
        assert row["pointing_game"] == summary["table"][row["method"]]["pointing_game"]
    models = json.loads((out / "models.json").read_text())
    for entry in models:
        report = json.loads((out / "models" / entry["model"] / "report.json").read_text())
        assert entry["accuracy"] == report["accuracy"] and entry["f1_macro"] == report["macro avg"]["f1-score"]


def test_denoised_cells_score_the_denoised_maps(in_process):
    from scipy import ndimage

    _, result = in_process
    cells = {(c["model"], c["method"], c["denoiser"]): Path(c["folder"]) for c in result["cells"]}
    for chunk in ("chunk000000_vanilla_gradient.npz", "chunk000001_vanilla_gradient.npz"):
        with np.load(cells["v1", "vanilla_gradient", "none"] / "arrays" / chunk) as raw, \
                np.load(cells["v1", "vanilla_gradient", "gaussian"] / "arrays" / chunk) as smooth:
            expected = np.stack([ndimage.gaussian_filter(m, sigma=1.0, truncate=4.0, mode="reflect")
                                 for m in raw["maps"]])
            np.testing.assert_allclose(smooth["maps"], expected, rtol=1e-5, atol=1e-7)
            np.testing.assert_array_equal(raw["indices"], smooth["indices"])


def test_rerun_computes_nothing(in_process, tmp_path):
    out, _ = in_process
    copy_ = tmp_path / "rerun"
    shutil.copytree(out, copy_)
    before = cell_results(copy_)
    result = bounded(lambda: study.run(CONFIG, out=copy_, verbose=0))
    assert result["computed"] == {"train": 0, "units": 0}
    assert result["skipped"] == {"train": 2, "cell_chunks": 2 * 3 * 2 * 2}
    assert_same_results(before, cell_results(copy_))


def test_changing_one_methods_parameters_recomputes_only_its_cells(in_process, tmp_path):
    out, first = in_process
    copy_ = tmp_path / "changed"
    shutil.copytree(out, copy_)
    config = copy.deepcopy(CONFIG)
    config["methods"][2] = {"integrated_gradients": {"steps": 8}}
    result = bounded(lambda: study.run(config, out=copy_, verbose=0))
    assert result["computed"] == {"train": 0, "units": 2 * 2}  # 2 models x 2 chunks of integrated_gradients
    old = {(c["model"], c["method"], c["denoiser"]): c["hash"] for c in first["cells"]}
    for cell in result["cells"]:
        key = (cell["model"], cell["method"], cell["denoiser"])
        if cell["method"] == "integrated_gradients":
            assert cell["hash"] != old[key] and cell["computed"] == 2
        else:
            assert cell["hash"] == old[key] and cell["computed"] == 0


def test_dask_local_cluster_gives_identical_results(in_process, client, tmp_path):
    out, _ = in_process
    result = bounded(lambda: study.run(CONFIG, out=tmp_path / "dask", dask=client, verbose=0))
    assert result["computed"] == {"train": 2, "units": 12}
    assert_complete(tmp_path / "dask")
    assert_same_results(cell_results(out), cell_results(tmp_path / "dask"))
    assert json.loads((out / "models.json").read_text())[0]["accuracy"] == result["models"][0]["accuracy"]


def test_a_killed_worker_loses_and_duplicates_nothing(in_process, client, tmp_path):
    out, _ = in_process
    target = tmp_path / "killed"
    shutil.copytree(out / "models", target / "models")  # scoring only: the kill lands among score tasks
    pids = list(client.run(os.getpid).values())
    killed = []

    def kill_one(kind, key):
        if kind == "score" and not killed:
            os.kill(pids[0], signal.SIGKILL)
            killed.append(pids[0])

    result = bounded(lambda: study.run(CONFIG, out=target, dask=client, verbose=0, on_result=kill_one))
    assert killed and result["computed"]["units"] == 12
    assert_complete(target)
    assert_same_results(cell_results(out), cell_results(target))


def test_bad_configs_are_refused_before_any_work(tmp_path):
    for change, message in (
            ({"methods": ["no_such_method"]}, "methods[0]"),
            ({"methods": [{"integrated_gradients": {"stepz": 4}}]}, "stepz"),
            ({"denoisers": [{"gaussian": {"sigmaa": 1}}]}, "sigmaa"),
            ({"metrics": ["max_sensitivity"]}, "re-run the method"),
            ({"colour": "rgb"}, "colour"),
            ({"models": [{"name": "v1", "model": "custom-v1", "n": 10}]}, "data"),
            ({"methods": ["random", {"name": "random", "method": "vanilla_gradient"}]}, "unique")):
        with pytest.raises((ValueError, TypeError), match=re.escape(message)):
            study.run({**CONFIG, **change}, out=tmp_path / "bad", verbose=0)
    assert not (tmp_path / "bad").exists()
    with pytest.raises(ValueError, match="local:N"):
        study.run(CONFIG, out=tmp_path / "bad", dask="local:0", verbose=0)


def test_shipped_study_is_valid():
    assert "paper004-synthetic" in study.shipped_studies()
    config = study.check_config(study.read_config("paper004-synthetic"))
    assert len(config["models"]) >= 3 and "random" in [m["method"] for m in config["methods"]]
    assert len(config["methods"]) >= 6 and [d["denoiser"] for d in config["denoisers"]] == ["none", "gaussian"]
    assert {"sic", "aic", "deletion", "insertion", "pointing_game"} <= set(config["metrics"])
    assert all(m["train"]["weights"] == "none" for m in config["models"])


def test_parse_shard_auto_reads_the_slurm_array(monkeypatch):
    for name in ("SLURM_ARRAY_TASK_MIN", "SLURM_ARRAY_TASK_STEP"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SLURM_ARRAY_TASK_COUNT", "4")
    monkeypatch.setenv("SLURM_ARRAY_TASK_ID", "0")
    assert parse_shard("auto") == (1, 4)  # --array=0-3, MIN unset: 0-based
    monkeypatch.setenv("SLURM_ARRAY_TASK_MIN", "1")
    monkeypatch.setenv("SLURM_ARRAY_TASK_ID", "4")
    assert parse_shard("auto") == (4, 4)  # --array=1-4
    monkeypatch.setenv("SLURM_ARRAY_TASK_MIN", "0")
    monkeypatch.setenv("SLURM_ARRAY_TASK_STEP", "4")
    monkeypatch.setenv("SLURM_ARRAY_TASK_ID", "8")
    assert parse_shard("auto") == (3, 4)  # --array=0-12:4 -> 0, 4, 8, 12
    monkeypatch.setenv("SLURM_ARRAY_TASK_ID", "16")
    with pytest.raises(ValueError, match="1 <= k <= n"):
        parse_shard("auto")
    monkeypatch.delenv("SLURM_ARRAY_TASK_ID")
    with pytest.raises(ValueError, match="SLURM_ARRAY_TASK_ID"):
        parse_shard("auto")


def test_cli_study_needs_a_name_or_a_config(capsys):
    from xai_tf.cli import main

    assert main(["study"]) == 2
    assert "paper004-synthetic" in capsys.readouterr().err
    assert main(["study", "paper004-synthetic", "--config", "x.yaml"]) == 2
    assert main(["study", "no-such-study"]) == 2
    assert "neither a file nor a shipped study" in capsys.readouterr().err


def test_the_study_report_holds_the_cells(in_process, tmp_path):
    import re as regex

    from xai_tf.report import build
    from xai_tf.report.evaluation_sections import format_value

    out, _ = in_process
    html = build({"study": str(out)}, out=tmp_path / "report.html").read_text()
    assert "<h2>Study: models x methods x denoisers</h2>" in html
    table = json.loads((out / "table.json").read_text())
    cells = json.loads((out / "study.json").read_text())["cells"]
    # the denoiser effect is the table's difference of the same cell with and without the denoiser
    with_, without = ({(r["model"], r["method"]): r for r in table if r["denoiser"] == denoiser}
                      for denoiser in ("gaussian", "none"))
    cells_of = [with_[("v1", "vanilla_gradient")], without[("v1", "vanilla_gradient")]]
    scored = [m for m in ("sic", "pointing_game") if any(row.get(m) is not None for row in table)]  # as the report
    effects = [format_value(None if a.get(m) is None or b.get(m) is None else a[m] - b[m])
               for a, b in [cells_of] for m in scored]
    assert "<td>v1</td><td>vanilla_gradient</td><td>gaussian</td>" + "".join(f"<td>{e}</td>" for e in effects) in html
    # the Difference of Means is |mean hits of v1 - mean hits of v2| over the cells' per-image rows
    hits = {}
    for cell in cells:
        if cell["denoiser"] == "none" and cell["method"] == "random":
            rows = (Path(cell["folder"]) / "results.jsonl").read_text().splitlines()
            hits[cell["model"]] = np.mean([json.loads(line)["pointing_game"] for line in rows])
    dom = abs(hits["v1"] - hits["v2"])
    assert regex.search(rf"<td>random</td>\s*<td>{dom:.3f}</td>", html)
    # one figure per model and curve column, its caption the column's note and direction
    assert html.count("aggregated SIC AUC (higher = better) of every method.</figcaption>") == 2
