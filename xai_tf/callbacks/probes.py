"""What the probe callbacks share: checks of their arguments, the schedule, explanation and the writer.

``ProbeCallback`` is the base of ``SaliencyCallback`` and ``MetricCallback`` (``PICCallback``): fixed
probe images, ``every_n_epochs``, a TensorBoard writer opened when training starts and closed when
it ends, and ``explain`` with the callback's seed and method parameters.
"""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from xai_tf._checks import (
    check_images,
    check_names,
    check_positive,
    check_seed,
    check_targets,
)
from xai_tf.models.head import head_of
from xai_tf.targets import Target, as_target

__all__ = ["ProbeCallback", "check_log_dir", "read_probes"]

# Parameters of ``explain`` itself (not of one method) that ``method_params`` may also set per method.
_EXPLAIN_PARAMS = ("layer", "batch_size")


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


def read_probes(images, labels=None, masks=None):
    """The probe arrays: ``images`` as given, or a lazy source (or its path) read whole, once.

    Parameters
    ----------
    images : numpy.ndarray, xai_tf.data.ImageSource, str, pathlib.Path or dict
        ``(N, H, W, C)`` probe images, or a data set ``xai_tf.data.open`` opens (a source, a path
        to an HDF5 file, a ``.npy`` array, a FITS or image folder, or a source's description).
        Probes are few: a source is read in full here, at construction.
    labels : array-like of int, shape (N,), optional
        Labels given by the caller (default None: the source's, for a source).
    masks : numpy.ndarray, shape (N, H, W), bool, optional
        Masks given by the caller (default None: the source's, when it has masks).

    Returns
    -------
    images : numpy.ndarray, shape (N, H, W, C)
        The images (as given, or float32 read from the source).
    labels, masks
        As given, else the source's (None for arrays).
    class_names : tuple of str or None
        The source's class names when its labels are used, else None.

    Raises
    ------
    ValueError, TypeError
        Naming ``images``: a path that holds no data set, a bad row, an option the source refuses.
    """
    from xai_tf.data.sources import ImageSource

    if not isinstance(images, (ImageSource, str, Path, dict)):
        return images, labels, masks, None
    from xai_tf.data.opening import open as open_source

    try:
        source = open_source(images)
        read_images, read_labels, read_masks = source.read(np.arange(len(source)))
    except TypeError as error:
        raise TypeError(f"images: {error}") from error
    except ValueError as error:
        raise ValueError(f"images: {error}") from error
    return (read_images, read_labels if labels is None else labels, read_masks if masks is None else masks,
            source.class_names if labels is None else None)


def check_log_dir(path, name: str) -> Path | None:
    if path is None:
        return None
    if not isinstance(path, (str, Path)):
        raise TypeError(f"{name} must be a folder path (str or pathlib.Path) or None; got {type(path).__name__}")
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ValueError(f"{name}={str(path)!r} exists and is not a folder")
    return path


def _check_probe_targets(targets, n: int):
    """None; class ids ``(n,)``; or a :class:`~xai_tf.Target` (a callable becomes ``Custom``)."""
    if targets is None:
        return None
    target = as_target(targets)
    return target if target is not None else check_targets(targets, n, None)


def _check_against_model(images: np.ndarray, targets, model) -> None:
    """ValueError naming ``images`` and both shapes when the probes do not fit the model's input."""
    if not getattr(model, "inputs", None):
        raise ValueError(f"model {model.name!r} is not built (no inputs); build it or call it once on images "
                         "before fit so the callback can check the probe images against its input shape")
    if isinstance(targets, Target):  # a regression, segmentation, ... target: the binding checks it all
        from xai_tf.models.binding import bind

        bind(model, images, targets)
        return
    head = head_of(model)
    expected, got = head.image_shape, images.shape[1:]
    if any(want is not None and have != want for have, want in zip(got, expected)):
        raise ValueError(f"images have shape {got} per image (H, W, C) but the model {model.name!r} expects "
                         f"{expected}; pass probe images of the model's input shape")
    if targets is not None:
        head.check_targets(targets, len(images))


class ProbeCallback(keras.callbacks.Callback):
    """What the callbacks share: probe images, schedule, explanation and the summary writer."""

    def __init__(self, images, methods, targets, every_n_epochs, log_dir, seed, method_params, batch_size):
        super().__init__()
        self.images = check_images(read_probes(images)[0], "images")  # a source (or its path): read once
        from xai_tf.explainers import list_methods

        self.methods = check_names(methods, "methods", list_methods())
        self.targets = _check_probe_targets(targets, len(self.images))
        check_positive(every_n_epochs, "every_n_epochs", integer=True)
        self.every_n_epochs = int(every_n_epochs)
        self.log_dir = check_log_dir(log_dir, "log_dir")
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


