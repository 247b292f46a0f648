"""Faithfulness Correlation (Bhatt et al. 2020), as Quantus' ``FaithfulnessCorrelation``.

**Faithfulness Correlation** (Bhatt et al. 2020): ``nr_runs`` (100) random subsets of ``subset_size``
(224) pixels; Pearson correlation between the subset's map sum and the logit drop when the subset is
set to black. The subsets of image ``i`` come from ``rng_for(seed, i)`` (Quantus: ``np.random``).
It ranks nothing: a subset is drawn by position and scored by sums, so tied values need no rule.

Common rules of the family (normalisation, ``"black"``, features, ties, scores): :mod:`xai_tf.metrics.faithfulness`.
"""
from __future__ import annotations

from typing import ClassVar

import numpy as np
from scipy import stats

from xai_tf._docstrings import fill_doc
from xai_tf._random import rng_for
from xai_tf.metrics.chunk import Chunk
from xai_tf.metrics.options import OPTIONS_NOTE, Option, count
from xai_tf.metrics.perturbation import baseline_option, checked_inputs, fill_values, perturbed_scores, target_scores
from xai_tf.metrics.protocol import MapsMetric
from xai_tf.metrics.robustness.sensitivity import normalise_by_max


def random_subsets(pixels: int, subset_size: int, runs: int, rng: np.random.Generator) -> np.ndarray:
    """``(runs, subset_size)`` pixel indices, each row drawn without replacement (Quantus' ``np.random.choice``)."""
    return np.stack([rng.choice(pixels, subset_size, replace=False) for _ in range(runs)])


def faithfulness_correlation(model, images, maps, targets=None, *, nr_runs: int = 100, subset_size: int = 224,
                             baseline="black", seed: int = 0, indices=None, batch_size: int = 64) -> np.ndarray:
    """Faithfulness Correlation of each map: ``(N,)`` Pearson correlations (NaN when either side is constant).

    nr_runs: subsets per image (default 100, Quantus); subset_size: pixels per subset, in
    ``[1, H * W)`` (default 224, Quantus); baseline: default ``"black"`` (image minimum); seed,
    indices: image ``i``'s subsets come from ``rng_for(seed, indices[i])``. Scores: target logits.
    """
    model, images, maps, targets = checked_inputs(model, images, maps, targets, batch_size)
    n, height, width = maps.shape
    pixels = height * width
    if isinstance(subset_size, bool) or not isinstance(subset_size, (int, np.integer)) \
            or not 1 <= subset_size < pixels:
        raise ValueError(f"subset_size must be an integer in [1, {pixels - 1}] (fewer than the pixels of an "
                         f"image); got {subset_size!r}")
    indices = np.arange(n) if indices is None else np.asarray(indices)
    subsets = np.stack([random_subsets(pixels, subset_size, nr_runs, rng_for(seed, int(i))) for i in indices])
    flat_maps = normalise_by_max(maps).reshape(n, pixels)
    sums = np.take_along_axis(flat_maps[:, None, :].repeat(nr_runs, 1), subsets, axis=2).sum(axis=2)
    chosen = subsets.reshape(n * nr_runs, subset_size)
    image_ids = np.repeat(np.arange(n), nr_runs)

    def keys(start, stop):  # 0 on the subset, 1 elsewhere; built per batch, not for the whole chunk
        block = np.ones((stop - start, pixels), np.int32)
        np.put_along_axis(block, chosen[start:stop], 0, axis=1)
        return block.reshape(-1, height, width)

    base = target_scores(model, images, targets, output="logit", batch_size=batch_size)
    after = perturbed_scores(model, images, fill_values(images, baseline), image_ids, np.ones(len(image_ids)),
                             keys, targets, output="logit", batch_size=batch_size)
    drops = base[:, None] - after.reshape(n, nr_runs)
    return np.array([_pearson(a, b) for a, b in zip(sums, drops)])


def _pearson(a, b) -> float:
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")
    return float(stats.pearsonr(a, b)[0])


@fill_doc(options_note=OPTIONS_NOTE)
class FaithfulnessCorrelationMetric(MapsMetric):
    """Faithfulness Correlation in the evaluation runner: map mass against logit drop over random subsets.

    Bhatt et al. 2020, as Quantus' ``FaithfulnessCorrelation``: for
    ``faithfulness_correlation_runs`` random subsets of ``faithfulness_correlation_subset_size``
    pixels per image (drawn without replacement from ``rng_for(seed, image index)``), the Pearson
    correlation between the sum of the map (divided by its largest ``|value|``) over the subset and the
    drop of the target logit when the subset is set to the baseline. Column
    ``faithfulness_correlation``, in [-1, 1] (NaN when either side is constant): higher = better.
    Order-free as it is: the subsets are drawn by position and the map enters through sums, so tied
    values need no rule (no ``ties`` option).

    Notes
    -----
    {options_note}

    - ``faithfulness_correlation_runs``: random subsets per image, >= 2 (default 100, Quantus);
    - ``faithfulness_correlation_subset_size``: pixels per subset, >= 1 and fewer than an image's
      (default 224, Quantus; larger values are refused before anything is written);
    - ``faithfulness_correlation_baseline``: value of removed pixels, a number in [0, 1] or ``black``
      (each image's minimum), ``white`` or ``mean`` (default ``black``, Quantus).
    """

    name = "faithfulness_correlation"
    reference = "Bhatt et al. 2020 (Quantus FaithfulnessCorrelation)"
    direction = "higher"
    options = (
        Option("faithfulness_correlation_runs", 100, count("faithfulness_correlation_runs", 2),
               "Faithfulness Correlation: random subsets per image (default 100, Quantus)", parse=int),
        Option("faithfulness_correlation_subset_size", 224, count("faithfulness_correlation_subset_size"),
               "Faithfulness Correlation: pixels per subset, fewer than an image's (default 224, Quantus)", parse=int),
        baseline_option("faithfulness_correlation"),
    )
    notes: ClassVar[dict[str, str]] = {"faithfulness_correlation": "Faithfulness Correlation, Pearson of map sum "
                                       "vs logit drop over random subsets (higher = better)"}

    def check_shape(self, options, shape):
        pixels = int(shape[0]) * int(shape[1])
        if options["faithfulness_correlation_subset_size"] >= pixels:
            raise ValueError(f"faithfulness_correlation_subset_size={options['faithfulness_correlation_subset_size']}"
                             f" must be below the {pixels} pixels of an image")

    def score(self, chunk: Chunk, options: dict):
        self.check_shape(options, chunk.images.shape[1:])
        values = faithfulness_correlation(chunk.model, chunk.images, chunk.maps, chunk.targets,
                                          nr_runs=options["faithfulness_correlation_runs"],
                                          subset_size=options["faithfulness_correlation_subset_size"],
                                          baseline=options["faithfulness_correlation_baseline"], seed=chunk.seed,
                                          indices=chunk.indices, batch_size=chunk.batch_size)
        return {self.name: list(values)}, {}



FAITHFULNESS_CORRELATION = FaithfulnessCorrelationMetric()
