"""The CurveMetric protocol: a toy curve metric is one class and one register() call; the runner writes
its per-image areas, stores its curves and the summary aggregates them. SIC/AIC are CurveMetrics too."""
from __future__ import annotations

import json
from typing import ClassVar

import numpy as np
import pytest
from conftest import tiny_cnn

from xai_tf import data as xai_data
from xai_tf.evaluation import evaluate
from xai_tf.metrics.curve_metric import CurveMetric, trapezoid_rows
from xai_tf.metrics.options import Option, count
from xai_tf.metrics.registry import METRICS, register, unregister


class PeakCurveMetric(CurveMetric):
    """Toy: the curve of image i is peak(|map|) * x**p at x = k / steps; its area is peak / (p + 1)."""

    name = "toy_curve"
    direction = "lower"
    label = "toy x"
    options = (Option("toy_curve_steps", 4, count("toy_curve_steps"), "toy: steps", parse=int),)
    notes: ClassVar[dict[str, str]] = {"toy_curve": "toy curve area (lower = better)"}

    def curves(self, chunk, options):
        x = np.linspace(0, 1, options["toy_curve_steps"] + 1)
        peaks = np.abs(chunk.maps).reshape(len(chunk.maps), -1).max(axis=1)
        # one image of each chunk has a shorter curve (NaN padding), as IROF's segment counts differ
        curves = peaks[:, None] * x[None] ** 2
        curves[0, -1] = np.nan
        return x, curves


@pytest.fixture
def toy_curve():
    metric = register(PeakCurveMetric())
    yield metric
    unregister(metric.name)


def test_a_curve_metric_is_one_class_and_one_registry_line(toy_curve, tmp_path):
    data = xai_data.load("synthetic", n=6, image_size=32, seed=0)
    model = tiny_cnn(input_shape=(32, 32, 1), num_classes=2)
    out = tmp_path / "eval"
    summary = evaluate(model, data, "random", "toy_curve", out, options={"toy_curve_steps": 8}, verbose=0,
                       chunk_size=4)
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    curves, firsts = {}, []
    for path in sorted((out / "arrays").glob("*.npz")):
        with np.load(path) as stored:
            firsts.append(int(stored["indices"][0]))
            for index, curve, saliency in zip(stored["indices"], stored["curve_toy_curve"], stored["maps"]):
                curves[int(index)] = curve
                assert np.nanmax(curve) == pytest.approx(np.abs(saliency).max() * (7 / 8) ** 2, rel=1e-6) \
                    or curve[-1] == pytest.approx(np.abs(saliency).max(), rel=1e-6)
            np.testing.assert_allclose(stored["curve_toy_curve_x"], np.linspace(0, 1, 9))
    x = np.linspace(0, 1, 9)
    for row in rows:  # the column is the trapezoidal area of the stored curve (NaN points dropped)
        assert row["toy_curve"] == pytest.approx(trapezoid_rows(x, curves[row["image"]][None])[0], rel=1e-9)
    stacked = np.stack([curves[i] for i in sorted(curves)])
    detail = summary["curves"]["toy_curve"]["random"]
    np.testing.assert_allclose(detail["curve"], np.nanmean(stacked, axis=0), rtol=1e-9)
    assert detail["images"] == 6 and detail["direction"] == "lower" and detail["label"] == "toy x"
    assert summary["table"]["random"]["toy_curve"] == pytest.approx(np.mean([row["toy_curve"] for row in rows]))
    assert sorted(firsts) == [0, 4]
    # ... and reaches table.csv, its figure and the report without a line elsewhere
    assert summary["directions"]["toy_curve"] == "lower" and summary["metric_of"]["toy_curve"] == "toy_curve"
    assert (out / "table.csv").read_text().splitlines()[0] == "method,toy_curve"
    assert (out / "curve_toy_curve.png").stat().st_size > 1000
    from xai_tf.report import build

    html = build({"evaluation": [str(out)]}, out=tmp_path / "report.html").read_text()
    curves = html[html.index('<section id="curves">'):html.index('<section id="metrics">')]
    assert "<th>toy curve area (lower = better)</th>" in curves
    assert f"<td>{summary['table']['random']['toy_curve']:.3f}</td>" in curves
    assert curves.count('<img src="data:image/png;base64,') == 1


