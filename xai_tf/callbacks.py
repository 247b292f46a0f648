"""Keras callbacks that explain fixed probe images while a model trains.

- ``SaliencyCallback``: at the end of every n-th epoch, saliency maps of the probe images with the
  current weights, written as TensorBoard image summaries (overlays, one tag per method) and/or as
  PNG method grids, one per epoch.
- ``PICCallback``: at the end of every n-th epoch, the aggregated AIC/SIC AUC (Kapishnikov et al.
  2021, as in paper 004) of each method on the probe images, written as TensorBoard scalars and put
  into ``logs`` so that ``EarlyStopping``, ``CSVLogger`` and ``History`` see it.

Both only read the model: explaining and scoring run the model in inference mode (dropout off,
BatchNorm statistics frozen) and never touch weights or optimizer state. Their randomness comes
from explicit seeds (``seed=``; the toolkit's stochastic methods and PIC's random masks draw from
``numpy.random.default_rng(seed)``, never from global state), and the global streams that Keras
and user code read for initialisers, dropout seeds, shuffling and augmentation (Python's
``random``, NumPy's global ``np.random`` and Keras' global seed generator) are saved before and
restored after each explanation, as a guard against third-party code inside the methods. So a fit
with these callbacks gives the same weights as the same seeded fit without them (tested).

Both follow ``keras.callbacks.Callback`` and log through ``tf.summary`` (DESIGN.md "Style"; the
events are written by ``xai_tf.summaries`` in TensorBoard's plugin formats); there is no
device-specific code, so they run wherever ``model.fit`` runs. The predicted class (``targets=None``)
is the model head's one rule (``xai_tf.models.head``), the same as ``explain`` and ``evaluate``.
"""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from xai_tf._checks import (
    check_choice,
    check_images,
    check_names,
    check_positive,
    check_seed,
    check_targets,
)
from xai_tf._random import kept_global_random_state
from xai_tf.models.head import head_of
from xai_tf.summaries import write_image_summary, write_scalar_summary

__all__ = ["PICCallback", "SaliencyCallback"]

# Parameters of ``explain`` itself (not of one method) that ``method_params`` may also set per method.
_EXPLAIN_PARAMS = ("layer", "batch_size")


# ---------------------------------------------------------------------------------------------
# validation shared by both callbacks
# ---------------------------------------------------------------------------------------------
def _check_method_params(method_params, methods: tuple[str, ...]) -> dict[str, dict]:
    """``{method: {parameter: value}}`` for methods in ``methods``; unknown methods or parameters rejected."""
    from xai_tf.explainers import method_parameters

    if method_params is None:
        return {}
    if not isinstance(method_params, Mapping):
        raise TypeError("method_params must be a dict {method name: {parameter: value}}; "
                        f"got {type(method_params).__name__}")
    checked = {}
    for method, params in method_params.items():
        if method not in methods:
            raise ValueError(f"method_params names {method!r}, which is not in methods={list(methods)}")
        if not isinstance(params, Mapping):
            raise TypeError(f"method_params[{method!r}] must be a dict of parameters; got {type(params).__name__}")
        accepted = (*method_parameters(method), *_EXPLAIN_PARAMS)
        unknown = sorted(set(params) - set(accepted))
        if unknown:
            raise TypeError(f"method_params[{method!r}] has unexpected parameter(s) {unknown}; "
                            f"{method} accepts: {', '.join(accepted)}")
        checked[method] = dict(params)
    return checked


def _check_log_dir(path, name: str) -> Path | None:
    if path is None:
        return None
    if not isinstance(path, (str, Path)):
        raise TypeError(f"{name} must be a folder path (str or pathlib.Path) or None; got {type(path).__name__}")
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ValueError(f"{name}={str(path)!r} exists and is not a folder")
    return path


def _check_probe_targets(targets, n: int):
    if targets is None:
        return None
    return check_targets(targets, n, None)


def _check_against_model(images: np.ndarray, targets, model) -> None:
    """ValueError naming ``images`` and both shapes when the probes do not fit the model's input."""
    if not getattr(model, "inputs", None):
        raise ValueError(f"model {model.name!r} is not built (no inputs); build it or call it once on images "
                         "before fit so the callback can check the probe images against its input shape")
    head = head_of(model)
    expected, got = head.image_shape, images.shape[1:]
    if any(want is not None and have != want for have, want in zip(got, expected)):
        raise ValueError(f"images have shape {got} per image (H, W, C) but the model {model.name!r} expects "
                         f"{expected}; pass probe images of the model's input shape")
    if targets is not None:
        head.check_targets(targets, len(images))


