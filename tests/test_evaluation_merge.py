"""merge: the shards' skipped images (skip_bad) reach the merged folder as one skipped.json."""
from __future__ import annotations

import json

from conftest import tiny_cnn
from test_data_sources import NAMES, digits, write_png_folder

from xai_tf import data as xai_data
from xai_tf.evaluation import evaluate
from xai_tf.evaluation.merge import merge
from xai_tf.evaluation.skipping import SKIPPED, merge_skipped, read_skipped


def test_merge_writes_the_union_of_the_shards_skipped_images(tmp_path):
    images, labels = digits()  # 12 images of 16 px; shard 1/2 holds chunks 0 and 2, shard 2/2 chunk 1
    root = write_png_folder(tmp_path / "png", images, labels, NAMES)
    source = xai_data.open(root, skip_bad=True)
    bad = {1: source.files[1], 5: source.files[5]}  # one in each shard
    for path in bad.values():
        path.write_bytes(path.read_bytes()[:40])  # truncated
    model = tiny_cnn(input_shape=(16, 16, 1), num_classes=3)
    shards = [tmp_path / "shard1", tmp_path / "shard2"]
    for shard, folder in zip(("1/2", "2/2"), shards):
        evaluate(model, xai_data.open(root, skip_bad=True), "random", "xai_entropy", folder, shard=shard,
                 chunk_size=4, verbose=0)
    assert [sorted(read_skipped(folder)) for folder in shards] == [[1], [5]]
    merge(shards, tmp_path / "merged")
    listed = json.loads((tmp_path / "merged" / SKIPPED).read_text())["skipped"]
    assert [(entry["image"], entry["file"]) for entry in listed] == [(1, str(bad[1])), (5, str(bad[5]))]
    rows = (tmp_path / "merged" / "results.jsonl").read_text().splitlines()
    assert sorted(json.loads(row)["image"] for row in rows) == [i for i in range(12) if i not in bad]


def test_no_skipped_shard_writes_no_file(tmp_path):
    (tmp_path / "a").mkdir()
    assert merge_skipped([tmp_path / "a"], tmp_path / "merged") == {}
    assert not (tmp_path / "merged" / SKIPPED).exists()
