"""``TFDatasetSource``: a finite ``tf.data.Dataset`` read through once into an on-disk chunk index.

A ``tf.data.Dataset`` can only be iterated in order, so the source reads it through once when it
is opened, writing the images (and masks) row by row to a temporary file it then memory-maps: rows
are served in any order afterwards with the memory of one chunk, and the temporary folder is
removed when the source is garbage-collected. An infinite dataset (cardinality ``INFINITE``) is
refused at once; one of unknown cardinality is refused once it yields more than ``max_images``.
"""
from __future__ import annotations

import hashlib
import shutil
import tempfile
import weakref
from pathlib import Path

import numpy as np

from xai_tf.data.source_arrays import ArraySource

MAX_IMAGES = 10_000_000


class TFDatasetSource(ArraySource):
    """A finite ``tf.data.Dataset`` of ``(image, label)`` or ``(image, label, mask)``, indexed once.

    Parameters
    ----------
    dataset : tf.data.Dataset
        Finite; elements ``image`` alone, ``(image, label)`` or ``(image, label, mask)``, unbatched
        (image ``(H, W)`` or ``(H, W, C)``) or batched (``(B, H, W[, C])``, detected from the
        element spec). Float pixels in [0, 1], or integers divided by their type's maximum.
    class_names : sequence of str, optional
        One name per class; default ``"0" ... str(max label)`` (``"?"`` without labels).
    max_images : int, optional
        Most images read from a dataset of unknown cardinality before it is taken for infinite
        (default 10,000,000).
    skip_bad : bool, optional
        Pass over bad rows (NaN-only images) in ``read_good`` (default False).

    Raises
    ------
    ValueError
        If the dataset is infinite (named as such, with the ``.take(n)`` fix), yields more than
        ``max_images`` images, is empty, or its images differ in shape or are not rank 2 to 4.
    TypeError
        If ``dataset`` is not a ``tf.data.Dataset`` or an element is not one of the forms above.
    """

    def __init__(self, dataset, class_names=None, *, max_images: int = MAX_IMAGES, skip_bad: bool = False):
        import tensorflow as tf

        if not isinstance(dataset, tf.data.Dataset):
            raise TypeError(f"dataset must be a tf.data.Dataset; got {type(dataset).__name__}")
        cardinality = int(dataset.cardinality())
        if cardinality == int(tf.data.INFINITE_CARDINALITY):
            raise ValueError("dataset is infinite (cardinality INFINITE, e.g. after .repeat()); a source needs a "
                             "finite dataset: pass dataset.take(n)")
        spec = dataset.element_spec
        parts = spec if isinstance(spec, tuple) else (spec,)
        if not 1 <= len(parts) <= 3 or not all(isinstance(part, tf.TensorSpec) for part in parts):
            raise TypeError("dataset elements must be image, (image, label) or (image, label, mask) tensors; got "
                            f"{spec}")
        if parts[0].shape.rank == 4 or (parts[0].shape.rank == 3 and len(parts) > 1 and parts[1].shape.rank == 1):
            dataset = dataset.unbatch()
        self._folder = Path(tempfile.mkdtemp(prefix="xai-tf-tfdata-"))
        self._cleanup = weakref.finalize(self, shutil.rmtree, str(self._folder), True)
        images, labels, masks, digest = self._spill(dataset, len(parts), max_images)
        self._digest = digest
        self.name = "tf.data.Dataset"
        self._setup(images, None if len(parts) < 2 else labels, class_names, masks, skip_bad)

    def _spill(self, dataset, arity: int, max_images: int):
        digest = hashlib.sha256()
        labels, shape, dtype, mask_shape, count = [], None, None, None, 0
        with open(self._folder / "images.bin", "wb") as image_file, open(self._folder / "masks.bin", "wb") as masks:
            for element in dataset.as_numpy_iterator():
                element = element if isinstance(element, tuple) else (element,)
                image = np.asarray(element[0])
                if shape is None:
                    shape, dtype = image.shape, image.dtype
                    if image.ndim not in (2, 3):
                        raise ValueError(f"dataset images must be (H, W) or (H, W, C); got shape {image.shape}")
                elif image.shape != shape:
                    raise ValueError(f"dataset image {count} has shape {image.shape}, the first {shape}")
                data = np.ascontiguousarray(image, dtype=dtype).tobytes()
                image_file.write(data)
                digest.update(data)
                if arity >= 2:
                    labels.append(int(element[1]))
                if arity == 3:
                    mask = np.ascontiguousarray(np.asarray(element[2]) > 0)
                    mask_shape = mask.shape
                    masks.write(mask.tobytes())
                count += 1
                if count > max_images:
                    raise ValueError(f"dataset yielded more than max_images={max_images} images and its cardinality "
                                     "is unknown: it looks infinite; pass dataset.take(n) or a larger max_images")
        if count == 0:
            raise ValueError("dataset is empty; a source needs at least one image")
        digest.update(np.array(labels, np.int64).tobytes())
        images = np.memmap(self._folder / "images.bin", dtype=dtype, mode="r", shape=(count, *shape))
        mask_array = None
        if arity == 3:
            mask_array = np.memmap(self._folder / "masks.bin", dtype=bool, mode="r", shape=(count, *mask_shape))
        return images, np.array(labels, np.int64) if labels else None, mask_array, digest.hexdigest()[:16]

    def _metadata(self):
        return [self._digest]
