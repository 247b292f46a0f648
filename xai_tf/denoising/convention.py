"""The value convention every denoiser shares, and the batch runner (a thread pool over the maps).

The filters' strengths are defined on a [0, 1] intensity scale (the 8-bit scale for bilateral), so
every input is brought onto it first:

- Images ``(N, H, W, C)`` must lie in [0, 1] and are denoised as they are, so every image of a data
  set gets the same filter strength (paper 002's data-set experiment).
- Maps ``(H, W)`` or ``(N, H, W)`` are mapped one by one onto [0, 1] by an affine map, denoised
  and mapped back:

  * a non-negative map is divided by its maximum. A map normalised to maximum 1, as paper 002's
    heatmaps are, is therefore passed to the library unchanged (``denoise(m, "tv")`` equals
    ``denoise_tv_chambolle(m, weight=0.1)``);
  * a signed map ``m`` with ``s = max|m|`` becomes ``(m / s + 1) / 2``, so zero sits at 0.5. Every
    built-in filter treats bright and dark alike, hence ``denoise(-m) == -denoise(m)``: positive
    and negative evidence stay on their own side of zero and keep their scale;
  * an all-zero map is returned as it is.

  The result is scale-equivariant, ``denoise(c * m) == c * denoise(m)`` for ``c > 0``, so raw
  gradients (values near 1e-3) and normalised heatmaps are smoothed alike. A linear filter (the
  Gaussian; ``DenoiserRecord.linear``) is applied to the raw values directly.

Output lies in the input's value range for the built-in filters: every one but the wavelet is an
average of input values, and scikit-image clips the wavelet result to [0, 1] on the working scale.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from xai_tf._checks import as_float_array, check_finite, check_images, worker_count
from xai_tf._progress import progress
from xai_tf.denoising.records import DenoiserRecord, positive_int


def denoise_map(item: np.ndarray, denoiser: Callable, linear: bool, params: dict) -> np.ndarray:
    """Denoise one (H, W) map of any sign and scale through the [0, 1] working scale."""
    if linear:
        return denoiser(item, **params)
    low, high = float(item.min()), float(item.max())
    if low >= 0.0:
        if high == 0.0:
            return item.copy()
        if high == 1.0:  # already on the working scale: no arithmetic, so results match the library bit for bit
            return denoiser(item, **params)
        scale = np.float32(high)
        return denoiser(item / scale, **params) * scale
    scale = np.float32(max(-low, high))
    half = np.float32(0.5)
    working = (item / scale + np.float32(1.0)) * half
    return (denoiser(working, **params) - half) * (np.float32(2.0) * scale)


def denoise_image(item: np.ndarray, denoiser: Callable, params: dict) -> np.ndarray:
    """Denoise one (H, W, C) image in [0, 1] as it is."""
    if item.shape[-1] == 1:
        return denoiser(item[..., 0], **params)[..., None]
    return denoiser(item, **params)


def as_maps_or_images(maps) -> np.ndarray:
    """``maps`` as a checked float32 array: one map, maps, or images in [0, 1]."""
    array = as_float_array(maps, "maps")
    if array.ndim == 4:  # an image batch: NHWC in [0, 1]
        check_finite(array, "maps")
        if array.size and (array.min() < 0.0 or array.max() > 1.0):
            raise ValueError("maps with 4 dimensions are images (N, H, W, C) and must lie in [0, 1]; got range "
                             f"[{array.min():.4g}, {array.max():.4g}] (divide 8-bit images by 255)")
        return check_images(array, "maps")
    if array.ndim not in (2, 3):
        raise ValueError("maps must be one map (H, W), a batch of maps (N, H, W) or a batch of images "
                         f"(N, H, W, C); got shape {array.shape}")
    if array.size == 0:
        raise ValueError(f"maps is empty (shape {array.shape}); expected at least one map")
    return check_finite(array, "maps")


def run(record: DenoiserRecord, maps, params: Mapping, workers: int | None, verbose: int) -> np.ndarray:
    """Denoise ``maps`` with ``record``'s filter: parameters checked, value convention, thread pool."""
    params = record.resolve(params)
    if workers is not None:
        workers = positive_int(workers, "workers")
    array = as_maps_or_images(maps)
    record.check_fits(params, array.shape[-3:-1] if array.ndim == 4 else array.shape[-2:])
    denoiser, linear = record.function, record.linear

    batch = array[None] if array.ndim == 2 else array
    if batch.ndim == 4:
        def work(item):
            return denoise_image(item, denoiser, params)
    else:
        def work(item):
            return denoise_map(item, denoiser, linear, params)

    workers = worker_count(workers, len(batch))
    out = np.empty_like(batch)
    desc = f"denoise {record.name}"
    if workers == 1:
        results = map(work, batch)
        for index, result in enumerate(progress(results, total=len(batch), desc=desc, verbose=verbose)):
            out[index] = result
    else:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="xai_tf-denoise") as pool:
            results = pool.map(work, batch)  # ordered; the pool works ahead of the loop
            for index, result in enumerate(progress(results, total=len(batch), desc=desc, verbose=verbose)):
                out[index] = result
    return out[0] if array.ndim == 2 else out
