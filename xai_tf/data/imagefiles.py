"""Reading single image files into float32 arrays, resizing and colour conversion (shared by loaders).

Pillow reads PNG, JPEG, BMP, WebP and TIFF (8-bit, 16-bit and 32-bit float greyscale, which covers
the SAR patches of OpenSARUrban). Every failure raises ``BadFileError`` naming the file, so loaders
can either stop with that message or, with ``skip_bad=True``, record it and go on.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")
COLORS = ("auto", "grayscale", "rgb")


class BadFileError(ValueError):
    """A data file that cannot be read or does not hold what its format promises; names the file.

    A subclass of ``ValueError``; its message is ``"<path>: <reason>"``. Loaders raise it, or, with
    ``skip_bad=True``, record ``(path, reason)`` in ``LabelledImages.skipped`` and go on.

    Parameters
    ----------
    path : str or os.PathLike
        The offending file (stored as str in ``.path``).
    reason : str
        What is wrong with it (stored in ``.reason``).
    """

    def __init__(self, path, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{path}: {reason}")


def read_each(items, read, skipped: list, *, skip_bad: bool, desc: str, verbose: int = 1):
    """Yield ``(item, read(item))`` for each item, the loaders' shared read-or-skip loop.

    A ``BadFileError`` from ``read`` is raised, or, with ``skip_bad=True``, recorded in ``skipped`` as
    ``(path, reason)`` and the item passed over. Shows a progress bar (``desc``, ``verbose``).
    """
    from xai_tf._progress import progress

    for item in progress(items, desc=desc, verbose=verbose):
        try:
            value = read(item)
        except BadFileError as error:
            if not skip_bad:
                raise
            skipped.append((error.path, error.reason))
            continue
        yield item, value


def read_image(path, normalize: str = "dtype") -> np.ndarray:
    """Read one image file as float32 ``(H, W, C)`` in [0, 1], C = 1 (grey) or 3 (colour).

    normalize: "dtype" (default) divides integer pixels by their type's maximum (255, 65535); a
        float image must already lie in [0, 1]. "minmax" maps each image's own min..max to 0..1
        (for float SAR/MRI data with no fixed range; a constant image becomes all zeros).
    Alpha channels are dropped; palette images are expanded to their colours.
    """
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            image.load()  # decode now: truncated files fail here, not later
            array = _pil_to_array(image, path)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        if isinstance(error, BadFileError):
            raise
        raise BadFileError(path, f"cannot be read as an image ({error})") from error
    if normalize == "minmax":
        array = array.astype(np.float64)
        low, high = float(array.min()), float(array.max())
        array = (array - low) / (high - low) if high > low else np.zeros_like(array)
    elif np.issubdtype(array.dtype, np.integer):
        if array.dtype == np.int32 and array.max() > 65535:  # Pillow's "I" mode: accept 16-bit data only
            raise BadFileError(path, "holds 32-bit integer pixels; pass normalize='minmax'")
        array = array / (255.0 if array.dtype == np.uint8 else 65535.0)
    else:
        if not np.all(np.isfinite(array)):
            raise BadFileError(path, "holds NaN/Inf pixels")
        if array.min() < 0 or array.max() > 1:
            raise BadFileError(path, f"holds float pixels in [{array.min():.4g}, {array.max():.4g}], not [0, 1]; "
                                     "pass normalize='minmax' to rescale each image")
    array = array.astype(np.float32)
    return array[..., None] if array.ndim == 2 else array


def _pil_to_array(image, path) -> np.ndarray:
    mode = image.mode
    if mode in ("1", "L", "I;16", "I;16B", "I;16L", "I", "F"):
        array = np.asarray(image)
        if mode == "1":
            array = array.astype(np.uint8) * 255
        elif mode.startswith("I;16"):
            array = array.astype(np.uint16)
        return array
    if mode in ("LA", "La"):
        return np.asarray(image.convert("L"))
    if mode in ("RGB", "RGBA", "RGBa", "P", "PA", "CMYK", "YCbCr", "LAB", "HSV"):
        converted = image.convert("RGB")
        return np.asarray(converted)
    raise BadFileError(path, f"has unsupported pixel mode {mode!r}")


def to_color(image: np.ndarray, color: str) -> np.ndarray:
    """Convert ``(H, W, C)`` to 1 channel ("grayscale", ITU-R 601 luma) or 3 ("rgb", grey repeated)."""
    if color == "grayscale" and image.shape[-1] == 3:
        return (image @ np.array([0.299, 0.587, 0.114], np.float32))[..., None].astype(np.float32)
    if color == "rgb" and image.shape[-1] == 1:
        return np.repeat(image, 3, axis=-1)
    return image


def resize(image: np.ndarray, size: tuple[int, int], nearest: bool = False) -> np.ndarray:
    """Resize ``(H, W, C)`` float32 (or ``(H, W)`` bool with ``nearest=True``) to ``size = (H, W)``.

    Bilinear with Pillow's antialiasing when shrinking (what Keras' image loaders do); nearest
    neighbour for masks so they stay binary.
    """
    from PIL import Image

    height, width = size
    if image.shape[:2] == (height, width):
        return image
    if nearest:
        resized = Image.fromarray(image.astype(np.uint8) * 255).resize((width, height), Image.Resampling.NEAREST)
        return np.asarray(resized) > 127
    channels = [np.asarray(Image.fromarray(image[..., c], mode="F").resize((width, height), Image.Resampling.BILINEAR))
                for c in range(image.shape[-1])]
    return np.clip(np.stack(channels, axis=-1), 0.0, 1.0).astype(np.float32)  # clip: interpolation overshoot only


def read_mask(path, size: tuple[int, int] | None = None) -> np.ndarray:
    """Read a mask image as bool ``(H, W)`` (True where the grey value is above half), optionally resized."""
    mask = read_image(path).mean(axis=-1) > 0.5
    return resize(mask, size, nearest=True) if size is not None else mask


def image_size_arg(image_size, name: str = "image_size") -> tuple[int, int] | None:
    """``None`` -> None; an int -> square; a pair of positive ints -> ``(H, W)``."""
    if image_size is None:
        return None
    if isinstance(image_size, (int, np.integer)) and not isinstance(image_size, bool):
        image_size = (int(image_size), int(image_size))
    try:
        height, width = (int(v) for v in image_size)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{name} must be an int or a (height, width) pair; got {image_size!r}") from error
    if height < 1 or width < 1:
        raise ValueError(f"{name} must be positive; got {image_size!r}")
    return height, width


def stack_images(images: list[np.ndarray], paths: list, image_size, color: str,
                 conversions: list | None = None) -> np.ndarray:
    """Stack per-file images into ``(N, H, W, C)`` after resizing and colour conversion.

    Without ``image_size``, all images must share one size; the error names a file that differs.
    color "auto": 3 channels if any image is colour (grey images repeated, lossless), else 1.
    ``conversions``, when given, gets one sentence per conversion done (resized, grey to RGB, RGB
    to grey), for the data set's ``info["conversions"]``.
    """
    if conversions is not None:
        conversions.extend(describe_conversions(images, image_size, color))
    if color == "auto":
        color = "rgb" if any(image.shape[-1] == 3 for image in images) else "grayscale"
    if image_size is None:
        first = images[0].shape[:2]
        for image, path in zip(images, paths):
            if image.shape[:2] != first:
                raise ValueError(f"{path} is {image.shape[0]}x{image.shape[1]} but {paths[0]} is "
                                 f"{first[0]}x{first[1]}; "
                                 "pass image_size=(height, width) to resize all images to one size")
    else:
        images = [resize(image, image_size) for image in images]
    return np.stack([to_color(image, color) for image in images]).astype(np.float32)


def natural_key(path: Path):
    """Sort key that orders ``2.mat`` before ``10.mat``."""
    import re

    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", Path(path).name)]


def describe_conversions(images: list[np.ndarray], image_size, color: str) -> list[str]:
    """One sentence per conversion :func:`stack_images` does to ``images`` (resizing, colour)."""
    out, count = [], len(images)
    if image_size is not None:
        sizes = sorted({image.shape[:2] for image in images if image.shape[:2] != tuple(image_size)})
        if sizes:
            resized = sum(image.shape[:2] != tuple(image_size) for image in images)
            shown = ", ".join(f"{h}x{w}" for h, w in sizes[:3]) + (", ..." if len(sizes) > 3 else "")
            out.append(f"resized {resized} of {count} images ({shown}) to {image_size[0]}x{image_size[1]} "
                       "(bilinear, antialiased)")
    if color == "auto":
        color = "rgb" if any(image.shape[-1] == 3 for image in images) else "grayscale"
    grey = sum(image.shape[-1] == 1 for image in images)
    if color == "rgb" and grey:
        out.append(f"{grey} of {count} grayscale images repeated to 3 RGB channels")
    if color == "grayscale" and count - grey:
        out.append(f"{count - grey} of {count} colour images converted to grayscale (ITU-R 601 luma)")
    return out
