"""Can the metric be trusted (xai_tf.evaluation.meta) and how rankings move with a metric option (parameterisation).

Oracles: the criteria of Hedström et al. (TMLR 2023, equations 5-9) written out here with SciPy's
Wilcoxon test and explicit loops; exact Wilcoxon p-values by hand (n = 6, one sign: 2 / 2^6);
Kendall's tau counted pair by pair and SciPy's kendalltau/spearmanr. On a tiny linear classifier,
whose exact class evidence is ``x * w_c``, a metric equal to that oracle gets a high MC and one that
ignores the model (values drawn from the weights' and images' bytes) a low one.
"""
from __future__ import annotations

import csv
import json
import zlib
from pathlib import Path

import keras
import numpy as np
import pytest
from scipy import stats

from xai_tf.data import LabelledImages
from xai_tf.evaluation import EvaluationError, meta_consistency, meta_evaluate, parameterisation
from xai_tf.metrics import MapsMetric, register
from xai_tf.metrics.registry import unregister

METHODS = "vanilla_gradient,input_x_gradient,occlusion"


# ------------------------------------------------------------------------------------ the criteria
def criteria_by_hand(unperturbed, minor, disruptive):
    """Equations 5-9 of the paper, written out (higher = better)."""
    k, n, methods = minor.shape
    iac_nr = np.mean([stats.wilcoxon(unperturbed[:, m], minor[i, :, m]).pvalue
                      for i in range(k) for m in range(methods)])
    iac_ar = np.mean([1 - stats.wilcoxon(unperturbed[:, m], disruptive[i, :, m]).pvalue
                      for i in range(len(disruptive)) for m in range(methods)])
    minor_mean, disruptive_mean = minor.mean(0), disruptive.mean(0)
    same, lower = [], []
    for image in range(n):
        before = stats.rankdata(-unperturbed[image])  # rank 1 = the highest score
        after = stats.rankdata(-minor_mean[image])
        for m in range(methods):
            same.append(before[m] == after[m])
            lower.append(disruptive_mean[image, m] < unperturbed[image, m])
    values = [iac_nr, iac_ar, np.mean(same), np.mean(lower)]
    return dict(zip(["iac_nr", "iac_ar", "iec_nr", "iec_ar"], values), mc=np.mean(values))


def fixed_scores():
    rng = np.random.default_rng(7)
    unperturbed = rng.normal(size=(8, 3)) + np.array([2.0, 1.0, 0.0])
    minor = unperturbed + rng.normal(scale=0.3, size=(3, 8, 3))
    disruptive = unperturbed - 1.0 + rng.normal(scale=0.8, size=(3, 8, 3))
    return unperturbed, minor, disruptive


def test_criteria_equal_the_papers_equations_written_out():
    unperturbed, minor, disruptive = fixed_scores()
    result = meta_consistency(unperturbed, minor, disruptive)
    expected = criteria_by_hand(unperturbed, minor, disruptive)
    for name, value in expected.items():
        assert result[name] == pytest.approx(value, abs=1e-12), name
    assert result["images"] == 8 and np.shape(result["p_minor"]) == (3, 3)
    # "lower = better" negates every score first
    lower = meta_consistency(-unperturbed, -minor, -disruptive, direction="lower")
    for name in expected:
        assert lower[name] == pytest.approx(result[name], abs=1e-12)