class _ProbeCallback(keras.callbacks.Callback):
    """What both callbacks share: probe images, schedule, explanation and the summary writer."""

    def __init__(self, images, methods, targets, every_n_epochs, log_dir, seed, method_params, batch_size):
        super().__init__()
        self.images = check_images(images, "images")
        from xai_tf.explainers import list_methods

        self.methods = check_names(methods, "methods", list_methods())
        self.targets = _check_probe_targets(targets, len(self.images))
        check_positive(every_n_epochs, "every_n_epochs", integer=True)
        self.every_n_epochs = int(every_n_epochs)
        self.log_dir = _check_log_dir(log_dir, "log_dir")
        self.seed = check_seed(seed)
        self.method_params = _check_method_params(method_params, self.methods)
        check_positive(batch_size, "batch_size", integer=True)
        self.batch_size = int(batch_size)
        self._writer = None

    def runs_on(self, epoch: int) -> bool:
        """Whether the callback works at the end of 0-based ``epoch`` (1-based epochs n, 2n, ...)."""
        return (int(epoch) + 1) % self.every_n_epochs == 0

    def on_train_begin(self, logs=None):
        _check_against_model(self.images, self.targets, self.model)
        if self.log_dir is not None and self._writer is None:
            self._writer = tf.summary.create_file_writer(str(self.log_dir))

    def on_train_end(self, logs=None):
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def _explain(self, method: str, targets) -> np.ndarray:
        from xai_tf.explainers import explain

        params = {"batch_size": self.batch_size, **self.method_params.get(method, {})}
        return explain(self.model, self.images, method, targets=targets, seed=self.seed, verbose=0, **params)


