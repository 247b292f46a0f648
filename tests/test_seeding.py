"""Seeding under every option that draws (issue 32, item 3).

- Every stochastic method, under each option that changes what is drawn (noise levels, sample
  counts, baselines, segmentations): the same seed gives the same maps whatever the batch size,
  and in another process; another seed gives other maps.
- Every stochastic metric: the same seed gives the same values whatever the batch size; another
  seed other values.
- No draw from a global generator: the methods and metrics run with NumPy's, Python's, TensorFlow's
  and Keras' global generators patched to raise, and a scan of the package's code finds no call of
  one (module-level ``np.random.*`` functions, ``random.*``, stateful ``tf.random.*``, unseeded
  ``keras.random.*`` or ``default_rng()`` without a seed).
- KernelSHAP samples coalition sizes from the Shapley kernel (not uniformly).
"""
from __future__ import annotations

import ast
import json
import random
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf
from conftest import tiny_cnn

import xai_tf
from xai_tf.explainers import explain, list_methods
from xai_tf.metrics.chunk import Chunk
from xai_tf.metrics.registry import METRICS, default_options

SIZE = 16


def _images(n=3):
    rng = np.random.default_rng(5)
    images = rng.random((n, SIZE, SIZE, 3)).astype(np.float32)
    images[1] = 0.2 + 0.3 * images[1]  # another range
    images[2, :6, :6] = 0.4  # a constant block
    return images


@pytest.fixture(scope="module")
def model():
    return tiny_cnn(input_shape=(SIZE, SIZE, 3), head="softmax", seed=1)


BACKGROUND = np.random.default_rng(8).random((4, SIZE, SIZE, 3)).astype(np.float32)

#: Every stochastic method under each option that changes its draws (small sizes: seconds on 2 cores).
DRAWING_OPTIONS = [
    ("smoothgrad", {"n_samples": 3, "stdev_spread": 0.3}),
    ("smoothgrad", {"n_samples": 2, "stdev_spread": 0.05, "magnitude": False}),
    ("vargrad", {"n_samples": 3, "stdev_spread": 0.3}),
    ("vargrad", {"n_samples": 3, "noise": 0.1}),
    ("squaregrad", {"n_samples": 3, "stdev_spread": 0.3}),
    ("squaregrad", {"n_samples": 2, "noise": 0.1}),
    ("smoothgrad_ig", {"n_samples": 2, "steps": 3, "stdev_spread": 0.3}),
    ("smooth_blur_ig", {"n_samples": 2, "steps": 3, "max_sigma": 4.0, "stdev_spread": 0.3}),
    ("gradient_shap", {"n_samples": 4}),
    ("gradient_shap", {"n_samples": 4, "stdev_spread": 0.2}),
    ("gradient_shap", {"n_samples": 4, "baselines": "black", "stdev_spread": 0.2}),
    ("gradient_shap", {"n_samples": 4, "baselines": BACKGROUND}),
    ("kernel_shap", {"n_samples": 20, "grid_size": 3}),
    ("kernel_shap", {"n_samples": 20, "segmentation": "slic"}),
    ("lime", {"num_samples": 20, "segmentation_params": {"kernel_size": 1, "max_dist": 4}}),
    ("lime", {"num_samples": 20, "hide_color": None, "segmentation": "slic"}),
    ("rise", {"n_masks": 12, "grid_size": 3}),
    ("rise", {"n_masks": 12, "grid_size": 3, "keep_probability": 0.3, "score": "logit"}),
    ("random", {}),
]


def test_every_stochastic_method_has_drawing_options():
    assert {name for name, _ in DRAWING_OPTIONS} == set(list_methods(stochastic=True))


class GlobalDraw(AssertionError):
    pass


def _refuse(name):
    def refuse(*args, **kwargs):
        raise GlobalDraw(f"a draw from a global generator: {name}")
    return refuse


