"""Tests for xai_tf.viz overlays and grids: blending arithmetic, PAIR's grayscale view and clipping,
figure pixel sizes, wrapping and text sizes at the report's width, colour bars, the ground truth
outlined exactly where the mask edge is in a colour absent from the colour map, PIC legends."""
from __future__ import annotations

import io
import re

import matplotlib
import numpy as np
import pytest
from matplotlib.figure import Figure
from PIL import Image
from saliency.core import VisualizeImageGrayscale
from skimage.transform import resize

from xai_tf.denoising import denoise
from xai_tf.viz import (
    activation_grid,
    denoise_grid,
    method_grid,
    overlay,
    plot_pic,
    to_grayscale,
)
from xai_tf.viz.figures import MIN_TEXT_PX, REPORT_WIDTH_PX, text_pixels, write_figures
from xai_tf.viz.overlays import (
    OUTLINE_MIN_DISTANCE,
    clip_range,
    colormap_distance,
    outline_colour,
)

MAGENTA = (255, 0, 255)  # outline_colour of jet and gray: what the ground truth is drawn in

SIZE = 32


def gray_images(n=2, channels=1, seed=0):
    """Gray images in [0.1, 0.9]: never pure red, so red pixels in a figure can only be ground truth."""
    rng = np.random.default_rng(seed)
    image = 0.1 + 0.8 * rng.random((n, SIZE, SIZE, 1))
    return np.repeat(image, channels, axis=-1).astype(np.float32)


def random_maps(n=2, size=SIZE, seed=1, signed=False):
    rng = np.random.default_rng(seed)
    maps = rng.normal(size=(n, size, size)) if signed else rng.random((n, size, size))
    return maps.astype(np.float32)


def png_pixels(figure_or_path) -> np.ndarray:
    if isinstance(figure_or_path, Figure):
        buffer = io.BytesIO()
        figure_or_path.savefig(buffer, format="png", dpi=figure_or_path.dpi)
        buffer.seek(0)
        return np.array(Image.open(buffer).convert("RGB"))
    return np.array(Image.open(figure_or_path).convert("RGB"))


def pure_red(pixels: np.ndarray, colour=MAGENTA) -> np.ndarray:
    """Pixels of exactly the outline colour (default magenta; the name is historical)."""
    return np.all(np.abs(pixels[..., :3].astype(int) - np.array(colour)) <= 5, axis=-1)


def red_points_in_data_coordinates(figure: Figure, axes, pixels: np.ndarray) -> np.ndarray:
    """(x, y) image coordinates of the outline-coloured PNG pixels inside ``axes``."""
    height = pixels.shape[0]
    rows, cols = np.nonzero(pure_red(pixels))
    display = np.stack([cols + 0.5, height - rows - 0.5], axis=1)  # PNG rows run top-down, display y bottom-up
    box = axes.get_window_extent()
    inside = (display[:, 0] >= box.x0) & (display[:, 0] <= box.x1) & (display[:, 1] >= box.y0) \
        & (display[:, 1] <= box.y1)
    return axes.transData.inverted().transform(display[inside])


def distance_to_rectangle_outline(points, x0, y0, x1, y1):
    """Distance of (x, y) points to the outline of the axis-aligned rectangle [x0, x1] x [y0, y1]."""
    x, y = points[:, 0], points[:, 1]
    dx = np.maximum(np.maximum(x0 - x, x - x1), 0.0)
    dy = np.maximum(np.maximum(y0 - y, y - y1), 0.0)
    outside = np.hypot(dx, dy)
    inside = np.minimum.reduce([np.abs(x - x0), np.abs(x - x1), np.abs(y - y0), np.abs(y - y1)])
    return np.where((dx > 0) | (dy > 0), outside, inside)


# ---------------------------------------------------------------------------------------------
# overlay and to_grayscale
# ---------------------------------------------------------------------------------------------


