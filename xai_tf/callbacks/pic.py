"""``PICCallback``: aggregated AIC/SIC AUC of saliency methods on probe images every n-th epoch.

The :class:`~xai_tf.callbacks.metric.MetricCallback` of the registered metrics ``sic`` and ``aic``,
with PIC's options as constructor arguments, ``PicResult``s kept and its own log keys and tags.
"""
from __future__ import annotations

import dataclasses
import warnings

import numpy as np

from xai_tf._checks import check_names
from xai_tf._docstrings import fill_doc
from xai_tf.callbacks.metric import KEY_DOCS, MetricCallback

__all__ = ["PICCallback"]

#: ``log_key``'s and ``tag``'s Parameters (an AUC's kind, and the method) and Returns type.
KIND_KEYS = KEY_DOCS.format(key="kind", key_doc='``"sic"`` or ``"aic"``.')


class PICCallback(MetricCallback):
    """Aggregated AIC/SIC AUC of saliency methods on probe images, every n-th epoch, as scalars and ``logs``.

    A :class:`MetricCallback` with the registered metrics ``sic``/``aic``: its arguments map onto the
    runner's options ``pic_entropy``, ``pic_blur``, ``pic_thresholds``, ``pic_min_pred_value`` and
    ``pic_random_mask_fraction``, so it scores what ``xai_tf.evaluate(..., metrics=kind, seed=seed,
    chunk_size >= N)`` scores on the probes. The maps come from the evaluation unit, which seeds
    stochastic methods with ``chunk_seed(seed, 0)``, not ``seed`` itself: a stochastic method's maps
    (smoothgrad, lime, ...) are the runner's, not those of ``explain(..., seed=seed)`` that earlier
    versions of this callback scored; deterministic methods are unaffected. PIC's random masks are
    ``rng_for(seed, image index)``'s, as everywhere.

    Parameters
    ----------
    images : ndarray, xai_tf.data.ImageSource, str or pathlib.Path
        ``(N, H, W, C)`` float in [0, 1], finite, the model's input shape (checked when training
        starts), or a lazy source or its path, read whole once (as ``MetricCallback``). PIC needs
        images the model is confident on; a few dozen held-out images is typical.
    methods : str or sequence of str
        Names from ``xai_tf.list_methods()``.
    kind : str or sequence of str, optional
        ``"sic"``, ``"aic"`` or both (default ``("sic", "aic")``), see ``xai_tf.metrics.pic``.
    every_n_epochs : int, optional
        Work after epochs n, 2n, ... (1-based); default 1.
    log_dir : str or pathlib.Path, optional
        Folder for TensorBoard scalars, tag ``pic/<kind>/<method>``, step = the 0-based epoch.
        Default ``None``: ``logs`` and ``history`` only.
    entropy : {"shannon", "webp"}, optional
        Information estimate: ``"shannon"`` (default here: no image encoding, paper 004) or
        ``"webp"`` (PAIR).
    blur : {"fast", "exact"}, optional
        ``"fast"`` (default: PAIR's Delaunay-linear fill on each mask's support, see the README's PIC
        table) or ``"exact"`` (PAIR's fill on every kept pixel, value for value, slower).
    thresholds : sequence of float, optional
        Increasing fractions in (0, 1) of pixels revealed; default PAIR's 13
        (``xai_tf.metrics.information_curves.pic_options.PAIR_THRESHOLDS``).
    seed : int, optional
        Seed of the evaluation unit (stochastic methods: ``chunk_seed(seed, 0)``) and of PIC's random
        masks (the same masks every epoch and for every method, so AUCs compare); default 0.
    targets : None, int or array of int, optional
        ``None`` (default: the class the model predicts at that epoch, computed once and used for
        both the maps and PIC), one int, or ints ``(N,)``.
    method_params : dict, optional
        ``{method: {parameter: value}}`` passed to ``explain``.
    min_pred_value : float, optional
        Images whose original score is below this are excluded; in [0, 1], default 0.8 (PAIR).
    random_mask_fraction : float, optional
        Fraction of pixels kept in the fully blurred image, in [0, 1); default 0.01 (PAIR).
    aggregate : {"median", "mean"}, optional
        Aggregation of the per-image curves (default ``"median"``, PAIR's and the runner's).
    num_data_points : int, optional
        Curve samples before x = 1 (default 1000, PAIR's and the runner's).
    batch_size : int, optional
        Most images per compiled model call (default 64).

    Raises
    ------
    ValueError
        Bad images, an unknown method or kind, a bad PIC option (named: ``entropy``, ``thresholds``,
        ...), ``entropy="webp"`` with images it cannot encode; when training starts: probe images
        that do not fit the model.
    TypeError
        A value of the wrong type (seed, method parameters, options).

    Notes
    -----
    ``aggregate`` and ``num_data_points`` are not runner options: the runner's SIC/AIC store every
    probe's normalised curve points, and this callback re-samples (``num_data_points``) and
    re-aggregates (``aggregate``) them, which is what ``pic(..., aggregate=, num_data_points=)``
    computes; with the defaults the value is the runner's summary value.

    At the end of a logged epoch ``logs`` gets ``"<kind>_auc_<method>"`` (e.g. ``sic_auc_gradcam``),
    so place this callback BEFORE ``CSVLogger``/``EarlyStopping`` in the list (Keras calls callbacks
    in order with the same ``logs``; ``History`` always comes last). The value is NaN when PIC
    excludes every probe image (PIC's exclusion rules: e.g. early in training the model's score on an
    image is below ``min_pred_value``, or a map is constant); the callback then warns, and
    ``results`` holds the reasons. ``EarlyStopping`` treats NaN as no improvement.
    Epochs in between get no key: ``EarlyStopping`` then skips the epoch (with a warning), but
    ``CSVLogger`` fixes its columns at the first epoch it sees, so with ``every_n_epochs > 1`` it
    records no AUC column; read ``history`` (``{epoch: {key: auc}}``) or the TensorBoard scalars.
    Maps are scored as the method returns them (signed methods rank by signed value), as the
    evaluation runner does. ``results[kind][method]`` keeps the latest ``PicResult``s (with the
    random masks); ``table`` the runner's summary entries (PAIR's median over 1000-point curves).
    """

    def __init__(self, images, methods, kind=("sic", "aic"), every_n_epochs: int = 1, log_dir=None,
                 entropy: str = "shannon", blur: str = "fast", thresholds=None, seed: int = 0, targets=None,
                 method_params=None, *, min_pred_value: float = 0.8, random_mask_fraction: float = 0.01,
                 aggregate: str = "median", num_data_points: int = 1000, batch_size: int = 64):
        from xai_tf.metrics.information_curves.pic_options import KINDS, PICOptions

        kinds = check_names(kind, "kind", KINDS)
        settings = PICOptions(entropy=entropy, blur=blur, thresholds=thresholds, min_pred_value=min_pred_value,
                              random_mask_fraction=random_mask_fraction, num_data_points=num_data_points,
                              aggregate=aggregate).checked()
        options = {"pic_entropy": settings.entropy, "pic_blur": settings.blur,
                   "pic_thresholds": None if settings.thresholds is None else list(settings.thresholds),
                   "pic_min_pred_value": settings.min_pred_value,
                   "pic_random_mask_fraction": settings.random_mask_fraction}
        super().__init__(images, methods, kinds, every_n_epochs, log_dir, seed, targets, options=options,
                         method_params=method_params, batch_size=batch_size)
        settings.check_images(self.images)
        self.kinds, self.settings = kinds, settings
        self.results: dict[str, dict] = {}

    @staticmethod
    @fill_doc(keys=KIND_KEYS)
    def log_key(kind: str, method: str) -> str:
        """The ``logs`` key of one AUC, e.g. ``sic_auc_gradcam``.

        {keys}
            ``"<kind>_auc_<method>"``, the key the AUC gets in Keras' ``logs`` and in ``history``.
        """
        return f"{kind}_auc_{method}"

    @fill_doc(keys=KIND_KEYS)
    def tag(self, kind: str, method: str) -> str:
        """The TensorBoard tag of one AUC, e.g. ``pic/sic/gradcam``.

        {keys}
            ``"pic/<kind>/<method>"``, the tag of the scalar summary written to ``log_dir``.
        """
        return f"pic/{kind}/{method}"

    def score_probes(self) -> dict[str, dict]:
        """Score the probe images with PIC (SIC/AIC) with the model's current weights.

        The same as ``pic_results(score_units())``: each method explains the probes through the
        evaluation unit, which scores them; the model runs in inference mode and the global random
        streams are kept.

        Returns
        -------
        dict of str to dict
            ``{kind: {method: PicResult}}`` (``xai_tf.metrics.PicResult``) for every kind in
            ``kind`` and every method, re-aggregated with ``aggregate``/``num_data_points`` and
            holding the random masks.
        """
        return self.pic_results(self.score_units())

    def pic_results(self, scored) -> dict[str, dict]:
        """The ``PicResult`` of every kind and method in :meth:`~xai_tf.callbacks.MetricCallback.score_units`' result.

        The runner's stored results, re-aggregated with ``aggregate``/``num_data_points``, with the
        random masks (drawn from ``seed``, as they were when scored).

        Parameters
        ----------
        scored : dict
            ``{method: (rows, arrays)}`` as :meth:`~xai_tf.callbacks.MetricCallback.score_units` returns it.

        Returns
        -------
        dict of str to dict
            ``{kind: {method: PicResult}}`` (``xai_tf.metrics.PicResult``): per-image curves,
            AUCs and exclusion reasons, and the aggregated curve and its ``auc`` (NaN when every
            probe image was excluded).
        """
        from xai_tf.metrics.information_curves.pic_options import draw_random_masks
        from xai_tf.metrics.registry import METRICS

        n, height, width = self.images.shape[:3]
        masks = draw_random_masks(n, height, width, self.settings.random_mask_fraction, self.seed)
        results: dict[str, dict] = {kind: {} for kind in self.kinds}
        for method, (_, arrays) in scored.items():
            for kind in self.kinds:
                stored = METRICS[kind].results(lambda arrays=arrays: [(0, arrays)])
                results[kind][method] = _reaggregated(stored, self.settings, masks)
        return results

    def _logged(self, scored) -> list[tuple[str, str, float, str]]:
        self.table = self.summarize(scored)
        self.results = self.pic_results(scored)
        logged = []
        for kind, by_method in self.results.items():
            for method, result in by_method.items():
                description = (f"{kind.upper()} AUC of {method} ({result.aggregate} over {result.num_included} of "
                               f"{len(result.aucs)} probe images)")
                logged.append((kind, method, float(result.auc), description))
        return logged

    def _warn_nan(self, kind: str, method: str, epoch: int) -> None:
        result = self.results[kind][method]
        if result.num_included == 0:
            warnings.warn(f"pic: all {len(result.aucs)} probe images were excluded from {kind} of {method} at "
                          f"epoch {epoch} (see results[{kind!r}][{method!r}].excluded); the AUC is NaN",
                          RuntimeWarning, stacklevel=3)
        else:
            super()._warn_nan(kind, method, epoch)


