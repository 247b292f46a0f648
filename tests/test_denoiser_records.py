"""The denoiser records: ``denoise(maps, name)`` equals the public function and the implementation before the
records bit for bit; a toy denoiser registered in a test works through the API, the CLI, a study and the docs' table.

``tests/data/denoising_reference.npz`` holds the outputs of ``xai_tf/denoising.py`` as it was before the
records (commit b9fa8a5) on :func:`inputs` with :data:`PARAMS`, key ``"name|input|params index"``; it was
written by loading that file with ``git show b9fa8a5:xai_tf/denoising.py`` and calling its ``denoise``
(its filter directly for the wavelet's ``method=``, which its ``denoise`` could not take).
"""
from __future__ import annotations

import inspect
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage

import xai_tf
from xai_tf import cli, study
from xai_tf.denoising import DenoiserRecord, Parameter, describe_denoisers, register, unregister
from xai_tf.denoising.denoisers import BUILT_IN
from xai_tf.denoising.records import odd_int, positive_number

ROOT = Path(__file__).resolve().parents[1]
PARAMS = {
    "tv": [{}, {"weight": 0.25, "max_num_iter": 50}],
    "bilateral": [{}, {"d": 5, "sigma_color": 30.0, "sigma_space": 3.0}],
    "median": [{}, {"size": 3}, {"size": 7}],
    "wavelet": [{}, {"wavelet": "db2", "mode": "hard"}, {"wavelet_levels": 2},
                {"wavelet": "db1", "method": "VisuShrink"}],
    "nlm": [{}, {"patch_size": 3, "search_window": 7, "h": 0.05}],
    "gaussian": [{}, {"sigma": 2.0, "truncate": 3.0}],
}


REFERENCE = ROOT / "tests" / "data" / "denoising_reference.npz"


def inputs() -> dict:
    from skimage.data import camera
    from sklearn.datasets import load_digits

    rng = np.random.default_rng(3)
    crop = camera()[200:264, 220:284].astype(np.float32) / 255.0
    digits = load_digits().images[:5].astype(np.float32)  # 0..16, non-negative, maximum not 1
    return {
        "camera": crop,                                                   # one map in [0, 1], max < 1
        "camera_scaled": crop[None] * np.float32(1e-3),                   # a raw-gradient scale
        "digits": digits,
        "signed": rng.normal(size=(3, 24, 24)).astype(np.float32),
        "unit_max": (lambda m: m / m.max())(rng.random((2, 16, 16)).astype(np.float32)),
        "images_grey": rng.random((2, 20, 20, 1)).astype(np.float32),
        "images_rgb": rng.random((2, 20, 20, 3)).astype(np.float32),
        "images_4ch": rng.random((1, 20, 20, 4)).astype(np.float32),
    }


@pytest.mark.parametrize("name", [record.name for record, _ in BUILT_IN])
def test_by_name_equals_the_public_function_and_the_earlier_implementation(name):
    function = getattr(xai_tf.denoise, name)
    compared = 0
    with np.load(REFERENCE) as reference:
        for key, maps in inputs().items():
            for index, params in enumerate(PARAMS[name]):
                stored = f"{name}|{key}|{index}"
                if stored not in reference.files:  # nlm windows larger than the map, the wavelet's method= on images
                    continue
                by_name = xai_tf.denoise(maps, name, verbose=0, **params)
                np.testing.assert_array_equal(by_name, function(maps, verbose=0, **params), err_msg=stored)
                np.testing.assert_array_equal(by_name, reference[stored], err_msg=stored)
                assert by_name.dtype == np.float32
                compared += 1
    assert compared >= 2 * len(inputs()) - 2


def test_public_functions_match_their_records():
    for record, function in BUILT_IN:
        signature = inspect.signature(function).parameters
        assert [key for key in signature if key not in ("maps", "workers", "verbose")] == list(record.parameters)
        assert {key: signature[key].default for key in record.parameters} == record.defaults()
        assert getattr(xai_tf.denoise, record.name) is function and getattr(xai_tf.denoising, record.name) is function


def test_the_records_keep_the_earlier_names():
    with np.load(REFERENCE) as reference:
        earlier = list(dict.fromkeys(key.split("|")[0] for key in reference.files))
    assert earlier == list(xai_tf.denoise.methods())


# ---------------------------------------------------------------------------------------------
# A toy denoiser: a box filter, registered for the tests below only
# ---------------------------------------------------------------------------------------------


def box_filter(x, *, size):
    return ndimage.uniform_filter(x, size=size if x.ndim == 2 else (size, size, 1), mode="reflect")


BOX = DenoiserRecord("box", box_filter, {"size": Parameter(3, odd_int, "odd window side, px")}, source="a test",
                     library="box filter (SciPy)", description="mean of each window", window_parameters=("size",))


@pytest.fixture
def box():
    register(BOX)
    try:
        yield BOX
    finally:
        unregister("box")


def test_toy_denoiser_through_the_python_api(box):
    assert xai_tf.denoise.methods()[-1] == "box" and xai_tf.denoise.defaults("box") == {"size": 3}
    rng = np.random.default_rng(0)
    signed = rng.normal(size=(2, 12, 12)).astype(np.float32)
    scale = np.abs(signed).reshape(2, -1).max(axis=1)[:, None, None].astype(np.float32)
    half = np.float32(0.5)
    expected = np.stack([(box_filter((m / s + np.float32(1.0)) * half, size=3) - half) * (np.float32(2.0) * s)
                         for m, s in zip(signed, scale)])
    np.testing.assert_array_equal(xai_tf.denoise(signed, "box", verbose=0), expected)
    positive = np.abs(signed)
    top = positive.reshape(2, -1).max(axis=1)[:, None, None].astype(np.float32)
    np.testing.assert_array_equal(xai_tf.denoise(positive, "box", size=5, verbose=0),
                                  np.stack([box_filter(m / t, size=5) * t for m, t in zip(positive, top)]))
    with pytest.raises(ValueError, match="size must be an odd number"):
        xai_tf.denoise(signed, "box", size=4)
    with pytest.raises(ValueError, match="size=13 is larger than the maps"):
        xai_tf.denoise(signed, "box", size=13)
    with pytest.raises(TypeError, match="it accepts: size"):
        xai_tf.denoise(signed, "box", width=3)


