"""Every issue-21 metric through the evaluation runner: rows, stored curves, summary curves, options checked
before anything is written, and per-image values that do not depend on chunking."""
from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import tiny_cnn

from xai_tf import data as xai_data
from xai_tf.evaluation import evaluate
from xai_tf.metrics.curve_metric import CurveMetric
from xai_tf.metrics.registry import METRICS

NEW = ["deletion", "insertion", "mufidelity", "faithfulness_correlation", "monotonicity", "pixel_flipping", "road",
       "irof", "infidelity", "sufficiency", "avg_sensitivity", "local_lipschitz", "sparseness",
       "effective_complexity", "complexity", "relevance_mass_accuracy", "relevance_rank_accuracy",
       "top_k_intersection", "focus", "random_logit", "completeness", "non_sensitivity", "average_drop",
       "average_increase", "average_gain"]
# small settings: the defaults (200 explanations per image, one pixel per step) are for real runs
SMALL = {"mufidelity_samples": 12, "faithfulness_correlation_runs": 6, "faithfulness_correlation_subset_size": 64,
         "avg_sensitivity_samples": 2, "local_lipschitz_samples": 2, "top_k_intersection_k": 100,
         "pixel_flipping_features_in_step": 16, "monotonicity_features_in_step": 64,
         "non_sensitivity_features_in_step": 64, "road_percentages": [0.1, 0.5, 0.9]}
# seeded per image from (seed, image index): these must not change with the chunk size (Sufficiency and
# Focus compare the images of a chunk, by design; stochastic methods re-run with the chunk's seed)
CHUNK_FREE = [name for name in NEW if name not in ("sufficiency", "focus")]


@pytest.fixture(scope="module")
def data():
    return xai_data.load("synthetic", n=4, image_size=32, seed=0)


@pytest.fixture(scope="module")
def model():
    return tiny_cnn(input_shape=(32, 32, 1), num_classes=2)


def rows_of(out):
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    return {(row["image"], row["method"]): row for row in rows}


def test_every_new_metric_runs_through_the_runner_and_does_not_depend_on_chunking(model, data, tmp_path):
    assert set(NEW) <= set(METRICS)
    summary = evaluate(model, data, "vanilla_gradient", NEW, tmp_path / "a", options=SMALL, verbose=0, chunk_size=4)
    rows = rows_of(tmp_path / "a")
    columns = [column for name in NEW for column in METRICS[name].columns({**SMALL, "completeness_normalise": True})]
    for row in rows.values():
        assert set(columns) <= set(row)
    for name in NEW:
        metric = METRICS[name]
        if isinstance(metric, CurveMetric):
            detail = summary["curves"][name]["vanilla_gradient"]
            assert detail["direction"] == metric.direction and len(detail["x"]) == len(detail["curve"])
    # finite where they must be
    for name in ("deletion", "insertion", "pixel_flipping", "road", "irof", "infidelity", "sparseness",
                 "average_drop", "relevance_mass_accuracy", "random_logit"):
        assert all(np.isfinite(row[name]) for row in rows.values()), name
    again = evaluate(model, data, "vanilla_gradient", CHUNK_FREE, tmp_path / "b", options=SMALL, verbose=0,
                     chunk_size=3)
    assert again["images"] == 4
    for key, row in rows_of(tmp_path / "b").items():
        for name in CHUNK_FREE:
            for column in METRICS[name].columns(SMALL | {"completeness_normalise": True}):
                if row[column] is None:
                    assert rows[key][column] is None, column
                else:
                    assert row[column] == pytest.approx(rows[key][column], rel=1e-4, abs=1e-6), column


def test_a_nested_sigmoid_model_scores_p_or_one_minus_p(data, tmp_path):
    from conftest import tiny_nested

    model = tiny_nested(input_shape=(32, 32, 1), head="sigmoid")
    names = ["deletion", "pixel_flipping", "irof", "road", "infidelity", "faithfulness_correlation", "completeness",
             "non_sensitivity", "random_logit", "focus", "average_drop"]
    evaluate(model, data, "gradcam", names, tmp_path / "eval", options=SMALL, verbose=0, chunk_size=4)
    rows = rows_of(tmp_path / "eval")
    p = np.asarray(model(data.images), np.float64)[:, 0]
    with np.load(next((tmp_path / "eval" / "arrays").glob("*.npz"))) as stored:
        first = stored["curve_deletion"][:, 0]  # step 0 of deletion: the image itself
        expected = np.where(stored["targets"] == 1, p[stored["indices"]], 1 - p[stored["indices"]])
        np.testing.assert_allclose(first, expected, atol=1e-5)
    for row in rows.values():
        for name in ("deletion", "pixel_flipping", "irof", "road", "infidelity", "average_drop", "focus"):
            assert row[name] is not None and np.isfinite(row[name]), name


@pytest.mark.parametrize(("name", "value"), [("deletion_steps", 0), ("insertion_max_fraction", 0.0),
                                             ("road_percentages", [0.5, 1.5]), ("mufidelity_subset_percent", 2),
                                             ("top_k_intersection_k", 0), ("irof_segmentation", "grid"),
                                             ("pixel_flipping_features_in_step", 0), ("infidelity_patch_sizes", []),
                                             ("avg_sensitivity_samples", 1.5), ("completeness_normalise", "yes")])
def test_a_bad_option_is_named_and_writes_nothing(model, data, tmp_path, name, value):
    out = tmp_path / "eval"
    with pytest.raises((TypeError, ValueError), match=name):
        evaluate(model, data, "random", ["deletion", "sparseness"], out, options={name: value}, verbose=0)
    assert not out.exists()


def test_an_option_that_does_not_fit_the_images_is_named_and_writes_nothing(model, data, tmp_path):
    # valid on its own, too large for these images: refused from the data's shape, before the folder exists
    out = tmp_path / "eval"
    pixels = data.images.shape[1] * data.images.shape[2]
    with pytest.raises(ValueError, match=f"top_k_intersection_k={pixels + 1} exceeds the {pixels} pixels"):
        evaluate(model, data, "random", "top_k_intersection", out, options={"top_k_intersection_k": pixels + 1},
                 verbose=0)
    assert not out.exists()


def test_metric_names_and_options_are_prefixed_and_unique():
    from xai_tf.metrics.ties import TIES

    seen = set()
    for name in NEW:
        for option in METRICS[name].options:
            if option is TIES:  # the ranked metrics' one shared tie rule (issue 28), the same object everywhere
                continue
            assert option.name.startswith(name + "_"), option.name
            assert option.name not in seen
            seen.add(option.name)
