"""The command line answers at once: help without TensorFlow, TensorFlow's start-up lines and Keras'
progress bars kept out of the output, ``--limit`` per class, a curve figure with no image says so.

What is checked is the import graph and the output, never the time.
"""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from xai_tf.cli import startup
from xai_tf.runs import per_class

HELP_COMMANDS = [[], ["--help"], ["train", "--help"], ["explain", "--help"], ["data", "--help"], ["data", "list"],
                 ["demo", "--help"], ["study", "--help"], ["compare", "--help"], ["report", "--help"]]

PROBE = """
import json, sys
import xai_tf.cli
outputs = []
for argv in json.loads(sys.argv[1]):
    import contextlib, io
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        try:
            status = xai_tf.cli.main(argv)
        except SystemExit as exit_:
            status = exit_.code
    outputs.append([status, buffer.getvalue()])
print(json.dumps({"outputs": outputs, "loaded": sorted(m for m in ("tensorflow", "keras") if m in sys.modules)}))
"""


def run_python(code: str, *args: str, tmp_path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=tmp_path,
                          timeout=300)


def test_help_and_data_list_never_import_tensorflow_or_keras(tmp_path):
    done = run_python(PROBE, json.dumps(HELP_COMMANDS), tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["loaded"] == []
    statuses = [status for status, _ in result["outputs"]]
    assert statuses == [2] + [0] * (len(HELP_COMMANDS) - 1)  # bare `xai-tf`: the usage, as a usage error
    texts = dict(zip(map(" ".join, HELP_COMMANDS), (text for _, text in result["outputs"])))
    assert "--tf-log" in texts["--help"] and "meta-evaluate" in texts["--help"]
    assert "mirabest" in texts["data list"]
    # the method listing read without TensorFlow is the registry's own
    from xai_tf.explainers import describe_methods

    assert " ".join(describe_methods().split()) in " ".join(texts["explain --help"].split())
    assert done.stderr.startswith("usage: xai-tf") and done.stderr.count("\n") <= 4  # bare `xai-tf` only


def test_tensorflow_starts_quietly_and_keras_bars_are_off_when_not_a_terminal(tmp_path):
    code = ("from xai_tf.cli import startup; startup.prepare([]); startup.start_tensorflow(False)\n"
            "import keras, numpy as np\n"
            "model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])\n"
            "model.predict(np.zeros((64, 2)), batch_size=8, verbose=1)\n"
            "print('end')")
    done = run_python(code, tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()  # one plain line as verbose=2 writes it, no bar, no escape code
    assert "\x1b" not in done.stdout and "\b" not in done.stdout and "\r" not in done.stdout
    assert len(lines) == 2 and lines[0].startswith("8/8 - ") and lines[1] == "end"
    for start_up in ("absl::InitializeLog", "oneDNN", "cuInit", "cuda drivers"):
        assert start_up not in done.stderr


def test_tf_log_is_taken_off_the_line_and_lets_the_log_through(monkeypatch):
    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)
    argv, loud = startup.prepare(["--tf-log", "explain", "--help"])
    assert argv == ["explain", "--help"] and loud
    import os

    assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == "1"
    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL")
    argv, loud = startup.prepare(["explain", "--help"])
    assert not loud and os.environ["TF_CPP_MIN_LOG_LEVEL"] == "3"


def test_limit_takes_an_even_number_per_class_seeded():
    labels = np.array([0] * 10 + [1] * 10 + [2] * 2)
    chosen = per_class(labels, 8, seed=0)
    assert np.bincount(labels[chosen]).tolist() == [3, 3, 2] and np.all(np.diff(chosen) > 0)
    fewer = per_class(labels, 12, seed=0)  # class 2 has 2: the others fill up
    assert np.bincount(labels[fewer]).tolist() == [5, 5, 2]
    assert per_class(labels, 40, seed=0).tolist() == list(range(22))
    np.testing.assert_array_equal(chosen, per_class(labels, 8, seed=0))
    assert any(not np.array_equal(chosen, per_class(labels, 8, seed=s)) for s in (1, 2, 3))


@pytest.mark.parametrize("all_excluded", [True, False])
def test_a_curve_figure_with_no_image_included_says_so(all_excluded):
    from xai_tf.viz import plot_curves

    x = np.linspace(0, 1, 5)
    first = np.full(5, np.nan) if all_excluded else x
    figure = plot_curves({"gradcam": (x, first, float("nan")), "random": (x, np.full(5, np.nan), None)},
                         xlabel="x", ylabel="y", title="Aggregated sic (12 images)")
    axes = figure.axes[0]
    texts = [text.get_text() for text in axes.texts]
    if all_excluded:
        assert texts == ["no image included"] and axes.get_title().endswith("no image included")
        assert len(axes.get_xticks()) == len(axes.get_yticks()) == 0  # no scale of an empty plot
    else:
        assert texts == [] and axes.get_title() == "Aggregated sic (12 images)"


def test_evaluate_help_reads_the_metric_catalogue_without_tensorflow(tmp_path, monkeypatch):
    # the first --help reads the registry (TensorFlow) and writes the catalogue; the next ones need neither
    monkeypatch.setenv("XAI_TF_CACHE", str(tmp_path / "cache"))
    commands = [["evaluate", "--help"], ["meta-evaluate", "--help"]]
    first = run_python(PROBE, json.dumps(commands), tmp_path=tmp_path)
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["loaded"] == ["keras", "tensorflow"]
    assert len(list((tmp_path / "cache").glob("metric-catalogue-*.json"))) == 1
    done = run_python(PROBE, json.dumps(commands), tmp_path=tmp_path)
    result = json.loads(done.stdout)
    assert result["loaded"] == [] and [status for status, _ in result["outputs"]] == [0, 0]
    assert result["outputs"] == json.loads(first.stdout)["outputs"]  # the same text as from the registry
    from xai_tf.metrics.registry import METRICS, all_options

    evaluate_help = " ".join(result["outputs"][0][1].split())
    assert all(option.cli_flag in evaluate_help for option in all_options().values())
    assert ",".join(METRICS) in evaluate_help.replace(", ", ",").replace(" ", "")


def test_the_metric_catalogue_is_the_live_registry_and_follows_its_sources(tmp_path, monkeypatch):
    from xai_tf.cli import catalogue

    monkeypatch.setenv("XAI_TF_CACHE", str(tmp_path))
    live = catalogue.live_catalogue()
    assert catalogue.catalogue() == live  # the registry is loaded here: read live, and written
    written = tmp_path / f"metric-catalogue-{catalogue.source_key()}.json"
    assert json.loads(written.read_text()) == live
    # an edited metric source gives another key, so a stale catalogue is never read
    monkeypatch.setattr(catalogue, "SOURCES", ("metrics", "evaluation/meta.py", "cli/evaluate.py"))
    assert catalogue.source_key() != written.stem.rsplit("-", 1)[1]
    assert live["meta"]["perturbations"] >= 1 and len(live["meta"]["model_noise"]) == 2
