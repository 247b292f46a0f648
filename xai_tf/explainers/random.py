"""The random baseline map: seeded uniform noise (paper 004's random mask)."""
from __future__ import annotations

import numpy as np

from xai_tf._random import rng_for
from xai_tf.explainers.base import Request


def random_map(request: Request) -> np.ndarray:
    """Uniform [0, 1) noise ``(N, H, W)``, one generator per image from ``(seed, index)``.

    The random baseline (paper 004's random mask): it does not look at the model, and scores of
    the other methods are read against it.

    Parameters
    ----------
    request : xai_tf.explainers.base.Request
        The sanitised call built by :func:`xai_tf.explain`; only the image shape ``(N, H, W, C)``
        and ``seed`` are used.

    Returns
    -------
    numpy.ndarray, shape (N, H, W), float32
        Independent uniform values in [0, 1); they carry no information about the image or the
        model. Image ``i`` is drawn from ``(seed, i)``, so maps do not depend on ``batch_size``.
    """
    height, width = request.images.shape[1:3]
    return np.stack([rng_for(request.seed, index).random((height, width), dtype=np.float32)
                     for index in range(len(request.images))])
