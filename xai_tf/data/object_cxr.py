"""Object-CXR (JF Healthcare, MIDL 2020): chest X-rays with foreign-object annotations in a CSV.

The challenge ships ``train.csv`` / ``dev.csv`` next to folders of JPEGs. Each CSV row is
``image_name,annotation``; an empty annotation means no foreign object, otherwise objects are
separated by ``;`` and each is ``TYPE x1 y1 x2 y2 ...`` with TYPE 0 = rectangle and 1 = ellipse
(given by their box corners ``x1 y1 x2 y2``), 2 = polygon (``x1 y1 ... xn yn``), in pixels of the
original image (origin top-left, x to the right, y down). Paper 003 classifies "any foreign object"
vs none, and scores saliency with the Pointing Game against these boxes.
"""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from xai_tf._checks import check_choice
from xai_tf.data.imagefiles import (
    COLORS,
    BadFileError,
    image_size_arg,
    read_each,
    read_image,
    stack_images,
)
from xai_tf.data.labelled import LabelledImages

CLASS_NAMES = ("no_foreign_object", "foreign_object")
SHAPES = {0: "rectangle", 1: "ellipse", 2: "polygon"}


def load_object_cxr(images_dir, csv_path, image_size=None, color: str = "grayscale", skip_bad: bool = False,
                    verbose: int = 1) -> LabelledImages:
    """Load Object-CXR images with labels (any object = 1), boxes and masks rasterised from the CSV shapes.

    Object-CXR (JF Healthcare, MIDL 2020) annotates chest X-rays with foreign objects: each CSV
    row is ``image_name,annotation``; an empty annotation means no foreign object, otherwise
    objects are separated by ``;`` and each is ``TYPE x1 y1 x2 y2 ...`` with TYPE 0 = rectangle and
    1 = ellipse (given by their box corners), 2 = polygon (``x1 y1 ... xn yn``), in pixels of the
    original image. Paper 003 classifies "any foreign object" vs none and scores saliency with the
    Pointing Game against these boxes. Boxes are ``(y0, x0, y1, x1)`` end-exclusive, one per
    annotated object (clipped to the image); masks are the union of the filled shapes.

    Parameters
    ----------
    images_dir : str or pathlib.Path
        Folder of the images named in the CSV (a CSV name may carry a folder prefix such as
        ``train/00001.jpg``; it is resolved inside ``images_dir``, then by file name alone).
    csv_path : str or pathlib.Path
        The annotation CSV (header ``image_name,annotation`` or ``image_path,annotation``).
    image_size : None, int or tuple of (int, int), optional
        None (default: all images one size), an int (square) or ``(height, width)`` in pixels
        (paper 003 uses 600 x 600); boxes and shapes are scaled with the image.
    color : {"grayscale", "rgb", "auto"}, optional
        ``"grayscale"`` (default), ``"rgb"`` or ``"auto"`` (3 channels if any image is colour).
    skip_bad : bool, optional
        Skip unreadable or missing images and malformed annotations (listed in ``.skipped``)
        instead of stopping at the first with an error naming the file / CSV line (default False).
    verbose : int, optional
        Progress bar: 0 never, 1 (default) when stderr is a terminal, 2 always.

    Returns
    -------
    LabelledImages
        Images float32 (N, H, W, C) in [0, 1], labels int64 (``("no_foreign_object",
        "foreign_object")``), ``masks`` (N, H, W) bool, ``boxes``, ``paths``, and
        ``info={"loader": "object_cxr", "csv": ..., "conversions": [...]}`` (one sentence per conversion
        done: resized, grey to RGB, RGB to grey).

    Raises
    ------
    ValueError
        If ``color`` is not one of the choices, ``image_size`` is not positive, ``images_dir`` is
        not a folder, no image could be read, or images differ in size and ``image_size`` is None.
    TypeError
        If ``image_size`` is neither an int nor a pair.
    BadFileError
        (A ValueError) if the CSV cannot be read, lacks the header or has a row with more than two
        columns (always); for the first missing or unreadable image or malformed annotation, unless
        ``skip_bad=True``.
    """
    check_choice(color, "color", COLORS)
    size = image_size_arg(image_size)
    images_dir, csv_path = Path(images_dir), Path(csv_path)
    if not images_dir.is_dir():
        raise ValueError(f"images_dir={str(images_dir)!r} is not a folder")
    rows = read_annotations(csv_path)

    images, shapes_per_image, paths, skipped = [], [], [], []
    def read_row(row):
        line, name, annotation = row
        shapes = parse_annotation(annotation, f"{csv_path}:{line}")
        path = _resolve(images_dir, name)
        return shapes, path, read_image(path)

    for _, (shapes, path, image) in read_each(rows, read_row, skipped, skip_bad=skip_bad,
                                              desc="reading Object-CXR", verbose=verbose):
        images.append(image)
        shapes_per_image.append(shapes)
        paths.append(path)
    if not images:
        raise ValueError(f"{csv_path}: no readable images ({len(skipped)} skipped)")

    originals = [image.shape[:2] for image in images]
    conversions = []
    stacked = stack_images(images, paths, size, color, conversions)
    height, width = stacked.shape[1:3]
    masks, boxes = [], []
    for (orig_h, orig_w), shapes in zip(originals, shapes_per_image):
        scale = np.array([width / orig_w, height / orig_h])  # (x, y) scale factors
        scaled = [(kind, points * scale) for kind, points in shapes]
        masks.append(_rasterise(scaled, height, width))
        boxes.append([box for box in (_shape_box(points, height, width) for _, points in scaled) if box])
    labels = np.array([1 if shapes else 0 for shapes in shapes_per_image], np.int64)
    return LabelledImages(images=stacked, labels=labels, class_names=CLASS_NAMES, masks=np.stack(masks),
                          boxes=boxes, paths=[str(path) for path in paths], skipped=skipped,
                          info={"loader": "object_cxr", "csv": str(csv_path), "conversions": conversions})


