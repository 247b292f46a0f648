"""The numpydoc blocks several saliency-method modules share, each written once.

Strings and two string helpers, no import: a method module passes the blocks its docstrings list to
:func:`xai_tf._docstrings.fill_doc`, and each docstring holds the placeholder line ``{name}``;
:func:`join` chains entries and :func:`section` puts them under a section title where a whole
section is shared. A block that one
module's methods share lives in that module instead (the noise options in ``smoothing``, Integrated
Gradients' ``baseline`` in ``integrated``, Blur IG's path in ``blur``, the CAM family's sections in
``cam``, the masked-copy ``score`` in ``masking``).
"""
from __future__ import annotations


def join(*entries: str) -> str:
    """Blocks written at column 0, one after the other, as one block (no blank line between them).

    Parameters
    ----------
    *entries : str
        numpydoc entries (this module's constants, or a module's own), in order.

    Returns
    -------
    str
        Their lines, each entry's outer blank lines dropped.
    """
    return "\n".join(entry.strip("\n") for entry in entries) + "\n"


def section(title: str, *entries: str) -> str:
    """The numpydoc section ``title`` (underlined) holding ``entries``, as one block.

    Parameters
    ----------
    title : str
        "Parameters", "Returns", "Raises", "References", ...
    *entries : str
        Blocks written at column 0, in order (:func:`join`).

    Returns
    -------
    str
        The section's text, for :func:`xai_tf._docstrings.fill_doc` (a docstring whose whole
        section is shared holds one placeholder line for it).
    """
    return f"{title}\n{'-' * len(title)}\n" + join(*entries)


_REQUEST = """
request : xai_tf.explainers.base.Request
    The sanitised call built by :func:`xai_tf.explain`: images ``(N, H, W, C)`` float32 in
    [0, 1], targets ``(N,)`` int64 (the class explained per image){uses}.
"""
#: ``request`` of a deterministic method on the input.
REQUEST = _REQUEST.format(uses=" and ``batch_size``")
#: ``request`` of a stochastic method (``seed`` keys its draws).
REQUEST_SEEDED = _REQUEST.format(uses=", ``batch_size`` and ``seed``")
#: ``request`` of a layer method (``layer=`` applies).
REQUEST_LAYER = _REQUEST.format(uses=""", ``batch_size`` and ``layer``
    (``explain(..., layer=)``; None = the model's last convolution layer, nested backbones
    included, :func:`xai_tf.models.find_last_conv_layer`)""")

_CHANNEL_REDUCTION = """
channel_reduction : {{"sum", "abs_sum", "l2", "mean"}}, optional
    How the per-channel values of a pixel become one value: "sum" ({sum_default}keeps the sign{keeps}),
    "abs_sum" (sum of absolute values, PAIR's ``VisualizeImageGrayscale`` before clipping), "l2"
    (Euclidean norm) or "mean" (Xplique's default ``reducer``{mean_default}).
"""
#: ``channel_reduction`` defaulting to "sum" (the gradient methods).
CHANNEL_REDUCTION = _CHANNEL_REDUCTION.format(sum_default="default; ", keeps="", mean_default="")
#: ``channel_reduction`` defaulting to "sum" on a path method, whose channel sum keeps completeness.
CHANNEL_REDUCTION_PATH = _CHANNEL_REDUCTION.format(sum_default="default; ", keeps=" and completeness",
                                                   mean_default="")
#: ``channel_reduction`` defaulting to "mean" (Xplique's gradient statistics).
CHANNEL_REDUCTION_MEAN = _CHANNEL_REDUCTION.format(sum_default="", keeps="", mean_default="; the default here")

#: The first lines of the Returns entry of a method with ``channel_reduction``.
MAPS = """
numpy.ndarray, shape (N, H, W)
    float32 (float64 with ``channel_reduction="l2"``; :func:`xai_tf.explain` returns float32).
"""

#: The Raises entry of a method whose only checked option is ``channel_reduction``.
RAISES_CHANNEL_REDUCTION = """
ValueError
    If ``channel_reduction`` is not one of the four names.
"""

#: ``upsample`` of the maps computed at a layer's or a token grid's resolution (the CAM family).
UPSAMPLE_BILINEAR = """
upsample : str, optional
    How the coarse map (at the layer's or the patch grid's resolution) is resized to the image:
    "bilinear" (default; half-pixel centres, as the original Grad-CAM, Grad-CAM++ and Score-CAM
    code and PAIR ``GradCam``) or another ``tf.image.resize`` method ("bicubic", "nearest",
    "area", "lanczos3", "lanczos5", "gaussian", "mitchellcubic";
    ``xai_tf.explainers.base.UPSAMPLE_METHODS``).
"""
#: ``upsample`` of the maps resized as Xplique resizes them (FEM, Sobol, HSIC).
UPSAMPLE_BICUBIC = """
upsample : str, optional
    How the coarse map (at the layer's resolution, or the grid of cell values) is resized to the
    image: "bicubic" (default, Xplique's) or another ``tf.image.resize`` method ("bilinear" as
    the CAM family, "nearest" for flat cells, ...; ``xai_tf.explainers.base.UPSAMPLE_METHODS``).
"""

#: The sections of a method whose only option is ``channel_reduction`` (default "sum").
PLAIN_PARAMETERS = section("Parameters", REQUEST, CHANNEL_REDUCTION)
PLAIN_RAISES = section("Raises", RAISES_CHANNEL_REDUCTION)
#: The Returns section of a method with ``channel_reduction``; the method's docstring goes on.
MAPS_RETURNS = section("Returns", MAPS)