NUMPY_GLOBAL = ("rand", "randn", "random", "random_sample", "ranf", "sample", "randint", "random_integers",
                "choice", "shuffle", "permutation", "normal", "standard_normal", "uniform", "binomial", "poisson",
                "exponential", "beta", "gamma", "multinomial", "seed", "bytes")
PYTHON_GLOBAL = ("random", "randint", "randrange", "choice", "choices", "shuffle", "sample", "uniform", "gauss",
                 "normalvariate", "seed")
TF_STATEFUL = ("uniform", "normal", "truncated_normal", "shuffle", "categorical", "gamma", "poisson", "set_seed")


@pytest.fixture
def no_global_random(monkeypatch):
    """NumPy's, Python's, TensorFlow's global generators and Keras' unseeded draws raise."""
    for name in NUMPY_GLOBAL:
        monkeypatch.setattr(np.random, name, _refuse(f"numpy.random.{name}"))
    original_default_rng = np.random.default_rng

    def default_rng(seed=None):
        if seed is None:
            raise GlobalDraw("numpy.random.default_rng() without a seed")
        return original_default_rng(seed)

    monkeypatch.setattr(np.random, "default_rng", default_rng)
    for name in PYTHON_GLOBAL:
        monkeypatch.setattr(random, name, _refuse(f"random.{name}"))
    for name in TF_STATEFUL:
        monkeypatch.setattr(tf.random, name, _refuse(f"tf.random.{name}"))
    for name in ("uniform", "normal", "truncated_normal", "randint", "shuffle", "categorical", "dropout"):
        original = getattr(keras.random, name)

        def seeded_only(*args, _original=original, _name=name, **kwargs):
            if kwargs.get("seed") is None:
                raise GlobalDraw(f"keras.random.{_name} without a seed")
            return _original(*args, **kwargs)

        monkeypatch.setattr(keras.random, name, seeded_only)


@pytest.mark.parametrize("method, params", DRAWING_OPTIONS,
                         ids=[f"{name}-{i}" for i, (name, _) in enumerate(DRAWING_OPTIONS)])
def test_same_seed_same_maps_at_every_batch_size_another_seed_other_maps(model, method, params, no_global_random):
    images = _images()
    small = explain(model, images, method, [0, 1, 2], seed=3, batch_size=1, verbose=0, **params)
    large = explain(model, images, method, [0, 1, 2], seed=3, batch_size=64, verbose=0, **params)
    again = explain(model, images, method, [0, 1, 2], seed=3, batch_size=5, verbose=0, **params)
    np.testing.assert_allclose(small, large, rtol=1e-5, atol=1e-6 * np.abs(large).max())
    np.testing.assert_array_equal(again, explain(model, images, method, [0, 1, 2], seed=3, batch_size=5,
                                                 verbose=0, **params))
    other = explain(model, images, method, [0, 1, 2], seed=4, batch_size=64, verbose=0, **params)
    for i in range(len(images)):  # every image's draw changes with the seed
        assert not np.allclose(other[i], large[i], rtol=1e-4, atol=1e-7), (method, params, i)


IN_ANOTHER_PROCESS = [("gradient_shap", {"n_samples": 4, "stdev_spread": 0.2}),
                      ("kernel_shap", {"n_samples": 20, "grid_size": 3})]
SUBPROCESS = """
import json, sys
import numpy as np
sys.path.insert(0, {tests!r})
from conftest import tiny_cnn
from xai_tf.explainers import explain
model = tiny_cnn(input_shape=(16, 16, 3), head="softmax", seed=1)
images = np.asarray(json.loads(sys.argv[1]), np.float32)
out = {{method: explain(model, images, method, [0, 1, 2], seed=3, batch_size=2, verbose=0, **params).tolist()
        for method, params in json.loads(sys.argv[2])}}
print(json.dumps(out))
"""


