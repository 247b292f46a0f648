"""Tests for xai_tf.denoising: each denoiser against its reference library call, and the properties
the module promises (noise reduction, shape/dtype/range, sign and scale, batching)."""
from __future__ import annotations

import cv2
import numpy as np
import pytest
from scipy import ndimage
from skimage.restoration import (
    denoise_nl_means,
    denoise_tv_chambolle,
    denoise_wavelet,
    estimate_sigma,
)

import xai_tf
from xai_tf.denoising import defaults, denoise, methods

BUILT_IN = ("tv", "bilateral", "median", "wavelet", "nlm", "gaussian")
METHODS = methods()  # the parametrisations read the records
SIZE = 32


def blob_map(size=SIZE, signed=False):
    """A smooth synthetic saliency map: one bright blob (and a negative one when signed), max 1."""
    yy, xx = np.mgrid[:size, :size].astype(np.float32)
    positive = np.exp(-((yy - 11) ** 2 + (xx - 10) ** 2) / 30.0)
    if not signed:
        return (positive / positive.max()).astype(np.float32)
    negative = 0.7 * np.exp(-((yy - 22) ** 2 + (xx - 22) ** 2) / 20.0)
    return (positive - negative).astype(np.float32)


def noisy(clean, sigma=0.12, seed=0, clip=False):
    out = clean + np.random.default_rng(seed).normal(0.0, sigma, clean.shape)
    return (np.clip(out, 0.0, 1.0) if clip else out).astype(np.float32)


def test_methods_listed_on_the_function_and_top_level():
    assert methods() == BUILT_IN
    assert xai_tf.denoise.methods() == BUILT_IN
    assert defaults("tv") == {"weight": 0.1, "max_num_iter": 200}
    assert defaults("gaussian")["sigma"] == 1.0
    assert defaults("bilateral") == {"d": 9, "sigma_color": 75.0, "sigma_space": 75.0}
    assert defaults("nlm") == {"patch_size": 7, "search_window": 21, "h": None}


@pytest.mark.parametrize("method", METHODS)
def test_each_denoiser_lowers_mse_to_the_clean_map(method):
    clean = np.stack([blob_map(), blob_map(signed=True)])
    dirty = noisy(clean)
    cleaned = denoise(dirty, method)
    for index in range(2):
        before = np.mean((dirty[index] - clean[index]) ** 2)
        after = np.mean((cleaned[index] - clean[index]) ** 2)
        assert after < 0.6 * before, (method, index, before, after)


@pytest.mark.parametrize("method", METHODS)
def test_each_denoiser_lowers_mse_on_rgb_images(method):
    clean = np.repeat(blob_map()[None, ..., None], 3, axis=-1) * np.array([1.0, 0.8, 0.6], np.float32)
    dirty = noisy(np.concatenate([clean, clean]), sigma=0.08, clip=True)
    cleaned = denoise(dirty, method)
    assert cleaned.shape == dirty.shape and cleaned.dtype == np.float32
    assert np.mean((cleaned - clean) ** 2) < np.mean((dirty - clean) ** 2)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("shape", [(SIZE, SIZE), (3, SIZE, SIZE), (2, SIZE, SIZE, 1), (2, SIZE, SIZE, 3),
                                   (1, SIZE, SIZE, 4)])
def test_shape_dtype_and_unit_range_are_kept(method, shape):
    rng = np.random.default_rng(1)
    values = rng.random(shape).astype(np.float64) * 0.9  # float64 in, max below 1: float32 out, range kept
    out = denoise(values, method)
    assert out.shape == shape
    assert out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() <= 1.0


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("value", [0.3, -2.5, 0.0, 1.0])
def test_constant_map_stays_constant(method, value):
    maps = np.full((2, 20, 20), value, np.float32)
    np.testing.assert_allclose(denoise(maps, method), maps, rtol=1e-6, atol=1e-7)
    if 0.0 <= value <= 1.0:
        images = np.full((1, 20, 20, 3), value, np.float32)
        np.testing.assert_allclose(denoise(images, method), images, rtol=1e-6, atol=1e-7)


