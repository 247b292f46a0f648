"""The architecture's contracts: one model head, the metric protocol, options checked before writing."""
from __future__ import annotations

import json
from pathlib import Path
from typing import ClassVar

import keras
import numpy as np
import pytest
from conftest import tiny_cnn

from xai_tf import data as xai_data
from xai_tf.callbacks import PICCallback
from xai_tf.cli.evaluate import build_parser, cli_main
from xai_tf.evaluation import evaluate, pic_results
from xai_tf.metrics.information_curves.pic import pic
from xai_tf.metrics.information_curves.pic_options import draw_random_masks
from xai_tf.metrics.options import Option, number
from xai_tf.metrics.protocol import Metric
from xai_tf.metrics.registry import METRICS, register, unregister
from xai_tf.models.head import head_of

OPTIONS = {"pic_entropy": "shannon", "pic_thresholds": [0.1, 0.5], "pic_min_pred_value": 0.0}


@pytest.fixture(scope="module")
def data():
    return xai_data.load("synthetic", n=6, image_size=32, seed=0)


@pytest.fixture(scope="module")
def model():
    return tiny_cnn(input_shape=(32, 32, 1), num_classes=2)


def linear_unit_model(bias: float):
    """One linear output unit whose logits sit just above 0 (probability just above 0.5: class 1)."""
    keras.utils.set_random_seed(0)
    inputs = keras.Input((32, 32, 1))
    x = keras.layers.Conv2D(2, 3, padding="same", activation="relu", name="last_conv")(inputs)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(1, name="logit")(x)
    model = keras.Model(inputs, outputs)
    kernel, _ = model.get_layer("logit").get_weights()
    model.get_layer("logit").set_weights([kernel * 1e-3, np.array([bias], np.float32)])
    return model


# ------------------------------------------------------------------------------------------ head
def test_head_predicted_class_is_one_rule_for_every_kind_of_output(data):
    images = data.images
    linear = linear_unit_model(0.25)
    logits = np.asarray(linear(images)).reshape(-1)
    assert np.all((logits > 0) & (logits < 0.5))  # the case a "p >= 0.5 on raw outputs" rule gets wrong
    np.testing.assert_array_equal(head_of(linear).predicted_classes(images), np.ones(len(images)))
    sigmoid = tiny_cnn(input_shape=(32, 32, 1), head="sigmoid")
    p = np.asarray(sigmoid(images)).reshape(-1)
    np.testing.assert_array_equal(head_of(sigmoid).predicted_classes(images), (p >= 0.5).astype(int))
    softmax = tiny_cnn(input_shape=(32, 32, 1), num_classes=3)
    np.testing.assert_array_equal(head_of(softmax).predicted_classes(images),
                                  np.asarray(softmax(images)).argmax(axis=1))
    assert head_of(linear).num_classes == head_of(sigmoid).num_classes == 2 and head_of(softmax).num_classes == 3


def test_head_reads_a_softmax_layer_as_probabilities(data):
    inputs = keras.Input((32, 32, 1))
    x = keras.layers.GlobalAveragePooling2D()(keras.layers.Conv2D(3, 3)(inputs))
    outputs = keras.layers.Softmax()(keras.layers.Dense(3)(x))
    model = keras.Model(inputs, outputs)
    head = head_of(model)
    assert head.activation == "softmax"
    # probabilities come back as the model gives them (not softmaxed twice)
    np.testing.assert_allclose(head.probabilities(data.images), np.asarray(model(data.images)), atol=1e-6)


@pytest.mark.filterwarnings("ignore:pic. all:RuntimeWarning")  # a near-constant model: all excluded
def test_pic_callback_on_a_linear_unit_picks_the_targets_evaluate_picks(data, tmp_path):
    model = linear_unit_model(0.25)
    callback = PICCallback(data.images, "vanilla_gradient", kind="sic", min_pred_value=0.0,
                           thresholds=[0.1, 0.5])
    callback.set_model(model)
    callback_targets = callback.score_probes()["sic"]["vanilla_gradient"].targets
    evaluate(model, data, "vanilla_gradient", "sic", tmp_path / "eval", options=OPTIONS, verbose=0)
    rows = [json.loads(line) for line in (tmp_path / "eval" / "results.jsonl").read_text().splitlines()]
    evaluate_targets = np.array([row["target"] for row in sorted(rows, key=lambda row: row["image"])])
    np.testing.assert_array_equal(callback_targets, evaluate_targets)
    assert np.all(evaluate_targets == 1)



