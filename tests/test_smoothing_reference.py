"""The noise-averaging methods give the maps of their previous implementation, bit for bit (issue 30, item 3).

SmoothGrad, VarGrad, SquareGrad, SmoothGrad-IG and Smooth Blur IG became thin calls to
:func:`xai_tf.explainers.smoothing.smooth`; Integrated Gradients and Blur IG moved with them. The
maps of every one, at its defaults and under non-default options (other noise levels, sample
counts, batch sizes that split the samples, seeds, baselines, channel reductions), are compared
exactly with ``tests/data/smoothing_reference.npz``, computed by the implementation before the
refactor (one ``_smoothed`` in ``integrated.py``, ``smoothgrad`` and ``gradient_moments`` in
``gradients.py``) on a seeded tiny CNN and real images: two 24 px crops of ``skimage.data.camera``
and one ``sklearn`` digit upscaled to 24 px, grey replicated to RGB.

The reference was produced (before the refactor, and reproducible by any later implementation that
keeps the maps) with::

    .venv/bin/python tests/test_smoothing_reference.py

which rewrites the file (float32 maps, compressed, ~60 KB).
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import tiny_cnn

from xai_tf.explainers import explain

REFERENCE = Path(__file__).parent / "data" / "smoothing_reference.npz"
SIZE = 24

#: name -> (method, options); options may include explain's batch_size and seed.
CASES = {
    "smoothgrad_default": ("smoothgrad", {}),
    "smoothgrad_options": ("smoothgrad", {"n_samples": 4, "stdev_spread": 0.3, "magnitude": False,
                                          "channel_reduction": "abs_sum", "batch_size": 7, "seed": 3}),
    "vargrad_default": ("vargrad", {}),
    "vargrad_options": ("vargrad", {"n_samples": 5, "noise": 0.1, "batch_size": 3, "channel_reduction": "sum"}),
    "squaregrad_default": ("squaregrad", {}),
    "squaregrad_options": ("squaregrad", {"n_samples": 3, "stdev_spread": 0.05, "seed": 7}),
    "integrated_gradients_default": ("integrated_gradients", {}),
    "integrated_gradients_options": ("integrated_gradients", {"steps": 7, "baseline": "white", "batch_size": 5}),
    "smoothgrad_ig_default": ("smoothgrad_ig", {}),
    "smoothgrad_ig_options": ("smoothgrad_ig", {"steps": 5, "n_samples": 3, "baseline": "white",
                                                "magnitude": False, "batch_size": 4, "seed": 2}),
    "blur_ig_default": ("blur_ig", {}),
    "smooth_blur_ig_default": ("smooth_blur_ig", {}),
    "smooth_blur_ig_options": ("smooth_blur_ig", {"steps": 10, "n_samples": 3, "max_sigma": 5.0, "sqrt": True,
                                                  "magnitude": False, "stdev_spread": 0.25, "batch_size": 16}),
}


def images() -> np.ndarray:
    """``(3, 24, 24, 3)`` float32 in [0, 1]: two camera crops and one digit (a narrower range)."""
    from skimage import data
    from sklearn.datasets import load_digits

    camera = data.camera().astype(np.float32) / 255.0
    crops = [camera[100:100 + 2 * SIZE:2, 200:200 + 2 * SIZE:2], camera[300:300 + SIZE, 150:150 + SIZE]]
    digit = np.kron(load_digits().images[3] / 16.0, np.ones((3, 3)))  # 8 px -> 24 px
    grey = np.stack([*crops, 0.1 + 0.7 * digit]).astype(np.float32)
    return np.repeat(grey[..., None], 3, axis=-1)


def model():
    return tiny_cnn(input_shape=(SIZE, SIZE, 3), head="softmax", seed=4)


def compute(model, name: str) -> np.ndarray:
    method, options = CASES[name]
    options = dict(options)
    batch_size, seed = options.pop("batch_size", 64), options.pop("seed", 0)
    return explain(model, images(), method, batch_size=batch_size, seed=seed, verbose=0, **options)


@pytest.fixture(scope="module")
def reference():
    with np.load(REFERENCE) as stored:
        return dict(stored)


@pytest.fixture(scope="module")
def cnn():
    return model()


def test_reference_covers_every_case(reference):
    assert set(reference) == set(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_maps_equal_previous_implementation(cnn, reference, name):
    np.testing.assert_array_equal(compute(cnn, name), reference[name])


if __name__ == "__main__":
    REFERENCE.parent.mkdir(parents=True, exist_ok=True)
    built = model()
    maps = {name: compute(built, name).astype(np.float32) for name in CASES}
    np.savez_compressed(REFERENCE, **maps)
    print(f"wrote {REFERENCE} ({REFERENCE.stat().st_size} bytes)", file=sys.stderr)
