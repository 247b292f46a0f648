"""LabelledImages: the one container every loader returns, plus its tf.data bridge.

A ``LabelledImages`` holds a whole (small or medium) data set in memory as NumPy arrays, in the
project's conventions (NHWC float32 in [0, 1], int64 labels), together with the ground truth some
formats carry: pixel masks (where the evidence is) and boxes. Loaders that read files also record
the file each image came from (``paths``) and, when asked to skip bad files, which files they
skipped and why (``skipped``), so nothing is dropped without a trace.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from xai_tf._checks import check_images, check_positive

Box = tuple[int, int, int, int]


@dataclass
class LabelledImages:
    """A labelled image set with optional ground truth, held in memory as NumPy arrays.

    Every loader in :mod:`xai_tf.data` returns one. The constructor validates and normalises its
    arguments: ``images`` become float32, ``labels`` int64, ``class_names`` a tuple of str, ``masks``
    bool, ``boxes`` lists of int tuples and ``paths`` lists of str.

    Parameters
    ----------
    images : array-like, shape (N, H, W, C)
        float32 in [0, 1] (NHWC), finite, at least one image; grayscale has C = 1.
    labels : array-like of int, shape (N,)
        Integer class indices into ``class_names``, one per image; stored as int64.
    class_names : sequence of str
        One name per class, index = label; at least one.
    masks : numpy.ndarray, shape (N, H, W), bool, optional
        True where the class-defining evidence is; ``None`` (default) when the format has none.
    boxes : list of list of tuple of int, optional
        Per image a list of ``(y0, x0, y1, x1)`` integer pixel boxes in image coordinates, end
        exclusive (the box is ``image[y0:y1, x0:x1]``); an image without objects has ``[]``;
        ``None`` (default) when the format has none.
    paths : list of str, optional
        Per image the file (or ``file#index`` for batch files) it came from; ``None`` (default) for
        generated data.
    skipped : list of tuple of (str, str), optional
        ``(path, reason)`` for every file a loader skipped because ``skip_bad=True`` (default: empty).
    info : dict, optional
        Free-form per-data-set metadata (for the synthetic set: the generating parameters and
        per-image component positions; for files, ``"conversions"``: one sentence per conversion
        the loader did, such as resizing or grey to RGB); default empty.
    values : numpy.ndarray, shape (N,) or (N, K), optional
        Regression targets, float64, one row per image (the synthetic set: each source's extent);
        ``None`` (default) when the format has none. Explain a regressor of them with
        ``targets=xai_tf.Regression()``.

    Raises
    ------
    ValueError
        If ``images`` is not rank 4, is empty, holds NaN/Inf or lies outside [0, 1]; if ``labels``
        does not have shape (N,) or holds a value outside [0, len(class_names) - 1]; if
        ``class_names`` is empty; if ``values`` is not finite with one row per image; if ``masks``
        does not have shape (N, H, W); if ``boxes`` does not
        hold one list per image or a box is not ``(y0, x0, y1, x1)`` with y0 < y1, x0 < x1; if
        ``paths`` does not hold one entry per image.
    TypeError
        If ``images`` is not numeric or ``labels`` are not integers.
    """

    images: np.ndarray
    labels: np.ndarray
    class_names: tuple[str, ...]
    masks: np.ndarray | None = None
    boxes: list[list[Box]] | None = None
    paths: list[str] | None = None
    skipped: list[tuple[str, str]] = field(default_factory=list)
    info: dict = field(default_factory=dict)
    values: np.ndarray | None = None

    def __post_init__(self):
        self.images = check_images(self.images, "images")
        n = self.images.shape[0]
        labels = np.asarray(self.labels)
        if labels.ndim != 1 or labels.shape[0] != n:
            raise ValueError(f"labels must have shape ({n},), one per image; got {labels.shape}")
        if labels.size and not np.issubdtype(labels.dtype, np.integer):
            raise TypeError(f"labels must be integer class indices; got dtype {labels.dtype}")
        self.labels = labels.astype(np.int64)
        self.class_names = tuple(str(name) for name in self.class_names)
        if len(self.class_names) == 0:
            raise ValueError("class_names must name at least one class")
        if self.labels.min() < 0 or self.labels.max() >= len(self.class_names):
            raise ValueError(
                f"labels must lie in [0, {len(self.class_names) - 1}] (one per class name); got values "
                f"{np.unique(self.labels).tolist()}")
        if self.values is not None:
            values = np.asarray(self.values, dtype=np.float64)
            if values.ndim not in (1, 2) or len(values) != len(self.images) or not np.all(np.isfinite(values)):
                raise ValueError(f"values must be finite with shape ({len(self.images)},) or ({len(self.images)}, K), "
                                 f"one row per image; got {values.shape}")
            self.values = values
        if self.masks is not None:
            masks = np.asarray(self.masks)
            if masks.shape != self.images.shape[:3]:
                raise ValueError(f"masks must have shape {self.images.shape[:3]} (N, H, W); got {masks.shape}")
            self.masks = masks.astype(bool, copy=False)
        if self.boxes is not None:
            if len(self.boxes) != n:
                raise ValueError(f"boxes must hold one list per image ({n}); got {len(self.boxes)}")
            self.boxes = [[tuple(int(v) for v in box) for box in image_boxes] for image_boxes in self.boxes]
            for index, image_boxes in enumerate(self.boxes):
                for box in image_boxes:
                    if len(box) != 4 or box[0] >= box[2] or box[1] >= box[3]:
                        raise ValueError(f"boxes[{index}] holds {box}; expected (y0, x0, y1, x1) with y0 < y1, x0 < x1")
        if self.paths is not None:
            self.paths = [str(path) for path in self.paths]
            if len(self.paths) != n:
                raise ValueError(f"paths must hold one entry per image ({n}); got {len(self.paths)}")

    def __len__(self) -> int:
        return int(self.images.shape[0])

    def __repr__(self) -> str:
        counts = ", ".join(f"{name}: {count}" for name, count in self.class_counts().items())
        extras = [name for name in ("masks", "boxes", "paths") if getattr(self, name) is not None]
        return (f"LabelledImages({len(self)} images of {self.images.shape[1:]}, {counts}"
                f"{', with ' + ', '.join(extras) if extras else ''}"
                f"{f', {len(self.skipped)} skipped' if self.skipped else ''})")

    @property
    def num_classes(self) -> int:
        """Number of classes (``len(class_names)``)."""
        return len(self.class_names)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """``(H, W, C)`` of every image (what a model's input layer expects)."""
        return tuple(int(v) for v in self.images.shape[1:])

    def class_counts(self) -> dict[str, int]:
        """Count the images of each class.

        Returns
        -------
        dict of str to int
            Number of images per class name, in class order (classes without images count 0).
        """
        counts = np.bincount(self.labels, minlength=self.num_classes)
        return {name: int(count) for name, count in zip(self.class_names, counts)}

    def subset(self, indices) -> LabelledImages:
        """Select images by index or boolean mask, in the order given.

        ``skipped`` is carried over; in ``info``, per-image entries (arrays or lists of length N) are
        subset along with the images, everything else is kept as it is.

        Parameters
        ----------
        indices : array-like of int, shape (M,), or array-like of bool, shape (N,)
            Integer indices into the N images (negative indices count from the end; repeats allowed)
            or a boolean mask of length N.

        Returns
        -------
        LabelledImages
            A new set holding the selected images, labels, masks, boxes and paths, in that order.

        Raises
        ------
        TypeError
            If ``indices`` is not a 1-D integer array or a boolean mask.
        ValueError
            If a boolean mask does not have shape (N,), if ``indices`` is empty or if an index lies
            outside [-N, N - 1].
        """
        indices = np.asarray(indices)
        if indices.dtype == bool:
            if indices.shape != (len(self),):
                raise ValueError(f"a boolean indices mask must have shape ({len(self)},); got {indices.shape}")
            indices = np.flatnonzero(indices)
        if indices.ndim != 1 or (indices.size and not np.issubdtype(indices.dtype, np.integer)):
            raise TypeError(f"indices must be a 1-D integer array or a boolean mask; got {indices.dtype} "
                            f"with shape {indices.shape}")
        if indices.size == 0:
            raise ValueError("indices is empty; a subset needs at least one image")
        if indices.min() < -len(self) or indices.max() >= len(self):
            raise ValueError(f"indices must lie in [0, {len(self) - 1}]; got [{indices.min()}, {indices.max()}]")
        return LabelledImages(
            images=self.images[indices],
            labels=self.labels[indices],
            class_names=self.class_names,
            masks=None if self.masks is None else self.masks[indices],
            boxes=None if self.boxes is None else [list(self.boxes[i]) for i in indices],
            paths=None if self.paths is None else [self.paths[i] for i in indices],
            skipped=list(self.skipped),
            info={key: self._subset_info(value, indices) for key, value in self.info.items()},
            values=None if self.values is None else self.values[indices],
        )

    def _subset_info(self, value, indices):
        if isinstance(value, np.ndarray) and value.ndim >= 1 and value.shape[0] == len(self):
            return value[indices]
        if isinstance(value, list) and len(value) == len(self):
            return [value[i] for i in indices]
        return value

    def split(self, fraction: float = 0.2, seed: int = 0) -> tuple[LabelledImages, LabelledImages]:
        """Split into ``(train, test)`` at random, stratified: ``fraction`` of each class goes to test.

        The indices of the same split: :meth:`~xai_tf.data.LabelledImages.split_indices`.

        Parameters
        ----------
        fraction : float, optional
            Share held out, in (0, 1) (default 0.2); per class ``round(fraction * count)`` images, at
            least one and at most ``count - 1`` for every class with two or more images (a class with
            a single image stays in train).
        seed : int, optional
            Random seed (default 0); same seed, same split.

        Returns
        -------
        train : LabelledImages
            The images not held out.
        test : LabelledImages
            The held-out images.

        Raises
        ------
        ValueError
            If ``fraction`` is not a number in (0, 1) or no class has two or more images.
        """
        train, test = self.split_indices(fraction, seed)
        return self.subset(train), self.subset(test)

    def split_indices(self, fraction: float = 0.2, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """Return the train and test indices of :meth:`~xai_tf.data.LabelledImages.split`.

        Parameters
        ----------
        fraction : float, optional
            Share held out, in (0, 1) (default 0.2); see :meth:`~xai_tf.data.LabelledImages.split`.
        seed : int, optional
            Random seed (default 0); same seed, same split.

        Returns
        -------
        train : numpy.ndarray, shape (N - M,), int64
            Sorted indices of the images kept for training.
        test : numpy.ndarray, shape (M,), int64
            Sorted indices of the held-out images.

        Raises
        ------
        ValueError
            If ``fraction`` is not a number in (0, 1) or no class has two or more images.
        """
        if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or not 0.0 < fraction < 1.0:
            raise ValueError(f"fraction must be a number in (0, 1), the share held out as test; got {fraction!r}")
        rng = np.random.default_rng(seed)
        test_indices = []
        for label in range(self.num_classes):
            members = np.flatnonzero(self.labels == label)
            if members.size < 2:
                continue
            count = int(np.clip(round(fraction * members.size), 1, members.size - 1))
            test_indices.append(rng.permutation(members)[:count])
        test = np.sort(np.concatenate(test_indices)) if test_indices else np.array([], dtype=np.int64)
        if test.size == 0:
            raise ValueError("cannot split: no class has two or more images")
        train = np.setdiff1d(np.arange(len(self)), test)
        return train.astype(np.int64), test.astype(np.int64)


def as_tf_dataset(data: LabelledImages, batch_size: int = 32, shuffle: bool = True, seed: int = 0,
                  one_hot: bool = False):
    """Make a batched ``tf.data.Dataset`` of ``(images, labels)`` for ``model.fit``.

    Parameters
    ----------
    data : LabelledImages
        The images and labels to feed.
    batch_size : int, optional
        Images per batch (default 32, the papers' choice).
    shuffle : bool, optional
        Reshuffle every epoch with ``seed`` (default True; same seed, same order of epochs).
    seed : int, optional
        Shuffle seed (default 0).
    one_hot : bool, optional
        Labels as float32 one-hot ``(B, num_classes)`` (for categorical crossentropy) instead of
        int64 ``(B,)`` (sparse categorical / binary crossentropy); default False.

    Returns
    -------
    tf.data.Dataset
        Batches of ``(images, labels)``: images float32 ``(B, H, W, C)``, labels int64 ``(B,)`` or
        float32 ``(B, num_classes)``; prefetched.

    Raises
    ------
    TypeError
        If ``data`` is not a LabelledImages or ``batch_size`` is not an integer.
    ValueError
        If ``batch_size`` is not > 0.
    """
    import tensorflow as tf

    if not isinstance(data, LabelledImages):
        raise TypeError(f"data must be a LabelledImages; got {type(data).__name__}")
    check_positive(batch_size, "batch_size", integer=True)
    labels = data.labels
    if one_hot:
        labels = np.eye(data.num_classes, dtype=np.float32)[labels]
    dataset = tf.data.Dataset.from_tensor_slices((data.images, labels))
    if shuffle:
        dataset = dataset.shuffle(len(data), seed=seed, reshuffle_each_iteration=True)
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)
