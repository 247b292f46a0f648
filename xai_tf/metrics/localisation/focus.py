"""Focus (Arias-Duart et al. 2022), as Quantus scores it (``quantus.metrics.localisation.focus``, read,
not installed): explain a 2x2 mosaic of images for one image's class and measure the share of the
map's positive relevance that falls on the quadrants holding images of that class (higher = better).

Quantus takes mosaics the user made (twice the model's input size, two images of the class and two
of others) and the quadrant flags. Here the runner makes them from the chunk: image ``i`` and three
partners from the same chunk (one of the same explained class and two of other classes where the
chunk has them, drawn from ``rng_for(seed, i)``), each shrunk 2x by 2x2 averaging so the mosaic has
the model's input size (``H`` and ``W`` must be even), in random quadrants. A quadrant counts for
the class when its image's explained class (``chunk.targets``) is image ``i``'s. So the value depends
on the other images of the chunk, as Quantus' on the mosaics it is given; a chunk of one image has
no partners (NaN). Focus = ``sum(relu(a) on the class's quadrants) / (sum(relu(a)) + 1e-9)`` (Quantus;
its ``normalise=True`` does not change the ratio).
"""
from __future__ import annotations

from typing import ClassVar

import numpy as np

from xai_tf._random import rng_for
from xai_tf.metrics.chunk import Chunk
from xai_tf.metrics.protocol import MethodMetric


def shrink(images: np.ndarray) -> np.ndarray:
    """``(N, H/2, W/2, C)``: 2x2 block means of ``(N, H, W, C)`` images (H, W even)."""
    n, height, width, channels = images.shape
    return images.reshape(n, height // 2, 2, width // 2, 2, channels).mean(axis=(2, 4))


def mosaics(images: np.ndarray, targets: np.ndarray, seed: int, indices) -> tuple[np.ndarray, np.ndarray]:
    """``(mosaics (N, H, W, C), flags (N, 4))``: image ``i``'s mosaic and which quadrants hold its class.

    Quadrants in order top-left, top-right, bottom-left, bottom-right (Quantus' ``c_batch`` order).
    """
    n, height, width, _ = images.shape
    if height % 2 or width % 2:
        raise ValueError(f"focus mosaics need even image sizes; got {height}x{width}")
    small = shrink(np.asarray(images, dtype=np.float32))
    out = np.empty_like(images, dtype=np.float32)
    flags = np.zeros((n, 4), dtype=bool)
    half_h, half_w = height // 2, width // 2
    for i, index in enumerate(indices):
        rng = rng_for(seed, int(index))
        others = np.delete(np.arange(n), i)
        same = others[targets[others] == targets[i]]
        different = others[targets[others] != targets[i]]
        pick_same = rng.choice(same if len(same) else others, 1)
        pick_other = rng.choice(different if len(different) else others, 2, replace=len(different) < 2)
        members = np.concatenate([[i], pick_same, pick_other])
        for quadrant, member in zip(rng.permutation(4), members):
            row, col = divmod(int(quadrant), 2)
            out[i, row * half_h:(row + 1) * half_h, col * half_w:(col + 1) * half_w] = small[member]
            flags[i, quadrant] = targets[member] == targets[i]
    return out, flags


def focus_of_maps(maps: np.ndarray, flags: np.ndarray) -> np.ndarray:
    """Quantus' Focus of mosaic maps ``(N, H, W)`` with quadrant ``flags`` ``(N, 4)``: ``(N,)`` in [0, 1]."""
    maps = np.clip(np.asarray(maps, dtype=np.float64), 0, None)
    n, height, width = maps.shape
    half_h, half_w = height // 2, width // 2
    masks = np.zeros_like(maps)
    for quadrant in range(4):
        row, col = divmod(quadrant, 2)
        rows = slice(0, half_h) if row == 0 else slice(half_h, None)
        cols = slice(0, half_w) if col == 0 else slice(half_w, None)
        masks[:, rows, cols] = flags[:, quadrant, None, None]
    return (masks * maps).reshape(n, -1).sum(axis=1) / (maps.reshape(n, -1).sum(axis=1) + 1e-9)


class FocusMetric(MethodMetric):
    """Focus in the evaluation runner: the method explains mosaics made from the chunk's images.

    Arias-Duart et al. 2022, as Quantus' ``Focus``: a :class:`~xai_tf.metrics.MethodMetric`. For each
    image ``i``, a 2x2 mosaic of image ``i`` and three partners from the same chunk (one of the same
    explained class and two of other classes where the chunk has them, drawn from ``rng_for(seed,
    index of i)``), each shrunk 2x by 2x2 averaging so the mosaic has the model's input size, in random
    quadrants; the method explains the mosaic for image ``i``'s class (its parameters, the chunk's
    seed). Focus ``= sum(relu(a) on the quadrants holding that class) / (sum(relu(a)) + 1e-9)``.
    Column ``focus``, in [0, 1]: higher = better. The value depends on the other images of the chunk,
    as Quantus' on the mosaics it is given; a chunk of one image gives NaN. Images need even heights
    and widths (checked before anything is written). The quadrant flags ``(B, 4)`` are stored as
    ``focus_quadrants``. It has no options.
    """

    targets = ("classes",)

    name = "focus"
    reference = "Arias-Duart et al. 2022 (Quantus Focus)"
    direction = "higher"
    notes: ClassVar[dict[str, str]] = {"focus": "Focus, share of positive relevance on the class's quadrants of a "
                                       "mosaic (higher = better)"}

    def check_shape(self, options, shape):
        if int(shape[0]) % 2 or int(shape[1]) % 2:
            raise ValueError(f"focus needs even image sizes to make 2x2 mosaics; got {shape[0]}x{shape[1]}")

    def score(self, chunk: Chunk, options: dict):
        from xai_tf.explainers import explain

        self.check_shape(options, chunk.images.shape[1:])
        if len(chunk.images) < 2:
            return {self.name: [float("nan")] * len(chunk.images)}, {}
        tiles, flags = mosaics(chunk.images, chunk.targets, chunk.seed, chunk.indices)
        maps = explain(chunk.model, tiles, chunk.method, chunk.targets, batch_size=chunk.batch_size, verbose=0,
                       seed=chunk.chunk_seed, **chunk.params)
        return {self.name: [float(v) for v in focus_of_maps(maps, flags)]}, {"focus_quadrants": flags}


FOCUS = FocusMetric()