def test_same_seed_same_maps_in_another_process(model):
    images = _images()
    code = SUBPROCESS.format(tests=str(Path(__file__).parent))
    result = subprocess.run([sys.executable, "-c", code, json.dumps(images.tolist()), json.dumps(IN_ANOTHER_PROCESS)],
                            capture_output=True, text=True, check=True, timeout=300)
    theirs = json.loads(result.stdout.strip().splitlines()[-1])
    for method, params in IN_ANOTHER_PROCESS:
        ours = explain(model, images, method, [0, 1, 2], seed=3, batch_size=64, verbose=0, **params)
        np.testing.assert_allclose(ours, np.asarray(theirs[method]), rtol=1e-5, atol=1e-6 * np.abs(ours).max())


# -- metrics ------------------------------------------------------------------------------------------

#: Every metric that draws, with small options (what it draws in the comment).
STOCHASTIC_METRICS = {
    "sic": {"pic_thresholds": [0.1, 0.5], "pic_min_pred_value": 0.0, "pic_entropy": "shannon",
            "pic_random_mask_fraction": 0.2},  # random mask
    "aic": {"pic_thresholds": [0.1, 0.5], "pic_min_pred_value": 0.0, "pic_entropy": "shannon",
            "pic_random_mask_fraction": 0.2},
    "max_sensitivity": {"sensitivity_samples": 3},  # uniform noise
    "mufidelity": {"mufidelity_samples": 12, "mufidelity_grid_size": 4},  # removed cells
    "faithfulness_correlation": {"faithfulness_correlation_runs": 6, "faithfulness_correlation_subset_size": 20},
    "road": {"road_percentages": [0.2, 0.4, 0.6, 0.8], "road_noise": 0.5},  # imputation noise (large: the curve is 0/1)
    "avg_sensitivity": {"avg_sensitivity_samples": 3},  # uniform noise
    "local_lipschitz": {"local_lipschitz_samples": 3},  # Gaussian noise
    "random_logit": {},  # the other class
}


def _chunk(model, images, seed, batch_size, method="vanilla_gradient"):
    maps = explain(model, images, method, [0, 1, 2], verbose=0)
    return Chunk(model=model, method=method, images=images, indices=np.array([4, 7, 9]),
                 targets=np.array([0, 1, 2]), maps=maps, seed=seed, chunk_seed=seed, batch_size=batch_size)


def test_every_listed_metric_is_registered():
    assert set(STOCHASTIC_METRICS) <= set(METRICS)


def _values(columns, arrays):
    """Every number a metric returns (its columns and arrays), NaN for a column's text (a reason)."""
    numbers = []
    for value in [*columns.values(), *arrays.values()]:
        for item in np.asarray(value, dtype=object).ravel():
            numbers.append(np.nan if isinstance(item, str) or item is None else float(item))
    return np.array(numbers)


@pytest.mark.parametrize("name", sorted(STOCHASTIC_METRICS))
def test_metric_same_seed_same_values_at_every_batch_size(model, name, no_global_random):
    metric = METRICS[name]
    options = {**default_options(), **STOCHASTIC_METRICS[name]}
    images = _images()
    first = _values(*metric.score(_chunk(model, images, 3, 1), options))
    second = _values(*metric.score(_chunk(model, images, 3, 64), options))
    np.testing.assert_allclose(first, second, rtol=1e-5, atol=1e-7)
    others = [_values(*metric.score(_chunk(model, images, seed, 64), options)) for seed in (4, 5)]
    assert any(not np.allclose(other, first, rtol=1e-6, atol=0, equal_nan=True) for other in others), name


def test_randomization_copies_are_seeded(model):
    # (no global-generator guard here: Keras' own clone draws an unused initial seed from Python's
    # stream while rebuilding the layers; the weights are then redrawn from rng_for(seed, ...))
    from xai_tf.metrics.randomisation.model_randomization import randomized_copy
    first, again, other = (randomized_copy(model, "full", seed=s) for s in (2, 2, 3))
    for a, b, c in zip(first.get_weights(), again.get_weights(), other.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(a, c) for a, c in zip(first.get_weights(), other.get_weights()) if a.size > 1)


# -- no global generator in the code --------------------------------------------------------------------