def test_overlay_of_zero_map_with_alpha_zero_returns_the_image():
    rgb = np.random.default_rng(0).random((SIZE, SIZE, 3)).astype(np.float32)
    out = overlay(rgb, np.zeros((SIZE, SIZE)), alpha=0.0)
    assert out.dtype == np.uint8 and out.shape == (SIZE, SIZE, 3)
    np.testing.assert_array_equal(out, np.round(rgb * 255).astype(np.uint8))
    gray = gray_images(1)[0]
    for image in (gray, gray[..., 0]):  # (H, W, 1) and (H, W): shown in gray
        out = overlay(image, np.zeros((SIZE, SIZE)), alpha=0.0)
        expected = np.round(gray[..., 0] * 255).astype(np.uint8)
        for channel in range(3):
            np.testing.assert_array_equal(out[..., channel], expected)


def test_overlay_blends_colormap_of_map_scaled_by_its_maximum():
    image = gray_images(1)[0]
    saliency_map = random_maps(1)[0] * 5.0
    heat = matplotlib.colormaps["viridis"](saliency_map / saliency_map.max())[..., :3]
    expected = np.round((0.4 * np.repeat(image, 3, axis=-1) + 0.6 * heat) * 255)
    out = overlay(image, saliency_map, cmap="viridis", alpha=0.6)
    assert np.max(np.abs(out.astype(float) - expected)) <= 1.0
    np.testing.assert_array_equal(overlay(image, saliency_map, cmap="viridis", alpha=1.0),
                                  np.round(heat * 255).astype(np.uint8))


def test_overlay_scales_signed_maps_symmetrically_around_zero():
    saliency_map = np.zeros((4, 4), np.float32)
    saliency_map[0, 0], saliency_map[1, 1] = -2.0, 1.0
    out = overlay(np.zeros((4, 4)), saliency_map, cmap="bwr", alpha=1.0)
    bwr = matplotlib.colormaps["bwr"]
    np.testing.assert_array_equal(out[0, 0], np.round(np.array(bwr(0.0)[:3]) * 255))
    np.testing.assert_array_equal(out[2, 2], np.round(np.array(bwr(0.5)[:3]) * 255))  # zero: the middle
    np.testing.assert_array_equal(out[1, 1], np.round(np.array(bwr(0.75)[:3]) * 255))


def test_overlay_resizes_coarse_map_bilinearly():
    coarse = random_maps(1, size=8)[0]
    image = gray_images(1)[0]
    expected = resize(coarse, (SIZE, SIZE), order=1, mode="edge", anti_aliasing=False)
    heat = matplotlib.colormaps["gray"](expected / expected.max())[..., 0] * 255
    out = overlay(image, coarse, cmap="gray", alpha=1.0)
    assert np.max(np.abs(out[..., 0].astype(float) - heat)) <= 2.0


@pytest.mark.parametrize("alpha", [-0.1, 1.5, "0.5", True])
def test_overlay_rejects_alpha_outside_unit_interval(alpha):
    with pytest.raises(ValueError, match="alpha"):
        overlay(gray_images(1)[0], random_maps(1)[0], alpha=alpha)


def test_overlay_rejects_bad_colormap_images_and_maps():
    image, saliency_map = gray_images(1)[0], random_maps(1)[0]
    with pytest.raises(ValueError, match="cmap"):
        overlay(image, saliency_map, cmap="not_a_colormap")
    with pytest.raises(ValueError, match="image"):
        overlay(image * 255, saliency_map)
    with pytest.raises(ValueError, match="image"):
        overlay(np.zeros((SIZE, SIZE, 2)), saliency_map)
    with pytest.raises(ValueError, match="aspect ratio"):
        overlay(image, np.zeros((8, 16)))
    with pytest.raises(ValueError, match="saliency_map"):
        overlay(image, np.zeros((SIZE, SIZE, 3)))
    bad = saliency_map.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        overlay(image, bad)


