"""Class-folder image trees (GAMA, COVID-19 Radiography, OpenSARUrban), with optional masks.

Layout: ``root/<class name>/...image files``; classes are the sub-folders in sorted order (the
Keras ``image_dataset_from_directory`` convention). Inside a class folder, images are read from an
``images/`` sub-folder when there is one (the COVID-19 Radiography Database layout, whose masks sit
next to it in ``masks/``), else from the whole folder tree; a folder named ``masks`` is never read
as images. Pillow does the decoding (see ``imagefiles``).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from xai_tf._checks import check_choice
from xai_tf.data.imagefiles import (
    COLORS,
    IMAGE_SUFFIXES,
    BadFileError,
    image_size_arg,
    natural_key,
    read_each,
    read_image,
    read_mask,
    stack_images,
)
from xai_tf.data.labelled import LabelledImages


def load_image_folder(root, image_size=None, color: str = "auto", masks_dir=None, skip_bad: bool = False,
                      normalize: str = "dtype", verbose: int = 1, classes=None) -> LabelledImages:
    """Load ``root/<class>/<image files>`` as a LabelledImages.

    Classes are the sub-folders in sorted order (the Keras ``image_dataset_from_directory``
    convention). Inside a class folder, images are read from an ``images/`` sub-folder when there is
    one (the COVID-19 Radiography Database layout), else from the whole folder tree; a folder named
    ``masks`` and hidden files are never read as images. Pillow decodes PNG, JPEG, BMP, GIF, WebP
    and TIFF.

    Parameters
    ----------
    root : str or pathlib.Path
        Folder with one sub-folder per class (sorted names -> labels 0, 1, ...).
    image_size : None, int or tuple of (int, int), optional
        None (default: all images must share one size; else an error names the odd file), an int
        (square) or ``(height, width)`` in pixels: every image is resized (bilinear, antialiased).
    color : {"auto", "grayscale", "rgb"}, optional
        ``"auto"`` (default: 1 channel if every file is grey, else 3 with grey files repeated),
        ``"grayscale"`` (ITU-R 601 luma) or ``"rgb"``.
    masks_dir : None, str or pathlib.Path, optional
        None (default: no masks); the name of a per-class sub-folder such as ``"masks"`` (COVID-19
        Radiography: ``root/<class>/masks/<image stem>.*``); or a separate folder tree
        ``masks_dir/<class>/<image stem>.*``. Masks are read as grey > 0.5 and resized to the
        image's final size with nearest neighbour (the COVID masks are 256 px for 299 px images).
    skip_bad : bool, optional
        False (default) stops at the first unreadable file, empty class folder or missing mask with
        an error naming it; True skips them and lists each in ``.skipped`` as ``(path, reason)``.
    normalize : {"dtype", "minmax"}, optional
        ``"dtype"`` (default; integer pixels / type maximum, 255 or 65535; float pixels must already
        lie in [0, 1]) or ``"minmax"`` (per image; for float TIFFs such as SAR intensities).
    verbose : int, optional
        Progress bar: 0 never, 1 (default) when stderr is a terminal, 2 always.
    classes : sequence of str, optional
        The model's class names, by class index; each sub-folder must be one of them and is labelled
        by its index there (``class_names`` is then ``classes``). Default None: the sorted
        sub-folders are the classes. Required for a folder with one sub-folder only, whose label
        would otherwise be 0 whatever class it is in the model.

    Returns
    -------
    LabelledImages
        Images float32 (N, H, W, C) in [0, 1], labels int64, ``class_names`` = the sub-folder names,
        ``masks`` (N, H, W) bool when ``masks_dir`` is given, ``paths`` (one file per image),
        ``info={"loader": "image_folder", "root": ..., "conversions": [...]}`` (one sentence per
        conversion done: resized, grey to RGB, RGB to grey, per-image range scaling).

    Raises
    ------
    ValueError
        If ``root`` is not a folder or has no sub-folders, has one sub-folder and no ``classes``, a
        sub-folder is not one of ``classes``, ``color`` or ``normalize`` is not one of
        the choices, ``masks_dir`` is neither a folder nor a sub-folder name, a class folder has no
        images (unless ``skip_bad``), no image could be read, or images differ in size and
        ``image_size`` is None.
    TypeError
        If ``image_size`` is neither an int nor a pair.
    BadFileError
        (A ValueError) for the first unreadable image or missing mask, unless ``skip_bad=True``.
    """
    root = checked_root(root, color, normalize)
    size = image_size_arg(image_size)
    masks_root, per_class_name = _masks_location(root, masks_dir)
    class_dirs = class_folders(root, exclude=masks_root)

    class_names, label_of = class_labels(root, class_dirs, classes)
    files, labels, skipped = [], [], []
    for label, class_dir in zip(label_of, class_dirs):
        class_files = image_files(class_dir)
        if not class_files:
            reason = f"class folder has no image files ({', '.join(IMAGE_SUFFIXES)})"
            if not skip_bad:
                raise ValueError(f"{class_dir}: {reason}")
            skipped.append((str(class_dir), reason))
        files.extend(class_files)
        labels.extend([label] * len(class_files))

    images, masks, kept_files, kept_labels = [], [], [], []
    def read_with_mask(item):
        path, label = item
        image = read_image(path, normalize=normalize)
        if masks_dir is None:
            return image, None
        mask_path = _mask_file(path, class_dirs[label_of.index(label)], masks_root, per_class_name)
        return image, read_mask(mask_path, size or image.shape[:2])

    pairs = list(zip(files, labels))
    for (path, label), (image, mask) in read_each(pairs, read_with_mask, skipped, skip_bad=skip_bad,
                                                  desc="reading images", verbose=verbose):
        images.append(image)
        masks.append(mask)
        kept_files.append(path)
        kept_labels.append(label)
    if not images:
        raise ValueError(f"root={str(root)!r}: no readable images" + (f" ({len(skipped)} skipped)" if skipped else ""))

    conversions = ["each image's own min..max scaled to [0, 1] (normalize='minmax')"] if normalize == "minmax" else []
    stacked = stack_images(images, kept_files, size, color, conversions)
    return LabelledImages(
        images=stacked,
        labels=np.array(kept_labels, np.int64),
        class_names=class_names,
        masks=None if masks_dir is None else np.stack(masks),
        paths=[str(path) for path in kept_files],
        skipped=skipped,
        info={"loader": "image_folder", "root": str(root), "conversions": conversions},
    )


def checked_root(root, color: str, normalize: str) -> Path:
    """``root`` as a Path once it is a folder and ``color``/``normalize`` are known values (ValueError naming them)."""
    root = Path(root)
    if not root.is_dir():
        raise ValueError(f"root={str(root)!r} is not a folder; expected a folder with one sub-folder per class")
    check_choice(color, "color", COLORS)
    check_choice(normalize, "normalize", ("dtype", "minmax"))
    return root


def class_folders(root: Path, exclude: Path | None = None) -> list[Path]:
    """The class sub-folders of ``root``, sorted by name, at least one (hidden ones and ``exclude`` left out)."""
    class_dirs = sorted((path for path in root.iterdir() if path.is_dir() and not path.name.startswith(".")
                         and (exclude is None or path.resolve() != exclude.resolve())),
                        key=lambda path: path.name)
    if not class_dirs:
        raise ValueError(f"root={str(root)!r} has no sub-folders; expected one sub-folder per class "
                         "(root/<class name>/<images>)")
    return class_dirs


def class_labels(root: Path, class_dirs: list[Path], classes) -> tuple[tuple[str, ...], list[int]]:
    """``(class names, label of each class folder)``: the sorted folders, or their index in ``classes``."""
    if classes is None:
        if len(class_dirs) == 1:
            raise ValueError(f"root={str(root)!r} has one class folder ({class_dirs[0].name!r}): its label would be 0 "
                             "whatever class it is in the model; pass classes=<the model's class names, by index> "
                             "(--classes NAME,NAME on the command line)")
        return tuple(path.name for path in class_dirs), list(range(len(class_dirs)))
    if isinstance(classes, str) or not all(isinstance(name, str) for name in classes) or not classes:
        raise TypeError(f"classes must be a sequence of class names (str); got {classes!r}")
    classes = tuple(classes)
    unknown = [path.name for path in class_dirs if path.name not in classes]
    if unknown:
        raise ValueError(f"classes={list(classes)}: the folder(s) {unknown} of {root} are not among them")
    return classes, [classes.index(path.name) for path in class_dirs]


def is_image_folder(root) -> bool:
    """True when ``root`` has at least one sub-folder holding image files (a class-folder tree)."""
    root = Path(root)
    return root.is_dir() and any(path.is_dir() and image_files(path, limit=1) for path in root.iterdir())


def image_files(class_dir: Path, limit: int | None = None) -> list[Path]:
    base = class_dir / "images" if (class_dir / "images").is_dir() else class_dir
    found = []
    for path in sorted(base.rglob("*"), key=natural_key):
        relative = path.relative_to(base).parts
        if any(part.startswith(".") or part == "masks" for part in relative[:-1]) or relative[-1].startswith("."):
            continue
        if path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES:
            found.append(path)
            if limit is not None and len(found) >= limit:
                break
    return found


def _masks_location(root: Path, masks_dir) -> tuple[Path | None, str | None]:
    """``(folder tree, None)`` for a separate masks tree; ``(None, name)`` for per-class sub-folders."""
    if masks_dir is None:
        return None, None
    as_path = Path(masks_dir)
    if len(as_path.parts) == 1 and not as_path.is_absolute() and any(
            (class_dir / as_path).is_dir() for class_dir in root.iterdir() if class_dir.is_dir()):
        return None, as_path.name
    if not as_path.is_dir():
        raise ValueError(f"masks_dir={str(masks_dir)!r} is neither a folder nor the name of a sub-folder of the "
                         "class folders")
    return as_path, None


def _mask_file(image_path: Path, class_dir: Path, masks_root: Path | None, per_class_name: str | None) -> Path:
    folder = class_dir / per_class_name if per_class_name else masks_root / class_dir.name
    candidates = sorted(folder.glob(image_path.stem + ".*")) if folder.is_dir() else []
    candidates = [path for path in candidates if path.suffix.lower() in IMAGE_SUFFIXES]
    if not candidates:
        raise BadFileError(image_path, f"has no mask {folder / image_path.stem}.*")
    return candidates[0]
