"""Sufficiency (Dasgupta et al. 2022), as Quantus' ``Sufficiency``.

**Sufficiency** (Dasgupta et al. 2022): images of one chunk whose maps lie within ``threshold``
(0.6) of each other (standardised Euclidean distance, scaled by its largest value in the chunk) should
share the predicted class; the score is the fraction of an image's close neighbours that do (0 with
none). It depends on the other images of the chunk, as Quantus' on its batch.

Common rules of the family (normalisation, ``"black"``, features, ties, scores): :mod:`xai_tf.metrics.faithfulness`.
"""
from __future__ import annotations

from typing import ClassVar

import numpy as np
from scipy.spatial.distance import cdist

from xai_tf._docstrings import fill_doc
from xai_tf.metrics.chunk import Chunk
from xai_tf.metrics.options import OPTIONS_NOTE, Option, number
from xai_tf.metrics.protocol import MapsMetric


def sufficiency(maps, predicted, threshold: float = 0.6) -> np.ndarray:
    """Sufficiency of each map among the others given: ``(N,)`` in [0, 1] (see the module docstring).

    maps: ``(N, H, W)``; predicted: ``(N,)`` predicted classes; threshold: in [0, 1] (default 0.6, Quantus).
    """
    maps = np.abs(np.asarray(maps, dtype=np.float64))
    scale = np.max(maps)
    flat = (maps / scale if scale > 0 else maps).reshape(len(maps), -1)
    with np.errstate(invalid="ignore", divide="ignore"):
        distances = cdist(flat, flat, "seuclidean", V=None)
        # Quantus' normalise_by_max of the matrix: a pixel constant over all maps gives NaN distances
        # (zero variance), NaN propagates and no two maps are alike (documented, as the reference)
        largest = np.max(np.abs(distances))
        distances = distances / largest if largest != 0 else distances
    similar = (distances <= threshold) & ~np.eye(len(maps), dtype=bool)
    same = np.asarray(predicted)[None] == np.asarray(predicted)[:, None]
    neighbours = similar.sum(axis=1)
    return np.where(neighbours > 0, (similar & same).sum(axis=1) / np.maximum(neighbours, 1), 0.0)


@fill_doc(options_note=OPTIONS_NOTE)
class SufficiencyMetric(MapsMetric):
    """Sufficiency in the evaluation runner (over the images of each chunk, as Quantus over a batch).

    Dasgupta et al. 2022, as Quantus' ``Sufficiency``: the maps of one chunk (``|map|`` divided by the
    chunk's largest value) are compared by their standardised Euclidean distance, scaled by its
    largest value in the chunk; two images are alike when their distance is at most
    ``sufficiency_threshold``. The column ``sufficiency`` is the fraction of an image's alike
    neighbours that share its predicted class (0 with none), in [0, 1]: higher = better. It depends on
    the other images of the chunk (so on ``chunk_size``), as Quantus' on its batch.

    Notes
    -----
    {options_note}

    - ``sufficiency_threshold``: distance under which two maps are alike, in [0, 1] (default 0.6,
      Quantus).
    """

    targets = ("classes",)

    name = "sufficiency"
    reference = "Dasgupta et al. 2022 (Quantus Sufficiency)"
    direction = "higher"
    options = (Option("sufficiency_threshold", 0.6, number("sufficiency_threshold", 0.0, 1.0), "Sufficiency: "
                      "distance under which two maps are alike, in [0, 1] (default 0.6, Quantus)", parse=float),)
    notes: ClassVar[dict[str, str]] = {"sufficiency": "Sufficiency, alike maps share the predicted class, within "
                                       "a chunk (higher = better)"}

    def score(self, chunk: Chunk, options: dict):
        from xai_tf.models.head import head_of

        predicted = head_of(chunk.model).predicted_classes(chunk.images, chunk.batch_size)
        values = sufficiency(chunk.maps, predicted, options["sufficiency_threshold"])
        return {self.name: [float(v) for v in values]}, {}


SUFFICIENCY = SufficiencyMetric()
