"""Studies on file-based sources: workers read only their chunks; rows equal to the in-memory path's.

A tiny study: one loaded tiny CNN x 2 methods x 2 denoisers on 24 synthetic 32x32 galaxies written
as a ``.npy`` folder (images, labels, masks), chunks of 8 (3 chunks per cell), split ``all``.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import tiny_cnn

from xai_tf import data as xai_data
from xai_tf import study
from xai_tf._io import fingerprint
from xai_tf.data.source_arrays import NumpySource
from xai_tf.study import sources as study_sources
from xai_tf.study import tasks

N, CHUNK = 24, 8
READS: list[list[int]] = []  # every row list a NumpySource read while counting (all threads of this process)


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("study_sources")
    dataset = xai_data.load("synthetic", n=N, image_size=32, seed=0)
    folder = root / "galaxies"
    folder.mkdir()
    np.save(folder / "images.npy", dataset.images)
    np.save(folder / "labels.npy", dataset.labels)
    np.save(folder / "masks.npy", dataset.masks)
    model_path = root / "model.keras"
    tiny_cnn(input_shape=(32, 32, 1), num_classes=2).save(model_path)
    config = {
        "name": "on-npy", "data": {"source": str(folder), "image_size": 32, "color": "grayscale",
                                   "options": {"class_names": ["FRI", "FRII"]}},
        "split": "all", "models": [{"name": "tiny", "path": str(model_path)}],
        "methods": ["random", "vanilla_gradient"], "denoisers": ["none", {"gaussian": {"sigma": 1.0}}],
        "metrics": ["xai_entropy", "pointing_game"], "chunk_size": CHUNK, "report": False,
    }
    return {"root": root, "folder": folder, "dataset": dataset, "config": config}


@pytest.fixture
def counting(monkeypatch):
    """Log every row list a ``NumpySource`` reads; drop the workers' cached sources first."""
    original = NumpySource._rows

    def logged(self, indices):
        READS.append(np.asarray(indices).tolist())
        return original(self, indices)

    monkeypatch.setattr(NumpySource, "_rows", logged)
    tasks.CACHE.clear()
    READS.clear()
    yield READS
    tasks.CACHE.clear()


def cells(out) -> dict:
    """``{model__method__denoiser: (sorted result lines, {array file: {name: array}} without timings)}``."""
    found = {}
    for folder in sorted((Path(out) / "cells").iterdir()):
        arrays = {}
        for path in sorted((folder / "arrays").glob("*.npz")):
            with np.load(path) as stored:
                arrays[path.name] = {key: stored[key] for key in stored.files if key != "seconds"}
        found[folder.name.rsplit("__", 1)[0]] = (sorted((folder / "results.jsonl").read_text().splitlines()), arrays)
    return found


def assert_reads_are_chunks(reads):
    chunks = [set(range(start, min(start + CHUNK, N))) for start in range(0, N, CHUNK)]
    assert reads, "the study read nothing from the source"
    for read in reads:
        assert len(read) < N, "a read covered the whole data set"
        assert any(set(read) <= chunk for chunk in chunks), f"read {read} spans chunks"
    assert set().union(*map(set, reads)) == set(range(N))  # every image was scored


@pytest.fixture(scope="module")
def lazy_run(setup):
    out = setup["root"] / "lazy"
    return out, study.run(setup["config"], out=out, verbose=0)