def test_criteria_on_arrays_small_enough_to_count():
    unperturbed = np.array([[3.0, 2.0], [1.0, 4.0], [2.0, 2.5], [5.0, 1.0], [0.5, 0.6], [2.0, 0.0]])
    # minor: both scores of image i up by 0.01 * (i + 1) -> ranks kept (IEC_NR = 1); the 6 differences all have
    # one sign, so the exact two-sided Wilcoxon p is 2 / 2^6 for each method and perturbation (IAC_NR = 0.03125)
    shift = 0.01 * np.arange(1, 7)[:, None]
    minor = np.stack([unperturbed + shift, unperturbed + 2 * shift])
    # disruptive: nothing moves for the first method; the second drops on 4 images out of 6 by -1..-4
    # and rises on two by 0.5 (image 4) and 1.5 (image 5)
    drop = np.array([-1.0, -2.0, -3.0, -4.0, 0.5, 1.5])
    second = unperturbed[:, 1] + drop
    disruptive = np.stack([np.stack([unperturbed[:, 0], second], axis=1)] * 2)
    result = meta_consistency(unperturbed, minor, disruptive)
    assert result["iac_nr"] == pytest.approx(2 / 2 ** 6)
    assert result["iec_nr"] == 1.0
    # method 1: all differences zero -> p = 1 (1 - p = 0); method 2: |d| ranks 1..6 of 0.5, 1, 1.5, 2, 3, 4 are
    # d=0.5 -> 1, 1 -> 2, 1.5 -> 3, 2 -> 4, 3 -> 5, 4 -> 6; R- (the unperturbed minus the disrupted is negative
    # for images 4 and 5) = 1 + 3 = 4 -> exact two-sided p = 2 * #{subsets of 1..6 with sum <= 4} / 64 = 2 * 7 / 64
    p_second = 2 * 7 / 64
    assert result["p_disruptive"][0] == pytest.approx([1.0, p_second])
    assert result["iac_ar"] == pytest.approx(((1 - 1.0) + (1 - p_second)) / 2)
    # IEC_AR: the first method never drops (0 of 6), the second drops on 4 of 6 -> 4 / 12
    assert result["iec_ar"] == pytest.approx(4 / 12)
    assert result["mc"] == pytest.approx(np.mean([2 / 64, (1 - p_second) / 2, 1.0, 4 / 12]))


def test_criteria_refuse_bad_shapes_and_directions():
    unperturbed, minor, disruptive = fixed_scores()
    with pytest.raises(ValueError, match="direction"):
        meta_consistency(unperturbed, minor, disruptive, direction="up")
    with pytest.raises(ValueError, match="unperturbed"):
        meta_consistency(unperturbed[:, :1], minor[..., :1], disruptive[..., :1])
    with pytest.raises(ValueError, match="minor"):
        meta_consistency(unperturbed, minor[:, :4], disruptive)


# -------------------------------------------------------------------------- metrics on a tiny model
def linear_model():
    """Flatten -> Dense(3, softmax) on 32 x 32 x 1: class c's logit is exactly sum(x * w_c) + b_c."""
    keras.utils.set_random_seed(3)
    return keras.Sequential([keras.Input((32, 32, 1)), keras.layers.Flatten(),
                             keras.layers.Dense(3, activation="softmax", name="predictions")], name="linear")


class OracleFidelity(MapsMetric):
    """Correlation of the map with the unperturbed model's exact evidence ``x * w_c`` (a faithful oracle)."""

    name = "oracle_fidelity"
    direction = "higher"
    reference = "test oracle"
    notes = {"oracle_fidelity": "correlation with x * w_c"}  # noqa: RUF012

    def __init__(self, kernel):
        self.kernel = kernel

    def score(self, chunk, options):
        values = []
        for image, saliency, target in zip(chunk.images, chunk.maps, chunk.targets):
            evidence = image[..., 0].ravel() * self.kernel[:, int(target)]
            values.append(float(np.corrcoef(saliency.ravel(), evidence)[0, 1]))
        return {self.name: values}, {}


class IgnoresTheModel(MapsMetric):
    """Uniform values drawn from the bytes of the model's weights, the method's name and the image: not the maps."""

    name = "ignores_model"
    direction = "higher"
    reference = "test oracle"
    notes = {"ignores_model": "random values"}  # noqa: RUF012

    def score(self, chunk, options):
        key = zlib.crc32(b"".join(np.asarray(w).tobytes() for w in chunk.model.get_weights()))
        method = zlib.crc32(chunk.method.encode())
        values = [float(np.random.default_rng([key, method, zlib.crc32(image.tobytes())]).random())
                  for image in chunk.images]
        return {self.name: values}, {}


@pytest.fixture
def toy_metrics():
    model = linear_model()
    metrics = [register(OracleFidelity(np.asarray(model.get_weights()[0]))), register(IgnoresTheModel())]
    yield model
    for metric in metrics:
        unregister(metric.name)


def tiny_data(n=10):
    images = np.random.default_rng(5).random((n, 32, 32, 1), dtype=np.float32)
    return LabelledImages(images=images, labels=np.zeros(n, np.int64), class_names=("a", "b", "c"))


