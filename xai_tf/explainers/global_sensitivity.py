"""Global sensitivity analysis of the score over grid cells: Sobol indices and HSIC.

Our own batched implementation of Xplique's ``SobolAttributionMethod`` and
``HsicAttributionMethod`` (Xplique 2.0 arithmetic, defaults and designs; no dependency on it):

- The image is cut into a ``grid_size x grid_size`` grid (default 8). Each design gives every
  cell a value ``m`` in [0, 1]; the perturbed image is ``x * m`` with ``m`` upsampled by nearest
  neighbour ("inpainting": removed pixels go to 0). All designs are deterministic quasi-Monte-Carlo
  points of TensorFlow's Sobol sequence (``tf.math.sobol_sample``, Xplique's default samplers), so
  neither method is stochastic and ``seed`` does not apply.
- The target score is the class probability (``score="probability"``: what Xplique's default
  operator ``f(x)[y]`` gives on a softmax model and what the papers score; one sigmoid unit scores
  ``p`` or ``1 - p``), or the logit (``score="logit"``).
- The per-cell indices are upsampled to the image with bicubic interpolation (``tf.image.resize``,
  as Xplique; ``upsample=`` picks another ``tf.image.resize`` method).

All designs of all images go through one compiled forward function (``xai_tf.explainers.masking``)
in ``batch_size`` chunks; the estimators are a few array operations per image.
"""
from __future__ import annotations

import numpy as np
import tensorflow as tf

from xai_tf._checks import check_positive
from xai_tf._docstrings import fill_doc
from xai_tf.explainers.base import Request, check_upsample
from xai_tf.explainers.docblocks import REQUEST, UPSAMPLE_BICUBIC, join, section
from xai_tf.explainers.masking import (
    SCORE,
    check_grid_size,
    check_score,
    grid_cells,
    resize_cells,
    segment_scores,
)

_EPSILON = 1e-12  # Xplique's floor of the output variance in the Jansen estimator
#: The docstring blocks Sobol and HSIC share (``xai_tf._docstrings.fill_doc``): the options before
#: ``n_designs``, and those after it with the start of the Returns section.
_GRID = {"grid": join(REQUEST, """
grid_size : int, optional
    Cells per side (default 8, Xplique's and the Sobol paper's); at most ``min(H, W)``.
"""), "scoring": join(SCORE, UPSAMPLE_BICUBIC, "", section("Returns", "numpy.ndarray, shape (N, H, W), float32"))}


def _cell_attribution(request: Request, grid_size, n_designs, score: str, upsample: str, designs_of,
                      estimate) -> np.ndarray:
    """The pipeline Sobol and HSIC share: checked options, ``designs_of(cells, n_designs)`` ``(S, cells)``
    over the grid cells (it checks ``n_designs`` its own way), their target scores ``(N, S)``, and
    ``estimate(scores, designs)`` ``(N, cells)`` resized to the image ``(N, H, W)``."""
    height, width = request.images.shape[1:3]
    grid_size = check_grid_size(grid_size, height, width)
    check_positive(n_designs, "n_designs", integer=True)
    designs = designs_of(grid_size * grid_size, int(n_designs))
    check_score(score)
    check_upsample(upsample)
    scores = segment_scores(request, grid_cells(height, width, grid_size), designs, score=score)
    return resize_cells(estimate(scores, designs).reshape(-1, grid_size, grid_size), height, width, upsample)


def sobol_designs(dimension: int, n_designs: int) -> np.ndarray:
    """Xplique's replicated Sobol design ``(n_designs * (dimension + 2), dimension)`` float32.

    Rows: ``A`` (``n_designs``), ``B`` (``n_designs``), then ``C_1 ... C_d`` where ``C_i`` is ``A``
    with column ``i`` taken from ``B`` (Saltelli's scheme). ``A | B`` are the first ``n_designs``
    points of the ``2 d``-dimensional Sobol sequence (``tf.math.sobol_sample``).
    """
    ab = tf.math.sobol_sample(2 * dimension, n_designs, dtype=tf.float32).numpy()
    a, b = ab[:, :dimension], ab[:, dimension:]
    replicated = np.repeat(a[None], dimension, axis=0)  # (d, n, d)
    columns = np.arange(dimension)
    replicated[columns, :, columns] = b[:, columns].T
    return np.concatenate([a, b, replicated.reshape(dimension * n_designs, dimension)]).astype(np.float32)