def _reaggregated(result, settings, masks):
    """``result`` (a runner-stored ``PicResult``: median over 1000-point curves) with ``settings``'
    ``num_data_points`` and ``aggregate``, and the random ``masks`` it was scored with."""
    from xai_tf.metrics.information_curves.curves import aggregate_curves, pic_curve

    curve_x, curves, aucs = result.curve_x, result.curves, result.aucs
    if len(curve_x) != settings.num_data_points + 1:
        curve_x = np.append(np.linspace(0.0, 1.0, num=settings.num_data_points, endpoint=False), 1.0)
        curves, aucs = np.full((len(result.aucs), len(curve_x)), np.nan), np.full(len(result.aucs), np.nan)
        for i in np.flatnonzero(result.included):
            _, curves[i], aucs[i] = pic_curve(result.normalized_entropies[i], result.normalized_scores[i],
                                              settings.num_data_points)
    curve, auc = result.curve, result.auc
    if curve_x is not result.curve_x or settings.aggregate != result.aggregate:
        curve, auc = aggregate_curves(curves[result.included], curve_x, settings.aggregate)
    return dataclasses.replace(result, aggregate=settings.aggregate, curve_x=curve_x, curves=curves, aucs=aucs,
                               curve=curve, auc=auc, random_masks=masks)
