"""Figures: overlays, method grids, activation grids, denoising grids, metric curves and
critical-difference diagrams (headless-safe); ``write_figures`` saves several as PNG (and PDF) into a folder."""
from xai_tf._lazy import lazy_exports

_EXPORTS = {
    "overlay": "overlays",
    "to_grayscale": "overlays",
    "method_grid": "grids",
    "activation_grid": "activations",
    "denoise_grid": "denoised",
    "plot_pic": "curves",
    "plot_curves": "curves",
    "write_figures": "figures",
    "outline_colour": "overlays",
    "cd_diagram": "cd",
}
__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
