"""The options of AIC/SIC, checked once: ``PICOptions``, the thresholds (``PAIR_THRESHOLDS``,
``check_thresholds``) and the random masks of the fully blurred images (``draw_random_masks``).

Shared by :func:`xai_tf.metrics.pic` (:mod:`xai_tf.metrics.information_curves.pic`), the evaluation
runner's AIC/SIC (:mod:`xai_tf.metrics.information_curves.metric`) and ``PICCallback``, so an option
means the same everywhere and an image gets the same random mask in each.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from xai_tf._checks import (
    check_bool,
    check_choice,
    check_number,
    check_positive,
)
from xai_tf._random import rng_for
from xai_tf.metrics.information_curves.curves import AGGREGATES

#: Saliency thresholds (fractions of pixels revealed) of PAIR's ``pic_metrics.ipynb`` notebook and
#: of the ``compute_pic_metric`` docstring, also used by paper 004's code (XAIBiomedical).
PAIR_THRESHOLDS = (0.005, 0.01, 0.02, 0.03, 0.04, 0.05, 0.07, 0.10, 0.13, 0.21, 0.34, 0.5, 0.75)

KINDS = ("sic", "aic")
ENTROPIES = ("webp", "shannon")
BLURS = ("fast", "exact")


@dataclass(frozen=True)
class PICOptions:
    """The options of AIC/SIC, checked once, shared by ``pic``, ``PICCallback`` and the runner.

    Parameters
    ----------
    entropy : {"webp", "shannon"}
        Information estimate: lossless WebP size (PAIR, default) or 256-bin histogram entropy (paper 004).
    blur : {"fast", "exact"}
        Fill of the blurred images (see :func:`pic`); default ``"fast"``.
    thresholds : tuple of float or None
        Increasing fractions in (0, 1) of pixels revealed; ``None`` = ``PAIR_THRESHOLDS``.
    min_pred_value : float
        Images whose original score is below this are excluded; in [0, 1], default 0.8 (PAIR).
    random_mask_fraction : float
        Fraction of pixels kept in the fully blurred image, in [0, 1); default 0.01 (PAIR).
    keep_monotonous : bool
        Make each curve non-decreasing (default True, as in the paper).
    num_data_points : int
        Curve samples before the final x = 1 point (default 1000, PAIR).
    aggregate : {"median", "mean"}
        Aggregation of the per-image curves (default ``"median"``, PAIR).
    """

    entropy: str = "webp"
    blur: str = "fast"
    thresholds: tuple | None = None
    min_pred_value: float = 0.8
    random_mask_fraction: float = 0.01
    keep_monotonous: bool = True
    num_data_points: int = 1000
    aggregate: str = "median"

    def checked(self) -> PICOptions:
        """A copy with every field validated (``TypeError``/``ValueError`` naming the field)."""
        check_positive(self.num_data_points, "num_data_points", integer=True)
        check_positive(self.random_mask_fraction, "random_mask_fraction", allow_zero=True)
        if self.random_mask_fraction >= 1:
            raise ValueError(f"random_mask_fraction must lie in [0, 1); got {self.random_mask_fraction!r}")
        thresholds = None if self.thresholds is None else tuple(float(t) for t in check_thresholds(self.thresholds))
        return PICOptions(
            entropy=check_choice(self.entropy, "entropy", ENTROPIES), blur=check_choice(self.blur, "blur", BLURS),
            thresholds=thresholds, min_pred_value=check_number(self.min_pred_value, "min_pred_value", 0.0, 1.0),
            random_mask_fraction=float(self.random_mask_fraction),
            keep_monotonous=check_bool(self.keep_monotonous, "keep_monotonous"),
            num_data_points=int(self.num_data_points), aggregate=check_choice(self.aggregate, "aggregate", AGGREGATES))

    def check_images(self, images: np.ndarray, name: str = "images") -> None:
        """ValueError when ``entropy="webp"`` cannot encode the images' channels."""
        channels = images.shape[-1]
        if self.entropy == "webp" and channels not in (1, 3, 4):
            raise ValueError(f"entropy='webp' encodes images with 1, 3 or 4 channels; {name} have {channels}; "
                             "use entropy='shannon'")


def draw_random_masks(count: int, height: int, width: int, fraction: float = 0.01, seed: int = 0,
                      indices=None) -> np.ndarray:
    """The seed pixels of the fully blurred images: ``(count, height, width)`` bool, ``int(H W fraction)`` True each.

    PAIR's ``generate_random_mask`` (default fraction 0.01: Kapishnikov et al. 2021), the mask of
    image ``i`` drawn from ``rng_for(seed, indices[i])``: the one rule for PIC's random masks, so an
    image gets the same mask in ``pic``, the evaluation runner and ``PICCallback``.

    Parameters
    ----------
    count, height, width : int
        Number and size of the masks.
    fraction : float
        Fraction of the pixels kept, in [0, 1) (default 0.01).
    seed : int
        The run's seed.
    indices : sequence of int, optional
        ``(count,)`` positions of the images in their data set; default ``0 .. count - 1``.

    Returns
    -------
    ndarray
        ``(count, height, width)`` bool.
    """
    indices = np.arange(count) if indices is None else np.asarray(indices)
    if indices.shape != (count,):
        raise ValueError(f"indices must have one entry per mask ({count}); got shape {indices.shape}")
    pixels = height * width
    masks = np.zeros((count, pixels), dtype=bool)
    for row, index in zip(masks, indices):
        row[rng_for(seed, int(index)).choice(pixels, size=int(pixels * fraction), replace=False)] = True
    return masks.reshape(count, height, width)



def check_thresholds(thresholds) -> np.ndarray:
    """``thresholds`` as float64 ``(T,)``: strictly increasing, inside (0, 1); ``None`` = ``PAIR_THRESHOLDS``.

    Raises ``TypeError``/``ValueError`` naming ``thresholds`` otherwise (also used by ``PICCallback``).
    """
    if thresholds is None:
        return np.array(PAIR_THRESHOLDS, dtype=np.float64)
    if hasattr(thresholds, "numpy"):
        thresholds = thresholds.numpy()
    try:
        values = np.asarray(thresholds, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise TypeError(f"thresholds must be a sequence of numbers; got {thresholds!r}") from error
    if values.ndim != 1 or values.size == 0:
        raise ValueError(f"thresholds must be a non-empty 1-D sequence; got shape {values.shape}")
    if not np.all(np.isfinite(values)) or values.min() <= 0 or values.max() >= 1:
        raise ValueError(f"thresholds must lie strictly inside (0, 1); got {values.tolist()}")
    if np.any(np.diff(values) <= 0):
        raise ValueError(f"thresholds must be strictly increasing; got {values.tolist()}")
    return values
