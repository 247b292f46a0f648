"""Information estimators for Performance Information Curves: the x axis of AIC/SIC.

Both take 8-bit images (``uint8`` values 0..255, ``(N, H, W, C)``), the form PAIR's PIC works on.

- ``webp_sizes``: bytes of the lossless WebP encoding (quality 100), PAIR's
  ``saliency.metrics.pic.estimate_image_entropy`` (Kapishnikov et al. 2021). Pillow's encoder
  releases the GIL, so encodes run in a thread pool; identical images are encoded once.
  Single-channel images are encoded as 2-D grayscale (PAIR's ``Image.fromarray`` rejects
  ``(H, W, 1)``).
- ``shannon_entropy``: Shannon entropy in bits of the 256-bin histogram of all the image's values
  (every channel) over the image's own ``[min, max]`` range: paper 004 (Brima & Atemkeng 2024)
  equation 1, computed as its published code does (``scipy.stats.entropy(np.histogram(image,
  bins=256, range=(image.min(), image.max()), density=True)[0], base=2)``; the density
  normalisation cancels). Batched in TensorFlow (a histogram per image via one ``bincount``);
  ``histogram_entropy`` is the NumPy one-image version used as the reference.
"""
from __future__ import annotations

import hashlib
import io
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import tensorflow as tf
from PIL import Image
from scipy import stats

from xai_tf._checks import worker_count

BINS = 256


def histogram_entropy(image: np.ndarray) -> float:
    """Paper 004's Shannon entropy (bits) of one image, as its published code computes it (NumPy).

    image: any-shaped array of 8-bit values. 256 density bins over ``[image.min(), image.max()]``.
    """
    image = np.asarray(image)
    density = np.histogram(image, bins=BINS, range=(image.min(), image.max()), density=True)[0]
    return float(stats.entropy(density, base=2))


@tf.function(input_signature=[tf.TensorSpec([None, None], tf.int32)])
def _entropy_of_levels(levels: tf.Tensor) -> tf.Tensor:
    """Entropy (bits) per row of ``levels`` ``(B, P)``, integers in 0..255, reproducing np.histogram's binning."""
    batch = tf.shape(levels)[0]
    # One bincount for the whole batch: row b counts into slots [256 b, 256 b + 256).
    slots = levels + tf.range(batch)[:, None] * BINS
    counts = tf.math.bincount(tf.reshape(slots, [-1]), minlength=batch * BINS, maxlength=batch * BINS,
                              dtype=tf.float64)
    counts = tf.reshape(counts, [batch, BINS])                      # occurrences of each level 0..255

    low = tf.cast(tf.reduce_min(levels, axis=1), tf.float64)[:, None]
    high = tf.cast(tf.reduce_max(levels, axis=1), tf.float64)[:, None]
    # np.histogram widens an empty range by 0.5 either side.
    first = tf.where(low == high, low - 0.5, low)
    last = tf.where(low == high, high + 0.5, high)
    level = tf.range(BINS, dtype=tf.float64)[None, :]
    # np.histogram's uniform-bin index: truncate ((x - first) / (last - first)) * bins, put x == last
    # into the last bin, then correct by one against the np.linspace edges (k * step + first).
    index = tf.cast(tf.math.floor(tf.maximum((level - first) / (last - first) * BINS, 0.0)), tf.int32)
    index = tf.minimum(index, BINS - 1)
    step = (last - first) / BINS

    def edge(k):
        return tf.where(k == BINS, last, tf.cast(k, tf.float64) * step + first)

    index = tf.where(level < edge(index), index - 1, index)
    index = tf.where((level >= edge(index + 1)) & (index != BINS - 1), index + 1, index)
    index = tf.clip_by_value(index, 0, BINS - 1)  # levels outside [low, high] have zero count anyway

    histogram = tf.math.unsorted_segment_sum(
        tf.reshape(counts, [-1]), tf.reshape(index + tf.range(batch)[:, None] * BINS, [-1]), batch * BINS)
    probability = tf.reshape(histogram, [batch, BINS]) / tf.cast(tf.shape(levels)[1], tf.float64)
    safe = tf.where(probability > 0, probability, 1.0)
    return -tf.reduce_sum(probability * tf.math.log(safe), axis=1) / tf.math.log(tf.constant(2.0, tf.float64))


def shannon_entropy(images) -> np.ndarray:
    """Paper 004's histogram entropy in bits for a batch of 8-bit images, computed in TensorFlow.

    images: ``(N, H, W, C)`` (or ``(N, H, W)``) uint8, or a float tensor holding integer values
    0..255 (what ``blur_fast`` returns). Returns ``(N,)`` float64, equal to ``histogram_entropy``
    of each image (to floating-point rounding).
    """
    images = tf.convert_to_tensor(images)
    if images.dtype.is_floating:
        images = tf.round(images)
    levels = tf.reshape(tf.cast(images, tf.int32), [tf.shape(images)[0], -1])
    return _entropy_of_levels(levels).numpy()


def webp_size(image: np.ndarray) -> int:
    """Bytes of the lossless WebP encoding (quality 100) of one uint8 image.

    ``image`` is ``(H, W)`` or ``(H, W, C)`` with C in 1, 3, 4.
    """
    image = np.asarray(image)
    if image.dtype != np.uint8:
        raise TypeError(f"image must be uint8 for the WebP estimator; got {image.dtype}")
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="webp", lossless=True, quality=100)
    return buffer.tell()


def webp_sizes(images, workers: int | None = None, cache: dict | None = None) -> np.ndarray:
    """Lossless WebP sizes (bytes) of a batch of 8-bit images, encoded in parallel, each distinct image once.

    images: ``(N, H, W, C)`` uint8 (or integer-valued floats, converted). workers: threads (default:
    CPU count). cache: optional dict ``digest -> size`` shared across calls (images seen before are
    not encoded again). Returns ``(N,)`` float64.
    """
    images = np.asarray(images)
    if images.dtype != np.uint8:
        images = np.round(images).astype(np.uint8)
    if images.ndim == 4 and images.shape[-1] not in (1, 3, 4):
        raise ValueError(f"WebP encodes 1, 3 or 4 channels; got {images.shape[-1]}")
    cache = {} if cache is None else cache
    digests = [hashlib.blake2b(image.tobytes(), digest_size=16).digest() for image in images]
    todo = {}
    for digest, image in zip(digests, images):
        if digest not in cache and digest not in todo:
            todo[digest] = image
    if todo:
        workers = worker_count(workers, len(todo))
        if workers == 1:
            sizes = [webp_size(image) for image in todo.values()]
        else:
            with ThreadPoolExecutor(workers) as pool:
                sizes = list(pool.map(webp_size, todo.values()))
        cache.update(zip(todo, sizes))
    return np.array([cache[digest] for digest in digests], dtype=np.float64)