ALLOWED_NUMPY = {"default_rng", "SeedSequence", "Generator", "PCG64", "RandomState", "get_state", "set_state"}
ALLOWED_PYTHON = {"Random", "getstate", "setstate"}  # saving and restoring a stream draws nothing


def _dotted(node):
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def global_draws(source: str) -> list[str]:
    """Calls of a global generator in ``source`` (module-level NumPy/Python/TF draws, unseeded
    ``default_rng()``, ``RandomState()`` or ``keras.random.*``)."""
    found = []
    tree = ast.parse(source)
    python_random = any(isinstance(node, ast.Import) and any(alias.name == "random" and alias.asname is None
                                                             for alias in node.names) for node in ast.walk(tree))
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = _dotted(node.func) or ""
        parts = name.split(".")
        seeded = bool(node.args) or any(k.arg in ("seed", "random_state") for k in node.keywords)
        if len(parts) == 3 and parts[:2] in (["np", "random"], ["numpy", "random"]):
            if parts[2] not in ALLOWED_NUMPY or (parts[2] in ("default_rng", "RandomState") and not seeded):
                found.append(f"line {node.lineno}: {name}")
        elif python_random and len(parts) == 2 and parts[0] == "random" and parts[1] not in ALLOWED_PYTHON:
            found.append(f"line {node.lineno}: {name}")
        elif len(parts) == 3 and parts[:2] == ["tf", "random"] and not parts[2].startswith("stateless"):
            if parts[2] != "Generator":
                found.append(f"line {node.lineno}: {name}")
        elif len(parts) == 3 and parts[:2] == ["keras", "random"] and not any(k.arg == "seed" for k in node.keywords):
            found.append(f"line {node.lineno}: {name}")
    return found


def test_the_scan_finds_planted_global_draws():
    planted = ("import random\nimport numpy as np\nimport tensorflow as tf\nimport keras\n"
               "np.random.normal(size=3)\nnp.random.default_rng()\nrandom.random()\ntf.random.uniform((2,))\n"
               "keras.random.normal((2,))\nnp.random.default_rng([1, 2]).random()\n"
               "keras.random.normal((2,), seed=1)\ntf.random.stateless_uniform((2,), (1, 2))\n")
    assert [line.split(":")[0] for line in global_draws(planted)] == \
        ["line 5", "line 6", "line 7", "line 8", "line 9"]


def test_no_module_draws_from_a_global_generator():
    root = Path(xai_tf.__file__).parent
    offenders = {str(path.relative_to(root)): draws for path in sorted(root.rglob("*.py"))
                 if (draws := global_draws(path.read_text()))}
    assert not offenders, offenders


# -- KernelSHAP's coalition sizes ---------------------------------------------------------------------

def test_kernel_shap_samples_coalition_sizes_from_the_shapley_kernel():
    from scipy.stats import chisquare

    from xai_tf._random import rng_for
    from xai_tf.explainers.shapley import sample_coalitions

    players, n = 12, 6000
    coalitions = sample_coalitions(rng_for(0, 0), players, n)
    assert coalitions.shape == (n, players)
    drawn = coalitions[: n // 2]
    np.testing.assert_array_equal(coalitions[n // 2:], 1 - drawn)  # complementary pairs
    sizes = np.arange(1, players)
    kernel = 1.0 / (sizes * (players - sizes))  # Lundberg & Lee 2017: weight of size k times C(M, k)
    kernel /= kernel.sum()
    counts = np.bincount(drawn.sum(axis=1).astype(int), minlength=players)[1:]
    assert chisquare(counts, kernel * len(drawn)).pvalue > 1e-3
    # the test has the power to see uniform sizes: they are rejected at once
    assert chisquare(np.full(players - 1, len(drawn) / (players - 1)), kernel * len(drawn)).pvalue < 1e-12
    # given its size, a coalition is a uniform subset: every player equally often
    per_player = drawn.sum(axis=0)
    assert chisquare(per_player).pvalue > 1e-3
