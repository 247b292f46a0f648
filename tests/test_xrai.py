"""XRAI and Fast XRAI against PAIR's ``XRAI.GetMask``: the same maps on given and on computed segments.

Our segmentation (xai_tf.explainers.segmentation) and region ranking (xai_tf.explainers.xrai) replace
PAIR's for speed; these tests pin them to PAIR's output, element for element, on tiny images: real
ones (scikit-image's camera and astronaut, scikit-learn's digits, whose flat 16-level blocks tie
many edge costs) and synthetic radio galaxies.
"""
from __future__ import annotations

import numpy as np
import pytest
from conftest import tiny_cnn
from saliency.core import XRAI, XRAIParameters
from saliency.core import xrai as pair_xrai
from scipy.ndimage import gaussian_filter
from skimage import data as skimage_data
from skimage.segmentation import felzenszwalb
from skimage.transform import resize

import xai_tf
from xai_tf.explainers import segmentation, xrai
from xai_tf.explainers.base import Request, adapter_for
from xai_tf.explainers.segmentation import regions_from_labels, regions_from_masks


def _camera(size=64):
    return resize(skimage_data.camera(), (size, size), anti_aliasing=True)[..., None].astype(np.float32)


def _astronaut(size=32):
    return resize(skimage_data.astronaut(), (size, size), anti_aliasing=True).astype(np.float32)