def test_toy_denoiser_through_the_cli(box, tmp_path):
    assert "box" in cli.build_parser()._subparsers._group_actions[0].choices["explain"].format_help()
    model = xai_tf.models.build_custom_cnn((32, 32, 1), 2, variant="v1")
    model.save(tmp_path / "tiny.keras")
    out = tmp_path / "explained"
    assert cli.main(["explain", "--model", str(tmp_path / "tiny.keras"), "--data", "synthetic", "--n", "6",
                     "--image-size", "32", "--methods", "vanilla_gradient", "--limit", "2", "--denoise", "box",
                     "--out", str(out), "--verbose", "0"]) == 0
    data = xai_tf.data.load("synthetic", n=6, image_size=32, seed=0)
    chosen = np.load(out / "images.npz")["indices"]
    raw = xai_tf.explain(model, data.images[chosen], "vanilla_gradient", verbose=0)
    np.testing.assert_allclose(np.load(out / "maps.npz")["vanilla_gradient"], xai_tf.denoise(raw, "box", verbose=0),
                               atol=1e-6)


def test_toy_denoiser_in_a_study(box, tmp_path):
    config = {"name": "toy", "data": {"source": "synthetic", "n": 20, "image_size": 32, "seed": 0},
              "models": [{"name": "v1", "model": "custom-v1", "epochs": 1}], "methods": ["vanilla_gradient"],
              "denoisers": ["none", {"box": {"size": 3}}], "metrics": ["pointing_game"], "chunk_size": 8,
              "report": False}
    result = study.run(config, out=tmp_path / "study", verbose=0)
    cells = {c["denoiser"]: Path(c["folder"]) for c in result["cells"]}
    assert sorted(cells) == ["box", "none"]
    for chunk in sorted(p.name for p in (cells["none"] / "arrays").glob("*.npz")):
        with np.load(cells["none"] / "arrays" / chunk) as raw, np.load(cells["box"] / "arrays" / chunk) as boxed:
            np.testing.assert_array_equal(boxed["maps"], xai_tf.denoise(raw["maps"], "box", verbose=0))
    with pytest.raises(TypeError, match="box accepts: size"):
        study.check_config({**config, "denoisers": [{"box": {"width": 3}}]})


def test_toy_denoiser_in_the_docs_table(box):
    sys.path.insert(0, str(ROOT / "docs"))
    try:
        import denoiser_tables
    finally:
        sys.path.remove(str(ROOT / "docs"))
    table = denoiser_tables.denoisers_table()
    assert "| `box` | box filter (SciPy) | `size=3` (odd window side, px) | a test |" in table.splitlines()
    assert table.splitlines()[2].startswith("| `tv` | total variation")
    unregister("box")
    try:
        assert "`box`" not in denoiser_tables.denoisers_table()
    finally:
        register(BOX)


# ---------------------------------------------------------------------------------------------
# register / unregister refuse what they cannot take, by name
# ---------------------------------------------------------------------------------------------


def test_register_refuses_a_duplicate_and_bad_records(box):
    with pytest.raises(ValueError, match="'box' is already registered; unregister\\('box'\\) first"):
        register(BOX)
    with pytest.raises(ValueError, match="'tv' is already registered"):
        register(describe_denoisers()["tv"])
    with pytest.raises(TypeError, match="record must be a DenoiserRecord"):
        register({"name": "dict"})
    with pytest.raises(TypeError, match="function must be callable"):
        DenoiserRecord("bad", "not a function")
    with pytest.raises(ValueError, match="reserved"):
        DenoiserRecord("none", box_filter)
    with pytest.raises(ValueError, match="identifier"):
        DenoiserRecord("two words", box_filter)
    with pytest.raises(TypeError, match="parameter 'size' must be a Parameter"):
        DenoiserRecord("bad", box_filter, {"size": 3})
    with pytest.raises(ValueError, match=r"window parameter\(s\) \['width'\]"):
        DenoiserRecord("bad", box_filter, {"size": Parameter(3, positive_number)}, window_parameters=("width",))
    with pytest.raises(TypeError, match="linear must be True or False"):
        DenoiserRecord("bad", box_filter, linear="yes")
    assert unregister("nothing") is None  # a name not registered is ignored, as for every kind


def test_unregistering_a_built_in_removes_it_until_registered_again():
    record = unregister("median")
    try:
        assert "median" not in xai_tf.denoise.methods()
        with pytest.raises(ValueError, match="method='median' is not valid"):
            xai_tf.denoise(np.ones((8, 8), np.float32), "median")
        maps = np.random.default_rng(1).random((8, 8)).astype(np.float32)
        np.testing.assert_array_equal(xai_tf.denoise.median(maps, verbose=0),
                                      ndimage.median_filter(maps / maps.max(), size=5, mode="nearest") * maps.max())
    finally:
        register(record)
        names = list(xai_tf.denoise.methods())
        names.remove("median")
        names.insert(2, "median")  # back in its place for the other tests
        xai_tf.denoising.records.RECORDS.update({n: xai_tf.denoising.records.RECORDS.pop(n) for n in names})
    assert xai_tf.denoise.methods()[:6] == ("tv", "bilateral", "median", "wavelet", "nlm", "gaussian")
