"""Random Logit (Sixt et al. 2020), as Quantus computes it (``quantus.metrics.randomisation.random_logit``,
read, not installed): the method's map for the explained class against its map for a random *other*
class; a method that explains the class, not just the image, gives dissimilar maps (lower = better).

Arithmetic, as Quantus: the other class is drawn uniformly among the ``num_classes - 1`` classes that
are not the target; both maps are divided by their largest ``|value|`` (Quantus' ``normalise=True``,
over its whole batch; here per map) and compared with scikit-image's SSIM *of the flattened maps*
(Quantus reshapes each map to one row before its ``ssim``: a 1-D SSIM with the default 7-sample window
along the rows), ``data_range`` = the spread of the two maps together.

Odd defaults of the reference, changed: Quantus' ``num_classes`` defaults to 1,000 (ImageNet) whatever
the model, so on a 2-class model it would explain classes that do not exist; here the model head's
number of classes is used (a single sigmoid unit: 2, the other class is always the opposite one).
Quantus reseeds NumPy's global stream with 42 for every batch (the same draws for every batch);
here image ``i`` draws from ``rng_for(seed, i)``.
"""
from __future__ import annotations

from typing import ClassVar

import numpy as np
from skimage.metrics import structural_similarity

from xai_tf._random import rng_for
from xai_tf.metrics.chunk import Chunk
from xai_tf.metrics.protocol import MethodMetric
from xai_tf.metrics.robustness.sensitivity import normalise_by_max


def other_classes(targets: np.ndarray, num_classes: int, seed: int, indices) -> np.ndarray:
    """One random class per image, never its target: ``(N,)`` int64 (Quantus' draw among the others)."""
    if num_classes < 2:
        raise ValueError(f"random logit needs at least 2 classes; the model has {num_classes}")
    out = np.empty(len(targets), dtype=np.int64)
    for position, (target, index) in enumerate(zip(targets, indices)):
        others = np.delete(np.arange(num_classes), int(target))
        out[position] = others[rng_for(seed, int(index)).integers(0, num_classes - 1)]
    return out


def flat_ssim(a: np.ndarray, b: np.ndarray) -> float:
    """Quantus' ``ssim`` of two maps flattened to rows (1-D SSIM, ``data_range`` of both together)."""
    a, b = np.ravel(a).astype(np.float64), np.ravel(b).astype(np.float64)
    both = np.concatenate([a, b])
    return float(structural_similarity(a, b, data_range=float(np.abs(both.max() - both.min()))))


def random_logit(model, images, method, targets=None, *, seed: int = 0, indices=None, batch_size: int = 64,
                 method_seed: int | None = None, maps=None, **method_params) -> tuple[np.ndarray, np.ndarray]:
    """Random Logit of ``method`` on each image: ``(similarities (N,), other classes (N,))``.

    Parameters
    ----------
    model, images, targets, batch_size, method_params
        As :func:`xai_tf.metrics.robustness.quantus_robustness.avg_sensitivity`.
    method : str
        A name of ``xai_tf.list_methods()``.
    seed, indices
        Image ``i``'s other class comes from ``rng_for(seed, indices[i])``.
    method_seed : int, optional
        Seed of stochastic methods (default ``seed``).
    maps : ndarray, optional
        ``(N, H, W)`` maps of the targets when already made (the runner's); else made here.
    """
    from xai_tf.explainers import explain
    from xai_tf.models.head import head_of

    head = head_of(model)
    images = head.check_images(images)
    targets = head.targets(images, targets, batch_size)
    indices = np.arange(len(images)) if indices is None else np.asarray(indices)
    method_seed = seed if method_seed is None else method_seed
    if maps is None:
        maps = explain(model, images, method, targets, batch_size=batch_size, verbose=0, seed=method_seed,
                       **method_params)
    others = other_classes(targets, head.num_classes, seed, indices)
    other_maps = explain(model, images, method, others, batch_size=batch_size, verbose=0, seed=method_seed,
                         **method_params)
    a, b = normalise_by_max(np.asarray(maps)), normalise_by_max(np.asarray(other_maps))
    return np.array([flat_ssim(x, y) for x, y in zip(a, b)]), others


class RandomLogitMetric(MethodMetric):
    """Random Logit in the evaluation runner: SSIM of the maps of the target and of a random other class.

    Sixt et al. 2020, as Quantus' ``RandomLogit``: a :class:`~xai_tf.metrics.MethodMetric` that
    explains each image for its target class and for a random other class (uniform among the model's
    other classes, drawn from ``rng_for(seed, image index)``; a single sigmoid unit: the opposite
    class), re-running the method with its parameters and the chunk's seed (both maps are re-made:
    ``chunk.maps`` may be denoised). Both maps are divided by their largest ``|value|`` and compared by
    scikit-image's SSIM of the flattened maps (a 1-D SSIM, as Quantus), ``data_range`` the spread of
    the two together. Column ``random_logit``: lower = the method explains the class, not just the
    image. It has no options; Quantus' ``num_classes`` default of 1,000 is replaced by the model's
    number of classes.
    """

    targets = ("classes",)

    name = "random_logit"
    reference = "Sixt et al. 2020 (Quantus RandomLogit)"
    direction = "lower"
    notes: ClassVar[dict[str, str]] = {"random_logit": "Random Logit, SSIM to the map of a random other class "
                                       "(lower = better)"}

    def score(self, chunk: Chunk, options: dict):
        values, _ = random_logit(chunk.model, chunk.images, chunk.method, chunk.targets, seed=chunk.seed,
                                 indices=chunk.indices, batch_size=chunk.batch_size, method_seed=chunk.chunk_seed,
                                 **chunk.params)  # both maps re-made: chunk.maps may be denoised
        return {self.name: list(values)}, {}


RANDOM_LOGIT = RandomLogitMetric()
