"""``FolderSource``: a class-folder tree of image files (``load_image_folder``'s layout), read a chunk at a time.

The files are listed (and stat'ed, for the fingerprint) when the source is opened; pixels are
decoded only for the rows read, with the same reader, resizing and colour conversion as
:func:`~xai_tf.data.load_image_folder`, so the images are identical to that loader's.
"""
from __future__ import annotations

from xai_tf.data.folders import checked_root, class_folders, class_labels, image_files
from xai_tf.data.imagefiles import (
    IMAGE_SUFFIXES,
    BadFileError,
    image_size_arg,
    read_image,
    resize,
    to_color,
)
from xai_tf.data.sources import FileSource


class FolderSource(FileSource):
    """``root/<class>/<image files>`` read lazily: files listed at open, decoded when their rows are read.

    Parameters
    ----------
    root : str or pathlib.Path
        Folder with one sub-folder per class (sorted names -> labels 0, 1, ...), as for
        :func:`~xai_tf.data.load_image_folder` (an ``images/`` sub-folder is used when present;
        ``masks`` folders and hidden files are not images).
    image_size : None, int or tuple of (int, int), optional
        None (default: the first image's size; a row of another size is a bad row), an int (square)
        or ``(height, width)``: every image is resized (bilinear, antialiased).
    color : {"auto", "grayscale", "rgb"}, optional
        ``"auto"`` (default: the first image's channels, 1 for grey files, else 3; grey rows are
        repeated to RGB, colour rows of a grey source converted with ITU-R 601 luma), ``"grayscale"``
        or ``"rgb"``. Unlike ``load_image_folder``, ``"auto"`` does not look at every file.
    normalize : {"dtype", "minmax"}, optional
        As :func:`~xai_tf.data.load_image_folder` (default ``"dtype"``: integer pixels / type maximum).
    classes : sequence of str, optional
        The model's class names by index (required for a folder with one class sub-folder).
    skip_bad : bool, optional
        Pass over unreadable files in ``read_good`` (default False); see :class:`~xai_tf.data.ImageSource`.

    Raises
    ------
    ValueError
        If ``root`` is not a folder, has no class sub-folders or no image files, a class folder
        has no image files (unless ``skip_bad``), or an option is not one of its choices.
    TypeError
        If ``image_size`` is neither an int nor a pair.
    BadFileError
        (A ValueError) if the first file cannot be read (its size and channels are the source's).
    """

    def __init__(self, root, image_size=None, color: str = "auto", normalize: str = "dtype", classes=None, *,
                 skip_bad: bool = False):
        from PIL import Image, UnidentifiedImageError

        root = checked_root(root, color, normalize)
        size = image_size_arg(image_size)
        class_dirs = class_folders(root)
        names, label_of = class_labels(root, class_dirs, classes)
        self.files, self.labels = [], []
        for label, class_dir in zip(label_of, class_dirs):
            found = image_files(class_dir)
            if not found and not skip_bad:  # as load_image_folder: an empty class folder is an error
                raise ValueError(f"{class_dir}: class folder has no image files ({', '.join(IMAGE_SUFFIXES)}); "
                                 "pass skip_bad=True to go on without it")
            self.files.extend(found)
            self.labels.extend([label] * len(found))
        if not self.files:
            raise ValueError(f"root={str(root)!r}: no image files ({', '.join(IMAGE_SUFFIXES)}) in its class folders")
        try:
            with Image.open(self.files[0]) as first:
                width, height = first.size
                grey = first.mode in ("1", "L", "LA", "La", "I", "I;16", "I;16B", "I;16L", "F")
        except (UnidentifiedImageError, OSError) as error:
            raise BadFileError(self.files[0], f"cannot be read as an image ({error})") from error
        self.color = color if color != "auto" else ("grayscale" if grey else "rgb")
        self.root, self.size, self.normalize = root, size, normalize
        self._options = {"image_size": None if size is None else list(size), "color": color, "normalize": normalize,
                         "classes": None if classes is None else list(classes), "skip_bad": bool(skip_bad)}
        shape = (*(size or (height, width)), 1 if self.color == "grayscale" else 3)
        super().__init__(len(self.files), shape, names, skip_bad=skip_bad)

    def _rows(self, indices) -> list:
        rows = []
        for index in indices:
            path = self.files[index]
            try:
                image = read_image(path, normalize=self.normalize)
            except BadFileError as error:
                rows.append(error)
                continue
            if self.size is not None:
                image = resize(image, self.size)
            rows.append((to_color(image, self.color), self.labels[index], None))
        return rows



    def describe(self) -> dict:
        """Describe the source for ``xai_tf.data.open`` (see :meth:`~xai_tf.data.ImageSource.describe`).

        Returns
        -------
        dict
            ``{"kind": "folder", "path": ..., "image_size", "color", "normalize", "classes", "skip_bad"}``.
        """
        return {"kind": "folder", "path": str(self.root), **self._options}
