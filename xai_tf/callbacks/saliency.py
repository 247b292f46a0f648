"""``SaliencyCallback``: saliency maps of fixed probe images every n-th epoch, as TensorBoard images and PNG grids."""
from __future__ import annotations

import numpy as np

from xai_tf._checks import check_choice
from xai_tf._random import kept_global_random_state
from xai_tf.callbacks.probes import ProbeCallback, check_log_dir
from xai_tf.summaries import write_image_summary

__all__ = ["SaliencyCallback"]


class SaliencyCallback(ProbeCallback):
    """Explain fixed probe images at the end of every n-th epoch; TensorBoard overlays and/or PNG grids.

    With neither ``log_dir`` nor ``out_dir`` the maps are only kept in memory: ``last_maps``
    (``{method: (N, H, W)}``) and ``last_epoch`` hold the latest ones.

    Parameters
    ----------
    images : numpy.ndarray, shape (N, H, W, C), or xai_tf.data.ImageSource, str or pathlib.Path
        Float in [0, 1], finite, of the model's input shape (checked when training starts); C = 1 or
        3 to be drawn. A lazy source (``xai_tf.data.open``: a source or its path) is read whole
        once. Keep N small (a handful): every logged epoch explains them all.
    methods : str or sequence of str, optional
        A method name or names from ``xai_tf.list_methods()`` (one name, ``"a,b"`` or a list);
        default ``("gradcam",)``.
    targets : None, int or array-like of int, shape (N,), optional
        ``None`` (default: the class the model predicts at that epoch), one int, or ints ``(N,)``
        (e.g. the true labels, to watch the evidence for the right class form).
    every_n_epochs : int, optional
        Work after epochs n, 2n, ... (1-based); default 1.
    log_dir : str or pathlib.Path, optional
        Folder for TensorBoard events (``tf.summary.create_file_writer``): one image summary per
        method, tag ``saliency/<method>``, ``N`` overlays, step = the 0-based epoch (as Keras'
        TensorBoard callback counts). Default ``None``: no events.
    out_dir : str or pathlib.Path, optional
        Folder for PNG grids (``xai_tf.viz.method_grid``: inputs x methods), one per logged epoch,
        ``epoch_001.png`` for the first epoch. Default ``None``: no PNGs.
    denoise : str, optional
        A denoiser (``xai_tf.denoise.methods()``, paper defaults) applied to the maps before they are
        drawn; ``last_maps`` keeps the maps as drawn. Default ``None``: the raw maps.
    seed : int, optional
        Seed of stochastic methods (smoothgrad, lime, ...), the same every epoch so that changes
        between epochs come from the weights; default 0.
    method_params : dict, optional
        ``{method: {parameter: value}}`` passed to ``explain`` (e.g.
        ``{"gradcam": {"layer": "block2_conv"}}``).
    cmap : str, optional
        Overlay colormap (a Matplotlib name); default ``"jet"`` as in paper 002.
    alpha : float, optional
        Heatmap opacity of the overlays, in [0, 1]; default 0.6 as in paper 002.
    batch_size : int, optional
        Model evaluations per compiled call of the explainers (default 64).

    Raises
    ------
    ValueError
        If ``alpha`` is not a number in [0, 1], or the images do not have 1 or 3 channels while
        ``log_dir`` or ``out_dir`` asks for drawings; also (from the shared checks) bad images, an
        unknown method or denoiser, ``every_n_epochs < 1``, a ``log_dir``/``out_dir`` that exists and
        is not a folder, or an unknown colormap; when training starts, probe images that do not fit
        the model or targets out of its classes.
    TypeError
        A value of the wrong type (seed, folder paths, method parameters).
    """

    def __init__(self, images, methods=("gradcam",), targets=None, every_n_epochs: int = 1, log_dir=None,
                 out_dir=None, denoise: str | None = None, seed: int = 0, method_params=None, *,
                 cmap="jet", alpha: float = 0.6, batch_size: int = 64):
        super().__init__(images, methods, targets, every_n_epochs, log_dir, seed, method_params, batch_size)
        self.out_dir = check_log_dir(out_dir, "out_dir")
        if denoise is not None:
            from xai_tf.denoising import methods as denoisers

            check_choice(denoise, "denoise", denoisers())
        self.denoise = denoise
        if (self.log_dir is not None or self.out_dir is not None) and self.images.shape[-1] not in (1, 3):
            raise ValueError(f"images must have 1 or 3 channels to be drawn; got {self.images.shape[-1]}")
        from xai_tf.viz.overlays import check_alpha, get_colormap

        get_colormap(cmap)  # a bad colormap fails now, not after the first epoch
        self.cmap, self.alpha = cmap, check_alpha(alpha)
        self.last_maps: dict[str, np.ndarray] = {}
        self.last_epoch: int | None = None

    def explain_probes(self) -> dict[str, np.ndarray]:
        """Saliency maps of the probe images with the model's current weights (denoised if asked).

        The model runs in inference mode and the global random streams (Python, NumPy, Keras) are
        saved before and restored after, so calling this does not change a seeded fit.

        Returns
        -------
        dict of str to numpy.ndarray
            ``{method: maps}``, each map array of shape (N, H, W), float32, one map per probe image,
            denoised with ``denoise`` when it is set.
        """
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
