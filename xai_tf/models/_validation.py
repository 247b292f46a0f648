"""Checks shared by the model builders, and the numpydoc entries of the options they share (``BUILDER_DOCS``)."""
from __future__ import annotations

#: The numpydoc entries of the builders' shared options (``fill_doc(**BUILDER_DOCS)``).
BUILDER_DOCS = {
    "binary_head": """
        binary_head : bool, optional
            Two classes as one sigmoid unit (default False).
        """,
    "seed": """
        seed : int or None, optional
            Seeds the initial weights (default 0: the same model in every run; ``keras.utils.set_random_seed``,
            which also seeds Python's and NumPy's generators); None leaves the generators as they are.
        """,
}


def check_input_shape(input_shape, *, min_size: int = 1, name: str = "input_shape") -> tuple[int, int, int]:
    """``(H, W, C)`` with positive ints, C in {1, 3}, H and W at least ``min_size``."""
    try:
        shape = tuple(int(v) for v in input_shape)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{name} must be a tuple (H, W, C) of ints; got {input_shape!r}") from error
    if len(shape) != 3:
        raise ValueError(f"{name} must have rank 3, (H, W, C); got {input_shape!r} (rank {len(shape)})")
    height, width, channels = shape
    if channels not in (1, 3):
        raise ValueError(f"{name} must have 1 (grayscale) or 3 (RGB) channels; got C={channels}")
    if min(height, width) < min_size:
        raise ValueError(f"{name}={shape}: height and width must be at least {min_size}")
    return shape


def seed_weights(seed) -> None:
    """Seed Keras' generators (and Python's and NumPy's) before a builder creates its layers, so the
    same ``seed`` gives the same initial weights in every run; None leaves them as they are."""
    if seed is None:
        return
    import keras

    from xai_tf._checks import check_seed

    keras.utils.set_random_seed(check_seed(seed))


def check_num_classes(num_classes, binary_head: bool) -> int:
    if isinstance(num_classes, bool) or not isinstance(num_classes, int):
        raise TypeError(f"num_classes must be an int >= 2; got {num_classes!r}")
    if num_classes < 2:
        raise ValueError(f"num_classes must be >= 2; got {num_classes}")
    if binary_head and num_classes != 2:
        raise ValueError(f"binary_head=True needs num_classes=2 (one sigmoid unit); got num_classes={num_classes}")
    return num_classes


def output_layer(num_classes: int, binary_head: bool, layers):
    """The classifier: Dense(1, sigmoid) for the papers' binary head, else Dense(num_classes, softmax)."""
    if binary_head:
        return layers.Dense(1, activation="sigmoid", name="predictions")
    return layers.Dense(num_classes, activation="softmax", name="predictions")
