"""Issue #22's methods against references computed here: exact arithmetic and analytic expectations.

- sobol, hsic, fem: equal to Xplique 2.0's arithmetic written out in NumPy (designs from SciPy's
  Sobol sequence, nearest upsampling with ``np.kron``, the Jansen / binary-RBF HSIC / k-sigma
  formulas, TensorFlow's bicubic resize as Xplique uses it), tolerance float32 rounding.
- kernel_shap: the exact Shapley values of a 4-segment game (all 16 coalitions scored by the
  model, Shapley's formula) to 1e-6; sampled coalitions keep efficiency exactly.
- vargrad, squaregrad: the same statistic of the same noise (exact), and the analytic expectation
  on a quadratic model (``f = sum w x^2``: ``Var = 4 w^2 s^2``, ``E g^2 = 4 w^2 (x^2 + s^2)``).
- gradient_shap: on the quadratic model ``E[phi] = sum_c w_c (x_c^2 - E[b_c^2])``.
- rise: converges to the analytic RISE map of a linear model (exact expectation over masks and shifts).
- a property: every black-box method, GradientSHAP and SquareGrad localise the only region a model reads.
"""
from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf
from conftest import random_images, tiny_cnn
from scipy.stats import qmc

from xai_tf._random import rng_for
from xai_tf.explainers import explain


def quadratic_model(shape=(8, 8, 3), units=2, seed=0):
    """Logits ``sum(w_k * x^2)``: gradient ``2 w_k x`` (a linear head, so logits are the outputs)."""
    keras.utils.set_random_seed(seed)
    inputs = keras.Input(shape)
    squared = keras.layers.Multiply()([inputs, inputs])
    outputs = keras.layers.Dense(units, use_bias=False, name="logits")(keras.layers.Flatten()(squared))
    return keras.Model(inputs, outputs)


def linear_model(shape=(16, 16, 1), units=2, seed=0):
    """Logits ``w_k . x`` (no bias)."""
    keras.utils.set_random_seed(seed)
    inputs = keras.Input(shape)
    outputs = keras.layers.Dense(units, use_bias=False, name="logits")(keras.layers.Flatten()(inputs))
    return keras.Model(inputs, outputs)


def weights_of(model, target, shape):
    return model.get_layer("logits").get_weights()[0][:, target].reshape(shape).astype(np.float64)


def probabilities(model, images, target):
    """Class ``target``'s probability from a softmax model's outputs."""
    return model(np.asarray(images, np.float32)).numpy()[:, target].astype(np.float64)


def camera(size=32):
    """skimage's camera man, resized to ``size`` (a real photograph, grayscale)."""
    from skimage import data, transform
    return transform.resize(data.camera(), (size, size), anti_aliasing=True).astype(np.float32)[None, ..., None]


# -- vargrad / squaregrad ---------------------------------------------------------------------------

def test_vargrad_and_squaregrad_equal_the_statistic_and_its_expectation():
    model, n, spread = quadratic_model(), 400, 0.2
    images = random_images(2, size=8, seed=3)
    var = explain(model, images, "vargrad", targets=1, n_samples=n, stdev_spread=spread, seed=5, verbose=0)
    square = explain(model, images, "squaregrad", targets=1, n_samples=n, stdev_spread=spread, seed=5, verbose=0)
    w = weights_of(model, 1, (8, 8, 3))
    for i, image in enumerate(images):
        sigma = np.float32(spread * float(image.max() - image.min()))
        noise = rng_for(5, i).standard_normal((n, 8, 8, 3), dtype=np.float32) * sigma
        grads = 2 * w * (image + noise).astype(np.float64)
        # the same noise: Xplique's statistics (unbiased variance, mean square, channel mean), exactly
        np.testing.assert_allclose(var[i], grads.var(axis=0, ddof=1).mean(-1), rtol=2e-4, atol=1e-7)
        np.testing.assert_allclose(square[i], (grads ** 2).mean(axis=0).mean(-1), rtol=2e-4, atol=1e-7)
        # expectations: Var = 4 w^2 s^2; E g^2 = 4 w^2 (x^2 + s^2); relative sd of a 400-sample
        # variance is sqrt(2/399) = 7 % per channel: 3.5 sd on the pixel-wise relative L2 error
        expected_var = (4 * w ** 2 * float(sigma) ** 2).mean(-1)
        expected_square = (4 * w ** 2 * (image.astype(np.float64) ** 2 + float(sigma) ** 2)).mean(-1)
        assert np.linalg.norm(var[i] - expected_var) / np.linalg.norm(expected_var) < 0.25
        assert np.linalg.norm(square[i] - expected_square) / np.linalg.norm(expected_square) < 0.1
    absolute = explain(model, images, "vargrad", targets=1, n_samples=n, noise=0.05, seed=5, verbose=0)
    np.testing.assert_allclose(absolute.mean(), (4 * w ** 2 * 0.05 ** 2).mean(), rtol=0.1)  # Xplique's sigma


