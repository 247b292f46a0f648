"""Which method (xai_tf.evaluation.compare, xai_tf.study.compare): every statistic against an oracle.

Oracles: SciPy on the same vectors (wilcoxon, binomtest for the exact McNemar test,
friedmanchisquare, kendalltau), Holm's procedure written out here, Demšar's (2006) Table 5 values of
q_alpha, the matched-pairs rank-biserial correlation from its definition, and a coverage simulation
for the bootstrap intervals. Evaluation folders are faked in the stored format (config.json +
results.jsonl) except in the one end-to-end test, which runs the evaluation on a tiny model.
"""
from __future__ import annotations

import csv
import importlib
import json
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from xai_tf.evaluation import EvaluationError, compare, critical_difference, holm
from xai_tf.evaluation.statistics import bootstrap_means, kendall_w

study_compare = importlib.import_module("xai_tf.study.compare")

METHODS = ["alpha_method", "beta_method", "gamma_method", "random"]
METRICS = ["sic", "xai_entropy", "pointing_game"]
#: Demšar (2006), Table 5(a): q_alpha of the two-tailed Nemenyi test for k = 2..10 classifiers.
DEMSAR_Q = {0.05: [1.960, 2.343, 2.569, 2.728, 2.850, 2.949, 3.031, 3.102, 3.164],
            0.10: [1.645, 2.052, 2.291, 2.459, 2.589, 2.693, 2.780, 2.855, 2.920]}


