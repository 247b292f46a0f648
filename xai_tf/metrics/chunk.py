"""One unit of work handed to a metric: :class:`Chunk`, a chunk of images explained by one method.

The evaluation runner builds one per (chunk, method) and passes it to every metric's ``score``
(:mod:`xai_tf.metrics.protocol`); tests and callbacks build their own.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np


@dataclass
class Chunk:
    """One unit of work handed to :meth:`Metric.score`: a chunk of images explained by one method.

    The runner (``xai_tf.evaluation.UnitScorer.score_maps``) builds one per (chunk, method); a
    metric reads what it needs and must not modify the arrays. B is the number of images in the
    chunk (``chunk_size``, fewer in the last chunk).

    Parameters
    ----------
    model : keras.Model
        The classifier the maps explain (taking ``[0, 1]`` NHWC images).
    method : str
        Name of the saliency method that made ``maps`` (one of ``xai_tf.list_methods()``); a
        :class:`MethodMetric` re-runs it with ``xai_tf.explain(model, ..., method, ..., **params)``.
    images : numpy.ndarray, shape (B, H, W, C)
        float32 in [0, 1], the chunk's images.
    indices : numpy.ndarray, shape (B,)
        int64, the images' positions in the data set. Per-image random draws are keyed on them
        (``rng_for(seed, index)``), so a result does not depend on the chunk or shard an image is in.
    targets : numpy.ndarray, shape (B,)
        int64, the class explained on each image.
    maps : numpy.ndarray, shape (B, H, W)
        The method's maps of ``images`` (float32, larger = more important; a study passes denoised
        maps here).
    seed : int
        The run's seed, for the metric's own per-image draws (``rng_for(seed, index)``).
    chunk_seed : int
        The chunk's seed (``xai_tf.evaluation.chunk_seed(seed, chunk)``), to pass as ``seed=`` when
        re-running a stochastic method.
    batch_size : int
        Most images per compiled model call.
    params : dict, optional
        The method's parameters ``{parameter: value}`` (default empty), to pass on to
        ``xai_tf.explain`` when re-running the method.
    masks : numpy.ndarray, shape (B, H, W), bool, optional
        Ground-truth object masks (True on the object), or None (default) when the data has none.
    boxes : list of list of tuple, optional
        Per image a list of ``(y0, x0, y1, x1)`` end-exclusive boxes, or None (default) when the
        data has none.
    randomized : callable, optional
        ``randomized(mode)`` returns ``model`` with re-initialised weights (``mode`` ``"full"`` or
        ``"semi"``, see :func:`xai_tf.metrics.randomization_check`), made once per run and cached;
        None (default) outside the runner.
    """

    model: object
    method: str
    images: np.ndarray
    indices: np.ndarray
    targets: np.ndarray
    maps: np.ndarray
    seed: int
    chunk_seed: int
    batch_size: int
    params: dict = field(default_factory=dict)
    masks: np.ndarray | None = None
    boxes: list | None = None
    randomized: Callable | None = None
