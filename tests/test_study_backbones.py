"""A backbone registered at run time reaches the study's training process, or the study says why it cannot.

A study trains each model in a fresh Python process (``xai_tf.study.tasks.train_task``); the model's
task carries the backbone's record there (``ship_backbone`` / ``receive_backbone``), so a toy backbone
registered only in this process trains, and a model loaded from a file that is built on one is scored,
without any plug-in module
(``tests/test_backbone_records.py`` runs a study YAML on it).
"""
from __future__ import annotations

import json
import pickle
import sys

import pytest
from test_backbone_records import TOY, toy, toy_backbone  # noqa: F401  (toy: the fixture)

from xai_tf import models, study
from xai_tf.models import BackboneRecord
from xai_tf.study import tasks

CONFIG = {
    "name": "toy", "data": {"source": "synthetic", "n": 40, "image_size": 32, "seed": 0},
    "models": [{"name": "t", "model": "toy", "epochs": 1, "no_augment": True}],
    "methods": ["gradcam"], "denoisers": ["none"], "metrics": ["pointing_game"], "chunk_size": 8, "report": False,
}


@pytest.mark.usefixtures("toy")
def test_the_shipped_record_registers_once_and_only_where_missing():
    shipped = tasks.ship_backbone({"model": "toy"})
    path, record = pickle.loads(shipped)
    assert path == [str(folder) for folder in sys.path] and pickle.loads(record) == TOY
    tasks.receive_backbone(shipped)  # registered already: left as it is
    assert models.backbones.RECORDS["toy"] is TOY
    models.unregister_backbone("toy")
    tasks.receive_backbone(shipped)
    assert models.backbones.RECORDS["toy"] == TOY
    assert tasks.ship_backbone({"model": "custom-v1"}) is None and tasks.receive_backbone(None) is None


def test_a_backbone_that_cannot_travel_is_named_before_any_training(tmp_path):
    local = BackboneRecord("toy_local", lambda **kwargs: toy_backbone(**kwargs), 16, "toy_conv2", "toy_conv2",
                           None, "tf", "A toy whose constructor is a lambda")
    models.register_backbone(local)
    try:
        config = {**CONFIG, "models": [{"name": "t", "model": "toy_local", "epochs": 1}]}
        with pytest.raises(ValueError, match=r"backbone 'toy_local' cannot be sent to the study's training process"
                                             r".*defined at module level in an importable module"):
            study.run(config, out=tmp_path / "out", verbose=0)
    finally:
        models.unregister_backbone("toy_local")
    assert not (tmp_path / "out" / "models").exists()


@pytest.mark.usefixtures("toy")
@pytest.mark.parametrize("how", ["built", "loaded"])
def test_dask_worker_processes_load_a_model_on_a_backbone_registered_here(tmp_path, how):
    # a worker process has only the built-in backbones: each score task carries the record it needs, for a
    # model the study builds and for one it loads (``path:``, read on the client to find its backbone)
    distributed = pytest.importorskip("distributed", reason="dask[distributed] is not installed")
    config = CONFIG
    if how == "loaded":
        path = tmp_path / "toy.keras"
        models.build_transfer("toy", (32, 32, 1), 2, weights=None, dense_units=8).save(path)
        config = {**CONFIG, "models": [{"name": "t", "path": str(path)}], "split": "all"}
    with distributed.LocalCluster(n_workers=1, processes=True, threads_per_worker=1, host="127.0.0.1",
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        assert "toy" not in client.run(lambda: tuple(models.list_backbones())).popitem()[1]
        result = study.run(config, out=tmp_path / "dask", dask=client, verbose=0)
    assert result["computed"]["train"] == (how == "built") and result["computed"]["units"] >= 1
    assert json.loads((tmp_path / "dask" / "table.json").read_text())[0]["complete"]