# -- gradient_shap ------------------------------------------------------------------------------------

def test_gradient_shap_expectation_on_a_quadratic_model():
    model = quadratic_model(shape=(8, 8, 1))
    images = random_images(2, size=8, channels=1, seed=4)
    w = weights_of(model, 0, (8, 8, 1))[..., 0]
    uniform = explain(model, images, "gradient_shap", targets=0, n_samples=4000, seed=1, verbose=0)
    expected = w * (images[..., 0].astype(np.float64) ** 2 - 1.0 / 3.0)  # E[b^2] = 1/3 for b ~ U(0, 1)
    error = np.linalg.norm(uniform - expected) / np.linalg.norm(expected)
    assert error < 0.1, error  # measured 0.03-0.05 with 4,000 samples
    # black baseline: phi = 2 mean(alpha) w x^2 exactly (the path points are the only draw)
    black = explain(model, images, "gradient_shap", targets=0, n_samples=200, baselines="black", seed=2, verbose=0)
    for i in range(2):
        ratio = black[i] / (w * images[i, ..., 0] ** 2)
        np.testing.assert_allclose(ratio, ratio[0, 0], rtol=1e-3)
        assert abs(ratio[0, 0] - 1.0) < 4 * 2 / np.sqrt(12 * 200)  # 2 mean(alpha) ~ 1 within 4 sd
    background = random_images(3, size=8, channels=1, seed=9)
    drawn = explain(model, images, "gradient_shap", targets=0, n_samples=3000, baselines=background, seed=1, verbose=0)
    expected = w * (images[..., 0] ** 2 - (background[..., 0].astype(np.float64) ** 2).mean(axis=0))
    assert np.linalg.norm(drawn - expected) / np.linalg.norm(expected) < 0.1


# -- kernel_shap ------------------------------------------------------------------------------------

def exact_shapley(value, n_players):
    """Shapley values from a value function on coalition bit masks (Shapley's formula)."""
    from math import factorial
    phi = np.zeros(n_players)
    for player in range(n_players):
        for code in range(2 ** n_players):
            if code >> player & 1:
                continue
            size = int(code).bit_count()
            weight = factorial(size) * factorial(n_players - size - 1) / factorial(n_players)
            phi[player] += weight * (value[code | 1 << player] - value[code])
    return phi


def coalition_values(model, image, target, cells, grid):
    """Target probability of ``image`` with the cells of every coalition kept, the rest black."""
    n_players = grid * grid
    codes = np.arange(2 ** n_players)
    keep = ((codes[:, None] >> np.arange(n_players)) & 1).reshape(-1, grid, grid).astype(np.float32)
    masks = np.kron(keep, np.ones((cells, cells), np.float32))[..., None]
    return probabilities(model, image[None] * masks, target)


def test_kernel_shap_is_exact_on_four_segments_and_efficient_when_sampled():
    model = tiny_cnn(head="softmax", seed=2)
    images = random_images(2, seed=6)
    targets = np.array([0, 2])
    maps = explain(model, images, "kernel_shap", targets, grid_size=2, verbose=0)
    for i in range(2):
        values = coalition_values(model, images[i], targets[i], 16, 2)
        phi = exact_shapley(values, 4)
        np.testing.assert_allclose(maps[i, ::16, ::16].reshape(-1), phi, atol=1e-6)
    # 9 players, 200 of the 510 coalitions sampled: efficiency exact, values close to Shapley's
    sampled = explain(model, images, "kernel_shap", targets, grid_size=3, n_samples=200, seed=3, verbose=0)
    centres = np.array([5, 16, 27])  # one pixel inside each of the 3 cells per side (11, 11, 10 pixels)
    for i in range(2):
        cells = sampled[i][np.repeat(centres, 3), np.tile(centres, 3)]
        assert len(np.unique(sampled[i])) == 9
        full = probabilities(model, images[i:i + 1], targets[i])[0]
        empty = probabilities(model, np.zeros_like(images[:1]), targets[i])[0]
        np.testing.assert_allclose(cells.sum(), full - empty, atol=1e-5)


