"""ROAD, RemOve And Debias (Rong et al. 2022), as Quantus computes it (``quantus.metrics.faithfulness.road``,
read, not installed): the most relevant pixels are replaced by a noisy linear imputation of their
neighbours, and the curve is whether the model still predicts the target class.

For each fraction ``p`` of ``percentages`` (default Quantus' 1 %, 3 %, ..., 99 %), the
``int(H * W * p)`` pixels with the largest map values (Quantus' ``abs=False``) are imputed: each
takes the weighted mean of its 8 neighbours (weight 1/6 for the 4 direct, 1/12 for the 4 diagonal
ones; neighbours outside the image dropped, imputed neighbours solved jointly:
one sparse linear system per channel), plus Gaussian noise of standard deviation ``noise`` (default
0.01). The curve is 1 where the imputed image is still classified as the target, else 0; the column
``road`` is its mean over the percentages (the area under the MoRF accuracy curve with the
percentages evenly spaced): lower = the map found the evidence. Quantus reports the accuracy at each
percentage over the images; that is this metric's aggregated curve.

Noise: image ``i`` draws from ``rng_for(seed, i)``, percentage after percentage (Quantus: the global
``np.random``). A feature is a pixel with all its channels (Quantus indexes channel-values with
pixel indices; identical on single-channel images). The imputation is a sparse solve per image and
percentage on the CPU (as Quantus); the model then scores all imputed copies of a chunk batched.

Ties (option ``ties``, ``xai_tf.metrics.ties``; Quantus' ``np.argsort`` is not stable): by
default a percentage whose cut falls inside a group of equal map values reads the curve
interpolated between the images with the whole group kept and imputed (so the curve may take
values between 0 and 1 there); ``"reference"`` imputes the group's first pixels in row-major order.
An image without such a cut imputes exactly the same pixels with the same noise under both rules.
"""
from __future__ import annotations

from typing import ClassVar

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.linalg import spsolve

from xai_tf._docstrings import fill_doc
from xai_tf._random import rng_for
from xai_tf.metrics.chunk import Chunk
from xai_tf.metrics.curve_metric import CurveMetric
from xai_tf.metrics.options import OPTIONS_NOTE, Option, number
from xai_tf.metrics.perturbation import checked_inputs, importance_ranks, target_scores
from xai_tf.metrics.ties import TIES, plan_curve, tie_rule

#: Quantus' percentages as fractions: 1 %, 3 %, ..., 99 %.
PERCENTAGES = tuple(round(p / 100, 2) for p in range(1, 100, 2))
_NEIGHBOURS = (((1, 1), 1 / 12), ((0, 1), 1 / 6), ((-1, 1), 1 / 12), ((1, -1), 1 / 12), ((0, -1), 1 / 6),
               ((-1, -1), 1 / 12), ((1, 0), 1 / 6), ((-1, 0), 1 / 6))


def noisy_linear_imputation(image: np.ndarray, removed: np.ndarray, noise: float,
                            rng: np.random.Generator) -> np.ndarray:
    """``image`` ``(H, W, C)`` with the flat pixel indices ``removed`` imputed from their neighbours, plus noise.

    Each removed pixel equals the weighted mean of its valid neighbours (known ones as they are,
    removed ones as unknowns of the same system); noise ``N(0, noise**2)`` is added afterwards.
    """
    height, width, channels = image.shape
    flat = image.reshape(-1, channels).astype(np.float64)
    removed = np.asarray(removed, dtype=np.int64)
    unknowns = len(removed)
    if unknowns == 0:
        return image.copy()
    variable = np.full(height * width, -1, dtype=np.int64)
    variable[removed] = np.arange(unknowns)
    rows, cols = np.divmod(removed, width)
    weights_sum = np.ones(unknowns)
    b = np.zeros((unknowns, channels))
    entries_i, entries_j, entries_w = [], [], []
    for (d_row, d_col), weight in _NEIGHBOURS:
        r, c = rows + d_row, cols + d_col
        valid = (r >= 0) & (r < height) & (c >= 0) & (c < width)
        weights_sum[~valid] -= weight
        neighbour = np.where(valid, r * width + c, 0)
        known = valid & (variable[neighbour] < 0)
        b[known] -= weight * flat[neighbour[known]]
        solved = valid & (variable[neighbour] >= 0)
        entries_i.append(np.flatnonzero(solved))
        entries_j.append(variable[neighbour[solved]])
        entries_w.append(np.full(int(solved.sum()), weight))
    entries_i.append(np.arange(unknowns))
    entries_j.append(np.arange(unknowns))
    entries_w.append(-weights_sum)
    a = coo_matrix((np.concatenate(entries_w), (np.concatenate(entries_i), np.concatenate(entries_j))),
                   shape=(unknowns, unknowns)).tocsc()
    solution = spsolve(a, b).reshape(unknowns, channels)
    out = flat.copy()
    out[removed] = solution + noise * rng.standard_normal((unknowns, channels))
    return out.reshape(image.shape).astype(np.float32)