def _digit(size=32):
    from sklearn.datasets import load_digits

    digit = load_digits().images[3] / 16.0
    return np.kron(digit, np.ones((size // 8, size // 8)))[..., None].astype(np.float32)


def _galaxy(size=64):
    return xai_tf.data.synthetic_radio_galaxies(n=2, image_size=size, seed=1).images[1]


def _attribution(image, seed, quantise=False):
    rng = np.random.default_rng(seed)
    attr = gaussian_filter(rng.standard_normal(image.shape), (3, 3, 0)).astype(np.float32)
    if quantise:  # few distinct values: many regions tie exactly
        attr = np.round(attr * 8) / 8
    return attr


def _pair(image, attr, algorithm, segments=None, area_threshold=1.0):
    parameters = XRAIParameters(algorithm=algorithm, area_threshold=area_threshold)
    return XRAI().GetMask(image, None, base_attribution=attr, segments=segments, extra_parameters=parameters)


@pytest.fixture(scope="module")
def pair_segments():
    """PAIR's own segments of the test images (computed once: ~0.5 s each)."""
    images = {"camera": _camera(), "astronaut": _astronaut(), "digit": _digit(), "galaxy": _galaxy()}
    return {name: (image, pair_xrai._get_segments_felzenszwalb(image)) for name, image in images.items()}


@pytest.mark.parametrize("name", ["camera", "astronaut", "digit", "galaxy"])
def test_regions_equal_pair_segments(pair_segments, name):
    image, masks = pair_segments[name]
    segmentation.clear_cache()
    (regions,) = segmentation.image_regions(image[None], workers=1)
    np.testing.assert_array_equal(regions.to_masks(), np.array(masks))


def test_felzenszwalb_labels_equal_scikit_image_at_every_scale():
    scales = (1, 50, 150, 1200)
    for image in (_astronaut(48), _digit(32), _camera(40)[..., 0]):
        mine = segmentation.felzenszwalb_labels(image, scales=scales, min_size=20)
        for labels, scale in zip(mine, scales):
            np.testing.assert_array_equal(labels, felzenszwalb(image, scale=scale, sigma=0.8, min_size=20))


def test_felzenszwalb_without_numba_calls_scikit_image(monkeypatch):
    image = _digit(16)
    compiled = segmentation.felzenszwalb_labels(image, scales=(10, 100), min_size=5)
    monkeypatch.setattr(segmentation, "_compiled", False)
    assert segmentation._compiled_merge_passes() is None
    np.testing.assert_array_equal(segmentation.felzenszwalb_labels(image, scales=(10, 100), min_size=5), compiled)


def test_resize_for_segmentation_equals_pair_normalisation():
    for image in (_camera(64), _astronaut(32), _digit(32)):
        expected = pair_xrai._normalize_image(image, [-1.0, 1.0], (224, 224))
        np.testing.assert_array_equal(segmentation._resized(image), expected)


def test_dilated_label_masks_equal_scikit_image_dilation():
    from skimage.morphology import dilation, disk

    rng = np.random.default_rng(0)
    labels = np.stack([rng.integers(3, 7, (20, 24)), np.repeat(np.arange(4), 120).reshape(20, 24)])
    expected = [dilation(layer == value, footprint=disk(5)) for layer in labels
                for value in range(layer.min(), layer.max() + 1)]
    np.testing.assert_array_equal(regions_from_labels(labels).to_masks(), np.array(expected))


def test_regions_store_both_orders_consistently():
    image = _digit(32)
    regions = segmentation.segment(image)
    dense = regions.to_masks().reshape(regions.n_masks, -1)
    for pixel in (0, 100, 1023):
        covering = regions.pixel_masks[regions.pixel_starts[pixel]:regions.pixel_starts[pixel + 1]]
        np.testing.assert_array_equal(covering, np.flatnonzero(dense[:, pixel]))
    round_trip = regions_from_masks(regions.to_masks())
    for field in ("mask_starts", "mask_pixels", "pixel_starts", "pixel_masks"):
        np.testing.assert_array_equal(getattr(round_trip, field), getattr(regions, field))


@pytest.mark.parametrize("algorithm", ["full", "fast"])
@pytest.mark.parametrize("name", ["camera", "astronaut", "digit", "galaxy"])
def test_maps_equal_pair_on_computed_segments(pair_segments, name, algorithm):
    image, masks = pair_segments[name]
    for seed, quantise in ((0, False), (1, True)):
        attr = _attribution(image, seed, quantise)
        expected = _pair(image, attr, algorithm, segments=masks)  # PAIR's segments = what it computes
        np.testing.assert_array_equal(xrai.xrai_maps(image[None], attr[None], algorithm=algorithm)[0], expected)


@pytest.mark.parametrize("algorithm", ["full", "fast"])
def test_maps_equal_pair_on_given_segments(algorithm):
    """Arbitrary overlapping masks (rectangles, noise, an empty and a tiny one), ties included."""
    rng = np.random.default_rng(3)
    image = _camera(32)
    masks = []
    for _ in range(40):
        top, left = rng.integers(0, 28, 2)
        height, width = rng.integers(3, 20, 2)
        mask = np.zeros((32, 32), bool)
        mask[top:top + height, left:left + width] = True
        masks.append(mask)
    masks += [rng.random((32, 32)) < 0.2, np.zeros((32, 32), bool), np.eye(32, dtype=bool)]
    masks += [masks[5].copy()]  # a duplicate region
    for seed, quantise in ((4, False), (5, True)):
        attr = _attribution(image, seed, quantise)
        expected = _pair(image, attr, algorithm, segments=masks)
        for segments in ([masks], [np.array(masks)], [regions_from_masks(masks)]):
            got = xrai.xrai_maps(image[None], attr[None], algorithm=algorithm, segments=segments)[0]
            np.testing.assert_array_equal(got, expected)
        for threshold in (0.3, 0.7):
            got = xrai.xrai_maps(image[None], attr[None], algorithm=algorithm, segments=[masks],
                                 area_threshold=threshold)[0]
            np.testing.assert_array_equal(got, _pair(image, attr, algorithm, masks, area_threshold=threshold))


def test_min_pixel_diff_and_channel_max_as_pair():
    image = _astronaut(32)
    attr = _attribution(image, 6)
    masks = list(segmentation.segment(image).to_masks())
    for min_pixel_diff in (1, 200):
        expected, _ = XRAI._xrai(attr.max(axis=-1), masks, min_pixel_diff=min_pixel_diff)
        got = xrai.xrai_maps(image[None], attr[None], segments=[masks], min_pixel_diff=min_pixel_diff)[0]
        np.testing.assert_array_equal(got, expected)


def test_explain_xrai_equals_pair_with_our_attributions():
    model = tiny_cnn((32, 32, 3), num_classes=2)
    images = np.stack([_astronaut(32), _astronaut(32)[::-1]])
    adapter = adapter_for(model)
    request = Request(adapter=adapter, images=images, targets=adapter.head.predicted_classes(images, 8), batch_size=64,
                      verbose=0, seed=0, layer=None, method="xrai")
    attributions = xrai.xrai_base_attributions(request, 8)
    for method, algorithm in (("xrai", "full"), ("fast_xrai", "fast")):
        maps = xai_tf.explain(model, images, method, steps=8, verbose=0, **({"top_fraction": None}
                                                                             if method == "fast_xrai" else {}))
        expected = [_pair(image, attr, algorithm) for image, attr in zip(images, attributions)]
        np.testing.assert_array_equal(maps, np.array(expected, np.float32))
        segments = [segmentation.segment(image).to_masks() for image in images]
        again = xai_tf.explain(model, images, method, steps=8, verbose=0, segments=segments,
                               **({"top_fraction": None} if method == "fast_xrai" else {}))
        np.testing.assert_array_equal(again, maps)


def test_regions_are_cached_by_image_bytes():
    segmentation.clear_cache()
    images = np.stack([_digit(32), _digit(32), _digit(32)[::-1].copy()])
    first = segmentation.image_regions(images, workers=2)
    assert first[0] is first[1] and first[0] is not first[2]
    second = segmentation.image_regions(images[::-1], workers=1)
    assert second[0] is first[2] and second[2] is first[0]


def test_bad_input_names_the_argument():
    image = _digit(32)[None]
    attr = _attribution(image[0], 0)[None]
    with pytest.raises(ValueError, match="algorithm"):
        xrai.xrai_maps(image, attr, algorithm="slow")
    with pytest.raises(ValueError, match="attributions"):
        xrai.xrai_maps(image, attr[:, :16])
    with pytest.raises(ValueError, match="attributions"):
        xrai.xrai_maps(image, np.full_like(attr, np.nan))
    with pytest.raises(ValueError, match="segments"):
        xrai.xrai_maps(image, attr, segments=[])
    with pytest.raises(ValueError, match="segments"):
        xrai.xrai_maps(image, attr, segments=[np.zeros((3, 32, 32), np.uint8)])
    with pytest.raises(ValueError, match=r"segments\[0\]"):
        xrai.xrai_maps(image, attr, segments=[np.zeros((3, 16, 16), bool)])
    with pytest.raises(ValueError, match="area_threshold"):
        xrai.xrai_maps(image, attr, area_threshold=0)
    with pytest.raises(ValueError, match="min_pixel_diff"):
        xrai.xrai_maps(image, attr, min_pixel_diff=0)
    with pytest.raises(ValueError, match="workers"):
        segmentation.clear_cache()
        segmentation.image_regions(image, workers=0)


@pytest.mark.parametrize("algorithm", ["full", "fast"])
def test_near_ties_resolve_as_pair_float32_means(algorithm):
    """Two overlapping regions with the same multiset of attributions tie exactly in float64, but
    PAIR's float32 means differ: PAIR takes the larger, and so must we (the overlap shows which)."""
    image = _digit(32)
    first = np.zeros((32, 32), bool)
    first[:10] = True  # rows 0-9
    second = np.zeros((32, 32), bool)
    second[6:16] = True  # rows 6-15: shares rows 6-9
    rest = ~(first | second)
    for seed in range(100):
        rng = np.random.default_rng(seed)
        attr = np.full((32, 32), 0.01, np.float32)
        attr[:10] = rng.uniform(0.5, 1.0, (10, 32)).astype(np.float32)
        attr[10:16] = rng.permutation(attr[:6].ravel()).reshape(6, 32)  # second's own rows: first's, shuffled
        if attr[second].mean() > attr[first].mean():  # float32: PAIR prefers the second region
            break
    assert attr[second].astype(np.float64).sum() == attr[first].astype(np.float64).sum()
    masks = [first, second, rest]
    expected = _pair(image, attr[..., None], algorithm, segments=masks)
    assert expected[8, 0] == attr[second].mean()  # PAIR gave the overlap the second region's gain
    got = xrai.xrai_maps(image[None], attr[None], algorithm=algorithm, segments=[masks])[0]
    np.testing.assert_array_equal(got, expected)
