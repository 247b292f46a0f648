"""The critical-difference diagram shows every label whole, however long the method names."""
from __future__ import annotations

import pytest

from xai_tf.viz.cd import cd_diagram


@pytest.mark.parametrize("names", [["a", "b", "c"],
                                   ["integrated_gradients", "vanilla_gradient", "guided_backprop", "smoothgrad_ig",
                                    "gradcam_pp", "random", "faster_scorecam"]])
def test_every_text_lies_inside_the_figure(names):
    ranks = {name: 1.0 + 5.0 * i / (len(names) - 1) for i, name in enumerate(names)}
    figure = cd_diagram(ranks, 1.2, title="sic (higher = better)")
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    box = figure.bbox
    texts = figure.axes[0].texts
    assert {text.get_text() for text in texts} >= {f"{name} ({rank:.2f})" for name, rank in ranks.items()}
    for text in texts:
        extent = text.get_window_extent(renderer)
        assert box.x0 <= extent.x0 and extent.x1 <= box.x1, text.get_text()
    assert figure.get_figwidth() >= 7.0  # short names keep the usual width
    if names[0] == "a":
        assert figure.get_figwidth() == 7.0