def jansen_total_indices(scores: np.ndarray, n_designs: int, dimension: int) -> np.ndarray:
    """Jansen's total Sobol indices ``(N, d)`` from the scores ``(N, n (d + 2))`` of the replicated design.

    ``S_T,i = sum_j (f(A_j) - f(C_i,j))^2 / (2 n Var[f(A)])`` with the unbiased variance of
    ``f(A)`` floored at 1e-12 (Jansen 1999; Xplique 2.0's ``JansenEstimator``).
    """
    a = scores[:, :n_designs]
    c = scores[:, 2 * n_designs:].reshape(len(scores), dimension, n_designs)
    variance = np.maximum(a.var(axis=1, ddof=1) if n_designs > 1 else np.zeros(len(a)), _EPSILON)
    return ((a[:, None, :] - c) ** 2).sum(axis=2) / (2.0 * n_designs * variance[:, None])


@fill_doc(**_GRID)
def sobol(request: Request, *, grid_size: int = 8, n_designs: int = 32, score: str = "probability",
          upsample: str = "bicubic") -> np.ndarray:
    """Sobol attribution (Fel et al. 2021): total Sobol indices of the grid cells for the target score.

    Parameters
    ----------
    {grid}
    n_designs : int, optional
        Points of each Sobol matrix ``A`` and ``B``, a power of 2 (default 32, the paper's and
        Xplique's). Forward passes per image: ``n_designs * (grid_size**2 + 2)`` (2,112 by default).
    {scoring}
        Total indices (>= 0) upsampled (bicubically by default: may dip slightly below 0 between
        cells).

    Raises
    ------
    ValueError
        ``n_designs`` not a power of 2; ``grid_size`` larger than the image; unknown ``score`` or
        ``upsample``.
    """
    def designs_of(dimension: int, n: int) -> np.ndarray:
        if n & (n - 1):
            raise ValueError(f"n_designs must be a power of 2 (Sobol sequences are balanced on powers of 2); "
                             f"got {n_designs}")
        return sobol_designs(dimension, n)

    def estimate(scores: np.ndarray, designs: np.ndarray) -> np.ndarray:
        return jansen_total_indices(scores, int(n_designs), designs.shape[1])
    return _cell_attribution(request, grid_size, n_designs, score, upsample, designs_of, estimate)


def hsic_binary_rbf(designs: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """HSIC ``(d,)`` of each binary input column of ``designs`` ``(n, d)`` with the output ``scores`` ``(n,)``.

    Xplique 2.0's ``BinaryEstimator``: input kernel ``1 + (0.5 - (x_i - x_j)^2)`` (1.5 for equal
    bits, 0.5 otherwise), RBF output kernel ``exp(-(y_i - y_j)^2 / (2 w^2))`` with ``w`` the
    median of the scores, and ``HSIC = tr(K H L H) / n`` with ``H = I - 1/n``. Since ``H L H`` has
    zero row sums, the trace reduces to ``2 x^T (H L H) x / n`` for a binary column ``x``. A zero
    median (Xplique divides by it) is replaced by 1 so that the kernel stays finite.
    """
    n = len(scores)
    y = scores.astype(np.float64)
    width = float(np.median(y))
    if abs(width) < 1e-12:
        width = 1.0
    output_kernel = np.exp(-((y[:, None] - y[None, :]) ** 2) / (2.0 * width * width))
    centred = output_kernel - output_kernel.mean(axis=0, keepdims=True)
    centred = centred - centred.mean(axis=1, keepdims=True)
    x = designs.astype(np.float64)
    return 2.0 * np.einsum("nd,nm,md->d", x, centred, x) / n


@fill_doc(**_GRID)
def hsic(request: Request, *, grid_size: int = 8, n_designs: int = 500, score: str = "probability",
         upsample: str = "bicubic") -> np.ndarray:
    """HSIC attribution (Novello, Fel & Vigouroux 2022): dependence of the target score on each grid cell.

    Parameters
    ----------
    {grid}
    n_designs : int, optional
        Binary designs (default 500, Xplique's): the first ``n_designs`` points of the
        ``grid_size**2``-dimensional Sobol sequence rounded to {0, 1} (Xplique's default sampler;
        the paper samples a Latin hypercube). One forward pass per design and image.
    {scoring}
        HSIC values (``hsic_binary_rbf``) upsampled (bicubically by default).

    Raises
    ------
    ValueError
        ``n_designs < 2``; ``grid_size`` larger than the image; unknown ``score`` or ``upsample``.
    """
    def designs_of(dimension: int, n: int) -> np.ndarray:
        if n < 2:
            raise ValueError(f"n_designs must be >= 2 (HSIC compares designs); got {n_designs}")
        return tf.round(tf.math.sobol_sample(dimension, n, dtype=tf.float32)).numpy()

    def estimate(scores: np.ndarray, designs: np.ndarray) -> np.ndarray:
        return np.stack([hsic_binary_rbf(designs, row) for row in scores])
    return _cell_attribution(request, grid_size, n_designs, score, upsample, designs_of, estimate)