def fake_evaluation(folder, methods=METHODS, n=40, seed=0, fingerprint="data-a"):
    """An evaluation folder in the stored format: SIC with some excluded images, XAI entropy, Pointing Game hits."""
    rng = np.random.default_rng(seed)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    config = {"methods": list(methods), "metrics": METRICS, "options": {}, "shard": None, "data_images": n,
              "chunk_size": 8, "data_fingerprint": fingerprint, "data_shape": [32, 32, 1], "seed": 0}
    (folder / "config.json").write_text(json.dumps({"config": config}))
    rows = []
    for image in range(n):
        shared = rng.normal()
        for position, method in enumerate(methods):
            row = {"image": image, "method": method, "chunk": image // 8,
                   "sic": float(0.5 + 0.1 * position + 0.1 * shared + 0.2 * rng.normal()),
                   "xai_entropy": float(3.0 - 0.2 * position + rng.normal()),
                   "pointing_game": int(rng.random() < 0.3 + 0.15 * position)}
            if (image + position) % 7 == 0:  # PIC leaves images out, with the reason
                row.update(sic=None, sic_excluded="score on the original image is below the minimum")
            rows.append(row)
    (folder / "results.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    return folder, rows


def matrix(rows, column, methods=METHODS):
    images = sorted({row["image"] for row in rows})
    values = np.full((len(images), len(methods)), np.nan)
    for row in rows:
        if row.get(column) is not None:
            values[images.index(row["image"]), methods.index(row["method"])] = row[column]
    return values


def holm_by_hand(p):
    """Holm (1979): reject H_(1), H_(2), ... while p_(i) <= alpha / (m - i + 1); as adjusted p-values."""
    m = len(p)
    order = sorted(range(m), key=lambda i: p[i])
    adjusted, running = [0.0] * m, 0.0
    for step, index in enumerate(order):
        running = max(running, min(1.0, (m - step) * p[index]))
        adjusted[index] = running
    return adjusted


def test_holm_equals_the_procedure_written_out():
    p = [0.01, 0.04, 0.03, 0.005, 0.5, 0.2]
    assert np.allclose(holm(p), holm_by_hand(p))
    # by hand: sorted 0.005 (x6 = 0.03), 0.01 (x5 = 0.05), 0.03 (x4 = 0.12), 0.04 (x3 = 0.12), 0.2 (x2 = 0.4), 0.5
    assert np.allclose(holm(p), [0.05, 0.12, 0.12, 0.03, 0.5, 0.4])
    assert np.isnan(holm([0.1, np.nan])[1]) and holm([0.1, np.nan])[0] == pytest.approx(0.1)
    with pytest.raises(ValueError, match="p_values"):
        holm([0.5, 1.5])


@pytest.mark.parametrize("alpha", [0.05, 0.10])
def test_critical_difference_equals_demsars_table(alpha):
    for k, q in zip(range(2, 11), DEMSAR_Q[alpha]):
        n = 14
        assert critical_difference(k, n, alpha) / np.sqrt(k * (k + 1) / (6 * n)) == pytest.approx(q, abs=1.5e-3)
    # Demšar's worked example (section 3.2.2): 4 classifiers, 14 data sets, CD = 2.569 sqrt(4 * 5 / (6 * 14)) = 1.25
    assert critical_difference(4, 14, 0.05) == pytest.approx(1.25, abs=5e-3)


def test_pairs_ranks_and_friedman_equal_scipy(tmp_path):
    folder, rows = fake_evaluation(tmp_path / "run")
    result = compare(folder, resamples=500)
    assert result["columns"] == METRICS and result["images"] == 40
    for column in ("sic", "xai_entropy"):
        entry, values = result["metrics"][column], matrix(rows, column)
        assert entry["test"] == "wilcoxon"
        p_values = []
        for pair in entry["pairs"]:
            i, j = METHODS.index(pair["method_a"]), METHODS.index(pair["method_b"])
            valid = np.isfinite(values[:, i]) & np.isfinite(values[:, j])
            d = values[valid, i] - values[valid, j]
            expected = stats.wilcoxon(d)
            assert pair["statistic"] == pytest.approx(expected.statistic)
            assert pair["p_value"] == pytest.approx(expected.pvalue, rel=1e-12)
            ranks = stats.rankdata(np.abs(d[d != 0]))
            plus, minus = ranks[d[d != 0] > 0].sum(), ranks[d[d != 0] < 0].sum()
            assert pair["effect_size"] == pytest.approx((plus - minus) / (plus + minus))
            assert pair["n"] == valid.sum() and pair["dropped"] == 40 - valid.sum()
            assert pair["mean_difference"] == pytest.approx(d.mean())
            assert pair["ci_low"] < d.mean() < pair["ci_high"]
            p_values.append(expected.pvalue)
        assert [pair["p_holm"] for pair in entry["pairs"]] == pytest.approx(holm_by_hand(p_values))
        complete = np.isfinite(values).all(axis=1)
        assert entry["blocks"] == complete.sum() and entry["dropped_blocks"] == 40 - complete.sum()
        friedman = stats.friedmanchisquare(*values[complete].T)
        assert entry["friedman"]["statistic"] == pytest.approx(friedman.statistic)
        assert entry["friedman"]["p_value"] == pytest.approx(friedman.pvalue)
        signed = -values[complete] if entry["direction"] == "higher" else values[complete]
        average = stats.rankdata(signed, axis=1).mean(axis=0)
        assert [entry["average_ranks"][m] for m in METHODS] == pytest.approx(average)
        assert entry["critical_difference"] == pytest.approx(critical_difference(4, int(complete.sum())))
    excluded = {m: sum(1 for r in rows if r["method"] == m and r.get("sic_excluded")) for m in METHODS}
    assert result["metrics"]["sic"]["excluded"] == excluded
    # Pointing Game (evidence "hits"): the exact McNemar test is a binomial test of the discordant pairs
    entry, hits = result["metrics"]["pointing_game"], matrix(rows, "pointing_game")
    assert entry["test"] == "mcnemar_exact"
    for pair in entry["pairs"]:
        a, b = hits[:, METHODS.index(pair["method_a"])], hits[:, METHODS.index(pair["method_b"])]
        only_a, only_b = int(np.sum((a == 1) & (b == 0))), int(np.sum((a == 0) & (b == 1)))
        assert pair["p_value"] == pytest.approx(stats.binomtest(only_a, only_a + only_b, 0.5).pvalue)
        assert pair["effect_size"] == pytest.approx(only_a / (only_a + only_b) - 0.5)
        assert pair["odds_ratio"] == pytest.approx((only_a + 0.5) / (only_b + 0.5))


def test_directions_decide_ranks_and_which_method_is_better(tmp_path):
    folder, _ = fake_evaluation(tmp_path / "run", n=120)
    result = compare(folder, metric=["sic", "xai_entropy"], resamples=500)
    # sic rises with the method's position (higher = better); xai_entropy falls with it (lower = better)
    assert result["metrics"]["sic"]["ranking"][0] == "random"
    assert result["metrics"]["xai_entropy"]["ranking"][0] == "random"
    pair = next(p for p in result["metrics"]["sic"]["pairs"] if {p["method_a"], p["method_b"]} == {"alpha_method",
                                                                                                   "random"})
    assert pair["significant"] and pair["better"] == "random" and pair["p_holm"] < 0.05
    ranks = result["metrics"]["sic"]["average_ranks"]
    assert ranks["random"] < ranks["alpha_method"]


def test_agreement_is_kendalls_w_and_tau_of_scipy(tmp_path):
    folder, _ = fake_evaluation(tmp_path / "run")
    result = compare(folder, resamples=200)
    agreement = result["agreement"]
    assert agreement["columns"] == METRICS
    averages = np.array([[result["metrics"][c]["average_ranks"][m] for m in METHODS] for c in METRICS])
    rankings = stats.rankdata(averages, axis=1)
    m, k = rankings.shape
    # W's chi-square m (k - 1) W is Friedman's statistic with the metrics as blocks
    assert m * (k - 1) * agreement["w"] == pytest.approx(stats.friedmanchisquare(*rankings.T).statistic)
    first = stats.kendalltau(averages[0], averages[1])
    assert agreement["tau"][0]["tau"] == pytest.approx(first.statistic)
    assert agreement["tau"][0]["p_value"] == pytest.approx(first.pvalue)
    assert kendall_w(np.array([[1, 2, 3], [1, 2, 3]], float))["w"] == pytest.approx(1.0)
    assert kendall_w(np.array([[1, 2, 3], [3, 2, 1]], float))["w"] == pytest.approx(0.0)


def test_bootstrap_intervals_cover_the_true_mean_at_the_nominal_rate():
    """400 samples of 60 paired differences: the 95% interval covers the true mean at 0.95 +- 0.03.

    The percentile bootstrap is first-order accurate (it covers slightly less than nominal at small n,
    and less again for skewed data); 0.03 is about 3 standard errors of a proportion over 400 samples.
    """
    rng = np.random.default_rng(1)
    covered = 0
    for _ in range(400):
        differences = rng.normal(0.3, 1.0, size=(60, 1))  # true mean 0.3
        low, high = bootstrap_means(differences, 1000, 0.95, rng)[0]
        covered += low <= 0.3 <= high
    assert abs(covered / 400 - 0.95) <= 0.03


def test_files_hold_every_statistic_as_a_number(tmp_path):
    folder, _ = fake_evaluation(tmp_path / "run", n=24)
    result = compare(folder, resamples=200)
    stored = json.loads((folder / "comparison.json").read_text(),
                        parse_constant=lambda name: pytest.fail(f"{name} in comparison.json"))
    assert stored["metrics"]["sic"]["pairs"][0]["p_holm"] == result["metrics"]["sic"]["pairs"][0]["p_holm"]
    with open(folder / "comparison.csv") as handle:
        table = list(csv.DictReader(handle))
    assert len(table) == 3 * 6
    for row in table:
        for key in ("statistic", "p_value", "p_holm", "mean_difference", "ci_low", "ci_high", "critical_difference"):
            float(row[key])
    for column in METRICS:
        assert (folder / f"cd_{column}.png").stat().st_size > 1000
    assert compare(folder, seed=3, resamples=200, write=False)["metrics"]["sic"]["pairs"][0]["ci_low"] != \
        result["metrics"]["sic"]["pairs"][0]["ci_low"]
    assert compare(folder, resamples=200, write=False)["pairs"] == result["pairs"]  # seeded: repeatable


def test_bad_inputs_are_named(tmp_path):
    folder, _ = fake_evaluation(tmp_path / "run", n=8)
    for alpha in (0, 1, 1.5, -0.1):
        with pytest.raises(ValueError, match="alpha"):
            compare(folder, alpha=alpha)
    with pytest.raises(TypeError, match="alpha"):
        compare(folder, alpha="0.05")
    with pytest.raises(ValueError, match="metric"):
        compare(folder, metric="deletion")
    single, _ = fake_evaluation(tmp_path / "single", methods=["gradcam"], n=8)
    with pytest.raises(ValueError, match="one method only"):
        compare(single)
    other, _ = fake_evaluation(tmp_path / "other", n=8, fingerprint="data-b")
    with pytest.raises(EvaluationError, match="different data"):
        compare([folder, other])
    with pytest.raises(EvaluationError, match="not an evaluation folder"):
        compare(tmp_path / "missing")
    with pytest.raises(TypeError, match="folder_or_summary"):
        compare(3)
    with pytest.raises(ValueError, match="resamples"):
        compare(folder, resamples=10)
    with pytest.raises(ValueError, match="k"):
        critical_difference(1, 10)


def test_cli_prints_rankings_with_adjusted_p_values(tmp_path, capsys):
    from xai_tf.cli import main

    folder, _ = fake_evaluation(tmp_path / "run", n=16)
    assert main(["compare", str(folder), "--metric", "sic,pointing_game", "--alpha", "0.1",
                 "--resamples", "200"]) == 0
    printed = capsys.readouterr().out
    assert "p_holm" in printed and "sic: average ranks" in printed and "xai_entropy" not in printed
    assert (folder / "comparison.json").exists()
    assert main(["compare", str(folder), "--alpha", "2"]) == 2
    assert "alpha" in capsys.readouterr().err


def test_study_ranks_methods_per_model_with_friedman_over_models(tmp_path):
    rng = np.random.default_rng(0)
    folder = tmp_path / "study"
    models, methods = ["v1", "v2", "v3", "v4", "v5"], ["random", "gradcam", "saliency"]
    table, cells = [], []
    for model in models:
        for position, method in enumerate(methods):
            for denoiser in ("none", "gaussian"):
                name = f"{model}__{method}__{denoiser}__h"
                cell_folder = folder / "cells" / name
                cell_folder.mkdir(parents=True)
                (cell_folder / "summary.json").write_text(json.dumps(
                    {"metrics": ["sic", "xai_entropy"], "directions": {"sic": "higher", "xai_entropy": "lower"}}))
                (cell_folder / "config.json").write_text(json.dumps({"config": {"data_fingerprint": model}}))
                cells.append({"model": model, "method": method, "denoiser": denoiser, "folder": str(cell_folder)})
                table.append({"model": model, "method": method, "denoiser": denoiser,
                              "sic": 0.2 * position + 0.1 * rng.random(), "xai_entropy": float(rng.random())})
    (folder / "study.json").write_text(json.dumps({"table": table, "cells": cells}))
    result = study_compare.compare(folder)
    entry = result["metrics"]["sic"]
    assert entry["ranking"] == ["saliency", "gradcam", "random"] and entry["ranks"]["v1"]["saliency"] == 1
    values = np.array([[row["sic"] for row in table if row["model"] == m and row["denoiser"] == "none"]
                       for m in models])
    assert entry["friedman"]["statistic"] == pytest.approx(stats.friedmanchisquare(*values.T).statistic)
    assert entry["kendall_w"] == pytest.approx(1.0)
    assert entry["critical_difference"] == pytest.approx(critical_difference(3, 5))
    assert (folder / "compare_sic.png").exists() and (folder / "study_comparison.csv").exists()
    with pytest.raises(ValueError, match="metric"):
        study_compare.compare(folder, metric="deletion")
    (folder / "cells" / "v1__gradcam__none__h" / "config.json").write_text(
        json.dumps({"config": {"data_fingerprint": "other"}}))
    with pytest.raises(EvaluationError, match="different data"):
        study_compare.compare(folder)
    with pytest.raises(ValueError, match="no finished study"):
        study_compare.compare(tmp_path)


def test_end_to_end_on_a_tiny_evaluation(tmp_path):
    from conftest import tiny_cnn

    from xai_tf import data as xai_data
    from xai_tf.evaluation import evaluate

    model = tiny_cnn(input_shape=(32, 32, 1), num_classes=2)
    data = xai_data.load("synthetic", n=12, image_size=32, seed=0)
    evaluate(model, data, "gradcam,random", "xai_entropy,pointing_game", tmp_path / "eval", chunk_size=6, verbose=0)
    result = compare(tmp_path / "eval", resamples=200)
    assert result["methods"] == ["gradcam", "random"] and result["images"] == 12
    assert {pair["n"] for pair in result["pairs"]} == {12}
    assert (tmp_path / "eval" / "cd_pointing_game.png").exists()
