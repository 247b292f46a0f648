"""SaliencyCallback, MetricCallback and PICCallback: what they write, when, that it reflects the current weights, and
that training is unchanged by them."""
from __future__ import annotations

import csv
import io
import random
import warnings
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf
from conftest import random_images, tiny_cnn
from PIL import Image

import xai_tf
from xai_tf.callbacks import MetricCallback, PICCallback, SaliencyCallback
from xai_tf.data import LabelledImages
from xai_tf.metrics.information_curves.pic import pic
from xai_tf.metrics.registry import METRICS
from xai_tf.viz import method_grid, overlay

SIZE = 32
PROBES = 4


def stripes(n=48, seed=0):
    """Learnable toy task: class 1 has a bright square top-left, class 0 bottom-right, on faint noise."""
    rng = np.random.default_rng(seed)
    images = rng.random((n, SIZE, SIZE, 1), dtype=np.float32) * 0.3
    labels = rng.integers(0, 2, n)
    for image, label in zip(images, labels):
        if label:
            image[4:12, 4:12] = 1.0
        else:
            image[20:28, 20:28] = 1.0
    return images, labels


def seeded_fit(callbacks=(), epochs=2, binary=False, seed=0):
    """Build paper 002's custom CNN v1 (with dropout) under ``seed`` and fit it with shuffling."""
    keras.utils.set_random_seed(seed)
    model = xai_tf.models.build_custom_cnn((SIZE, SIZE, 1), 2, variant="v1", binary_head=binary)
    model.compile(optimizer="adam", loss="binary_crossentropy" if binary else "sparse_categorical_crossentropy")
    images, labels = stripes()
    history = model.fit(images, labels, epochs=epochs, batch_size=16, shuffle=True, verbose=0,
                        callbacks=list(callbacks(model) if callable(callbacks) else callbacks))
    return model, history


def read_events(log_dir: Path) -> list[tuple[str, int, object]]:
    """``(tag, step, value)`` of every summary value in every event file under ``log_dir``."""
    found = []
    for path in sorted(Path(log_dir).glob("events.out.tfevents.*")):
        for event in tf.compat.v1.train.summary_iterator(str(path)):
            for value in event.summary.value:
                found.append((value.tag, int(event.step), value))
    return found


def probe_images():
    return stripes(PROBES, seed=1)[0]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """One plain 2-epoch fit and the same seeded fit with both callbacks (and a CSVLogger after them)."""
    folder = tmp_path_factory.mktemp("callbacks")
    probes = probe_images()
    plain, _ = seeded_fit()
    saliency = SaliencyCallback(probes, methods=("gradcam", "vanilla_gradient"), log_dir=folder / "tb",
                                out_dir=folder / "grids")
    scores = PICCallback(probes, "gradcam", kind=("sic", "aic"), log_dir=folder / "tb", min_pred_value=0.0)
    logger = keras.callbacks.CSVLogger(str(folder / "log.csv"))
    model, history = seeded_fit([saliency, scores, logger])
    return {"folder": folder, "probes": probes, "plain": plain, "model": model, "history": history,
            "saliency": saliency, "scores": scores}


def test_fit_with_callbacks_gives_the_same_weights_and_optimizer_state(run):
    # Exact equality: same seed, same ops in the same order on CPU; the callbacks only run the model
    # in inference mode between epochs and restore every global random stream.
    plain, model = run["plain"], run["model"]
    assert any(isinstance(layer, keras.layers.Dropout) for layer in model.layers)
    for mine, reference in zip(model.get_weights(), plain.get_weights(), strict=True):
        np.testing.assert_array_equal(mine, reference)
    for mine, reference in zip(model.optimizer.variables, plain.optimizer.variables, strict=True):
        np.testing.assert_array_equal(np.asarray(mine), np.asarray(reference))
    # ...and training did move the weights, so equality is not trivial.
    keras.utils.set_random_seed(0)
    initial = xai_tf.models.build_custom_cnn((SIZE, SIZE, 1), 2, variant="v1")
    assert not np.array_equal(initial.get_weights()[0], model.get_weights()[0])