def test_trapezoid_rows_drops_nan_padding():
    x = np.array([0.0, 0.5, 1.0])
    np.testing.assert_allclose(trapezoid_rows(x, np.array([[0, 1, 1], [0, 1, np.nan], [1, np.nan, np.nan]])),
                               [0.75, 0.25, np.nan])


def test_every_registered_metric_declares_direction_kind_and_notes():
    for name, metric in METRICS.items():
        assert metric.direction in ("higher", "lower"), name
        assert metric.scores in ("maps", "method"), name
        defaults = {option.name: option.default for option in metric.options}
        for option in metric.options:
            json.dumps(option.default)
            assert option.check(option.default) == option.default or option.default is None, option.name
        for column in metric.columns({**{o.name: o.default for m in METRICS.values() for o in m.options},
                                      **defaults}):
            assert metric.note(column) != column, (name, column)
    assert isinstance(METRICS["sic"], CurveMetric) and METRICS["sic"].direction == "higher"


def test_sic_aggregate_curves_is_the_pic_median_curve():
    from xai_tf.metrics.chunk import Chunk
    from xai_tf.metrics.information_curves.curves import PicResult

    model = tiny_cnn(input_shape=(32, 32, 1), num_classes=2)
    images = np.random.default_rng(0).random((3, 32, 32, 1), dtype=np.float32)
    maps = np.random.default_rng(1).random((3, 32, 32), dtype=np.float32)
    chunk = Chunk(model=model, method="m", images=images, indices=np.arange(3), targets=np.zeros(3, np.int64),
                  maps=maps, seed=0, chunk_seed=0, batch_size=16)
    options = {option.name: option.default for option in METRICS["sic"].options}
    options.update(pic_entropy="shannon", pic_thresholds=[0.1, 0.5], pic_min_pred_value=0.0)
    _, arrays = METRICS["sic"].score(chunk, options)
    x, curve, images_n = METRICS["sic"].aggregate_curves(lambda: [(0, arrays)])
    stored = PicResult.from_dict(json.loads(str(arrays["pic_sic"])))
    np.testing.assert_allclose(curve, stored.curve, equal_nan=True)
    np.testing.assert_allclose(x, stored.curve_x)
    assert images_n == 3 and x[0] == 0 and x[-1] == 1 and np.isfinite(curve).all()
    entry, _ = METRICS["sic"].summarize("sic", np.zeros(3), lambda: [(0, arrays)])
    assert entry == {"sic": pytest.approx(stored.auc)}


def test_long_curves_are_thinned_in_the_summary_only():
    metric = PeakCurveMetric()
    x = np.linspace(0, 1, 5001)
    arrays = {"curve_toy_curve": np.vstack([x, 2 * x]), "curve_toy_curve_x": x}
    entry, _ = metric.summarize("toy_curve", np.array([0.5, 1.0]), lambda: [(0, arrays)])
    detail = metric.curve_detail(lambda: [(0, arrays)])
    assert len(detail["x"]) == 1001 and detail["x"][0] == 0 and detail["x"][-1] == 1
    np.testing.assert_allclose(detail["curve"], 1.5 * np.array(detail["x"]))
    assert entry["toy_curve"] == 0.75 and entry["toy_curve_n"] == 2


def test_the_readme_table_lists_every_registered_metric_with_its_reference_and_direction():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    for name, metric in METRICS.items():
        assert metric.reference, f"{name} declares no reference"
        line = next((line for line in readme.splitlines() if line.startswith(f"| `{name}` |")), None)
        assert line is not None, f"README's metric table lacks {name}"
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        assert cells[1] == metric.reference and cells[-1] == str(metric.direction), line