def test_workers_read_only_their_chunks(setup, counting, tmp_path):
    result = study.run(setup["config"], out=tmp_path / "counted", verbose=0)
    assert result["computed"]["units"] == 2 * (N // CHUNK)  # one unit per method x chunk serves both denoisers
    assert_reads_are_chunks(counting)
    cell_config = json.loads(next((tmp_path / "counted" / "cells").iterdir()).joinpath("config.json").read_text())
    cheap = study_sources.open_study_data(study.check_config(setup["config"])["data"]).fingerprint()
    assert cell_config["config"]["data_fingerprint"] == cheap


def test_a_unit_carries_its_own_rows_not_the_cell(setup, monkeypatch, tmp_path):
    # a unit the size of the data set would make a survey's study quadratic in memory and transfer
    seen = []
    original = tasks.score_task

    def spy(unit):
        seen.append(unit)
        return original(unit)

    monkeypatch.setattr(tasks, "score_task", spy)
    tasks.CACHE.clear()
    study.run(setup["config"], out=tmp_path / "units", verbose=0)
    assert len(seen) == 2 * (N // CHUNK)
    for unit in seen:
        assert isinstance(unit, tasks.ScoreTask) and unit.indices is None and unit.cell_size == N
        assert unit.rows == unit.positions and len(unit.rows) == CHUNK  # split all: row = position
    assert len({unit.cell_rows for unit in seen}) == 1
    view = study_sources.open_study_data(study.check_config(setup["config"])["data"]).positions_view(N)
    with pytest.raises(ValueError, match="read before their source rows were given"):
        view.read([0])
    view.fill([3], [5])
    np.testing.assert_array_equal(view.read([3])[0], view.base.read([5])[0])


def test_dask_workers_read_only_their_chunks(setup, lazy_run, counting, tmp_path):
    distributed = pytest.importorskip("distributed", reason="dask[distributed] is not installed")
    with distributed.LocalCluster(n_workers=1, processes=False, threads_per_worker=1, dashboard_address=None) \
            as cluster, distributed.Client(cluster) as client:
        result = study.run(setup["config"], out=tmp_path / "dask", dask=client, verbose=0)
    assert result["computed"]["units"] == 2 * (N // CHUNK)
    assert_reads_are_chunks(counting)
    mine, reference = cells(tmp_path / "dask"), cells(lazy_run[0])
    assert sorted(mine) == sorted(reference)
    for name in reference:
        assert mine[name][0] == reference[name][0], name


def test_npy_source_rows_equal_the_in_memory_rows(setup, lazy_run, monkeypatch, tmp_path):
    out, lazy = lazy_run
    monkeypatch.setattr(study_sources, "open_study_data", lambda data: None)  # the in-memory path, as before
    memory = study.run(setup["config"], out=tmp_path / "memory", verbose=0)
    mine, reference = cells(out), cells(tmp_path / "memory")
    assert sorted(mine) == sorted(reference) and len(mine) == 4
    for name, (rows, arrays) in reference.items():
        assert mine[name][0] == rows and len(rows) == N, name  # byte-identical rows
        assert sorted(mine[name][1]) == sorted(arrays), name
        for file, stored in arrays.items():
            for key, value in stored.items():
                np.testing.assert_array_equal(mine[name][1][file][key], value, err_msg=f"{name}/{file}/{key}")
    drop = ("folder", "hash", "seconds")
    assert [{k: v for k, v in row.items() if k not in drop} for row in lazy["table"]] == \
        [{k: v for k, v in row.items() if k not in drop} for row in memory["table"]]
    fingerprints = {json.loads((Path(c["folder"]) / "config.json").read_text())["config"]["data_fingerprint"]
                    for c in memory["cells"]}
    assert fingerprints == {fingerprint([setup["dataset"].images, setup["dataset"].labels])}


def test_full_fingerprint_is_the_in_memory_one(setup):
    source = study_sources.open_study_data(study.check_config(setup["config"])["data"])
    assert source.fingerprint(full=True) == fingerprint([setup["dataset"].images, setup["dataset"].labels])
    subset = source.subset([3, 9, 17])
    images, labels, masks = subset.read(np.array([2, 0]))
    np.testing.assert_array_equal(images, setup["dataset"].images[[17, 3]])
    np.testing.assert_array_equal(labels, setup["dataset"].labels[[17, 3]])
    np.testing.assert_array_equal(masks, setup["dataset"].masks[[17, 3]])
    again = study_sources.open_study_source(json.loads(json.dumps(source.describe())))
    assert again.fingerprint() == source.fingerprint() and again.image_shape == (32, 32, 1)


def test_study_yaml_takes_a_source_and_names_bad_data(setup, tmp_path):
    import yaml

    config = dict(setup["config"], data={"source": str(setup["folder"]), "image_size": 32})
    path = tmp_path / "study.yaml"
    path.write_text(yaml.safe_dump(config))
    assert study.check_config(study.read_config(path))["data"]["source"] == str(setup["folder"])
    for data, message in (
            ({"source": str(tmp_path / "missing.h5")}, "data.source"),
            ({"source": str(setup["folder"]), "options": {"normalise": "minmax"}}, "normalise"),
            ({"source": str(setup["folder"]), "options": {"image_size": 16}}, "data.image_size"),
            ({"source": "synthetic", "options": {"classes": ["a"]}}, "data.options"),
            ({"source": str(setup["folder"]), "shape": 3}, "shape")):
        path.write_text(yaml.safe_dump(dict(config, data=data)))
        with pytest.raises(ValueError, match=message):
            study.check_config(study.read_config(path))


def test_synthetic_studies_keep_their_checked_data():
    checked = study.check_config(study.read_config("paper004-synthetic"))
    assert "options" not in checked["data"]
    assert study_sources.open_study_data(checked["data"]) is None
    from xai_tf.study.config import load_settings, train_settings_of

    settings = load_settings(checked)
    assert "data_options" not in settings and "data_options" not in train_settings_of(checked, checked["models"][0])


def test_a_recorded_split_is_checked_against_the_streamed_source(setup, tmp_path):
    source = study_sources.open_study_data(study.check_config(setup["config"])["data"])
    run = tmp_path / "run"
    run.mkdir()
    record = {"train": list(range(4, N)), "held_out": [0, 1, 2, 3], "images": N,
              "data_fingerprint": fingerprint([setup["dataset"].images, setup["dataset"].labels])}
    (run / "split.json").write_text(json.dumps(record))
    cache = {}
    assert study_sources.split_indices(run, source, "held-out", cache).tolist() == [0, 1, 2, 3]
    assert study_sources.split_indices(run, source, "all", cache).tolist() == list(range(N))
    (run / "split.json").write_text(json.dumps(dict(record, data_fingerprint="0" * 16)))
    with pytest.raises(ValueError, match="split='held-out'"):
        study_sources.split_indices(run, source, "held-out", {})
    with pytest.raises(ValueError, match="no split.json"):
        study_sources.split_indices(tmp_path, source, "train", {})