def test_tensorboard_events_have_one_tag_per_method_and_kind_at_each_epoch(run):
    events = read_events(run["folder"] / "tb")
    seen = sorted((tag, step) for tag, step, _ in events)
    tags = ["pic/aic/gradcam", "pic/sic/gradcam", "saliency/gradcam", "saliency/vanilla_gradient"]
    assert seen == sorted((tag, step) for tag in tags for step in (0, 1))
    plugins = {tag: value.metadata.plugin_data.plugin_name for tag, _, value in events
               if value.metadata.plugin_data.plugin_name}
    assert plugins == {"saliency/gradcam": "images", "saliency/vanilla_gradient": "images",
                       "pic/sic/gradcam": "scalars", "pic/aic/gradcam": "scalars"}


def test_image_summaries_are_overlays_of_the_current_maps(run):
    model, probes = run["model"], run["probes"]
    events = {(tag, step): value for tag, step, value in read_events(run["folder"] / "tb")}
    for method in ("gradcam", "vanilla_gradient"):
        strings = tf.make_ndarray(events[(f"saliency/{method}", 1)].tensor)
        assert (int(strings[0]), int(strings[1])) == (SIZE, SIZE)  # width, height of the probe images
        decoded = np.stack([tf.io.decode_png(png).numpy() for png in strings[2:]])
        assert decoded.shape == (PROBES, SIZE, SIZE, 3)
        # The last epoch's images are the overlays of the final weights' maps (PNG is lossless).
        maps = xai_tf.explain(model, probes, method, verbose=0)
        expected = np.stack([overlay(image, np.abs(m), cmap="jet", alpha=0.6) for image, m in zip(probes, maps)])
        np.testing.assert_array_equal(decoded, expected)
        np.testing.assert_array_equal(run["saliency"].last_maps[method], maps)
    assert run["saliency"].last_epoch == 1


def test_png_grid_per_epoch_shows_the_current_maps(run):
    grids = run["folder"] / "grids"
    assert sorted(p.name for p in grids.iterdir()) == ["epoch_001.png", "epoch_002.png"]
    last = np.asarray(Image.open(grids / "epoch_002.png").convert("RGB"))
    maps = {method: xai_tf.explain(run["model"], run["probes"], method, verbose=0)
            for method in ("gradcam", "vanilla_gradient")}
    buffer = io.BytesIO()
    method_grid(run["probes"], maps).savefig(buffer, format="png")
    expected = np.asarray(Image.open(buffer).convert("RGB"))
    # method_grid's defaults: 140 px cells, input + 2 methods, then the colour-bar band
    assert last.shape[1] == 3 * 140 and PROBES * 140 < last.shape[0] < (PROBES + 1) * 140
    np.testing.assert_array_equal(last, expected)


