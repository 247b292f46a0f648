"""Model-randomisation sanity check (Adebayo et al. 2018; paper 003's fully/semi randomised models).

A saliency method that explains the *model* should give different maps once the model's learned
weights are destroyed. ``randomization_check`` explains the images with the trained model and with
a re-initialised copy and returns the similarity of the two maps per image (low = the method passes).

What is re-initialised (the user's model is never touched: the copy is made with
``keras.models.clone_model`` and ``set_weights``, nested models included):

- ``"full"`` (paper 003's Fully Randomised model): every layer that has weights.
- ``"semi"`` (paper 003's Semi Randomised model: convolutional features kept, classifier
  randomised): the layers with weights that come after the last layer with a 4-D output (the
  dense head after Flatten / global pooling).
- ``"cascade"`` (Adebayo et al.): the layers with weights re-initialised cumulatively from the top
  (output) down; one similarity per step, the first step re-initialising only the last layer.

Re-initialisation (He et al. 2015, as paper 003): kernels (every weight with 2 or more dimensions)
are drawn from ``N(0, 2 / fan_in)`` with ``fan_in`` the product of all but the last dimension;
biases and BatchNorm ``beta``/``moving_mean`` become 0, BatchNorm ``gamma``/``moving_variance`` 1
(the identity). Draws come from ``numpy.random.default_rng((seed, layer, weight))``, so the same
seed gives the same random model.

Similarity per image: Spearman rank correlation of the two maps (default; Adebayo et al.), or SSIM
of the maps scaled to [0, 1] (scikit-image). Maps are compared as absolute values by default
(``absolute=True``: Adebayo et al. report the sign-agnostic comparison).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import keras
import numpy as np
from scipy import stats

from xai_tf._checks import check_choice, check_images, check_positive
from xai_tf._docstrings import fill_doc
from xai_tf._random import rng_for
from xai_tf.metrics.chunk import Chunk
from xai_tf.metrics.options import OPTIONS_NOTE, Option, parse_list
from xai_tf.metrics.protocol import Metric
from xai_tf.models.graph import iter_layers

MODES = ("full", "semi", "cascade")
SIMILARITIES = ("spearman", "ssim")
_ONES = ("gamma", "moving_variance")
#: Spearman similarity to the randomised model's maps at or above which a method fails the sanity check
#: (Adebayo et al. 2018 give no cut-off: 0.5 is the midpoint between unchanged (1) and unrelated (0);
#: the report's Findings apply it with confidence bounds, see ``xai_tf.report.findings``).
RANDOMIZATION_THRESHOLD = 0.5


@dataclass
class RandomizationResult:
    """``similarities``: ``(N,)`` for "full"/"semi", ``(L, N)`` for "cascade" (row k: the top k + 1 weighted
    layers re-initialised); ``layers``: the names re-initialised (in cascade order); ``targets`` ``(N,)``."""

    mode: str
    similarity: str
    similarities: np.ndarray
    layers: list
    targets: np.ndarray


def weighted_layers(model) -> list:
    """Layers of ``model`` (nested models expanded, graph order) that own weights."""
    return [layer for layer in iter_layers(model) if layer.weights]


def head_layers(model) -> list:
    """The weighted layers after the last layer with a 4-D output ("semi" randomisation)."""
    layers = list(iter_layers(model))
    last_4d = -1
    for position, layer in enumerate(layers):
        try:
            if len(layer.output.shape) == 4:
                last_4d = position
        except (AttributeError, ValueError):
            continue
    head = [layer for layer in layers[last_4d + 1:] if layer.weights]
    if not head:
        raise ValueError(f"model {model.name!r} has no weighted layer after its last 4-D layer: no classifier "
                         "head to randomise for mode='semi'")
    return head


def reinitialize(layers, seed: int, offset: int = 0) -> None:
    """Re-initialise the weights of ``layers`` in place (He-normal kernels, zero biases, identity BatchNorm)."""
    for layer_number, layer in enumerate(layers):
        for weight_number, variable in enumerate(layer.weights):
            shape = tuple(variable.shape)
            name = variable.name.split("/")[-1]
            if len(shape) >= 2:
                fan_in = int(np.prod(shape[:-1]))
                rng = rng_for(seed, offset + layer_number, weight_number)
                value = rng.normal(0.0, np.sqrt(2.0 / fan_in), size=shape)
            elif name in _ONES:
                value = np.ones(shape)
            else:
                value = np.zeros(shape)
            variable.assign(value.astype(variable.dtype))


def randomized_copy(model, mode: str = "full", seed: int = 0) -> keras.Model:
    """A copy of ``model`` with the weights ``mode`` names re-initialised ("full" or "semi"); ``model`` is untouched."""
    mode = check_choice(mode, "mode", ("full", "semi"))
    copy = _clone(model)
    reinitialize(weighted_layers(copy) if mode == "full" else head_layers(copy), seed)
    return copy


def _clone(model) -> keras.Model:
    copy = keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    return copy


def map_similarities(reference: np.ndarray, maps: np.ndarray, similarity: str = "spearman",
                     absolute: bool = True) -> np.ndarray:
    """Per-image similarity of two ``(N, H, W)`` map sets: Spearman (NaN for a constant map) or SSIM."""
    if absolute:
        reference, maps = np.abs(reference), np.abs(maps)
    out = np.empty(len(maps), dtype=np.float64)
    for i, (a, b) in enumerate(zip(reference, maps)):
        if similarity == "spearman":
            if np.ptp(a) == 0 or np.ptp(b) == 0:
                out[i] = np.nan  # rank correlation undefined for a constant map
            else:
                out[i] = stats.spearmanr(a.ravel(), b.ravel()).statistic
        else:
            from skimage.metrics import structural_similarity

            out[i] = structural_similarity(_unit(a), _unit(b), data_range=1.0)
    return out


def _unit(saliency: np.ndarray) -> np.ndarray:
    low, high = float(saliency.min()), float(saliency.max())
    return np.zeros_like(saliency, dtype=np.float64) if high <= low else (saliency - low) / (high - low)


def randomization_check(model, images, method: str, mode: str = "full", seed: int = 0,
                        similarity: str = "spearman", targets=None, *, absolute: bool = True,
                        batch_size: int = 64, **method_params) -> RandomizationResult:
    r"""Compare ``method``'s maps from ``model`` with its maps from a re-initialised copy of the model.

    The model-randomisation sanity check (Adebayo et al. 2018; paper 003's fully and semi
    randomised models): a method that explains the model should give different maps once the
    learned weights are destroyed, so a low similarity passes. Re-initialisation is He et al.
    2015's (kernels from :math:`N(0, 2 / \mathrm{fan\_in})`, zero biases, identity BatchNorm),
    seeded by ``seed``; see the module ``xai_tf.metrics.randomisation.model_randomization`` for which layers each mode
    re-initialises.

    Parameters
    ----------
    model : keras.Model
        The trained classifier (never modified: the copy is made with ``keras.models.clone_model``).
    images : numpy.ndarray, shape (N, H, W, C)
        float in [0, 1], the images to explain.
    method : str
        A name of ``xai_tf.list_methods()``.
    mode : {"full", "semi", "cascade"}, optional
        ``"full"`` (default): every layer with weights re-initialised; ``"semi"``: the layers with
        weights after the last layer with a 4-D output (the classifier head); ``"cascade"``: the
        layers re-initialised cumulatively from the output down, one similarity per step.
    seed : int, optional
        Seed of the re-initialisation and of stochastic methods (default 0); the same seed gives
        the same random model.
    similarity : {"spearman", "ssim"}, optional
        Per-image similarity of the two maps: Spearman rank correlation (default; Adebayo et al.,
        NaN for a constant map) or SSIM of the maps min-max scaled to [0, 1] (scikit-image).
    targets : None, int or array-like of int, shape (N,), optional
        Class explained per image, on the trained model and on every copy. None (default) explains
        the trained model's predicted class.
    absolute : bool, optional
        Compare ``|map|`` (default True: Adebayo et al. report the sign-agnostic comparison).
    batch_size : int, optional
        Most images per compiled call, passed to ``xai_tf.explain`` (default 64).
    **method_params
        Method parameters passed to ``xai_tf.explain`` (e.g. ``steps=32``).

    Returns
    -------
    RandomizationResult
        ``mode``; ``similarity``; ``similarities``, float64 ``(N,)`` for ``"full"``/``"semi"`` or
        ``(L, N)`` for ``"cascade"`` (row k: the top k + 1 weighted layers re-initialised);
        ``layers``, the names of the layers re-initialised (in cascade order); ``targets``
        ``(N,)`` int64.

    Raises
    ------
    ValueError
        If ``mode`` or ``similarity`` is unknown, ``images`` is not ``(N, H, W, C)`` in [0, 1],
        ``batch_size`` is not positive, or ``mode="semi"`` meets a model with no weighted layer
        after its last 4-D layer.
    TypeError
        If ``batch_size`` is not an integer.
    """
    from xai_tf.explainers import explain
    from xai_tf.models.binding import bind

    mode = check_choice(mode, "mode", MODES)
    similarity = check_choice(similarity, "similarity", SIMILARITIES)
    check_positive(batch_size, "batch_size", integer=True)
    images = check_images(images, "images")
    binding, images, keys = bind(model, images, targets, batch_size=batch_size)
    frozen = binding.freeze(keys)
    targets = keys if binding.classic else np.full(len(keys), -1, np.int64)  # -1: not a class

    def maps_of(network):
        return explain(network, images, method, frozen, batch_size=batch_size, verbose=0, seed=seed,
                       **method_params)

    reference = maps_of(model)
    if mode in ("full", "semi"):
        copy = randomized_copy(model, mode, seed)
        layers = [layer.name for layer in (weighted_layers(copy) if mode == "full" else head_layers(copy))]
        values = map_similarities(reference, maps_of(copy), similarity, absolute)
        return RandomizationResult(mode, similarity, values, layers, targets)

    copy = _clone(model)
    top_down = weighted_layers(copy)[::-1]
    rows = []
    for step, layer in enumerate(top_down):
        reinitialize([layer], seed, offset=step)
        rows.append(map_similarities(reference, maps_of(copy), similarity, absolute))
    return RandomizationResult(mode, similarity, np.stack(rows), [layer.name for layer in top_down], targets)


def _modes_option(value):
    from xai_tf._checks import check_names

    return list(check_names(value, "randomization_modes", ("full", "semi")))


@fill_doc(options_note=OPTIONS_NOTE)
class RandomizationMetric(Metric):
    """Randomisation check in the evaluation runner: Spearman similarity to the randomised model's maps.

    Adebayo et al. 2018, as paper 003 uses it: a :class:`~xai_tf.metrics.MethodMetric` that re-runs
    the method (its parameters, the chunk's seed) on a copy of the model with re-initialised weights
    (``Chunk.randomized``, made once per run; see :func:`xai_tf.metrics.randomization_check`) and
    writes the Spearman rank correlation of ``|map|`` from the trained model (``chunk.maps``) and
    ``|map|`` from the randomised one, per image (NaN for a constant map). Columns
    ``randomization_full`` and ``randomization_semi``, one per mode chosen: lower = the maps depend on
    the learned weights. The Findings judge it as a sanity check: a method passes below
    ``RANDOMIZATION_THRESHOLD`` (0.5, the midpoint between unchanged (1) and unrelated (0); Adebayo et
    al. give no cut-off), judged with confidence bounds.

    Notes
    -----
    {options_note}

    - ``randomization_modes`` (comma-separated): ``full`` (every layer with weights re-initialised)
      and/or ``semi`` (the weighted layers after the last layer with a 4-D output, the classifier
      head); default both.
    """

    name = "randomization"
    reference = "Adebayo et al. 2018, as paper 003 uses it"
    scores = "method"
    options = (Option("randomization_modes", ["full", "semi"], _modes_option,
                      "comma-separated randomisation modes: full, semi (default both)", parse=parse_list),)
    direction = "lower"
    evidence = "sanity"
    threshold = RANDOMIZATION_THRESHOLD
    notes: ClassVar[dict[str, str]] = {
        "randomization_full": f"Randomisation, full (Spearman to randomised model; passes below "
                              f"{RANDOMIZATION_THRESHOLD:g}, see Findings)",
        "randomization_semi": f"Randomisation, semi (Spearman to randomised model; passes below "
                              f"{RANDOMIZATION_THRESHOLD:g}, see Findings)",
    }

    def columns(self, options: dict) -> list[str]:
        return [f"randomization_{mode}" for mode in options["randomization_modes"]]

    def score(self, chunk: Chunk, options: dict):
        from xai_tf.explainers import explain

        columns = {}
        for mode in options["randomization_modes"]:
            random_maps = explain(chunk.randomized(mode), chunk.images, chunk.method, chunk.targets,
                                  batch_size=chunk.batch_size, verbose=0, seed=chunk.chunk_seed, **chunk.params)
            columns[f"randomization_{mode}"] = list(map_similarities(chunk.maps, random_maps))
        return columns, {}


RANDOMIZATION = RandomizationMetric()