def test_tv_equals_skimage_chambolle_weight_0_1():
    dirty = noisy(blob_map(), clip=True)
    assert dirty.max() == 1.0  # a normalised heatmap, as paper 002 denoises
    np.testing.assert_array_equal(denoise(dirty, "tv"), denoise_tv_chambolle(dirty, weight=0.1))
    images = noisy(np.repeat(blob_map()[None, ..., None], 3, axis=-1), clip=True)
    np.testing.assert_array_equal(denoise(images, "tv")[0],
                                  denoise_tv_chambolle(images[0], weight=0.1, channel_axis=-1))


def test_signed_map_is_denoised_on_the_documented_working_scale():
    dirty = noisy(blob_map(signed=True))
    scale = np.abs(dirty).max()
    working = (dirty / scale + 1.0) / 2.0  # zero -> 0.5, [-s, s] -> [0, 1]
    expected = (denoise_tv_chambolle(working, weight=0.1) - 0.5) * 2.0 * scale
    np.testing.assert_allclose(denoise(dirty, "tv"), expected, atol=1e-5)


def test_gaussian_equals_scipy_gaussian_filter_sigma_1():
    dirty = noisy(blob_map(signed=True)) * 37.0  # any sign and scale: the Gaussian is applied as is
    np.testing.assert_array_equal(denoise(dirty, "gaussian"), ndimage.gaussian_filter(dirty, sigma=1))
    images = noisy(np.repeat(blob_map()[None, ..., None], 3, axis=-1), clip=True)
    np.testing.assert_array_equal(denoise(images, "gaussian")[0],
                                  ndimage.gaussian_filter(images[0], sigma=(1, 1, 0)))


def test_bilateral_matches_opencv_on_8_bit_images():
    rng = np.random.default_rng(2)
    pixels = rng.integers(0, 256, (SIZE, SIZE, 3), dtype=np.uint8)
    reference = cv2.bilateralFilter(pixels, 9, 75, 75).astype(np.float32)
    ours = denoise(pixels[None].astype(np.float32) / 255.0, "bilateral")[0] * 255.0
    # paper 002's call works on uint8 and rounds; ours keeps floats: equal up to that rounding
    assert np.max(np.abs(ours - reference)) <= 1.0


@pytest.mark.parametrize("size", [1, 3, 5, 7])
def test_median_equals_scipy_median_filter_with_replicated_border(size):
    dirty = noisy(blob_map(), clip=True)
    expected = ndimage.median_filter(dirty, size=size, mode="nearest")
    np.testing.assert_array_equal(denoise(dirty, "median", size=size), expected)


def test_wavelet_equals_skimage_bayesshrink_soft():
    dirty = noisy(blob_map(), clip=True)
    expected = denoise_wavelet(dirty, method="BayesShrink", mode="soft", rescale_sigma=True)
    np.testing.assert_array_equal(denoise(dirty, "wavelet"), expected)
    images = noisy(np.repeat(blob_map()[None, ..., None], 3, axis=-1), clip=True)
    expected = denoise_wavelet(images[0], method="BayesShrink", mode="soft", rescale_sigma=True, channel_axis=-1)
    np.testing.assert_allclose(denoise(images, "wavelet")[0], expected, atol=1e-6)


def test_nlm_equals_skimage_with_h_from_estimated_sigma():
    dirty = noisy(blob_map(), clip=True)
    h = 0.8 * estimate_sigma(dirty)
    expected = denoise_nl_means(dirty, patch_size=7, patch_distance=10, h=h, fast_mode=True)
    np.testing.assert_allclose(denoise(dirty, "nlm"), expected, atol=1e-6)
    explicit = denoise_nl_means(dirty, patch_size=5, patch_distance=3, h=0.05, fast_mode=True)
    np.testing.assert_allclose(denoise(dirty, "nlm", patch_size=5, search_window=7, h=0.05), explicit, atol=1e-6)
    images = noisy(np.repeat(blob_map()[None, ..., None], 3, axis=-1), clip=True)
    h = 0.8 * estimate_sigma(images[0], channel_axis=-1, average_sigmas=True)
    expected = denoise_nl_means(images[0], patch_size=7, patch_distance=10, h=h, fast_mode=True, channel_axis=-1)
    np.testing.assert_allclose(denoise(images, "nlm")[0], expected, atol=1e-6)