def test_pic_aucs_reach_logs_csv_history_and_tensorboard(run):
    model, probes = run["model"], run["probes"]
    with open(run["folder"] / "log.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["epoch"] for row in rows] == ["0", "1"]
    # Independent recomputation with the final weights: predicted classes, Grad-CAM, PIC (same options).
    targets = np.argmax(model.predict_on_batch(probes), axis=1)
    maps = xai_tf.explain(model, probes, "gradcam", targets=targets, verbose=0)
    events = {(tag, step): value for tag, step, value in read_events(run["folder"] / "tb")}
    for kind in ("sic", "aic"):
        expected = pic(model, probes, maps, kind=kind, targets=targets, entropy="shannon", blur="fast",
                       min_pred_value=0.0, seed=0, verbose=0).auc
        assert np.isfinite(expected)
        key = f"{kind}_auc_gradcam"
        assert float(rows[-1][key]) == expected
        assert run["history"].history[key][-1] == expected
        assert run["scores"].history[1][key] == expected
        logged = float(tf.make_ndarray(events[(f"pic/{kind}/gradcam", 1)].tensor))
        assert logged == pytest.approx(expected, abs=1e-6)  # TensorBoard scalars are float32


def test_tensorboard_opens_the_logs_with_its_own_reader(run):
    """TensorBoard itself (installed with xai-tf) reads what the callbacks wrote: images and scalars per step."""
    from tensorboard.backend.event_processing import event_accumulator
    from tensorboard.plugins.image import metadata as image_metadata

    accumulator = event_accumulator.EventAccumulator(str(run["folder"] / "tb"), size_guidance={"tensors": 0})
    accumulator.Reload()
    tensors = accumulator.Tags()["tensors"]
    assert sorted(tensors) == ["pic/aic/gradcam", "pic/sic/gradcam", "saliency/gradcam",
                               "saliency/vanilla_gradient"]
    for tag in ("saliency/gradcam", "saliency/vanilla_gradient"):
        events = accumulator.Tensors(tag)
        assert [event.step for event in events] == [0, 1]
        assert accumulator.SummaryMetadata(tag).plugin_data.plugin_name == image_metadata.PLUGIN_NAME
        strings = tf.make_ndarray(events[-1].tensor_proto)
        images = [np.asarray(Image.open(io.BytesIO(png))) for png in strings[2:]]  # PNGs a browser would show
        assert len(images) == PROBES and all(image.shape == (SIZE, SIZE, 3) for image in images)
        np.testing.assert_array_equal(np.stack(images), np.stack(
            [tf.io.decode_png(png).numpy() for png in strings[2:]]))
    for kind in ("sic", "aic"):
        events = accumulator.Tensors(f"pic/{kind}/gradcam")
        assert [event.step for event in events] == [0, 1]
        value = float(tf.make_ndarray(events[-1].tensor_proto))
        assert value == pytest.approx(run["scores"].history[1][f"{kind}_auc_gradcam"], abs=1e-6)
        assert accumulator.SummaryMetadata(f"pic/{kind}/gradcam").plugin_data.plugin_name == "scalars"


def test_every_n_epochs_writes_only_on_epochs_n_2n(tmp_path):
    probes = probe_images()
    saliency = SaliencyCallback(probes[:2], every_n_epochs=2, log_dir=tmp_path / "tb", out_dir=tmp_path / "grids")
    scores = PICCallback(probes[:2], "gradcam", kind="sic", every_n_epochs=2, log_dir=tmp_path / "tb",
                         min_pred_value=0.0)
    _, history = seeded_fit([saliency, scores], epochs=4)
    assert sorted((tag, step) for tag, step, _ in read_events(tmp_path / "tb")) == [
        ("pic/sic/gradcam", 1), ("pic/sic/gradcam", 3), ("saliency/gradcam", 1), ("saliency/gradcam", 3)]
    assert sorted(p.name for p in (tmp_path / "grids").iterdir()) == ["epoch_002.png", "epoch_004.png"]
    assert sorted(scores.history) == [1, 3]
    assert len(history.history["sic_auc_gradcam"]) == 2  # only the logged epochs put the key into logs
    assert len(history.history["loss"]) == 4


def test_single_sigmoid_unit_model():
    probes = probe_images()
    saliency = SaliencyCallback(probes, methods="gradcam", targets=[0, 1, 0, 1])
    scores = PICCallback(probes, ["gradcam"], kind="aic", min_pred_value=0.0)
    model, history = seeded_fit([saliency, scores], epochs=1, binary=True)
    assert model.output_shape == (None, 1)
    np.testing.assert_array_equal(saliency.last_maps["gradcam"],
                                  xai_tf.explain(model, probes, "gradcam", targets=[0, 1, 0, 1], verbose=0))
    result = scores.results["aic"]["gradcam"]
    np.testing.assert_array_equal(result.targets, (model.predict_on_batch(probes)[:, 0] >= 0.5).astype(int))
    assert history.history["aic_auc_gradcam"] == [pytest.approx(result.auc, nan_ok=True)]


def test_callbacks_leave_every_global_random_stream_as_it_was():
    """Python, NumPy, TensorFlow's op seeds and Keras' global generator draw the same after a callback ran."""
    model = tiny_cnn(num_classes=2)
    probes = random_images(2)
    callbacks = [SaliencyCallback(probes, methods=("smoothgrad", "gradcam"), denoise="tv"),
                 PICCallback(probes, "smoothgrad", kind="sic"),
                 MetricCallback(probes, "smoothgrad", ["randomization", "sparseness"],
                                options={"randomization_modes": ["full"]})]

    def draws():
        return (random.random(), float(np.random.rand()), float(tf.random.uniform([])),
                float(keras.random.uniform(())))

    keras.utils.set_random_seed(123)
    expected = draws()
    keras.utils.set_random_seed(123)
    for callback in callbacks:
        callback.set_model(model)
        callback.on_train_begin()
        with warnings.catch_warnings():  # PIC may exclude every probe image of this untrained model
            warnings.simplefilter("ignore", RuntimeWarning)
            callback.on_epoch_end(0, {})
        callback.on_train_end()
    assert callbacks[0].last_maps["smoothgrad"].shape == (2, SIZE, SIZE)
    assert draws() == expected


# ---------------------------------------------------------------------------------------------
# MetricCallback
# ---------------------------------------------------------------------------------------------
METRIC_METHODS = ("gradcam", "smoothgrad")  # a deterministic and a stochastic method
SCORED = ("sic", "deletion", "sparseness", "randomization")  # curve metrics, a plain one, a method metric
METRIC_OPTIONS = {"pic_entropy": "shannon", "pic_thresholds": [0.1, 0.3, 0.5], "pic_min_pred_value": 0.0,
                  "deletion_steps": 4, "randomization_modes": ["full"]}
METHOD_PARAMS = {"smoothgrad": {"n_samples": 4}}
COLUMNS = ["sic", "deletion", "sparseness", "randomization_full"]


@pytest.fixture(scope="module")
def metric_run(tmp_path_factory):
    """The seeded 2-epoch fit of ``run`` with a MetricCallback, then a CSVLogger."""
    folder = tmp_path_factory.mktemp("metric_callback")
    probes = probe_images()
    callback = MetricCallback(probes, METRIC_METHODS, SCORED, log_dir=folder / "tb", options=METRIC_OPTIONS,
                              method_params=METHOD_PARAMS)
    logger = keras.callbacks.CSVLogger(str(folder / "log.csv"))
    model, history = seeded_fit([callback, logger])
    return {"folder": folder, "probes": probes, "model": model, "history": history, "callback": callback}


def test_fit_with_a_metric_callback_gives_the_same_weights(run, metric_run):
    # The randomisation metric clones and re-initialises a copy of the model inside fit: still no trace.
    for mine, reference in zip(metric_run["model"].get_weights(), run["plain"].get_weights(), strict=True):
        np.testing.assert_array_equal(mine, reference)
    for mine, reference in zip(metric_run["model"].optimizer.variables, run["plain"].optimizer.variables,
                               strict=True):
        np.testing.assert_array_equal(np.asarray(mine), np.asarray(reference))


def test_metric_callback_logs_what_evaluate_reports_on_the_probe_images(metric_run, tmp_path):
    # One chunk (chunk_size >= N): the runner seeds smoothgrad with chunk_seed(0, 0), as the callback does.
    callback, history = metric_run["callback"], metric_run["history"]
    summary = xai_tf.evaluate(metric_run["model"], metric_run["probes"], list(METRIC_METHODS), list(SCORED),
                              tmp_path / "eval", seed=0, chunk_size=PROBES, options=METRIC_OPTIONS,
                              method_params=METHOD_PARAMS, verbose=0)
    assert summary["metrics"] == COLUMNS
    with open(metric_run["folder"] / "log.csv") as handle:
        rows = list(csv.DictReader(handle))
    for method in METRIC_METHODS:
        assert callback.table[method] == summary["table"][method]  # every entry, _std and _n included
        for column in COLUMNS:
            expected = summary["table"][method][column]
            assert expected is not None and np.isfinite(expected)
            key = f"{column}_{method}"
            assert callback.history[1][key] == expected
            assert history.history[key][-1] == expected
            assert float(rows[-1][key]) == expected
    assert sorted(callback.history) == [0, 1] and callback.last_epoch == 1
    # the epochs differ: the values follow the weights
    assert callback.history[0] != callback.history[1]


def test_metric_callback_writes_one_scalar_per_column_and_method_with_its_note(metric_run):
    callback = metric_run["callback"]
    events = read_events(metric_run["folder"] / "tb")
    tags = [f"metrics/{column}/{method}" for column in COLUMNS for method in METRIC_METHODS]
    assert sorted((tag, step) for tag, step, _ in events) == sorted((tag, step) for tag in tags for step in (0, 1))
    descriptions = {}
    for tag, step, value in events:
        _, column, method = tag.split("/")
        logged = float(tf.make_ndarray(value.tensor))
        assert logged == pytest.approx(callback.history[step][f"{column}_{method}"], abs=1e-6)  # float32
        if value.metadata.plugin_data.plugin_name:
            assert value.metadata.plugin_data.plugin_name == "scalars"
            descriptions[tag] = value.metadata.summary_description
    assert set(descriptions) == set(tags)
    for tag, description in descriptions.items():
        _, column, method = tag.split("/")
        metric = METRICS["randomization" if column.startswith("randomization") else column]
        assert description.startswith(f"{metric.note(column)}: {method} on {PROBES} probe images")
        assert f"({metric.direction_of(column)} is better)" in description


def test_metric_callback_with_targets_and_ground_truth_scores_what_evaluate_scores_for_the_labels(tmp_path):
    model = tiny_cnn(num_classes=2)
    images, labels = random_images(4), np.array([0, 1, 1, 0])
    masks = np.zeros((4, SIZE, SIZE), bool)
    masks[:, 4:14, 6:20] = True
    metrics = ["pointing_game", "relevance_mass_accuracy", "insertion"]
    options = {"insertion_steps": 4}
    callback = MetricCallback(images, "vanilla_gradient", metrics, targets=labels, labels=labels, masks=masks,
                              options=options)
    callback.set_model(model)
    callback.on_train_begin()
    logs = {}
    callback.on_epoch_end(0, logs)
    callback.on_train_end()
    data = LabelledImages(images=images, labels=labels, class_names=("a", "b"), masks=masks)
    summary = xai_tf.evaluate(model, data, "vanilla_gradient", metrics, tmp_path / "eval", targets="label",
                              chunk_size=8, options=options, verbose=0)
    assert callback.table["vanilla_gradient"] == summary["table"]["vanilla_gradient"]
    assert logs == {f"{column}_vanilla_gradient": summary["table"]["vanilla_gradient"][column]
                    for column in ("pointing_game", "relevance_mass_accuracy", "insertion")}
    rows, arrays = callback.score_units()["vanilla_gradient"]
    np.testing.assert_array_equal(arrays["targets"], labels)  # the given targets, not the predicted classes
    np.testing.assert_array_equal(arrays["masks"], masks)
    assert [row["label"] for row in rows] == labels.tolist()


def test_metric_callback_rejects_bad_metrics_options_and_missing_ground_truth_at_construction():
    probes = probe_images()
    with pytest.raises(ValueError, match="metrics='nope' is not valid; expected one of: sic, aic"):
        MetricCallback(probes, "gradcam", ["sic", "nope"])
    with pytest.raises(ValueError, match=r"options \['pic_entropi'\] are unknown; valid: pic_entropy"):
        MetricCallback(probes, "gradcam", "sic", options={"pic_entropi": "shannon"})
    with pytest.raises(ValueError, match="pic_entropy='gzip' is not valid"):
        MetricCallback(probes, "gradcam", "sic", options={"pic_entropy": "gzip"})
    with pytest.raises(TypeError, match="deletion_steps must be an integer"):
        MetricCallback(probes, "gradcam", "deletion", options={"deletion_steps": 2.5})
    with pytest.raises(ValueError, match=r"metric 'pointing_game' needs ground truth \(masks or boxes\): the probe"):
        MetricCallback(probes, "gradcam", ["sic", "pointing_game"])
    with pytest.raises(ValueError, match="masks must have shape"):
        MetricCallback(probes, "gradcam", "pointing_game", masks=np.zeros((PROBES, 8, 8), bool))
    with pytest.raises(ValueError, match="top_k_intersection_k=2000 exceeds the 1024 pixels"):
        MetricCallback(probes, "gradcam", "top_k_intersection", boxes=[[(0, 0, 4, 4)]] * PROBES,
                       options={"top_k_intersection_k": 2000})
    with pytest.raises(ValueError, match="labels must have shape"):
        MetricCallback(probes, "gradcam", "sparseness", labels=[0, 1])
    with pytest.raises(ValueError, match="every_n_epochs"):
        MetricCallback(probes, "gradcam", "sparseness", every_n_epochs=0)
    # ground truth given: accepted
    MetricCallback(probes, "gradcam", "pointing_game", masks=np.zeros((PROBES, SIZE, SIZE), bool))


def test_pic_callback_aggregate_and_curve_points_are_those_of_pic(run):
    """aggregate and num_data_points are no runner options: the callback re-samples the stored curve
    points and re-aggregates them, which must be what pic() computes with those settings."""
    model, probes = run["model"], run["probes"]
    callback = PICCallback(probes, "vanilla_gradient", kind=("sic", "aic"), thresholds=[0.1, 0.3, 0.5],
                           min_pred_value=0.0, aggregate="mean", num_data_points=50, seed=2)
    callback.set_model(model)
    results = callback.score_probes()
    maps = xai_tf.explain(model, probes, "vanilla_gradient", verbose=0)
    for kind in ("sic", "aic"):
        expected = pic(model, probes, maps, kind=kind, thresholds=[0.1, 0.3, 0.5], entropy="shannon",
                       min_pred_value=0.0, aggregate="mean", num_data_points=50, seed=2, verbose=0)
        got = results[kind]["vanilla_gradient"]
        assert expected.num_included > 0 and got.aggregate == "mean" and got.curve_x.shape == (51,)
        assert got.excluded == expected.excluded
        for name in ("curve_x", "curves", "aucs", "curve", "random_masks", "targets"):
            np.testing.assert_array_equal(getattr(got, name), getattr(expected, name))
        assert got.auc == expected.auc


def test_pic_callback_warns_and_logs_nan_when_every_probe_is_excluded():
    model = tiny_cnn(num_classes=2)  # untrained: its AIC excludes every image (the class never changes)
    callback = PICCallback(random_images(4), "vanilla_gradient", kind="aic", thresholds=[0.1, 0.5],
                           min_pred_value=0.0)
    callback.set_model(model)
    logs = {}
    with pytest.warns(RuntimeWarning, match=r"pic: all 4 probe images were excluded from aic of vanilla_gradient"):
        callback.on_epoch_end(0, logs)
    assert np.isnan(logs["aic_auc_vanilla_gradient"]) and np.isnan(callback.history[0]["aic_auc_vanilla_gradient"])
    assert all(reason for reason in callback.results["aic"]["vanilla_gradient"].excluded)
    assert callback.table == {"vanilla_gradient": {"aic": None}}  # the runner's summary entry


# ---------------------------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("factory", [SaliencyCallback, lambda images, **kw: PICCallback(images, "gradcam", **kw)])
def test_bad_images_are_rejected_at_construction(factory):
    with pytest.raises(ValueError, match="images must be NHWC"):
        factory(np.zeros((SIZE, SIZE, 1)))
    with pytest.raises(ValueError, match=r"images must lie in \[0.0, 1.0\]"):
        factory(np.full((1, SIZE, SIZE, 1), 2.0))
    with pytest.raises(ValueError, match="images contains 1 NaN"):
        factory(np.where(np.arange(SIZE * SIZE).reshape(1, SIZE, SIZE, 1) == 5, np.nan, 0.5))


def test_bad_options_are_rejected_at_construction():
    probes = probe_images()
    with pytest.raises(ValueError, match="methods='gradkam' is not valid; expected one of: .*gradcam"):
        SaliencyCallback(probes, methods="gradkam")
    with pytest.raises(ValueError, match="methods='nope' is not valid"):
        PICCallback(probes, ["gradcam", "nope"])
    with pytest.raises(ValueError, match="denoise='blur' is not valid; expected one of: tv, bilateral"):
        SaliencyCallback(probes, denoise="blur")
    with pytest.raises(ValueError, match="every_n_epochs"):
        SaliencyCallback(probes, every_n_epochs=0)
    with pytest.raises(ValueError, match="kind='auc' is not valid; expected one of: sic, aic"):
        PICCallback(probes, "gradcam", kind=("sic", "auc"))
    with pytest.raises(ValueError, match="entropy='gzip' is not valid"):
        PICCallback(probes, "gradcam", entropy="gzip")
    with pytest.raises(ValueError, match="method_params names 'lime'"):
        SaliencyCallback(probes, method_params={"lime": {}})
    with pytest.raises(TypeError, match=r"unexpected parameter\(s\) \['steps'\]"):
        SaliencyCallback(probes, method_params={"gradcam": {"steps": 3}})
    with pytest.raises(ValueError, match="1 or 3 channels"):
        SaliencyCallback(np.zeros((1, SIZE, SIZE, 2)), log_dir="unused")
    with pytest.raises(TypeError, match="seed must be an integer"):
        PICCallback(probes, "gradcam", seed=0.5)


def test_images_of_the_wrong_shape_fail_when_training_starts():
    model = tiny_cnn(num_classes=2)  # takes (32, 32, 3)
    images, labels = random_images(4), np.array([0, 1, 0, 1])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    wrong = random_images(2, size=24, channels=3)
    for callback in (SaliencyCallback(wrong), PICCallback(wrong, "gradcam")):
        with pytest.raises(ValueError, match=r"images have shape \(24, 24, 3\) .* expects \(32, 32, 3\)"):
            model.fit(images, labels, epochs=1, verbose=0, callbacks=[callback])
    with pytest.raises(ValueError, match="targets"):
        model.fit(images, labels, epochs=1, verbose=0, callbacks=[SaliencyCallback(random_images(2), targets=[0, 2])])


def test_metric_callback_takes_a_probe_source_or_its_path_read_once(tmp_path):
    from xai_tf.data import open as open_source

    model = tiny_cnn(num_classes=2)
    images, labels = random_images(4), np.array([0, 1, 1, 0])
    masks = np.zeros((4, SIZE, SIZE), bool)
    masks[:, 4:14, 6:20] = True
    folder = tmp_path / "probes"
    folder.mkdir()
    for name, array in (("images", images), ("labels", labels), ("masks", masks)):
        np.save(folder / f"{name}.npy", array)
    metrics = ["pointing_game", "xai_entropy"]
    given = MetricCallback(images, "vanilla_gradient", metrics, targets=labels, labels=labels, masks=masks)
    source = open_source(folder, class_names=["a", "b"])
    for probes, extra in ((source, {}), (folder, {}), (str(folder / "images.npy"), {"labels": labels, "masks": masks})):
        callback = MetricCallback(probes, "vanilla_gradient", metrics, targets=labels, **extra)
        np.testing.assert_array_equal(callback.images, images)
        np.testing.assert_array_equal(callback.data.labels, labels)
        np.testing.assert_array_equal(callback.data.masks, masks)
        for each in (callback, given):
            each.set_model(model)
        mine, theirs = callback.score_units()["vanilla_gradient"], given.score_units()["vanilla_gradient"]
        assert mine[0] == theirs[0]
    assert source.rows_read == 4  # read whole, once, at construction
    assert callback.data.class_names == ("0", "1")  # labels given: named as for arrays
    assert MetricCallback(source, "vanilla_gradient", metrics).data.class_names == ("a", "b")
    with pytest.raises(ValueError, match="images"):
        MetricCallback(tmp_path / "missing.h5", "vanilla_gradient", metrics)
    assert SaliencyCallback(folder, "gradcam").images.shape == (4, SIZE, SIZE, 3)