# ---------------------------------------------------------------------------------------------
# SaliencyCallback
# ---------------------------------------------------------------------------------------------
class SaliencyCallback(_ProbeCallback):
    """Explain fixed probe images at the end of every n-th epoch; TensorBoard overlays and/or PNG grids.

    images: ``(N, H, W, C)`` float in [0, 1], finite, the model's input shape (checked when training
        starts), C = 1 or 3 to be drawn. Keep N small (a handful): every logged epoch explains them all.
    methods: a method name or names from ``xai_tf.list_methods()``; default ``("gradcam",)``.
    targets: ``None`` (default: the class the model predicts at that epoch), one int, or ints ``(N,)``
        (e.g. the true labels, to watch the evidence for the right class form).
    every_n_epochs: work after epochs n, 2n, ... (1-based); default 1.
    log_dir: folder for TensorBoard events (``tf.summary.create_file_writer``): one image summary per
        method, tag ``saliency/<method>``, ``N`` overlays, step = the 0-based epoch (as Keras'
        TensorBoard callback counts). Default ``None``: no events.
    out_dir: folder for PNG grids (``xai_tf.viz.method_grid``: inputs x methods), one per logged epoch,
        ``epoch_001.png`` for the first epoch. Default ``None``: no PNGs.
    denoise: optional denoiser (``xai_tf.denoise.methods()``, paper defaults) applied to the maps
        before they are drawn; ``last_maps`` keeps the maps as drawn.
    seed: seed of stochastic methods (smoothgrad, lime, ...), the same every epoch so that changes
        between epochs come from the weights; default 0.
    method_params: ``{method: {parameter: value}}`` passed to ``explain`` (e.g.
        ``{"gradcam": {"layer": "block2_conv"}}``).
    cmap, alpha: overlay colormap and heatmap opacity (default ``"jet"``, 0.6 as in paper 002).
    batch_size: model evaluations per compiled call of the explainers (default 64).

    With neither ``log_dir`` nor ``out_dir`` the maps are only kept in memory: ``last_maps``
    (``{method: (N, H, W)}``) and ``last_epoch`` hold the latest ones.
    """

    def __init__(self, images, methods=("gradcam",), targets=None, every_n_epochs: int = 1, log_dir=None,
                 out_dir=None, denoise: str | None = None, seed: int = 0, method_params=None, *,
                 cmap="jet", alpha: float = 0.6, batch_size: int = 64):
        super().__init__(images, methods, targets, every_n_epochs, log_dir, seed, method_params, batch_size)
        self.out_dir = _check_log_dir(out_dir, "out_dir")
        if denoise is not None:
            from xai_tf.denoising import methods as denoisers

            check_choice(denoise, "denoise", denoisers())
        self.denoise = denoise
        if (self.log_dir is not None or self.out_dir is not None) and self.images.shape[-1] not in (1, 3):
            raise ValueError(f"images must have 1 or 3 channels to be drawn; got {self.images.shape[-1]}")
        from xai_tf.viz.overlays import get_colormap

        get_colormap(cmap)  # a bad colormap fails now, not after the first epoch
        if isinstance(alpha, bool) or not isinstance(alpha, (int, float, np.integer, np.floating)) \
                or not 0.0 <= float(alpha) <= 1.0:
            raise ValueError(f"alpha must be a number in [0, 1] (heatmap opacity); got {alpha!r}")
        self.cmap, self.alpha = cmap, float(alpha)
        self.last_maps: dict[str, np.ndarray] = {}
        self.last_epoch: int | None = None

    def explain_probes(self) -> dict[str, np.ndarray]:
        """``{method: (N, H, W)}`` maps of the probe images with the model's current weights (denoised if asked)."""
        maps_by_method = {}
        with kept_global_random_state():
            for method in self.methods:
                maps = self._explain(method, self.targets)
                if self.denoise is not None:
                    from xai_tf.denoising import denoise

                    maps = denoise(maps, self.denoise, verbose=0)
                maps_by_method[method] = maps
        return maps_by_method

    def on_epoch_end(self, epoch, logs=None):
        if not self.runs_on(epoch):
            return
        maps_by_method = self.explain_probes()
        self.last_maps, self.last_epoch = maps_by_method, int(epoch)
        if self._writer is not None:
            self._write_summaries(maps_by_method, int(epoch))
        if self.out_dir is not None:
            self._write_grid(maps_by_method, int(epoch))

    def _write_summaries(self, maps_by_method, epoch: int):
        from xai_tf.viz import overlay

        suffix = f", denoised with {self.denoise}" if self.denoise else ""
        with self._writer.as_default():
            for method, maps in maps_by_method.items():
                # |map|, as the grids show it: larger magnitude = more important for signed methods too.
                overlays = np.stack([overlay(image, np.abs(saliency), cmap=self.cmap, alpha=self.alpha)
                                     for image, saliency in zip(self.images, maps)])
                write_image_summary(f"saliency/{method}", overlays, epoch,
                                    description=f"{method} saliency of the probe images{suffix}")
        self._writer.flush()

    def _write_grid(self, maps_by_method, epoch: int):
        from xai_tf.viz import method_grid

        titles = [f"{method} ({self.denoise})" if self.denoise else method for method in maps_by_method]
        method_grid(self.images, maps_by_method, titles=titles, path=self.out_dir / f"epoch_{epoch + 1:03d}.png",
                    cmap=self.cmap, alpha=self.alpha)