def sum_unit_model(size: int, bias: float):
    """One linear unit: the sum of the pixels plus ``bias`` (class 1 when positive)."""
    inputs = keras.Input((size, size, 1))
    outputs = keras.layers.Dense(1, name="logit")(keras.layers.Flatten()(inputs))
    model = keras.Model(inputs, outputs)
    model.get_layer("logit").set_weights([np.ones((size * size, 1), np.float32), np.array([bias], np.float32)])
    return model


@pytest.mark.filterwarnings("ignore:pic. all:RuntimeWarning")
def test_pic_scores_the_class_explain_explains_when_quantisation_flips_the_prediction():
    size = 16
    model = sum_unit_model(size, bias=-0.05)
    # 0.3/255 per pixel: the float image sums to 0.075 (logit +0.025, class 1); its 8-bit copy is all 0
    # (logit -0.05, class 0). PIC scores the 8-bit copy, but the class must be the one explain explains.
    image = np.full((1, size, size, 1), 0.3 / 255, np.float32)
    head = head_of(model)
    assert head.predicted_classes(image)[0] == 1
    assert head.predicted_classes(np.round(image * 255) / 255)[0] == 0
    explained = head.targets(image)  # the rule explain uses for targets=None
    maps = np.random.default_rng(0).random((1, size, size)).astype(np.float32)
    for kind in ("sic", "aic"):
        result = pic(model, image, maps, kind=kind, min_pred_value=0.0, thresholds=[0.5], entropy="shannon")
        np.testing.assert_array_equal(result.targets, explained)
        np.testing.assert_array_equal(result.targets, [1])


def test_head_targets_checks_range_and_broadcasts_one_class(data):
    model = tiny_cnn(input_shape=(32, 32, 1), num_classes=3)
    head = head_of(model)
    np.testing.assert_array_equal(head.targets(data.images, 2), np.full(len(data.images), 2))
    np.testing.assert_array_equal(head.targets(data.images), head.predicted_classes(data.images))
    with pytest.raises(ValueError, match=r"targets must lie in \[0, 2\]"):
        head.targets(data.images, 3)
    with pytest.raises(ValueError, match="one class per image"):
        head.targets(data.images, [0, 1])
    # the metrics that used to broadcast targets without a range check now go through the head
    from xai_tf.metrics.randomisation.model_randomization import randomization_check
    from xai_tf.metrics.robustness.sensitivity import max_sensitivity

    with pytest.raises(ValueError, match=r"targets must lie in \[0, 2\]"):
        max_sensitivity(model, data.images, "vanilla_gradient", targets=5, n_samples=1)
    with pytest.raises(ValueError, match=r"targets must lie in \[0, 2\]"):
        randomization_check(model, data.images, "vanilla_gradient", targets=[0, 1, 2, 3, 4, 7])


def test_the_same_seed_gives_the_callback_and_the_runner_the_same_pic_masks(data, tmp_path):
    model = tiny_cnn(input_shape=(32, 32, 1), num_classes=2)
    options = {"pic_entropy": "shannon", "pic_thresholds": [0.1, 0.5], "pic_min_pred_value": 0.0}
    evaluate(model, data, "vanilla_gradient", "sic", tmp_path / "eval", options=options, seed=3, chunk_size=4,
             verbose=0)
    stored = pic_results([tmp_path / "eval"], "sic")["vanilla_gradient"]

    def callback_result(seed):
        callback = PICCallback(data.images, "vanilla_gradient", kind="sic", seed=seed, entropy="shannon",
                               thresholds=[0.1, 0.5], min_pred_value=0.0)
        callback.set_model(model)
        return callback.score_probes()["sic"]["vanilla_gradient"]

    # The entropies of the fully blurred images are those of the random masks' fill: equal only for
    # equal masks (images 4 and 5 sit in the runner's second chunk).
    same, other = callback_result(3), callback_result(4)
    np.testing.assert_allclose(same.entropies[:, 0], stored.entropies[:, 0])
    np.testing.assert_allclose(same.aucs, stored.aucs, equal_nan=True)
    assert not np.allclose(other.entropies[:, 0], stored.entropies[:, 0])
    expected = draw_random_masks(len(data.images), 32, 32, 0.01, seed=3)
    np.testing.assert_array_equal(same.random_masks, expected)
    np.testing.assert_array_equal(
        draw_random_masks(2, 32, 32, 0.01, seed=3, indices=[4, 5]), expected[4:6])

