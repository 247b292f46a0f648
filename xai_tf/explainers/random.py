"""The random baseline map: seeded uniform noise (paper 004's random mask)."""
from __future__ import annotations

import numpy as np

from xai_tf._random import rng_for
from xai_tf.explainers.base import Request


def random_map(request: Request) -> np.ndarray:
    """Uniform [0, 1) noise ``(N, H, W)``, one generator per image from ``(seed, index)``."""
    height, width = request.images.shape[1:3]
    return np.stack([rng_for(request.seed, index).random((height, width), dtype=np.float32)
                     for index in range(len(request.images))])
