"""Training loops for the papers' classifiers: augmentation, class weights, step decay, two-phase fine-tuning.

``fit`` wraps ``keras.Model.fit`` with the papers' recipe:
- paper 002: augmentation preset (``augmentation.PAPER_002``) applied to the training stream only,
  ``class_weight="balanced"`` (n_samples / (n_classes * count_c), scikit-learn's rule), Adam;
- paper 003: step decay of the learning rate (divide by 10 every k epochs), keep the best model;
- a two-phase fine-tune (``fine_tune``): train the head on a frozen backbone, then unfreeze the last
  block at a lower learning rate.
Data may be ``(images, labels)`` arrays, a ``LabelledImages`` or a batched ``tf.data.Dataset`` of
``(images, labels)``. Labels are class indices; a single sigmoid unit is trained with binary
cross-entropy, a softmax head with sparse categorical cross-entropy.
"""
from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from xai_tf._checks import check_images, check_positive
from xai_tf.models.augmentation import augmentation_pipeline
from xai_tf.models.head import head_of
from xai_tf.models.transfer import set_trainable


@dataclass
class TrainingResult:
    """What ``fit``/``fine_tune`` return.

    Parameters
    ----------
    model : keras.Model
        The trained model (the one passed in, or its clone when a distribution strategy needed one).
    history : dict of str to list of float, optional
        Metric name -> list of per-epoch values (both phases concatenated for ``fine_tune``, plus
        ``"phase"``); default empty.
    best_checkpoint : str or None, optional
        Path of the best saved model, when ``checkpoint`` was given (default None).
    class_weight : dict of int to float or None, optional
        The class weights used (default None: unweighted).
    """
    model: keras.Model
    history: dict = field(default_factory=dict)
    best_checkpoint: str | None = None
    class_weight: dict | None = None


def balanced_class_weights(labels, num_classes: int) -> dict[int, float]:
    """Compute scikit-learn's "balanced" class weights ``n / (num_classes * count_c)``.

    Paper 002 trains with these weights (``class_weight="balanced"`` in :func:`~xai_tf.models.fit`).

    Parameters
    ----------
    labels : array-like of int, shape (N,)
        Class indices in [0, num_classes); any shape is flattened.
    num_classes : int
        Number of classes.

    Returns
    -------
    dict of int to float
        ``{class: weight}`` for every class in [0, num_classes); classes absent from ``labels``
        get 1.0.
    """
    labels = np.asarray(labels).astype(np.int64).reshape(-1)
    counts = np.bincount(labels, minlength=num_classes)
    return {c: (float(len(labels) / (num_classes * counts[c])) if counts[c] else 1.0)
            for c in range(num_classes)}