def test_kernel_shap_sampled_values_approach_the_exact_ones():
    model = tiny_cnn(input_shape=(24, 24, 3), head="softmax", seed=2)
    image = random_images(1, size=24, seed=8)
    values = coalition_values(model, image[0], 1, 8, 3)
    phi = exact_shapley(values, 9)
    errors = []
    for n_samples in (60, 400):
        maps = explain(model, image, "kernel_shap", 1, grid_size=3, n_samples=n_samples, seed=0, verbose=0)
        errors.append(np.linalg.norm(maps[0, ::8, ::8].reshape(-1) - phi) / np.linalg.norm(phi))
    # measured over seeds 0-9: relative error 0.047 (sd 0.012) at 60 samples, 0.013 (sd 0.002) at 400
    # (0.009 at seed 0); thresholds 3x the measured mean. (Uniformly drawn coalition sizes give 0.020
    # at 400, inside this bound: test_seeding checks the size distribution itself.)
    assert errors[1] < 0.04 and errors[0] < 0.15 and errors[1] < errors[0], errors


def test_kernel_shap_on_superpixels_of_a_real_image_is_efficient():
    image = np.repeat(camera(), 3, axis=-1)
    model = tiny_cnn(head="softmax", seed=1)
    maps = explain(model, image, "kernel_shap", 0, segmentation="slic", n_samples=300, verbose=0,
                   segmentation_params={"n_segments": 12})
    from xai_tf.explainers.perturbation import superpixels
    segments = superpixels(image[0], "slic", {"n_segments": 12}, 0)
    per_segment = np.array([maps[0][segments == s][0] for s in range(segments.max() + 1)])
    for s in range(segments.max() + 1):  # piecewise constant on lime's superpixels
        assert np.all(maps[0][segments == s] == per_segment[s])
    gain = probabilities(model, image, 0)[0] - probabilities(model, np.zeros_like(image), 0)[0]
    np.testing.assert_allclose(per_segment.sum(), gain, atol=1e-5)


# -- sobol / hsic (Xplique 2.0's arithmetic) --------------------------------------------------------

def sobol_points(dimension, n):
    """The first ``n`` points of the unscrambled Sobol sequence after 0 (``tf.math.sobol_sample``'s)."""
    sampler = qmc.Sobol(dimension, scramble=False)
    sampler.fast_forward(1)
    return sampler.random(n)


def grid_masks(values, grid, cells):
    return np.kron(values.reshape(-1, grid, grid), np.ones((cells, cells)))[..., None]


def bicubic(cells, size):
    grid = np.asarray(cells, np.float32)[None, ..., None]
    return tf.image.resize(grid, (size, size), method="bicubic").numpy()[0, ..., 0]