def road_curves(model, images, maps, targets=None, *, percentages=PERCENTAGES, noise: float = 0.01, seed: int = 0,
                indices=None, batch_size: int = 64, ties: str = "block") -> tuple[np.ndarray, np.ndarray]:
    """ROAD (MoRF) curves: ``x`` = the fractions ``(P,)``, ``curves`` ``(N, P)`` in [0, 1] (target still predicted:
    1.0/0.0, or interpolated inside a tied group).

    Parameters
    ----------
    model, images, maps, targets, batch_size
        As :func:`xai_tf.metrics.faithfulness.fidelity.causal_curves`.
    percentages : sequence of float
        Increasing fractions of pixels imputed, each in (0, 1] (default 0.01, 0.03, ..., 0.99: Quantus).
    noise : float
        Standard deviation of the noise added to imputed values, >= 0 (default 0.01, Quantus).
    seed, indices
        Image ``i``'s noise comes from ``rng_for(seed, indices[i])`` (default indices ``0..N-1``),
        drawn state after state (the states of :func:`xai_tf.metrics.ties.plan_curve`).
    ties : {"block", "reference"}
        Tied map values (default ``"block"``), see the module docstring.
    """
    percentages = check_percentages(percentages, "percentages")
    number("noise", 0.0)(noise)
    ties = TIES.check(ties)
    model, images, maps, targets = checked_inputs(model, images, maps, targets, batch_size)
    n, height, width = maps.shape
    indices = np.arange(n) if indices is None else np.asarray(indices)
    order = np.argsort(importance_ranks(maps).reshape(n, -1), axis=1)  # pixel indices, most relevant first
    plan = plan_curve(maps, [int(height * width * p) for p in percentages], ties=ties)
    curves = np.empty((n, len(percentages)))
    for i in range(n):
        rng = rng_for(seed, int(indices[i]))
        copies = np.stack([noisy_linear_imputation(images[i], order[i, :k], noise, rng) for k in plan.states[i]])
        curves[i] = plan.curve(i, target_scores(model, copies, np.full(len(copies), targets[i]), output="correct",
                                                batch_size=batch_size))
    return np.asarray(percentages, dtype=np.float64), curves


def check_percentages(value, name: str) -> list[float]:
    """Increasing fractions, each in (0, 1]; ValueError naming ``name``."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = [value]
    try:
        fractions = [float(v) for v in value]
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a list of fractions in (0, 1]; got {value!r}") from None
    if not fractions or any(not 0.0 < f <= 1.0 for f in fractions) or np.any(np.diff(fractions) <= 0):
        raise ValueError(f"{name} must be increasing fractions in (0, 1] (1 % = 0.01); got {value!r}")
    return fractions


@fill_doc(options_note=OPTIONS_NOTE)
class RoadMetric(CurveMetric):
    """ROAD (MoRF, noisy linear imputation) in the evaluation runner.

    Rong et al. 2022 (RemOve And Debias), as Quantus' ``ROAD``: for each fraction ``p`` of
    ``road_percentages``, the ``int(H W p)`` pixels with the largest map values are imputed, each
    by the weighted mean of its 8 neighbours (1/6 for the 4 direct, 1/12 for the 4 diagonal ones,
    imputed neighbours solved jointly) plus Gaussian noise of standard deviation ``road_noise``
    (from ``rng_for(seed, image index)``). The curve is 1 where the imputed image is still
    classified as the target, else 0, at x = ``p``; the column ``road`` is its mean over the
    percentages (the area under the MoRF accuracy curve with evenly spaced percentages): lower = the
    map found the evidence. The aggregated curve is Quantus' accuracy at each percentage. Ties
    (option ``ties``): by default a cut inside a group of equal map values reads the curve
    interpolated between the images with the whole group kept and imputed (a value in [0, 1]);
    ``reference`` imputes the group's first pixels in row-major order.

    Notes
    -----
    {options_note}

    - ``road_percentages`` (comma-separated): increasing fractions of pixels imputed, in (0, 1]
      (default 0.01, 0.03, ..., 0.99, Quantus);
    - ``road_noise``: standard deviation of the noise added to imputed values, >= 0 (default 0.01,
      Quantus);
    - ``ties`` (shared by every ranked metric): ``block`` (default, order-free) or ``reference``
      (row-major order, the earlier values).
    """

    targets = ("classes",)

    name = "road"
    reference = "Rong et al. 2022 (Quantus ROAD)"
    direction = "lower"
    label = "fraction of pixels imputed (most relevant first)"
    ylabel = "target still predicted"
    options = (
        Option("road_percentages", list(PERCENTAGES), lambda value: check_percentages(value, "road_percentages"),
               "ROAD: comma-separated increasing fractions of pixels imputed, in (0, 1] (default 0.01,...,0.99, "
               "Quantus)", parse=lambda text: [float(v) for v in text.split(",") if v.strip()]),
        Option("road_noise", 0.01, number("road_noise", 0.0), "ROAD: noise std of imputed pixels (default 0.01, "
               "Quantus)", parse=float),
        TIES,
    )
    notes: ClassVar[dict[str, str]] = {"road": "ROAD, accuracy kept as the top pixels are imputed, mean over "
                                       "percentages (lower = better)"}

    def curves(self, chunk: Chunk, options: dict):
        return road_curves(chunk.model, chunk.images, chunk.maps, chunk.targets,
                           percentages=options["road_percentages"], noise=options["road_noise"], seed=chunk.seed,
                           indices=chunk.indices, batch_size=chunk.batch_size, ties=tie_rule(options))

    def area(self, x, curves, options):
        return np.mean(curves, axis=1)


ROAD = RoadMetric()