def read_annotations(csv_path) -> list[tuple[int, str, str]]:
    """``(line number, image name, annotation string)`` per CSV row; the header is checked."""
    csv_path = Path(csv_path)
    try:
        with open(csv_path, newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise BadFileError(csv_path, f"cannot be read as CSV ({error})") from error
    if not rows or len(rows[0]) < 2 or rows[0][1].strip().lower() != "annotation":
        raise BadFileError(csv_path, "must start with the header 'image_name,annotation'")
    result = []
    for line, row in enumerate(rows[1:], start=2):
        if not row or not "".join(row).strip():
            continue
        if len(row) > 2:
            raise BadFileError(f"{csv_path}:{line}", f"has {len(row)} columns; expected image_name,annotation")
        result.append((line, row[0].strip(), row[1].strip() if len(row) > 1 else ""))
    return result


def parse_annotation(annotation: str, where: str = "annotation") -> list[tuple[str, np.ndarray]]:
    """Parse ``"0 x1 y1 x2 y2;2 x1 y1 ... xn yn"`` into ``[(shape, points (K, 2) as (x, y))]``."""
    shapes = []
    for part in filter(None, (piece.strip() for piece in annotation.split(";"))):
        tokens = part.split()
        try:
            kind = SHAPES[int(tokens[0])]
            values = np.array([float(token) for token in tokens[1:]])
        except (KeyError, ValueError) as error:
            raise BadFileError(where, f"object {part!r}: expected 'TYPE x1 y1 x2 y2 ...' with TYPE 0, 1 or 2") \
                from error
        if values.size % 2 or values.size < (4 if kind != "polygon" else 6) or (kind != "polygon" and values.size != 4):
            raise BadFileError(where, f"object {part!r}: a {kind} needs "
                                      f"{'x1 y1 x2 y2' if kind != 'polygon' else 'at least three x y points'}")
        points = values.reshape(-1, 2)
        if not np.all(np.isfinite(points)):
            raise BadFileError(where, f"object {part!r} has non-finite coordinates")
        shapes.append((kind, points))
    return shapes


def _resolve(images_dir: Path, name: str) -> Path:
    relative = Path(name.lstrip("/"))
    for candidate in (images_dir / relative, images_dir / relative.name):
        if candidate.is_file():
            return candidate
    raise BadFileError(images_dir / relative.name, "is named in the CSV but does not exist")


def _rasterise(shapes, height: int, width: int) -> np.ndarray:
    from PIL import Image, ImageDraw

    canvas = Image.new("1", (width, height), 0)
    draw = ImageDraw.Draw(canvas)
    for kind, points in shapes:
        # Pillow's shapes include their far corner; subtract 1 so a box covers [x1, x2) like a slice
        if kind == "rectangle":
            (x0, y0), (x1, y1) = points
            draw.rectangle([x0, y0, x1 - 1, y1 - 1], fill=1)
        elif kind == "ellipse":
            (x0, y0), (x1, y1) = points
            draw.ellipse([x0, y0, x1 - 1, y1 - 1], fill=1)
        else:
            draw.polygon([tuple(point) for point in points], fill=1)
    return np.asarray(canvas, dtype=bool)


def _shape_box(points: np.ndarray, height: int, width: int):
    """End-exclusive integer box around ``points`` (x, y), clipped to the image; None if outside."""
    x0, y0 = np.floor(points.min(axis=0)).astype(int)
    x1, y1 = np.ceil(points.max(axis=0)).astype(int)
    y0, x0 = max(y0, 0), max(x0, 0)
    y1, x1 = min(y1, height), min(x1, width)
    return (int(y0), int(x0), int(y1), int(x1)) if y1 > y0 and x1 > x0 else None


def is_object_cxr(path) -> bool:
    """True for an Object-CXR CSV (header ``image_name,annotation``) or a folder holding at least one."""
    path = Path(path)
    if path.is_file():
        return path.suffix.lower() == ".csv" and _is_annotation_csv(path)
    return path.is_dir() and any(_is_annotation_csv(csv_path) for csv_path in path.glob("*.csv"))


def object_cxr_arguments(path, options: dict) -> dict:
    """``load_object_cxr``'s ``images_dir``, ``csv_path`` for ``path`` (takes ``split``, ``images_dir`` from options).

    Parameters
    ----------
    path : pathlib.Path
        An Object-CXR CSV, or a folder holding one (or several: ``options["split"]`` names which).
    options : dict
        The caller's options; ``split`` and ``images_dir`` are removed from it (``images_dir``
        default: the folder named like the CSV beside it, such as ``train/`` beside ``train.csv``,
        else the CSV's own folder).

    Returns
    -------
    dict
        ``{"images_dir": ..., "csv_path": ...}``.

    Raises
    ------
    ValueError
        If a folder holds several Object-CXR CSVs and no ``split``, or no ``<split>.csv``.
    """
    csv_path = _annotation_csv(Path(path), options.pop("split", None))
    return {"images_dir": options.pop("images_dir", None) or _images_beside(csv_path), "csv_path": csv_path}


def _is_annotation_csv(path: Path) -> bool:
    try:
        with open(path, encoding="utf-8") as handle:
            header = handle.readline().strip().lower().replace(" ", "")
    except (OSError, UnicodeDecodeError):
        return False
    return header in ("image_name,annotation", "image_path,annotation")


def _annotation_csv(path: Path, split) -> Path:
    if path.is_file():
        return path
    candidates = sorted(csv_path for csv_path in path.glob("*.csv") if _is_annotation_csv(csv_path))
    if split is not None:
        chosen = [csv_path for csv_path in candidates if csv_path.stem == split]
        if not chosen:
            raise ValueError(f"split={split!r}: no {split}.csv with Object-CXR annotations in {path}")
        return chosen[0]
    if len(candidates) > 1:
        raise ValueError(f"{path} holds several Object-CXR CSVs ({', '.join(found.name for found in candidates)}); "
                         f"pass split= one of {', '.join(found.stem for found in candidates)}")
    return candidates[0]


def _images_beside(csv_path: Path) -> Path:
    """The challenge layout keeps ``train.csv`` beside ``train/``; else the CSV's own folder."""
    sibling = csv_path.with_suffix("")
    return sibling if sibling.is_dir() else csv_path.parent
