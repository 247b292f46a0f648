"""Data formats are records (``xai_tf.data.records``): the built-in table keeps the detection order ``open`` and
``load`` always had, and a toy format registered here (one record, one ``register_source`` call) works through
the Python API (``open``, ``load``, reopening by description), ``xai-tf evaluate --data``, a study YAML and the
guide's generated table, then disappears when unregistered."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
from conftest import tiny_cnn

from xai_tf import data as xai_data
from xai_tf import study
from xai_tf.data.opening import KINDS, source_kind
from xai_tf.data.records import RECORDS, SourceRecord, list_sources, register_source, unregister_source
from xai_tf.data.source_arrays import ArraySource

DOCS = Path(__file__).resolve().parents[1] / "docs"
NAMES = ("FRI", "FRII")
N, SIZE = 12, 16


class ToySource(ArraySource):
    """A ``.toy`` file: a NumPy ``.npz`` archive (``images``, ``labels``) under another suffix."""

    def __init__(self, path, class_names=None, *, skip_bad: bool = False):
        self.path, self.name = Path(path), str(path)
        self._options = {"class_names": None if class_names is None else list(class_names), "skip_bad": skip_bad}
        with np.load(self.path) as stored:
            images, labels = stored["images"], stored["labels"]
        self._setup(images, labels, class_names, None, skip_bad)

    def describe(self) -> dict:
        return {"kind": "toy", "path": str(self.path), **self._options}


TOY = SourceRecord(name="toy", title="toy", expected="a .toy file", source=ToySource, suffixes=(".toy",),
                   description="a toy archive of ``images`` and ``labels`` (NumPy ``.npz`` named ``.toy``)")


@pytest.fixture
def toy(tmp_path):
    register_source(TOY)
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (N, SIZE, SIZE), dtype=np.uint8)
    labels = np.arange(N) % 2
    path = tmp_path / "galaxies.toy"
    with open(path, "wb") as handle:  # np.savez would append .npz to a name
        np.savez(handle, images=images, labels=labels)
    yield {"path": path, "images": (images / 255.0).astype(np.float32)[..., None], "labels": labels}
    unregister_source("toy")


def test_the_built_in_records_keep_the_detection_order():
    assert list_sources()[:8] == ("mirabest", "object_cxr", "figshare", "hdf5", "npy", "zarr", "fits", "folder")
    assert list(KINDS) == ["hdf5", "npy", "zarr", "fits", "folder"]
    assert {name: KINDS[name] for name in KINDS} == {"hdf5": xai_data.HDF5Source, "npy": xai_data.NumpySource,
                                                      "zarr": xai_data.ZarrSource, "fits": xai_data.FitsSource,
                                                      "folder": xai_data.FolderSource}
    assert RECORDS["folder"].loader is xai_data.load_image_folder and RECORDS["mirabest"].source is None
    assert RECORDS["fits"].extra == "fits" and RECORDS["zarr"].extra == "zarr"
    assert "1. ``hdf5``" in xai_data.open.__doc__ and "4. ``folder``" in xai_data.load.__doc__


def test_a_record_is_checked_and_register_refuses_duplicates():
    with pytest.raises(ValueError, match="lowercase"):
        SourceRecord(name="Toy", title="t", expected="e", description="d", source=ToySource, suffixes=(".toy",))
    with pytest.raises(ValueError, match="lazy source, a whole-set loader"):
        SourceRecord(name="toy", title="t", expected="e", description="d", suffixes=(".toy",))
    with pytest.raises(ValueError, match="detect="):
        SourceRecord(name="toy", title="t", expected="e", description="d", source=ToySource)
    with pytest.raises(TypeError, match="ImageSource subclass"):
        SourceRecord(name="toy", title="t", expected="e", description="d", source=dict, suffixes=(".toy",))
    with pytest.raises(ValueError, match="already registered"):
        register_source(RECORDS["npy"])
    with pytest.raises(ValueError, match="before='nope'"):
        register_source(TOY, before="nope")
    assert TOY.options == ("class_names", "skip_bad")


def test_toy_format_through_the_python_api(toy, tmp_path):
    path = toy["path"]
    assert list_sources()[-1] == "toy" and "toy" in KINDS and source_kind(path) == "toy"
    source = xai_data.open(path, class_names=NAMES)
    assert isinstance(source, ToySource) and source.class_names == NAMES
    images, labels, _ = source.read([3, 0])
    np.testing.assert_array_equal(images, toy["images"][[3, 0]])
    np.testing.assert_array_equal(labels, toy["labels"][[3, 0]])
    again = xai_data.open(json.loads(json.dumps(source.describe())))  # how a worker reopens it
    assert isinstance(again, ToySource) and again.fingerprint() == source.fingerprint()
    loaded = xai_data.load(path, class_names=NAMES)  # load reads a lazy-only format whole
    np.testing.assert_array_equal(loaded.images, toy["images"])
    assert loaded.class_names == NAMES and loaded.info["conversions"] == []
    assert xai_data.load(path, image_size=8).images.shape == (N, 8, 8, 1)
    with pytest.raises(ValueError, match=r"or a \.toy file$"):  # the "expected ..." errors read the records
        xai_data.open(tmp_path)
    with pytest.raises(ValueError, match=r"or a \.toy file$"):
        xai_data.load(tmp_path)


def test_register_before_puts_a_format_ahead_in_detection(toy):
    unregister_source("toy")
    register_source(TOY, before="hdf5")
    assert list_sources().index("toy") == list_sources().index("hdf5") - 1
    assert source_kind(toy["path"]) == "toy"


def test_toy_format_through_the_command_line(toy, tmp_path):
    from xai_tf.cli import main

    model_path = tmp_path / "model.keras"
    tiny_cnn(input_shape=(SIZE, SIZE, 1), num_classes=2).save(model_path)
    assert main(["evaluate", "--model", str(model_path), "--data", str(toy["path"]), "--methods", "random",
                 "--metrics", "xai_entropy", "--chunk-size", "6", "--verbose", "0", "--out",
                 str(tmp_path / "eval")]) == 0
    rows = (tmp_path / "eval" / "results.jsonl").read_text().splitlines()
    assert len(rows) == N


def test_toy_format_through_a_study_yaml(toy, tmp_path):
    import yaml

    model_path = tmp_path / "model.keras"
    tiny_cnn(input_shape=(SIZE, SIZE, 1), num_classes=2).save(model_path)
    config = {"name": "on-toy", "data": {"source": str(toy["path"]), "image_size": SIZE, "color": "grayscale",
                                         "options": {"class_names": list(NAMES)}},
              "split": "all", "models": [{"name": "tiny", "path": str(model_path)}], "methods": ["random"],
              "denoisers": ["none"], "metrics": ["xai_entropy"], "chunk_size": 6, "report": False}
    path = tmp_path / "study.yaml"
    path.write_text(yaml.safe_dump(config))
    from xai_tf.study import sources as study_sources

    checked = study.check_config(study.read_config(path))
    assert study_sources.study_kind(toy["path"]) == "toy"
    assert isinstance(study_sources.open_study_data(checked["data"]).base, ToySource)
    result = study.run(path, out=tmp_path / "study", verbose=0)
    cell = next((tmp_path / "study" / "cells").iterdir())
    assert len((cell / "results.jsonl").read_text().splitlines()) == N and result["computed"]["units"] == 2


def test_toy_format_in_the_guide_table(toy):
    spec = importlib.util.spec_from_file_location("source_tables", DOCS / "source_tables.py")
    source_tables = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(source_tables)
    table = source_tables.sources_table()
    assert "| `toy` | a toy archive" in table and "`.toy`" in table and "`class_names=None`" in table
    assert table.index("| `folder` |") < table.index("| `toy` |")
    unregister_source("toy")
    assert "| `toy` |" not in source_tables.sources_table()
    assert "toy" not in list_sources() and "toy" not in KINDS