@pytest.mark.parametrize("percentile", [99, 90, 100, 50.5])
def test_to_grayscale_matches_pair_visualize_image_grayscale(percentile):
    mask = np.random.default_rng(3).normal(size=(SIZE, 24, 3))
    np.testing.assert_allclose(to_grayscale(mask, percentile), VisualizeImageGrayscale(mask, percentile),
                               atol=1e-6)
    one_channel = mask[..., 0]
    np.testing.assert_allclose(to_grayscale(one_channel, percentile),
                               VisualizeImageGrayscale(one_channel[..., None], percentile), atol=1e-6)
    assert to_grayscale(mask).dtype == np.float32


def test_to_grayscale_of_constant_mask_is_zero_and_bad_input_is_rejected():
    np.testing.assert_array_equal(to_grayscale(np.full((8, 8, 3), -2.0)), np.zeros((8, 8)))
    for percentile in (0, 101, "99"):
        with pytest.raises(ValueError, match="percentile"):
            to_grayscale(np.ones((8, 8, 3)), percentile)
    with pytest.raises(ValueError, match="saliency_map"):
        to_grayscale(np.ones((2, 8, 8, 3)))


# ---------------------------------------------------------------------------------------------
# method_grid
# ---------------------------------------------------------------------------------------------


def cells(figure):
    """The picture axes of a grid (every axes but the colour bar)."""
    return [axes for axes in figure.axes if axes.get_label() != "colorbar"]


def test_method_grid_png_and_pdf_match_the_rows_by_columns_layout(tmp_path):
    images = gray_images(3)
    maps = {name: random_maps(3, seed=index) for index, name in enumerate(["gradcam", "ig", "xrai"])}
    figure = method_grid(images, maps, path=tmp_path / "grid.png", cell_size=2.0, dpi=60)
    assert isinstance(figure, Figure)
    height, width, _ = png_pixels(tmp_path / "grid.png").shape
    assert width == 4 * 120  # input + 3 methods, 120 px cells
    band = height - 3 * 120  # 3 images, then the colour-bar band
    assert 0 < band < 120
    no_bar = method_grid(images, maps, colorbar=False, cell_size=2.0, dpi=60)
    assert png_pixels(no_bar).shape == (3 * 120, 4 * 120, 3)
    assert len(cells(figure)) == 12 and len(figure.axes) == 13
    method_grid(images, maps, path=tmp_path / "sub" / "grid.pdf", cell_size=1.5, colorbar=False)
    data = (tmp_path / "sub" / "grid.pdf").read_bytes()
    assert data.startswith(b"%PDF")
    box = [float(v) for v in re.search(rb"/MediaBox\s*\[\s*([\d.\s]+)\]", data).group(1).split()]
    assert box[2:] == [4 * 1.5 * 72, 3 * 1.5 * 72]  # points: columns x rows cells


def _rendered_texts(figure):
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    for text in figure.findobj(matplotlib.text.Text):
        if text.get_visible() and text.get_text().strip():
            yield text, text.get_window_extent(renderer)


