"""``PICCallback``: aggregated AIC/SIC AUC of saliency methods on probe images every n-th epoch."""
from __future__ import annotations

from xai_tf._checks import check_names
from xai_tf._random import kept_global_random_state
from xai_tf.callbacks.probes import ProbeCallback
from xai_tf.models.head import head_of
from xai_tf.summaries import write_scalar_summary

__all__ = ["PICCallback"]


class PICCallback(ProbeCallback):
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