# ------------------------------------------------------------------------------- metric protocol
class MapPeakMetric(Metric):
    """A toy metric: the largest |map| value per image, scaled by an option."""

    name = "map_peak"
    options = (Option("peak_scale", 1.0, number("peak_scale", 0.0), "toy: multiply the peak", parse=float),)
    notes: ClassVar[dict[str, str]] = {"map_peak": "largest |map| value (toy)"}

    def score(self, chunk, options):
        peaks = np.abs(chunk.maps).reshape(len(chunk.maps), -1).max(axis=1) * options["peak_scale"]
        return {self.name: list(peaks)}, {}


@pytest.fixture
def toy_metric():
    metric = register(MapPeakMetric())
    yield metric
    unregister(metric.name)


def test_a_new_metric_is_one_class_and_one_registry_line(toy_metric, model, data, tmp_path):
    out = tmp_path / "eval"
    summary = evaluate(model, data, "gradcam,random", "map_peak", out, options={"peak_scale": 2.0}, verbose=0,
                       chunk_size=4)
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    maps = {}
    for path in sorted((out / "arrays").glob("*.npz")):
        with np.load(path) as stored:
            method = path.stem.split("_", 1)[1]
            for index, saliency in zip(stored["indices"], stored["maps"]):
                maps[(int(index), method)] = saliency
    for row in rows:  # the toy's value is 2 x the peak of the stored map of that image and method
        assert row["map_peak"] == pytest.approx(2 * np.abs(maps[(row["image"], row["method"])]).max(), rel=1e-6)
    for method in ("gradcam", "random"):
        values = [row["map_peak"] for row in rows if row["method"] == method]
        assert summary["table"][method]["map_peak"] == pytest.approx(np.mean(values))
        assert summary["table"][method]["map_peak_n"] == len(data.images)
    header = (out / "table.csv").read_text().splitlines()[0]
    assert header == "method,map_peak"
    # its option is a CLI flag of `xai-tf evaluate`, checked like the built-in ones
    assert "--peak-scale" in build_parser().format_help()
    with pytest.raises(ValueError, match="peak_scale must lie in"):
        evaluate(model, data, "random", "map_peak", tmp_path / "bad", options={"peak_scale": -1.0}, verbose=0)


def test_the_registry_lists_the_builtin_metrics_with_their_declarations():
    assert list(METRICS)[:6] == ["sic", "aic", "max_sensitivity", "xai_entropy", "pointing_game", "randomization"]
    assert METRICS["pointing_game"].ground_truth == "masks or boxes"
    assert METRICS["max_sensitivity"].scores == METRICS["randomization"].scores == "method"
    assert METRICS["randomization"].columns({"randomization_modes": ["semi"]}) == ["randomization_semi"]
    with pytest.raises(ValueError, match="already registered"):
        register(METRICS["sic"])


# ------------------------------------------------------------------------- options before writing
BAD_OPTIONS = [
    ("pic_entropy", "gzip"), ("pic_blur", "slow"), ("pic_thresholds", [0.5, 0.1]), ("pic_thresholds", ["a"]),
    ("pic_min_pred_value", 5), ("pic_min_pred_value", -1), ("pic_random_mask_fraction", 1.5),
    ("sensitivity_radius", 0), ("sensitivity_samples", 2.5), ("sensitivity_normalise", "yes"),
    ("pointing_tolerance", -3), ("randomization_modes", ["full", "cascade"]), ("entropy_format", "jpeg"),
    ("no_such_option", 1),
]


@pytest.mark.parametrize(("name", "value"), BAD_OPTIONS)
def test_a_bad_option_writes_nothing(model, data, tmp_path, name, value):
    out = tmp_path / "eval"
    with pytest.raises((TypeError, ValueError), match=name):
        evaluate(model, data, "random", "sic,aic,max_sensitivity,xai_entropy,pointing_game,randomization", out,
                 options={**OPTIONS, name: value}, verbose=0)
    assert not out.exists()


def test_a_typo_on_the_command_line_leaves_the_folder_usable(model, tmp_path, capsys):
    model_path = tmp_path / "model.keras"
    model.save(model_path)
    out = tmp_path / "eval"
    common = ["--model", str(model_path), "--data", "synthetic", "--n", "4", "--methods", "random",
              "--metrics", "sic", "--pic-entropy", "shannon", "--pic-min-pred", "0", "--verbose", "0",
              "--out", str(out)]
    assert cli_main([*common, "--pic-thresholds", "a,b"]) == 2
    assert "--pic-thresholds='a,b'" in capsys.readouterr().err
    assert not out.exists()
    assert cli_main([*common, "--pic-min-pred", "5"]) == 2
    assert "pic_min_pred_value must lie in [0, 1]" in capsys.readouterr().err
    assert not out.exists()
    assert cli_main([*common, "--pic-thresholds", "0.1,0.5"]) == 0
    assert Path(out / "config.json").is_file()