def test_an_oracle_scores_high_and_a_metric_ignoring_the_model_low(toy_metrics, tmp_path):
    out = tmp_path / "meta"
    result = meta_evaluate(toy_metrics, tiny_data(), "oracle_fidelity,ignores_model", METHODS, out, tests="model",
                           perturbations=2, verbose=0)
    oracle, ignorer = result["columns"]["oracle_fidelity"], result["columns"]["ignores_model"]
    # the minor weight noise keeps every prediction, the disruptive one changes many
    assert oracle["tests"]["model"]["nr_kept"] == 1.0 and oracle["tests"]["model"]["ar_changed"] > 0.3
    # the oracle keeps the methods' order under minor noise and drops under disruptive noise
    assert oracle["iec_nr"] == 1.0 and oracle["iec_ar"] > 0.9 and oracle["iac_ar"] > 0.9
    assert oracle["mc"] > 0.75
    # the metric that ignores the model: p-values of unrelated values, ranks kept by chance (about 1 / 3 for three
    # methods), drops by chance (about 1 / 2): MC near (0.5 + 0.5 + 1/3 + 0.5) / 4
    assert ignorer["iec_nr"] < 0.6 and ignorer["mc"] < 0.55 and oracle["mc"] - ignorer["mc"] > 0.3
    # the files hold the same numbers: one row per column (one test), and MC is the mean of the four criteria
    with open(out / "meta_evaluation.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(row["column"], row["test"]) for row in rows] == [("oracle_fidelity", "model"), ("ignores_model", "model")]
    for row in rows:
        entry = result["columns"][row["column"]]
        for name in ("mc", "iac_nr", "iac_ar", "iec_nr", "iec_ar"):
            assert float(row[name]) == pytest.approx(entry[name], rel=1e-5)
        assert entry["mc"] == pytest.approx(np.mean([entry[n] for n in ("iac_nr", "iac_ar", "iec_nr", "iec_ar")]))
    stored = json.loads((out / "meta_evaluation.json").read_text())
    assert stored["columns"]["oracle_fidelity"]["mc"] == pytest.approx(oracle["mc"])
    assert sorted(p.name for p in (out / "meta_evaluation").iterdir()) == [
        "model_ar_1", "model_ar_2", "model_nr_1", "model_nr_2", "unperturbed"]
    # resumable: a second call finds every run done (the seeded noise gives the same weights) and recomputes nothing
    stamps = {p: p.stat().st_mtime_ns for p in (out / "meta_evaluation").glob("*/results.jsonl")}
    again = meta_evaluate(toy_metrics, tiny_data(), "oracle_fidelity,ignores_model", METHODS, out, tests="model",
                          perturbations=2, verbose=0)
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps and again["columns"] == result["columns"]
    # other settings in the same folder are refused, naming what differs
    with pytest.raises(EvaluationError, match="meta_evaluation"):
        meta_evaluate(toy_metrics, tiny_data(), "oracle_fidelity,ignores_model", METHODS, out, tests="model",
                      perturbations=2, model_noise=(0.002, 2.0), verbose=0)


def test_bad_inputs_get_named_errors_before_any_work(toy_metrics, tmp_path):
    out, data = tmp_path / "meta", tiny_data(4)
    cases = [(ValueError, "metrics", {"metrics": "no_such_metric"}),
             (ValueError, "methods", {"methods": "vanilla_gradient"}),
             (ValueError, "methods", {"methods": "vanilla_gradient,no_such_method"}),
             (ValueError, "tests", {"tests": "weights"}),
             (ValueError, "perturbations", {"perturbations": 0}),
             (ValueError, "model_noise", {"model_noise": (2.0, 0.001)}),
             (ValueError, "input_noise", {"input_noise": (0.0, 5.0)}),
             (TypeError, "model_noise", {"model_noise": 0.5}),
             (TypeError, "input_noise", {"input_noise": ("a", 5.0)}),
             (ValueError, "targets", {"targets": "regression:0"})]
    for error, word, change in cases:
        arguments = {"metrics": "oracle_fidelity", "methods": METHODS, "tests": "model", **change}
        with pytest.raises(error, match=word):
            meta_evaluate(toy_metrics, data, arguments.pop("metrics"), arguments.pop("methods"), out, verbose=0,
                          **arguments)
    assert not out.exists()


def test_cli_meta_evaluate_writes_the_table(tmp_path, capsys):
    from conftest import tiny_cnn

    from xai_tf.cli import main

    model = tiny_cnn(input_shape=(32, 32, 1), num_classes=2)
    model.save(tmp_path / "model.keras")
    out = tmp_path / "evaluation"
    status = main(["meta-evaluate", "--model", str(tmp_path / "model.keras"), "--methods",
                   "vanilla_gradient,input_x_gradient", "--metrics", "xai_entropy", "--out", str(out),
                   "--data", "synthetic", "--n", "12", "--limit", "8", "--tests", "input", "--perturbations", "2",
                   "--verbose", "0"])
    assert status == 0
    captured = capsys.readouterr()
    printed = captured.out
    assert "meta-evaluating on 8 images of 12, an even number per class (--limit 8, seeded)" in captured.err
    stored = json.loads((out / "meta_evaluation.json").read_text())
    assert stored["tests"] == ["input"] and stored["perturbations"] == 2 and stored["images"] == 8
    assert stored["input_noise"] == [0.001, 5.0] and stored["model_noise"] == [0.001, 2.0]
    with open(out / "meta_evaluation.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(row["metric"], row["column"], row["direction"], row["test"]) for row in rows] == [
        ("xai_entropy", "xai_entropy", "lower", "input")]
    entry = stored["columns"]["xai_entropy"]
    criteria = [entry[name] for name in ("iac_nr", "iac_ar", "iec_nr", "iec_ar")]
    assert all(0.0 <= value <= 1.0 for value in criteria)
    assert float(rows[0]["mc"]) == pytest.approx(np.mean(criteria), rel=1e-5)
    # the minor input noise (+-0.001) changes no prediction
    assert entry["nr_kept"] == 1.0
    assert "xai_entropy" in printed and f"{entry['mc']:.3f}" in printed


# ---------------------------------------------------------------------------------- shards
def comparable(path):
    """``meta_evaluation.json`` without what names folders."""
    stored = json.loads(Path(path).read_text())
    return {key: value for key, value in stored.items() if key not in ("runs", "files")}


def test_shards_give_the_unsharded_table_once_all_are_done(toy_metrics, tmp_path):
    # 6 images in chunks of 2: shard 1/2 scores chunks 0 and 2, shard 2/2 chunk 1; K = 1, both tests: 5 runs
    arguments = dict(tests="model,input", perturbations=1, chunk_size=2, verbose=0)
    metrics, methods = "oracle_fidelity,ignores_model", "vanilla_gradient,input_x_gradient"
    whole = meta_evaluate(toy_metrics, tiny_data(6), metrics, methods, tmp_path / "whole", **arguments)
    out = tmp_path / "sharded"
    first = meta_evaluate(toy_metrics, tiny_data(6), metrics, methods, out, shard="1/2", **arguments)
    # one shard done: incomplete, shard 2 named for every run, nothing written at the top level
    runs = ["unperturbed", "model_nr_1", "model_ar_1", "input_nr_1", "input_ar_1"]
    assert first["complete"] is False and first["shard"] == "1/2" and first["missing"] == ["2/2"]
    assert first["missing_runs"] == {"2/2": runs}
    assert sorted(p.name for p in out.iterdir()) == ["meta_evaluation"]
    assert {p.relative_to(out / "meta_evaluation").as_posix() for p in out.glob("meta_evaluation/*/*")} == {
        f"{run}/shard-1-of-2" for run in runs}
    # shards of another n in the same folder are refused before any work, naming the shard
    with pytest.raises(ValueError, match="shard 1/3"):
        meta_evaluate(toy_metrics, tiny_data(6), metrics, methods, out, shard="1/3", **arguments)
    # so are other settings for the second shard, and an unsharded call into the sharded folder
    with pytest.raises(EvaluationError, match="meta_evaluation: model_noise"):
        meta_evaluate(toy_metrics, tiny_data(6), metrics, methods, out, shard=(2, 2), model_noise=(0.002, 2.0),
                      **arguments)
    with pytest.raises(EvaluationError, match="sharded runs"):
        meta_evaluate(toy_metrics, tiny_data(6), metrics, methods, out, **arguments)
    assert not list(out.glob("meta_evaluation/*/shard-*-of-3")) and not list(out.glob("*/*/shard-2-of-2"))
    # the second shard completes the set and writes the table of the union: the unsharded one exactly
    second = meta_evaluate(toy_metrics, tiny_data(6), metrics, methods, out, shard="2/2", **arguments)
    assert "complete" not in second and second["columns"] == whole["columns"] and second["rows"] == whole["rows"]
    assert comparable(out / "meta_evaluation.json") == comparable(tmp_path / "whole" / "meta_evaluation.json")
    assert (out / "meta_evaluation.csv").read_bytes() == (tmp_path / "whole" / "meta_evaluation.csv").read_bytes()
    # running a shard again recomputes nothing and rewrites the same table
    assert meta_evaluate(toy_metrics, tiny_data(6), metrics, methods, out, shard="1/2", **arguments)["rows"] == \
        whole["rows"]


def test_cli_meta_evaluate_shard(tmp_path, capsys, monkeypatch):
    from conftest import tiny_cnn

    from xai_tf.cli import main

    for bad in ("3/2", "two", "auto"):  # "auto" outside a SLURM array job
        monkeypatch.delenv("SLURM_ARRAY_TASK_ID", raising=False)
        with pytest.raises(SystemExit) as stopped:
            main(["meta-evaluate", "--model", "m.keras", "--methods", "a,b", "--metrics", "xai_entropy", "--out",
                  str(tmp_path), "--shard", bad])
        assert stopped.value.code == 2 and "--shard" in capsys.readouterr().err
    model = tiny_cnn(input_shape=(32, 32, 1), num_classes=2)
    model.save(tmp_path / "model.keras")
    monkeypatch.setenv("SLURM_ARRAY_TASK_ID", "0")
    monkeypatch.setenv("SLURM_ARRAY_TASK_COUNT", "2")  # auto: shard 1/2 of --array=0-1
    status = main(["meta-evaluate", "--model", str(tmp_path / "model.keras"), "--methods",
                   "vanilla_gradient,input_x_gradient", "--metrics", "xai_entropy", "--out", str(tmp_path / "out"),
                   "--data", "synthetic", "--n", "4", "--chunk-size", "2", "--tests", "input", "--perturbations", "1",
                   "--verbose", "0", "--shard", "auto"])
    printed = capsys.readouterr().out
    assert status == 0 and "shard 1/2 done" in printed and "not complete yet: shard(s) 2/2" in printed
    assert not (tmp_path / "out" / "meta_evaluation.json").exists()
    assert (tmp_path / "out" / "meta_evaluation" / "unperturbed" / "shard-1-of-2" / "summary.json").exists()


# ---------------------------------------------------------------------------- parameterisation
def fake_run(folder, order, blur, fingerprint="data-a", methods=("a", "b", "c", "d"), n=5):
    """A stored evaluation whose SIC values put the methods in ``order`` (best first) on every image."""
    folder = Path(folder)
    folder.mkdir(parents=True)
    config = {"methods": list(methods), "metrics": ["sic"], "options": {"pic_blur": blur}, "shard": None,
              "data_images": n, "chunk_size": 8, "data_fingerprint": fingerprint, "data_shape": [32, 32, 1], "seed": 0}
    (folder / "config.json").write_text(json.dumps({"config": config}))
    rows = [{"image": image, "method": method, "chunk": 0, "sic": 1.0 - 0.1 * order.index(method) + 0.01 * image}
            for image in range(n) for method in methods]
    (folder / "results.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    return folder


def test_parameterisation_equals_kendalltau_on_hand_built_rankings(tmp_path):
    first = fake_run(tmp_path / "paper", ["a", "b", "c", "d"], "paper")
    second = fake_run(tmp_path / "fast", ["b", "a", "d", "c"], "fast")
    result = parameterisation([first, second], out_dir=tmp_path / "out")
    assert result["varied"] == {"pic_blur": ["paper", "fast"]} and result["other_differences"] == []
    entry = result["columns"]["sic"]
    assert entry["average_ranks"] == [{"a": 1.0, "b": 2.0, "c": 3.0, "d": 4.0},
                                      {"a": 2.0, "b": 1.0, "c": 4.0, "d": 3.0}]
    assert entry["rankings"] == [["a", "b", "c", "d"], ["b", "a", "d", "c"]]
    pair = entry["pairs"][0]
    # by hand: of the 6 pairs of methods, (a, b) and (c, d) swap, the other 4 keep their order: tau = (4 - 2) / 6
    assert pair["tau"] == pytest.approx(1 / 3)
    tau = stats.kendalltau([1, 2, 3, 4], [2, 1, 4, 3])
    rho = stats.spearmanr([1, 2, 3, 4], [2, 1, 4, 3])
    assert pair["tau"] == pytest.approx(tau.statistic) and pair["tau_p"] == pytest.approx(tau.pvalue)
    assert pair["rho"] == pytest.approx(rho.statistic) and pair["rho_p"] == pytest.approx(rho.pvalue)
    assert (pair["top_a"], pair["top_b"]) == ("a", "b")
    with open(tmp_path / "out" / "parameterisation.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert float(rows[0]["tau"]) == pytest.approx(1 / 3, rel=1e-5)
    # three runs: three pairs; an unchanged order gives tau = rho = 1
    third = fake_run(tmp_path / "none", ["a", "b", "c", "d"], "none")
    three = parameterisation([first, second, third], write=False)
    taus = {(p["run_a"], p["run_b"]): p["tau"] for p in three["columns"]["sic"]["pairs"]}
    assert taus == pytest.approx({(0, 1): 1 / 3, (0, 2): 1.0, (1, 2): 1 / 3})


def test_parameterisation_refuses_bad_inputs(tmp_path):
    first = fake_run(tmp_path / "one", ["a", "b", "c", "d"], "paper")
    other_data = fake_run(tmp_path / "two", ["a", "b", "c", "d"], "fast", fingerprint="data-b")
    other_methods = fake_run(tmp_path / "three", ["a", "b", "c"], "fast", methods=("a", "b", "c"))
    with pytest.raises(ValueError, match="folders"):
        parameterisation([first])
    with pytest.raises(TypeError, match="folders"):
        parameterisation(str(first))
    with pytest.raises(EvaluationError, match="different data"):
        parameterisation([first, other_data])
    with pytest.raises(ValueError, match="same methods"):
        parameterisation([first, other_methods])
    with pytest.raises(ValueError, match="metric"):
        parameterisation([first, fake_run(tmp_path / "four", ["d", "c", "b", "a"], "fast")], metric="aic")


def test_cli_compare_parameterisation_prints_the_correlations(tmp_path, capsys):
    from xai_tf.cli import main

    first = fake_run(tmp_path / "paper", ["a", "b", "c", "d"], "paper")
    second = fake_run(tmp_path / "fast", ["d", "c", "b", "a"], "fast")
    assert main(["compare", str(first), str(second), "--parameterisation"]) == 0
    printed = capsys.readouterr().out
    assert "pic_blur=paper" in printed and "pic_blur=fast" in printed
    assert "Kendall tau -1.000" in printed  # the option reverses the ranking
    stored = json.loads((first / "parameterisation.json").read_text())
    assert stored["columns"]["sic"]["pairs"][0]["rho"] == pytest.approx(-1.0)


def test_the_report_shows_the_table_of_an_evaluation_folder(tmp_path):
    from xai_tf.report.evaluation_sections import EvaluationSections

    class Sections(EvaluationSections):
        def __init__(self):
            self.items, self.notes = [], []

        def add(self, section, kind, **item):
            self.items.append((section, kind, item))

        def note(self, section, text):
            self.notes.append((section, text))

    empty = Sections()
    empty._meta_section(tmp_path)
    assert empty.items == [] and "xai-tf meta-evaluate" in empty.notes[0][1]
    result = {"images": 10, "methods": ["a", "b"], "perturbations": 5, "tests": ["model"], "model_noise": [0.001, 2.0],
              "input_noise": [0.001, 5.0],
              "rows": [{"column": "sic", "test": "model", "mc": 0.8, "iac_nr": 0.5, "iac_ar": 0.9, "iec_nr": 1.0,
                        "iec_ar": 0.8, "nr_kept": 1.0, "ar_changed": 0.7},
                       {"column": "xai_entropy", "test": "model", "mc": 0.45, "iac_nr": 0.5, "iac_ar": 0.5,
                        "iec_nr": 0.3, "iec_ar": 0.5, "nr_kept": 1.0, "ar_changed": 0.7}],
              "columns": {"sic": {"mc": 0.8}, "xai_entropy": {"mc": 0.45}}}
    (tmp_path / "meta_evaluation.json").write_text(json.dumps(result))
    sections = Sections()
    sections._meta_section(tmp_path)
    tables = [item for section, kind, item in sections.items if kind == "table"]
    assert {section for section, _, _ in sections.items} == {"meta"} and len(tables) == 1
    assert tables[0]["header"][:3] == ["metric", "test", "MC"]
    assert tables[0]["rows"] == [
        ["sic", "model", "0.800", "0.500", "0.900", "1.000", "0.800", "1.000", "0.700"],
        ["xai_entropy", "model", "0.450", "0.500", "0.500", "0.300", "0.500", "1.000", "0.700"]]
    words = sections.items[-1][2]["text"]
    assert "Most reliable here: sic (MC 0.800)" in words and "xai_entropy" in words