@pytest.mark.parametrize("cell_size, dpi", [(1.4, 100), (1.6, 80), (2.0, 100), (1.0, 100)])
def test_method_grid_wraps_at_seven_methods_with_legible_text_at_the_report_width(cell_size, dpi):
    names = [f"method_{index}_with_a_long_name" if index % 5 == 0 else f"m{index}" for index in range(21)]
    images = gray_images(2)
    maps = {name: random_maps(2, seed=index) for index, name in enumerate(names)}
    try:
        figure = method_grid(images, maps, labels=[0, 1], predictions=[1, 1], class_names=["FRI", "FRII"],
                             cell_size=cell_size, dpi=dpi)
    except ValueError as error:  # 100 px cells: too small for 10 px text beside a picture, said so
        assert cell_size * dpi < 120 and "at least" in str(error)
        return
    cell_px = cell_size * dpi
    width_px = figure.get_size_inches()[0] * dpi
    assert width_px == pytest.approx(8 * cell_px)  # input + 7 methods per row
    grid = cells(figure)
    assert len(grid) == 3 * 2 * 8  # 21 methods: 3 blocks of 2 image rows
    titles = [axes.get_title().replace("\n", "") for axes in grid if axes.get_title()]
    assert titles.count("input") == 3
    for title, name in zip([t for t in titles if t != "input"], names, strict=True):  # in order, cut if too long
        assert title == name or (title.endswith("\u2026") and name.startswith(title[:-1])), (title, name)
    # every text: at least 10 px high once the report shows the figure at its width (never scaled up)
    scale = min(1.0, REPORT_WIDTH_PX / width_px)
    for text, box in _rendered_texts(figure):
        assert text_pixels(text.get_fontsize(), dpi, width_px) >= MIN_TEXT_PX - 1e-6, text.get_text()
        # and inside the figure, and a title within its own cell (it does not spill into the next one)
        assert box.x0 >= -1 and box.x1 <= width_px + 1, text.get_text()
    for axes in grid:
        if axes.get_title():
            box = axes.title.get_window_extent()
            column = int(axes.get_position().x0 * width_px // cell_px)
            assert column * cell_px - 1 <= box.x0 and box.x1 <= (column + 1) * cell_px + 1, axes.get_title()
    assert scale * cell_px > 0


@pytest.mark.parametrize("methods, per_row", [(7, 7), (8, 4), (10, 5), (15, 5), (21, 7), (2, 2)])
def test_method_grid_spreads_methods_evenly_over_the_fewest_rows(methods, per_row):
    maps = {f"m{index}": random_maps(1, seed=index) for index in range(methods)}
    figure = method_grid(gray_images(1), maps, colorbar=False)
    assert figure.get_size_inches()[0] * figure.dpi == pytest.approx((1 + per_row) * 140)
    blocks = -(-methods // 7)  # the fewest blocks of at most 7
    assert len(cells(figure)) == blocks + methods  # an input cell per block, a cell per method
    assert figure.get_size_inches()[1] * figure.dpi == pytest.approx(blocks * 140)


def test_method_grid_defaults_fit_the_report_column():
    import xai_tf

    names = list(xai_tf.list_methods())  # every registered name shows in full, in the denoised grid too
    maps = {name: random_maps(1, seed=index) for index, name in enumerate(names)}
    for figure in (method_grid(gray_images(1), maps), method_grid(gray_images(1), maps, denoise="wavelet"),
                   method_grid(gray_images(1), maps, cell_size=1.6, dpi=80)):  # and the report's cells
        assert figure.get_size_inches()[0] * figure.dpi <= REPORT_WIDTH_PX  # at 100%: no horizontal scroll
        titles = [axes.get_title() for axes in cells(figure) if axes.get_title()]
        assert not any("\u2026" in title for title in titles)


def test_method_grid_has_one_colour_bar_for_its_one_scale():
    maps = {"a": random_maps(2), "b": random_maps(2, seed=3) * 100}
    figure = method_grid(gray_images(2), maps, cmap="viridis")
    bars = [axes for axes in figure.axes if axes.get_label() == "colorbar"]
    assert len(bars) == 1
    assert bars[0].get_xlim() == (0.0, 1.0)
    assert "99th percentile" in bars[0].get_xlabel()
    pixels = png_pixels(figure)  # the bar shows the grid's colour map, bottom on the left
    box = bars[0].get_window_extent()
    row = int(pixels.shape[0] - (box.y0 + box.y1) / 2)
    viridis = matplotlib.colormaps["viridis"]
    for x, value in ((box.x0 + 3, 0.0), (box.x1 - 3, 1.0)):
        expected = np.array(viridis(value)[:3]) * 255
        assert np.max(np.abs(pixels[row, int(x)].astype(float) - expected)) < 12
    signed = method_grid(gray_images(2), maps, signed="keep", cmap="bwr")
    assert next(a for a in signed.axes if a.get_label() == "colorbar").get_xlim() == (-1.0, 1.0)


def test_maps_are_clipped_at_the_99th_percentile():
    saliency_map = random_maps(1, seed=4)[0]
    saliency_map[3, 5] = 1000.0  # one outlier would take the whole colour scale
    top = np.percentile(saliency_map, 99)
    assert clip_range(saliency_map) == (0.0, pytest.approx(top))
    images = gray_images(1)
    figure = method_grid(images, {"ig": saliency_map[None]})
    shown = cells(figure)[1].images[0].get_array()
    np.testing.assert_array_equal(shown, overlay(images[0], saliency_map, value_range=(0.0, top)))
    # unclipped, everything but the outlier would sit at the bottom of the colour map
    assert not np.array_equal(shown, overlay(images[0], saliency_map))
    exact = method_grid(images, {"ig": saliency_map[None]}, clip_percentile=100)
    np.testing.assert_array_equal(cells(exact)[1].images[0].get_array(), overlay(images[0], saliency_map))
    signed = np.array([[-4.0, 1.0], [2.0, 0.5]])
    assert clip_range(signed, 100) == (-4.0, 4.0)
    sparse = np.zeros((40, 40))
    sparse[0, 0] = 3.0  # zero on 99% of the pixels: the maximum instead of a zero percentile
    assert clip_range(sparse) == (0.0, 3.0) and clip_range(np.zeros((4, 4))) is None
    with pytest.raises(ValueError, match="clip_percentile"):
        method_grid(images, {"ig": saliency_map[None]}, clip_percentile=0)


@pytest.mark.parametrize("cmap", ["jet", "viridis", "gray", "bwr", "inferno", "turbo", "hot"])
def test_outline_colour_is_absent_from_the_colour_map(cmap):
    colour = outline_colour(cmap)
    table = matplotlib.colormaps[cmap](np.linspace(0, 1, 256))[:, :3]
    assert np.min(np.linalg.norm(table - np.array(colour), axis=1)) >= OUTLINE_MIN_DISTANCE
    assert colormap_distance(colour, cmap) >= OUTLINE_MIN_DISTANCE
    assert outline_colour("jet") != (1.0, 0.0, 0.0)  # pure red is jet's top: the old outline colour


def test_write_figures_writes_png_and_pdf_on_request(tmp_path):
    figure = method_grid(gray_images(1), {"a": random_maps(1)}, dpi=60)
    written = write_figures({"grid_FRI": figure}, tmp_path / "figures")
    assert written == [tmp_path / "figures" / "grid_FRI.png"]
    assert written[0].read_bytes().startswith(b"\x89PNG")
    both = write_figures({"grid_FRI": figure}, tmp_path / "figures", formats=("png", "pdf"))
    assert [p.suffix for p in both] == [".png", ".pdf"] and both[1].read_bytes().startswith(b"%PDF")
    with pytest.raises(ValueError, match="formats"):
        write_figures({"a": figure}, tmp_path, formats=("jpg",))
    with pytest.raises(ValueError, match="plain file name"):
        write_figures({"../a": figure}, tmp_path)


def test_method_grid_cells_show_the_overlays_titles_and_row_labels():
    images = gray_images(2)
    maps = {"ig": random_maps(2, signed=True), "gradcam": random_maps(2, seed=5)}
    figure = method_grid(images, maps, labels=[0, 1], predictions=[1, 1], class_names=["FRI", "FRII"])
    axes = cells(figure)
    assert len(axes) == 2 * 3
    assert [a.get_title() for a in axes[:3]] == ["input", "ig", "gradcam"]
    assert axes[0].get_ylabel() == "true: FRI\npred: FRII" and axes[3].get_ylabel() == "true: FRII\npred: FRII"
    ig = np.abs(maps["ig"][0])
    np.testing.assert_array_equal(axes[1].images[0].get_array(), overlay(images[0], ig, value_range=clip_range(ig)))
    cam = maps["gradcam"][1]
    np.testing.assert_array_equal(axes[5].images[0].get_array(), overlay(images[1], cam, value_range=clip_range(cam)))
    denoised = cells(method_grid(images, maps, denoise="tv", titles=["IG", "Grad-CAM"], dpi=100))
    assert [a.get_title().replace("\n", "") for a in denoised[:3]] == ["input", "IG (tv)", "Grad-CAM (tv)"]
    smooth = np.abs(denoise(maps["ig"], "tv")[1])
    expected = overlay(images[1], smooth, value_range=clip_range(smooth))
    np.testing.assert_array_equal(denoised[4].images[0].get_array(), expected)


def test_ground_truth_mask_contour_is_outlined_on_the_mask_edge():
    images = gray_images(1)
    mask = np.zeros((1, SIZE, SIZE), np.float32)
    mask[0, 8:20, 10:24] = 1  # rows (y) 8..19, columns (x) 10..23
    maps = {"a": random_maps(1)}
    figure = method_grid(images, maps, masks=mask, cmap="gray", dpi=200)  # gray: the heatmap has no magenta
    pixels = png_pixels(figure)
    # the contour runs between the centres of inside and outside pixels: x = 9.5 and 23.5, y = 7.5 and 19.5
    outline = (9.5, 7.5, 23.5, 19.5)
    for axes in cells(figure):  # input and method cells both carry it
        points = red_points_in_data_coordinates(figure, axes, pixels)
        assert len(points) > 100
        assert np.max(distance_to_rectangle_outline(points, *outline)) < 0.5
        # and the whole edge is drawn: every point along each side has red within 0.5 image pixels
        sides = [(np.full(20, 9.5), np.linspace(8.5, 18.5, 20)), (np.full(20, 23.5), np.linspace(8.5, 18.5, 20)),
                 (np.linspace(10.5, 22.5, 20), np.full(20, 7.5)), (np.linspace(10.5, 22.5, 20), np.full(20, 19.5))]
        for xs, ys in sides:
            samples = np.stack([xs, ys], axis=1)
            nearest = np.min(np.linalg.norm(samples[:, None] - points[None], axis=-1), axis=1)
            assert np.all(nearest < 0.5)
    assert not pure_red(png_pixels(method_grid(images, maps, cmap="gray"))).any()  # no mask, no outline
    jet = png_pixels(method_grid(images, maps, masks=mask))  # jet's outline: magenta, which jet lacks
    assert pure_red(jet).sum() > 100 and not pure_red(jet, (255, 0, 0)).any()


def test_ground_truth_boxes_are_outlined_on_the_box_outline():
    images = gray_images(2)
    boxes = [[(2, 3, 6, 29)], []]  # (y0, x0, y1, x1), end exclusive: outline at x 2.5, 28.5 and y 1.5, 5.5
    figure = method_grid(images, {"a": random_maps(2)}, boxes=boxes, cmap="gray", dpi=200)
    pixels = png_pixels(figure)
    points = red_points_in_data_coordinates(figure, figure.axes[0], pixels)
    assert len(points) > 100
    assert np.max(distance_to_rectangle_outline(points, 2.5, 1.5, 28.5, 5.5)) < 0.75  # corners: line joins
    assert len(red_points_in_data_coordinates(figure, figure.axes[2], pixels)) == 0  # second image: no box


def test_method_grid_rejects_mismatched_input():
    images, maps = gray_images(2), {"a": random_maps(2)}
    with pytest.raises(ValueError, match=r"maps_by_method\['b'\]"):
        method_grid(images, {**maps, "b": random_maps(3)})
    with pytest.raises(ValueError, match="titles"):
        method_grid(images, maps, titles=["x", "y"])
    with pytest.raises(ValueError, match="masks"):
        method_grid(images, maps, masks=np.zeros((2, 16, 16)))
    with pytest.raises(ValueError, match="boxes"):
        method_grid(images, maps, boxes=[[(0, 0, 40, 4)], []])
    with pytest.raises(ValueError, match="labels"):
        method_grid(images, maps, labels=[0])
    with pytest.raises(ValueError, match="path"):
        method_grid(images, maps, path="grid.jpg")
    with pytest.raises(ValueError, match="signed"):
        method_grid(images, maps, signed="raw")
    with pytest.raises(TypeError, match="maps_by_method"):
        method_grid(images, [random_maps(2)])
    with pytest.raises(ValueError, match="denoise='bm3d'.*tv, bilateral"):
        method_grid(images, maps, denoise="bm3d")


def test_figures_leave_pyplot_state_alone():
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    method_grid(gray_images(1), {"a": random_maps(1)})
    denoise_grid(random_maps(1)[0], ["gaussian"])
    assert plt.get_fignums() == before


# ---------------------------------------------------------------------------------------------
# activation_grid and denoise_grid
# ---------------------------------------------------------------------------------------------


def test_activation_grid_layout_and_channel_content(tmp_path):
    rng = np.random.default_rng(0)
    activations = {"conv1": rng.random((1, 16, 16, 3)), "conv2": rng.random((8, 8, 20))}
    figure = activation_grid(activations, path=tmp_path / "act.png", max_channels=5, cell_size=1.5, dpi=100)
    assert png_pixels(tmp_path / "act.png").shape == (2 * 150, 5 * 150, 3)  # 2 layers x min(20, 5) channels
    axes = figure.axes
    assert axes[0].get_ylabel() == "conv1" and axes[5].get_ylabel() == "conv2"
    assert not axes[3].axison and not axes[3].images  # conv1 has only 3 channels
    plane = activations["conv2"][..., 4]
    expected = matplotlib.colormaps["viridis"]((plane - plane.min()) / (plane.max() - plane.min()))[..., :3]
    np.testing.assert_allclose(axes[9].images[0].get_array(), expected, atol=1e-6)
    with pytest.raises(ValueError, match="dense"):
        activation_grid({"predictions": np.ones((1, 3))})
    with pytest.raises(ValueError, match="max_channels"):
        activation_grid(activations, max_channels=0)
    with pytest.raises(ValueError, match="at least .* px"):  # 40 px cells cannot hold 10 px text
        activation_grid(activations, cell_size=1.0, dpi=40)


def test_denoise_grid_layout_and_panels(tmp_path):
    saliency_map = random_maps(1)[0] * 3.0
    figure = denoise_grid(saliency_map, ["tv", "median"], image=gray_images(1)[0], path=tmp_path / "d.png",
                          colorbar=False)
    assert png_pixels(tmp_path / "d.png").shape == (2 * 140, 3 * 140, 3)  # map row + superimposed row
    axes = cells(figure)  # created column by column: map, then its superimposed cell
    titles = [axes[i].get_title().split("\n") for i in (0, 2, 4)]
    assert [t[0] for t in titles] == ["original", "tv", "median"]
    for title, name in zip(titles[1:], ("tv", "median")):  # each denoiser says how much it changed the map
        change = np.linalg.norm(denoise(saliency_map, name) - saliency_map) / np.linalg.norm(saliency_map)
        assert title[1] == f"change {100 * change:.0f}%"
    jet = matplotlib.colormaps["jet"]
    top = np.percentile(saliency_map, 99)  # the original's 99th percentile: one scale for every panel
    expected = jet(np.clip(denoise(saliency_map, "tv") / top, 0, 1))[..., :3]
    np.testing.assert_allclose(axes[2].images[0].get_array(), expected, atol=1e-6)
    single_row = denoise_grid(saliency_map, None, path=tmp_path / "all.png", colorbar=False)
    assert png_pixels(tmp_path / "all.png").shape == (140, 7 * 140, 3)  # original + all six denoisers
    assert [a.get_title().split("\n")[0] for a in cells(single_row)] == ["original", *denoise.methods()]
    with pytest.raises(ValueError, match="method"):
        denoise_grid(saliency_map, ["tv", "bm3d"])


def test_denoise_grid_shows_a_noisy_gradient_map_on_its_own_scale():
    rng = np.random.default_rng(7)
    gradient = rng.normal(size=(SIZE, SIZE)).astype(np.float32)  # signed, pixel-scale noise
    gradient[4, 4] = 500.0  # and an outlier
    mask = np.zeros((SIZE, SIZE))
    mask[8:20, 8:20] = 1
    figure = denoise_grid(gradient, ["gaussian", "median"], image=gray_images(1)[0], mask=mask,
                          label="vanilla_gradient")
    bars = [a for a in figure.axes if a.get_label() == "colorbar"]
    assert len(bars) == 1  # one scale, one bar, in the map's units
    top = np.percentile(np.abs(gradient), 99)
    assert bars[0].get_xlim() == (0.0, pytest.approx(top))
    grid = cells(figure)
    assert grid[0].get_title() == "vanilla_gradient"
    smoothed = denoise(np.abs(gradient), "gaussian")  # |map| is denoised: what is shown
    expected = matplotlib.colormaps["jet"](np.clip(smoothed / top, 0, 1))[..., :3]
    np.testing.assert_allclose(grid[2].images[0].get_array(), expected, atol=1e-6)
    assert pure_red(png_pixels(figure)).sum() > 50  # the ground truth is outlined
    with pytest.raises(ValueError, match="mask"):
        denoise_grid(gradient, ["tv"], mask=np.ones((4, 4)))


def test_pic_legend_never_covers_the_curves(tmp_path):
    from types import SimpleNamespace

    x = np.linspace(0, 1, 101)
    results = {f"method_number_{i}": SimpleNamespace(curve_x=x, curve=x ** (0.2 + 0.3 * i), auc=0.5, kind="aic",
                                                     num_included=40) for i in range(7)}
    figure = plot_pic(results, path=tmp_path / "aic.png")
    figure.canvas.draw()
    legend = figure.legends[0].get_window_extent()
    axes = figure.axes[0].get_window_extent()
    assert legend.x0 >= axes.x1  # entirely right of the plotting area
    assert legend.x1 <= figure.get_size_inches()[0] * figure.dpi + 1  # and inside the figure
    width = Image.open(tmp_path / "aic.png").size[0]
    assert width == round(figure.get_size_inches()[0] * figure.dpi)
    for text, _ in _rendered_texts(figure):
        assert text_pixels(text.get_fontsize(), figure.dpi, width) >= MIN_TEXT_PX, text.get_text()


def test_panels_say_when_a_map_is_blank_or_has_an_offset():
    from xai_tf.viz.grids import OFFSET_SHARE, panel_range

    rng = np.random.default_rng(0)
    assert panel_range(np.zeros((8, 8)), 99.0) == (None, "all zero")
    assert panel_range(np.full((8, 8), 0.5), 99.0)[1] == "constant"
    offset = 0.6 + 0.1 * rng.random((16, 16))  # RISE-like: every pixel far above zero
    value_range, note = panel_range(offset, 99.0)
    assert note == "from min" and value_range == pytest.approx((offset.min(), np.percentile(offset, 99.0)), rel=1e-6)
    peaked = np.zeros((16, 16))
    peaked[4:8, 4:8] = rng.random((4, 4)) + 0.5  # Grad-CAM-like: zero background, a peak
    value_range, note = panel_range(peaked, 99.0)
    assert note == "" and value_range == pytest.approx((0.0, np.percentile(peaked, 99.0)), rel=1e-6)
    low_offset = 0.2 * OFFSET_SHARE + rng.random((16, 16))  # a small minimum is no offset
    assert panel_range(low_offset, 99.0)[1] == ""
    images = rng.random((2, 16, 16, 1), dtype=np.float32)
    figure = method_grid(images, {"blank": np.zeros((2, 16, 16)), "rise": offset[None].repeat(2, 0)})
    words = [text.get_text() for axes in figure.axes for text in axes.texts]
    assert words.count("all zero") == 2 and words.count("from min") == 2