def step_decay(initial_learning_rate: float, every: int, factor: float = 0.1) -> Callable[[int], float]:
    """Make a step-decay schedule: learning rate ``initial * factor ** (epoch // every)``.

    Paper 003 divides the rate by 10 every 5 epochs (``every=5, factor=0.1``).

    Parameters
    ----------
    initial_learning_rate : float
        Rate of the first ``every`` epochs.
    every : int
        Epochs between steps (>= 1).
    factor : float, optional
        Multiplier applied at each step (default 0.1: divide by 10).

    Returns
    -------
    callable
        ``schedule(epoch, lr=None) -> float`` (epoch counted from 0), as
        ``keras.callbacks.LearningRateScheduler`` expects; ``lr`` is ignored.

    Raises
    ------
    TypeError
        If ``every`` is not an integer.
    ValueError
        If ``every`` is not >= 1.
    """
    check_positive(every, "every", integer=True)
    return lambda epoch, lr=None: float(initial_learning_rate * factor ** (epoch // every))


def check_labels(labels, num_classes: int, name: str = "labels") -> np.ndarray:
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of class indices; got shape {labels.shape}")
    if labels.size and (not np.all(np.mod(labels, 1) == 0) or labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"{name} must be class indices in [0, {num_classes - 1}]; got values "
                         f"{np.unique(labels)[:10].tolist()}")
    return labels.astype(np.int64)


def as_arrays(data, name: str):
    """``(images, labels)`` from a tuple or a LabelledImages; ``None`` for a tf.data.Dataset."""
    if isinstance(data, tf.data.Dataset):
        return None
    if hasattr(data, "images") and hasattr(data, "labels"):
        return check_images(data.images, f"{name}.images"), np.asarray(data.labels)
    if isinstance(data, (tuple, list)) and len(data) == 2:
        return check_images(data[0], f"{name}[0] (images)"), np.asarray(data[1])
    raise TypeError(f"{name} must be (images, labels), a LabelledImages or a tf.data.Dataset; "
                    f"got {type(data).__name__}")


def _dataset_labels(dataset: tf.data.Dataset) -> np.ndarray:
    return np.concatenate([np.asarray(y).reshape(-1) for _, y in dataset.as_numpy_iterator()])


def _make_dataset(data, name, num_classes, binary, batch_size, shuffle, augmenter, seed):
    arrays = as_arrays(data, name)
    if arrays is None:
        dataset, labels = data, None
    else:
        images, labels = arrays
        labels = check_labels(labels, num_classes, f"{name} labels")
        if len(images) != len(labels):
            raise ValueError(f"{name}: {len(images)} images but {len(labels)} labels")
        dataset = tf.data.Dataset.from_tensor_slices((images, labels))
        if shuffle:
            dataset = dataset.shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
        dataset = dataset.batch(batch_size)

    def prepare(x, y):
        y = tf.cast(tf.reshape(y, (-1, 1)), tf.float32) if binary else tf.cast(y, tf.int64)
        if augmenter is not None:
            x = augmenter(x, training=True)
        return x, y

    # Sequential map: the augmentation layers draw from a stateful seed generator, and a parallel map
    # would consume it in a thread-dependent order (same seed, different weights).
    return dataset.map(prepare).prefetch(tf.data.AUTOTUNE), labels


def fit(model, train, val=None, epochs: int = 10, *, batch_size: int = 32, augment: bool = True,
        class_weight="balanced", optimizer="adam", learning_rate: float = 1e-3,
        lr_step_every: int | None = None, lr_step_factor: float = 0.1,
        early_stopping_patience: int | None = None, checkpoint: str | Path | None = None,
        strategy: tf.distribute.Strategy | None = None, seed: int = 0, verbose: int = 1,
        callbacks=()) -> TrainingResult:
    """Compile and train ``model`` with the papers' recipe.

    The recipe: paper 002's augmentation preset applied to the training stream only,
    ``class_weight="balanced"`` (n_samples / (n_classes * count_c), scikit-learn's rule) and Adam;
    paper 003's step decay of the learning rate and keeping the best model. A single sigmoid unit
    is trained with binary cross-entropy, a softmax head with sparse categorical cross-entropy;
    the metric is accuracy.

    Parameters
    ----------
    model : keras.Model or callable
        The model, or a zero-argument callable building one (built under ``strategy``'s scope,
        after seeding: then its initial weights are reproducible too).
    train : tuple, LabelledImages or tf.data.Dataset
        ``(images, labels)``, a ``LabelledImages`` or a batched dataset of ``(images, labels)``;
        images ``(N, H, W, C)`` in [0, 1], labels class indices in [0, num_classes).
    val : tuple, LabelledImages, tf.data.Dataset or None, optional
        Validation data in the same forms (default None: no validation).
    epochs : int, optional
        >= 1 (default 10).
    batch_size : int, optional
        For array inputs (default 32, paper 002).
    augment : bool, optional
        Apply ``augmentation_pipeline()`` (paper 002's preset) to the training stream only (default True).
    class_weight : "balanced", None or dict, optional
        "balanced" (default, paper 002), None, or ``{class: weight}``.
    optimizer : str or keras.optimizers.Optimizer, optional
        "adam" (default, paper 002), "sgd" (momentum 0.9, paper 003) or an optimizer object.
    learning_rate : float, optional
        Initial rate (default 1e-3). An optimizer object keeps its own rate, unless
        ``lr_step_every`` is set: the schedule then starts from ``learning_rate``.
    lr_step_every : int or None, optional
        Step decay: epochs between steps, e.g. 5 for paper 003 (divide by 10 every 5 epochs);
        None (default) keeps the rate.
    lr_step_factor : float, optional
        Step decay: multiplier at each step (default 0.1).
    early_stopping_patience : int or None, optional
        Epochs without val_loss (loss without ``val``) improvement before stopping (best weights
        restored); None (default) disables.
    checkpoint : str or pathlib.Path, optional
        ``.keras`` file where the best model by validation accuracy (training accuracy without
        ``val``) is saved; its folder is created. Default None: no checkpoint.
    strategy : tf.distribute.Strategy, optional
        E.g. MirroredStrategy; the model is built (or cloned, when an instance built outside the
        scope is given) and compiled under its scope.
    seed : int, optional
        Seeds Python, NumPy, TF and the augmentation (default 0): same seed, same training on CPU.
    verbose : int, optional
        Keras' fit verbosity (default 1).
    callbacks : sequence of keras.callbacks.Callback, optional
        More Keras callbacks (default none).

    Returns
    -------
    TrainingResult
        The trained model, the per-epoch history, the best checkpoint and the class weights used.

    Raises
    ------
    TypeError
        If ``epochs`` or ``batch_size`` is not an integer, ``train``/``val`` is not one of the
        accepted forms, or ``strategy`` is not a ``tf.distribute.Strategy``.
    ValueError
        If ``epochs`` or ``batch_size`` is not >= 1, images are not NHWC in [0, 1], labels are not
        class indices of the model's head or do not match the images in number, or ``optimizer`` /
        ``class_weight`` is not one of the accepted values.
    """
    check_positive(epochs, "epochs", integer=True)
    check_positive(batch_size, "batch_size", integer=True)
    keras.utils.set_random_seed(seed)
    model = _model_under_strategy(model, strategy)
    head = head_of(model)
    num_classes, binary = head.num_classes, head.binary
    augmenter = augmentation_pipeline(seed=seed) if augment else None
    train_ds, train_labels = _make_dataset(train, "train", num_classes, binary, batch_size, True, augmenter, seed)
    val_ds = None if val is None else _make_dataset(val, "val", num_classes, binary, batch_size, False, None,
                                                    seed)[0]
    weights = _class_weights(class_weight, train, train_labels, num_classes)

    scope = strategy.scope() if strategy is not None else contextlib.nullcontext()
    with scope:
        model.compile(optimizer=_optimizer(optimizer, learning_rate),
                      loss="binary_crossentropy" if binary else "sparse_categorical_crossentropy",
                      metrics=["accuracy"])

    all_callbacks = list(callbacks)
    if lr_step_every is not None:
        all_callbacks.append(keras.callbacks.LearningRateScheduler(
            step_decay(learning_rate, lr_step_every, lr_step_factor)))
    if early_stopping_patience is not None:
        all_callbacks.append(keras.callbacks.EarlyStopping(
            monitor="val_loss" if val_ds is not None else "loss", patience=early_stopping_patience,
            restore_best_weights=True))
    if checkpoint is not None:
        checkpoint = str(checkpoint)
        Path(checkpoint).parent.mkdir(parents=True, exist_ok=True)
        all_callbacks.append(keras.callbacks.ModelCheckpoint(
            checkpoint, monitor="val_accuracy" if val_ds is not None else "accuracy", mode="max",
            save_best_only=True))
    # shuffle=False: the dataset is already shuffled above (Keras ignores, and warns about, shuffle for datasets).
    history = model.fit(train_ds, validation_data=val_ds, epochs=epochs, class_weight=weights, shuffle=False,
                        callbacks=all_callbacks, verbose=verbose)
    return TrainingResult(model=model, history={k: [float(v) for v in vals] for k, vals in history.history.items()},
                          best_checkpoint=checkpoint, class_weight=weights)


def fine_tune(model: keras.Model, train, val=None, *, head_epochs: int = 5, fine_tune_epochs: int = 5,
              fine_tune_at=None, learning_rate: float = 1e-3, fine_tune_learning_rate: float = 1e-5,
              **fit_options) -> TrainingResult:
    """Train a ``build_transfer`` model in two phases: the head, then the backbone's last block.

    Two-phase transfer learning as in papers 002 and 004. Phase 1 trains the head on a frozen
    backbone for ``head_epochs`` at ``learning_rate``; phase 2 unfreezes the backbone from
    ``fine_tune_at`` (default: its last block; BatchNormalization stays frozen) and trains
    ``fine_tune_epochs`` more at ``fine_tune_learning_rate`` (default 1e-5, 100x lower, so the
    pretrained features are adjusted, not destroyed). Each phase is one call of :func:`~xai_tf.models.fit`.

    Parameters
    ----------
    model : keras.Model
        A model built by :func:`~xai_tf.models.build_transfer`; its ``trainable`` flags are changed in place.
    train : tuple, LabelledImages or tf.data.Dataset
        Training data, as for :func:`~xai_tf.models.fit`.
    val : tuple, LabelledImages, tf.data.Dataset or None, optional
        Validation data, as for :func:`~xai_tf.models.fit` (default None).
    head_epochs : int, optional
        Epochs of phase 1, the head on the frozen backbone (default 5).
    fine_tune_epochs : int, optional
        Epochs of phase 2, with the last block unfrozen (default 5).
    fine_tune_at : str, int or None, optional
        Where phase 2 unfreezes the backbone: a layer name or an index into the backbone's layers;
        None (default) is the first layer of its last block (see :func:`~xai_tf.models.set_trainable`).
    learning_rate : float, optional
        Learning rate of phase 1 (default 1e-3).
    fine_tune_learning_rate : float, optional
        Learning rate of phase 2 (default 1e-5).
    **fit_options
        Other keyword arguments of :func:`~xai_tf.models.fit` (``batch_size``, ``augment``, ``class_weight``,
        ``optimizer``, ``checkpoint``, ``seed``, ...), used in both phases.

    Returns
    -------
    TrainingResult
        The model after phase 2; ``history`` concatenates both phases and ``history["phase"]``
        says which epoch was which (1 or 2); ``best_checkpoint`` and ``class_weight`` are those of
        phase 2.

    Raises
    ------
    ValueError
        If ``model`` was not built by ``build_transfer``, ``fine_tune_at`` is invalid, or
        :func:`~xai_tf.models.fit` rejects its arguments.
    TypeError
        If :func:`~xai_tf.models.fit` rejects its arguments or ``fine_tune_at`` has the wrong type.
    """
    set_trainable(model, "feature_extraction")
    first = fit(model, train, val, head_epochs, learning_rate=learning_rate, **fit_options)
    set_trainable(first.model, "fine_tune", fine_tune_at)
    second = fit(first.model, train, val, fine_tune_epochs, learning_rate=fine_tune_learning_rate, **fit_options)
    history = {key: first.history.get(key, []) + second.history.get(key, [])
               for key in dict.fromkeys([*first.history, *second.history])}
    history["phase"] = [1] * head_epochs + [2] * len(next(iter(second.history.values()), []))
    return TrainingResult(model=second.model, history=history, best_checkpoint=second.best_checkpoint,
                          class_weight=second.class_weight)


def _model_under_strategy(model, strategy):
    if strategy is None:
        return model() if callable(model) and not isinstance(model, keras.Model) else model
    if not isinstance(strategy, tf.distribute.Strategy):
        raise TypeError(f"strategy must be a tf.distribute.Strategy or None; got {type(strategy).__name__}")
    with strategy.scope():
        if not isinstance(model, keras.Model):
            return model()
        # Variables must be created under the strategy: clone the model there and copy the weights.
        clone = keras.models.clone_model(model)
        clone.set_weights(model.get_weights())
        for original, copied in zip(model.layers, clone.layers):
            copied.trainable = original.trainable
        return clone


def _optimizer(optimizer, learning_rate):
    if optimizer == "adam":
        return keras.optimizers.Adam(learning_rate)
    if optimizer == "sgd":
        return keras.optimizers.SGD(learning_rate, momentum=0.9)
    if isinstance(optimizer, keras.optimizers.Optimizer):
        return optimizer
    raise ValueError(f"optimizer={optimizer!r} is not valid; expected 'adam', 'sgd' or a keras optimizer")


def _class_weights(class_weight, train, train_labels, num_classes):
    if class_weight is None or isinstance(class_weight, dict):
        return class_weight
    if class_weight != "balanced":
        raise ValueError(f"class_weight={class_weight!r} is not valid; expected 'balanced', None or a dict")
    labels = train_labels if train_labels is not None else check_labels(_dataset_labels(train), num_classes,
                                                                          "train labels")
    return balanced_class_weights(labels, num_classes)