def test_nlm_patch_larger_than_the_maps_is_refused():
    maps = noisy(blob_map(), clip=True)[None, :6, :6]  # 6 x 6 maps: a 7 x 7 patch would change nothing
    with pytest.raises(ValueError, match=r"patch_size=7 is larger than the maps \(6 x 6\); nlm needs patch_size <= 6"):
        denoise(maps, "nlm")
    with pytest.raises(ValueError, match=r"patch_size=9 is larger than the maps \(6 x 6\)"):
        denoise(np.repeat(maps[..., None], 3, axis=-1), "nlm", patch_size=9)  # images (N, H, W, C) too
    fitting = denoise(maps, "nlm", patch_size=5, h=0.1)
    assert not np.allclose(fitting, maps)  # control: a patch that fits does filter


@pytest.mark.parametrize("method", METHODS)
def test_signed_maps_keep_their_sign_and_scale(method):
    clean = blob_map(signed=True)
    dirty = noisy(clean, sigma=0.08)
    out = denoise(dirty, method)
    # negation and scale equivariance: zero stays zero, evidence for and against keep their sides
    np.testing.assert_allclose(denoise(-dirty, method), -out, atol=1e-5)
    np.testing.assert_allclose(denoise(1e-3 * dirty, method), 1e-3 * out, rtol=1e-4, atol=1e-8)
    assert np.all(out[np.abs(clean) < 1.0] >= -np.abs(dirty).max())  # stays within [-s, s]
    assert np.all(out <= np.abs(dirty).max())
    assert np.all(out[clean > 0.5] > 0.0)
    assert np.all(out[clean < -0.4] < 0.0)


@pytest.mark.parametrize("method", METHODS)
def test_batched_equals_serial(method):
    batch = noisy(np.stack([blob_map(), blob_map(signed=True), 3.0 * blob_map(), 0.5 * blob_map()]), seed=4)
    parallel = denoise(batch, method, workers=4)
    serial = np.stack([denoise(item, method, workers=1) for item in batch])
    np.testing.assert_array_equal(parallel, serial)


def test_parameters_reach_the_filter():
    dirty = noisy(blob_map(), clip=True)
    np.testing.assert_array_equal(denoise(dirty, "tv", weight=0.3), denoise_tv_chambolle(dirty, weight=0.3))
    np.testing.assert_array_equal(denoise(dirty, "gaussian", sigma=2.0), ndimage.gaussian_filter(dirty, 2.0))


def test_unknown_method_lists_the_valid_ones():
    with pytest.raises(ValueError, match="tv, bilateral, median, wavelet, nlm, gaussian"):
        denoise(blob_map(), "bm3d")


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_maps_are_rejected(bad):
    values = blob_map()
    values[3, 4] = bad
    with pytest.raises(ValueError, match="NaN/Inf"):
        denoise(values, "tv")
    with pytest.raises(ValueError, match="NaN/Inf"):
        denoise(np.repeat(values[None, ..., None], 3, axis=-1), "median")


@pytest.mark.parametrize("shape", [(SIZE,), (1, 2, SIZE, SIZE, 3), (0, SIZE, SIZE)])
def test_wrong_rank_or_empty_is_rejected(shape):
    with pytest.raises(ValueError, match="maps"):
        denoise(np.zeros(shape, np.float32), "gaussian")


def test_images_outside_unit_range_are_rejected():
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        denoise(np.full((1, 8, 8, 3), 255.0, np.float32), "median")


@pytest.mark.parametrize("method, params, error", [
    ("tv", {"weight": -0.1}, ValueError),
    ("tv", {"weight": "strong"}, TypeError),
    ("median", {"size": 4}, ValueError),
    ("bilateral", {"d": 0}, ValueError),
    ("nlm", {"search_window": 20}, ValueError),
    ("wavelet", {"mode": "medium"}, ValueError),
    ("wavelet", {"wavelet": "nonsense"}, ValueError),
    ("gaussian", {"radius": 3}, TypeError),
])
def test_bad_parameters_are_rejected_by_name(method, params, error):
    with pytest.raises(error, match=next(iter(params))):
        denoise(blob_map(), method, **params)


def test_bad_workers_and_non_numeric_input():
    with pytest.raises(ValueError, match="workers"):
        denoise(blob_map(), "tv", workers=0)
    with pytest.raises(TypeError, match="maps"):
        denoise([["a", "b"]], "tv")
