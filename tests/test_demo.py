"""The demo pipeline at tiny settings: every stage writes its outputs, the report has every section,
and a second run resumes without retraining or re-explaining."""
from __future__ import annotations

import json
import re

import numpy as np
import pytest

import xai_tf
from xai_tf.demo import run
from xai_tf.report.builder import SECTIONS

TINY = {"n": 40, "image_size": 32, "epochs": 1, "seed": 0, "probe_per_class": 1, "eval_images": 2,
        "eval_methods": ("gradcam", "random"), "verbose": 1}


def test_demo_writes_every_stage_and_the_report_then_resumes(tmp_path, capsys):
    out = tmp_path / "demo"
    path = run(out, **TINY)
    printed = capsys.readouterr().out
    assert path == out / "report.html" and path.is_file()
    assert f"report: {path.resolve()}" in printed
    for stage in ("1/4 train", "2/4 explain", "3/4 evaluate", "4/4 report"):
        assert stage in printed

    # Training as `xai-tf train --no-augment` writes it.
    arguments = json.loads((out / "train" / "config.json").read_text())["arguments"]
    assert arguments["no_augment"] is True and arguments["model"] == "custom-v2" and arguments["epochs"] == 1
    assert {"loss", "val_accuracy"} <= set(json.loads((out / "train" / "history.json").read_text()))

    # Every registered method cheap enough for the grid explained one held-out FRI and one FRII image.
    with np.load(out / "explain" / "maps.npz") as maps:
        assert sorted(maps.files) == sorted(xai_tf.list_methods(in_demo_grid=True))
        assert all(maps[m].shape == (2, 32, 32) and np.isfinite(maps[m]).all() for m in maps.files)
    with np.load(out / "explain" / "images.npz") as images:
        assert images["labels"].tolist() == [0, 1] and images["masks"].shape == (2, 32, 32)

    # The evaluation holds the random baseline and the demo's metrics.
    summary = json.loads((out / "evaluation" / "summary.json").read_text())
    assert summary["complete"] and summary["methods"] == ["gradcam", "random"] and summary["images"] == 2
    assert {"sic", "aic", "deletion", "insertion", "max_sensitivity", "xai_entropy", "pointing_game"} \
        <= set(summary["metrics"])
    assert {"sic", "aic", "deletion", "insertion"} == set(summary["curves"])

    html = path.read_text()
    assert re.findall(r"<h2>(.*?)</h2>", html) == ["Findings"] + [title for _, title in SECTIONS]
    # every section had what it needs but the meta-evaluation, a run of its own (xai-tf meta-evaluate)
    assert re.findall(r'<section id="(\w+)">\s*<h2>[^<]*</h2>\s*<p class="note">Skipped', html) == ["meta"]
    # the methods too costly for the probe grid are named in the report, with the reason
    left_out = sorted(set(xai_tf.list_methods()) - set(xai_tf.list_methods(in_demo_grid=True)))
    from html import escape

    from xai_tf.explainers.registry import RECORDS

    assert left_out and all(f"{name} ({escape(RECORDS[name].description)}, too costly for the demo" in html
                            for name in left_out if RECORDS[name].family != "attention")
    assert all(f"{name} ({escape(RECORDS[name].description)}, not for this kind of model)" in html
               for name in left_out if RECORDS[name].family == "attention")  # transformers only
    assert html.count('<img src="data:image/png;base64,') >= 10

    # Run again: nothing recomputed (model file untouched, no method explained again).
    model_time = (out / "train" / "model.keras").stat().st_mtime_ns
    run(out, **TINY)
    printed = capsys.readouterr().out
    assert "training skipped" in printed and "explaining" not in printed
    assert (out / "train" / "model.keras").stat().st_mtime_ns == model_time


def test_demo_rejects_bad_settings(tmp_path):
    with pytest.raises(ValueError, match="eval_methods has unknown methods \\['gradcam2'\\]"):
        run(tmp_path, eval_methods=("gradcam2",), verbose=0)
    with pytest.raises(ValueError, match="epochs"):
        run(tmp_path, epochs=0, verbose=0)