@pytest.mark.parametrize("head", ["softmax", "sigmoid"])
def test_sobol_equals_xplique_arithmetic(head):
    model = tiny_cnn(head=head, seed=3)
    images, grid, n = random_images(2, seed=7), 4, 8
    maps = explain(model, images, "sobol", targets=1, grid_size=grid, n_designs=n, verbose=0)
    d = grid * grid
    ab = sobol_points(2 * d, n)
    a, b = ab[:, :d], ab[:, d:]
    designs = [a, b]
    for i in range(d):
        c = a.copy()
        c[:, i] = b[:, i]
        designs.append(c)
    designs = np.concatenate(designs)
    for index, image in enumerate(images):
        perturbed = image[None] * grid_masks(designs, grid, 32 // grid)
        y = (probabilities(model, perturbed, 1) if head == "softmax"
             else model(perturbed.astype(np.float32)).numpy()[:, 0].astype(np.float64))
        f_a, f_c = y[:n], y[2 * n:].reshape(d, n)
        total = ((f_a - f_c) ** 2).sum(axis=1) / (2 * n * max(f_a.var(ddof=1), 1e-12))  # Jansen
        expected = bicubic(total.reshape(grid, grid), 32)
        np.testing.assert_allclose(maps[index], expected, rtol=1e-3, atol=1e-4 * np.abs(expected).max())


def test_hsic_equals_xplique_arithmetic():
    model = tiny_cnn(head="softmax", seed=3)
    image, grid, n = random_images(1, seed=8), 4, 64
    maps = explain(model, image, "hsic", targets=2, grid_size=grid, n_designs=n, verbose=0)
    designs = np.round(sobol_points(grid * grid, n))
    y = probabilities(model, image[0][None] * grid_masks(designs, grid, 8), 2)
    width = np.percentile(y, 50)
    output_kernel = np.exp(-((y[:, None] - y[None, :]) ** 2) / (2 * width ** 2))
    centring = np.eye(n) - np.ones((n, n)) / n
    centred_output = centring @ output_kernel @ centring
    scores = []
    for column in designs.T:  # Xplique: K = 1 + (0.5 - (x_i - x_j)^2), HSIC = sum(HKH * (HLH)^T) / n
        input_kernel = 1 + 0.5 - (column[:, None] - column[None, :]) ** 2
        scores.append(np.sum((centring @ input_kernel @ centring) * centred_output.T) / n)
    expected = bicubic(np.reshape(scores, (grid, grid)), 32)
    np.testing.assert_allclose(maps[0], expected, rtol=1e-3, atol=1e-4 * np.abs(expected).max())


# -- fem ------------------------------------------------------------------------------------------------

def test_fem_equals_xplique_arithmetic_on_a_real_image_and_ignores_targets():
    model = tiny_cnn(input_shape=(32, 32, 1), head="softmax", seed=5)
    image = np.concatenate([camera(), random_images(1, channels=1, seed=2)])
    maps = explain(model, image, "fem", targets=0, verbose=0)
    np.testing.assert_array_equal(maps, explain(model, image, "fem", targets=2, verbose=0))  # class-agnostic
    features = keras.Model(model.inputs[0], model.get_layer("last_conv").output)(image).numpy().astype(np.float64)
    means = features.mean(axis=(1, 2), keepdims=True)
    stds = features.std(axis=(1, 2), keepdims=True)
    weighted = ((features >= means + 2.0 * stds) * means).sum(axis=-1)
    for i in range(2):
        np.testing.assert_allclose(maps[i], bicubic(weighted[i], 32), rtol=1e-4, atol=1e-5)
    assert maps[0].max() > 0
    early = explain(model, image, "fem", layer="conv1", k=1.0, verbose=0)
    assert not np.allclose(early, maps)


# -- rise -------------------------------------------------------------------------------------------------

def analytic_rise(w, image, grid, p):
    """``E[f(I * M) M] / p`` of a linear ``f = w . x`` over the paper's masks, exactly.

    Masks: binary ``grid x grid`` cells (kept with probability ``p``), bilinear upsampling to
    ``(grid + 1) * cell`` and every crop shift in ``[0, cell)^2`` (equally likely).
    ``E[M(u) M(v)] = p^2 a(u) a(v) + p (1 - p) sum_g A_g(u) A_g(v)`` with ``A_g`` a cell's upsampled
    crop and ``a = sum_g A_g``.
    """
    size = image.shape[0]
    cell = -(-size // grid)
    up = (grid + 1) * cell
    basis = np.eye(grid * grid, dtype=np.float32).reshape(-1, grid, grid, 1)
    upsampled = tf.image.resize(basis, (up, up), method="bilinear").numpy()[..., 0].astype(np.float64)
    contribution = (w * image).sum(axis=-1)  # (H, W): sum over channels of w I
    total = np.zeros((size, size))
    for sy in range(cell):
        for sx in range(cell):
            cells = upsampled[:, sy:sy + size, sx:sx + size]  # (g^2, H, W)
            everything = cells.sum(axis=0)
            per_cell = np.einsum("ghw,hw->g", cells, contribution)
            total += p * p * (everything * contribution).sum() * everything + p * (1 - p) * np.einsum(
                "g,ghw->hw", per_cell, cells)
    return total / (cell * cell) / p


@pytest.mark.parametrize("normalization", ["paper", "xplique"])
def test_rise_converges_to_the_analytic_map_of_a_linear_model(normalization):
    model = linear_model()
    image = random_images(1, size=16, channels=1, seed=1)
    expected = analytic_rise(weights_of(model, 1, (16, 16, 1)), image[0].astype(np.float64), 4, 0.5)
    errors = []
    for n_masks in (250, 4000):
        maps = explain(model, image, "rise", targets=1, n_masks=n_masks, grid_size=4, score="logit",
                       normalization=normalization, seed=0, verbose=0)[0]
        errors.append(np.linalg.norm(maps - expected) / np.linalg.norm(expected - expected.mean()))
    # measured over seeds 0-5 at 4,000 masks: 0.12 (max 0.18) "paper", 0.079 (max 0.12) "xplique"; at 250
    # masks 0.56 and 0.36: the bound is under 2x the measured mean; the exact value of the sum over the
    # same masks is test_method_oracles' RISE test
    assert errors[1] < 0.2 and errors[1] < errors[0] / 2, errors  # Monte-Carlo error ~ 1 / sqrt(n_masks)


def test_rise_is_batch_independent_and_scores_probabilities():
    model = tiny_cnn(head="sigmoid", seed=1)
    images = random_images(3, seed=2)
    small = explain(model, images, "rise", n_masks=50, grid_size=5, batch_size=7, seed=4, verbose=0)
    large = explain(model, images, "rise", n_masks=50, grid_size=5, batch_size=500, seed=4, verbose=0)
    np.testing.assert_allclose(small, large, rtol=1e-5, atol=1e-6)
    alone = explain(model, images[1:2], "rise", n_masks=50, grid_size=5, seed=4, verbose=0)
    assert not np.allclose(alone[0], large[1])  # image 0's draws in position 0 differ from position 1's
    xplique = explain(model, images, "rise", n_masks=50, grid_size=5, normalization="xplique", seed=4, verbose=0)
    assert 0 <= xplique.min() and xplique.max() <= 1  # a weighted mean of probabilities


# -- bad parameters -------------------------------------------------------------------------------------

@pytest.mark.parametrize("method, params, error, message", [
    ("rise", {"grid_size": 33}, ValueError, "grid_size=33 is larger than the images"),
    ("sobol", {"grid_size": 40}, ValueError, "grid_size=40 is larger"),
    ("hsic", {"grid_size": 64}, ValueError, "grid_size=64 is larger"),
    ("kernel_shap", {"grid_size": 33}, ValueError, "grid_size=33 is larger"),
    ("rise", {"n_masks": 0}, ValueError, "n_masks must be > 0"),
    ("vargrad", {"n_samples": 0}, ValueError, "n_samples must be > 0"),
    ("vargrad", {"n_samples": 1}, ValueError, "n_samples must be >= 2"),
    ("squaregrad", {"n_samples": 0}, ValueError, "n_samples must be > 0"),
    ("gradient_shap", {"n_samples": 0}, ValueError, "n_samples must be > 0"),
    ("kernel_shap", {"n_samples": 0}, ValueError, "n_samples must be > 0"),
    ("hsic", {"n_designs": 1}, ValueError, "n_designs must be >= 2"),
    ("sobol", {"n_designs": 24}, ValueError, "n_designs must be a power of 2"),
    ("sobol", {"n_designs": 0}, ValueError, "n_designs must be > 0"),
    ("rise", {"keep_probability": 0.0}, ValueError, "keep_probability must lie in"),
    ("rise", {"keep_probability": 1.5}, ValueError, "keep_probability"),
    ("rise", {"normalization": "sum"}, ValueError, "normalization='sum' is not valid"),
    ("sobol", {"score": "softmax"}, ValueError, "score='softmax' is not valid"),
    ("kernel_shap", {"segmentation": "felzenszwalb"}, ValueError, "segmentation='felzenszwalb'"),
    ("gradient_shap", {"baselines": "grey"}, ValueError, "baselines='grey' is not valid"),
    ("gradient_shap", {"baselines": np.zeros((2, 16, 16, 3))}, ValueError, "model expects"),
    ("vargrad", {"noise": -0.1}, ValueError, "noise must be >= 0"),
    ("fem", {"k": "two"}, TypeError, "k must be"),
    ("rise", {"n_masks": 10.5}, TypeError, "n_masks must be an integer"),
])
def test_bad_parameters_are_named(method, params, error, message):
    model = tiny_cnn(head="softmax")
    with pytest.raises(error, match=message):
        explain(model, random_images(1), method, verbose=0, **params)


# -- a property every method should have ------------------------------------------------------------

@pytest.mark.parametrize("method, params", [
    ("rise", {"n_masks": 500, "grid_size": 4}), ("sobol", {"n_designs": 8, "grid_size": 4}),
    ("hsic", {"n_designs": 128, "grid_size": 4}), ("kernel_shap", {"n_samples": 300, "grid_size": 4}),
    ("gradient_shap", {"n_samples": 20}), ("squaregrad", {"n_samples": 5}),
])
def test_maps_find_the_only_region_the_model_reads(method, params):
    """A model whose class-1 logit is 0.1 x the sum of the top-left 8 x 8 pixels of a 32 x 32 image:
    every method puts more attribution inside that region than anywhere outside it (in magnitude for
    the signed Shapley methods: GradientSHAP's ``w (x - E[b])`` averages about 0 inside)."""
    model = linear_model(shape=(32, 32, 1))
    weights = np.zeros((32, 32, 1, 2), np.float32)
    weights[:8, :8, 0, 1] = 0.1
    model.get_layer("logits").set_weights([weights.reshape(-1, 2)])
    maps = explain(model, random_images(2, channels=1, seed=3), method, targets=1, verbose=0, **params)
    inside = np.zeros((32, 32), bool)
    inside[:8, :8] = True
    if method in ("gradient_shap", "kernel_shap"):
        maps = np.abs(maps)
    for saliency in maps:
        assert saliency[inside].mean() > saliency[~inside].max(), method