# ---------------------------------------------------------------------------------------------
# PICCallback
# ---------------------------------------------------------------------------------------------
class PICCallback(_ProbeCallback):
    """Aggregated AIC/SIC AUC of saliency methods on probe images, every n-th epoch, as scalars and ``logs``.

    images: ``(N, H, W, C)`` float in [0, 1], finite, the model's input shape (checked when training
        starts). PIC needs images the model is confident on; a few dozen held-out images is typical.
    methods: a method name or names from ``xai_tf.list_methods()``.
    kind: ``"sic"``, ``"aic"`` or both (default ``("sic", "aic")``), see ``xai_tf.metrics.pic``.
    every_n_epochs: work after epochs n, 2n, ... (1-based); default 1.
    log_dir: folder for TensorBoard scalars, tag ``pic/<kind>/<method>``, step = the 0-based epoch.
        Default ``None``: ``logs`` and ``history`` only.
    entropy: ``"shannon"`` (default here: no image encoding, paper 004) or ``"webp"`` (PAIR).
    blur: ``"fast"`` (default: PAIR's Delaunay-linear fill on each mask's support, see the README's PIC table) or
        ``"exact"`` (PAIR's fill on every kept pixel, value for value, slower).
    thresholds: fractions of pixels revealed; default PAIR's 13 (``xai_tf.metrics.pic.PAIR_THRESHOLDS``).
    seed: seed of the explainers' randomness and of PIC's random masks (same masks every epoch and
        for every method, so AUCs compare across epochs and methods); default 0.
    targets: ``None`` (default: the class the model predicts at that epoch, computed once and used
        for both the maps and PIC), one int, or ints ``(N,)``.
    method_params: ``{method: {parameter: value}}`` passed to ``explain``.
    min_pred_value, random_mask_fraction, aggregate, num_data_points, batch_size: as in
        ``xai_tf.metrics.pic`` (defaults 0.8, 0.01, "median", 1000, 64; PAIR's).

    At the end of a logged epoch ``logs`` gets ``"<kind>_auc_<method>"`` (e.g. ``sic_auc_gradcam``),
    so place this callback BEFORE ``CSVLogger``/``EarlyStopping`` in the list (Keras calls callbacks
    in order with the same ``logs``; ``History`` always comes last). The value is NaN when PIC
    excludes every probe image (PIC's exclusion rules: e.g. early in training the model's score on an
    image is below ``min_pred_value``, or a map is constant); PIC then warns, and ``results`` holds
    the reasons. ``EarlyStopping`` treats NaN as no improvement.
    Epochs in between get no key: ``EarlyStopping`` then skips the epoch (with a warning), but
    ``CSVLogger`` fixes its columns at the first epoch it sees, so with ``every_n_epochs > 1`` it
    records no AUC column; read ``history`` (``{epoch: {key: auc}}``) or the TensorBoard scalars.
    Maps are scored as the method returns them (signed methods rank by signed value), as the
    evaluation runner does. ``results[kind][method]`` keeps the latest ``PicResult``s.
    """

    def __init__(self, images, methods, kind=("sic", "aic"), every_n_epochs: int = 1, log_dir=None,
                 entropy: str = "shannon", blur: str = "fast", thresholds=None, seed: int = 0, targets=None,
                 method_params=None, *, min_pred_value: float = 0.8, random_mask_fraction: float = 0.01,
                 aggregate: str = "median", num_data_points: int = 1000, batch_size: int = 64):
        from xai_tf.metrics.pic import KINDS, PICOptions

        super().__init__(images, methods, targets, every_n_epochs, log_dir, seed, method_params, batch_size)
        self.kinds = check_names(kind, "kind", KINDS)
        self.options = PICOptions(entropy=entropy, blur=blur, thresholds=thresholds, min_pred_value=min_pred_value,
                                  random_mask_fraction=random_mask_fraction, num_data_points=num_data_points,
                                  aggregate=aggregate).checked()
        self.options.check_images(self.images)
        self.results: dict[str, dict] = {}
        self.history: dict[int, dict[str, float]] = {}

    @staticmethod
    def log_key(kind: str, method: str) -> str:
        """The ``logs`` key of one AUC, e.g. ``sic_auc_gradcam``."""
        return f"{kind}_auc_{method}"

    def score_probes(self) -> dict[str, dict]:
        """``{kind: {method: PicResult}}`` of the probe images with the model's current weights."""
        from xai_tf.metrics.pic import pic

        results: dict[str, dict] = {kind: {} for kind in self.kinds}
        with kept_global_random_state():
            # one set of targets for the maps and for PIC (the head's rule)
            targets = head_of(self.model).targets(self.images, self.targets, self.batch_size)
            for method in self.methods:
                maps = self._explain(method, targets)
                for kind in self.kinds:
                    results[kind][method] = pic(
                        self.model, self.images, maps, kind=kind, targets=targets, seed=self.seed,
                        batch_size=self.batch_size, verbose=0, **vars(self.options))
        return results

    def on_epoch_end(self, epoch, logs=None):
        if not self.runs_on(epoch):
            return
        results = self.score_probes()
        aucs = {self.log_key(kind, method): float(result.auc)
                for kind, by_method in results.items() for method, result in by_method.items()}
        self.results = results
        self.history[int(epoch)] = aucs
        if logs is not None:
            logs.update(aucs)
        if self._writer is not None:
            with self._writer.as_default():
                for kind, by_method in results.items():
                    for method, result in by_method.items():
                        write_scalar_summary(f"pic/{kind}/{method}", result.auc, int(epoch),
                                             description=f"{kind.upper()} AUC of {method} ({result.aggregate} over "
                                                         f"{result.num_included} of {len(result.aucs)} probe images)")
            self._writer.flush()

