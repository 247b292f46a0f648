"""Input validation shared by every public function (the "sanitise once at the boundary" rule).

Each check raises ``TypeError``/``ValueError`` naming the argument and what was expected; none of
them clips, resizes or reorders silently.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np


def check_choice(value, name: str, choices: Iterable[str]) -> str:
    """Return ``value`` when it is one of ``choices``; else ValueError listing them."""
    choices = tuple(choices)
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name}={value!r} is not valid; expected one of: {', '.join(choices)}")
    return value


def check_finite(array: np.ndarray, name: str) -> np.ndarray:
    if not np.all(np.isfinite(array)):
        bad = int(np.size(array) - np.count_nonzero(np.isfinite(array)))
        raise ValueError(f"{name} contains {bad} NaN/Inf value(s); expected finite values")
    return array


def as_float_array(value, name: str) -> np.ndarray:
    """Convert array-likes (NumPy, tf.Tensor, lists) to float32 NumPy, rejecting non-numeric data."""
    if hasattr(value, "numpy") and not isinstance(value, np.ndarray):
        value = value.numpy()
    try:
        array = np.asarray(value)
    except Exception as error:  # ragged lists and the like
        raise TypeError(f"{name} must be a numeric array; got {type(value).__name__}") from error
    if array.dtype == object or not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise TypeError(f"{name} must be a numeric array; got dtype {array.dtype}")
    return array.astype(np.float32, copy=False)


def check_images(images, name: str = "images", *, value_range: tuple[float, float] | None = (0.0, 1.0),
                 shape: Sequence[int | None] | None = None) -> np.ndarray:
    """Validate an NHWC image batch; returns float32 ``(N, H, W, C)``.

    images: array-like ``(N, H, W, C)``, finite, inside ``value_range`` (default [0, 1]; ``None``
        skips the range check). ``shape``: optional expected ``(H, W, C)``, ``None`` entries free.
    """
    array = as_float_array(images, name)
    if array.ndim != 4:
        raise ValueError(f"{name} must be NHWC with 4 dimensions (N, H, W, C); got shape {array.shape}")
    if array.shape[0] == 0:
        raise ValueError(f"{name} is empty; expected at least one image")
    check_finite(array, name)
    if value_range is not None:
        low, high = value_range
        if array.min() < low or array.max() > high:
            raise ValueError(
                f"{name} must lie in [{low}, {high}] (raw pixels); got range "
                f"[{array.min():.4g}, {array.max():.4g}]")
    if shape is not None:
        for axis, (got, want) in enumerate(zip(array.shape[1:], shape)):
            if want is not None and got != want:
                raise ValueError(
                    f"{name} has shape {array.shape[1:]} per image; the model expects "
                    f"{tuple(shape)} (H, W, C), axis {axis + 1} differs")
    return array


def check_maps(maps, name: str = "maps", *, ndim: Sequence[int] = (3,)) -> np.ndarray:
    """Validate saliency maps; returns float32 with one of the allowed ranks (default ``(N, H, W)``)."""
    array = as_float_array(maps, name)
    if array.ndim not in tuple(ndim):
        raise ValueError(f"{name} must have {' or '.join(map(str, ndim))} dimensions; got shape {array.shape}")
    return check_finite(array, name)


def check_targets(targets, n: int, num_classes: int | None, name: str = "targets") -> np.ndarray | None:
    """``None`` passes through; else an int array ``(n,)`` with values in ``[0, num_classes)``.

    A plain int is broadcast to all ``n`` images.
    """
    if targets is None:
        return None
    if isinstance(targets, (int, np.integer)) and not isinstance(targets, bool):
        targets = np.full((n,), int(targets))
    array = np.asarray(targets)
    if array.dtype == bool or not np.issubdtype(array.dtype, np.integer):
        if np.issubdtype(array.dtype, np.floating) and np.all(np.mod(array, 1) == 0):
            array = array.astype(np.int64)
        else:
            raise TypeError(f"{name} must be integer class indices; got dtype {array.dtype}")
    array = array.reshape(-1) if array.ndim == 0 else array
    if array.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},), one class per image; got {array.shape}")
    if num_classes is not None and (array.min() < 0 or array.max() >= num_classes):
        raise ValueError(f"{name} must lie in [0, {num_classes - 1}]; got values {np.unique(array).tolist()}")
    return array.astype(np.int64)


def check_positive(value, name: str, *, integer: bool = False, allow_zero: bool = False):
    kind = int if integer else (int, float, np.integer, np.floating)
    if isinstance(value, bool) or not isinstance(value, kind if not integer else (int, np.integer)):
        raise TypeError(f"{name} must be {'an integer' if integer else 'a number'}; got {value!r}")
    if value < 0 or (value == 0 and not allow_zero):
        raise ValueError(f"{name} must be {'>= 0' if allow_zero else '> 0'}; got {value!r}")
    return value


def check_seed(seed, name: str = "seed") -> int:
    """An integer seed (bool refused) -> int; TypeError naming ``name`` otherwise."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"{name} must be an integer; got {seed!r}")
    return int(seed)


def check_bool(value, name: str) -> bool:
    """``True``/``False`` (NumPy bools too) -> bool; TypeError naming ``name`` otherwise."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False; got {value!r}")
    return bool(value)


def check_number(value, name: str, low: float | None = None, high: float | None = None) -> float:
    """A real number (bool refused) inside ``[low, high]`` (either bound optional) -> float."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number; got {value!r}")
    value = float(value)
    if not np.isfinite(value) or (low is not None and value < low) or (high is not None and value > high):
        bounds = f"[{'-inf' if low is None else f'{low:g}'}, {'inf' if high is None else f'{high:g}'}]"
        raise ValueError(f"{name} must lie in {bounds}; got {value!r}")
    return value


def check_names(value, name: str, choices: Iterable[str] | None = None, *,
                allow_empty: bool = False) -> tuple[str, ...]:
    """A name list: one name, a comma-separated string ``"a,b"`` or a sequence of names -> tuple.

    Names are stripped; repeats and (when ``choices`` is given) unknown names raise ValueError
    naming ``name`` and listing the valid ones. The same rule everywhere: the CLI, ``evaluate``
    and the callbacks read ``"gradcam,smoothgrad"`` as two methods.
    """
    if isinstance(value, str):
        names = tuple(part.strip() for part in value.split(",") if part.strip())
    else:
        try:
            names = tuple(value)
        except TypeError:
            raise TypeError(f"{name} must be a name, a comma-separated string or a list of names; "
                            f"got {type(value).__name__}") from None
        for item in names:
            if not isinstance(item, str):
                raise TypeError(f"{name} must hold names (str); got {item!r}")
        names = tuple(item.strip() for item in names)
    if not names and not allow_empty:
        listed = f": {', '.join(choices)}" if choices is not None else ""
        raise ValueError(f"{name} is empty; expected at least one name{listed}")
    if choices is not None:
        choices = tuple(choices)
        for item in names:
            check_choice(item, name, choices)
    if len(set(names)) != len(names):
        raise ValueError(f"{name} lists a name more than once: {list(names)}")
    return names


def worker_count(workers, tasks: int | None = None) -> int:
    """Threads/processes to use: ``workers`` (>= 1) or, for ``None``, every CPU; at most ``tasks``."""
    import os

    if workers is None:
        count = os.cpu_count() or 1
    else:
        count = int(check_positive(workers, "workers", integer=True))
    return max(1, min(count, tasks)) if tasks is not None else count
