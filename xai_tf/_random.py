"""Every seeded draw of xai-tf comes from here: ``rng_for(seed, *keys)`` and ``seed_for(seed, *keys)``.

A result must not depend on how work was cut into batches, chunks, shards or processes, so each
draw is keyed by what it is for (an image index, a chunk number, a layer and weight number) rather
than taken from a shared stream: ``rng_for(seed, image_index)`` gives image ``image_index`` the
same noise whichever batch it is in. ``seed_for`` turns such a key into one integer seed for code
that takes an int (the runner's per-chunk seed of the stochastic methods).

Recipes (unchanged from the earlier per-module code, so existing seeds give the same results):
``rng_for(seed, *keys) = numpy.random.default_rng([seed mod 2**32, *keys])`` and
``seed_for(seed, *keys) = SeedSequence([seed mod 2**32, *keys]).generate_state(1)[0] >> 1``.
Exception, documented: the synthetic data set (``xai_tf.data.synthetic``) spawns one stream per
image from ``SeedSequence(seed)`` (``rng_for`` would change every generated image).

``kept_global_random_state()`` restores Python's, NumPy's and Keras' global streams after a block
(the callbacks explain inside ``model.fit`` without changing what training draws).
"""
from __future__ import annotations

import contextlib
import random

import numpy as np


def _entropy(seed, keys) -> list[int]:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an integer; got {seed!r}")
    return [int(seed) & 0xFFFFFFFF, *(int(key) for key in keys)]


def rng_for(seed: int, *keys: int) -> np.random.Generator:
    """NumPy generator for the draw identified by ``keys`` (e.g. an image index) under ``seed``.

    Parameters
    ----------
    seed : int
        The user's seed (any integer; taken modulo 2**32).
    *keys : int
        Non-negative integers naming the draw (image index, chunk, layer, ...).
    """
    return np.random.default_rng(_entropy(seed, keys))


def seed_for(seed: int, *keys: int) -> int:
    """One non-negative 63-bit integer seed derived from ``seed`` and ``keys`` (e.g. a chunk number)."""
    return int(np.random.SeedSequence(_entropy(seed, keys)).generate_state(1)[0] >> 1)


def _keras_global_state():
    """Keras' global-state module and the attribute name of its global SeedGenerator, or None.

    The generator is created by the first unseeded ``keras.random`` call and reset by
    ``keras.utils.set_random_seed``; Keras has no public accessor, so a Keras without these names
    only loses this part of the guard.
    """
    try:
        from keras.src.backend.common import global_state
        from keras.src.random.seed_generator import GLOBAL_SEED_GENERATOR
    except ImportError:
        return None
    return global_state, GLOBAL_SEED_GENERATOR


def _get_keras_seed_generator():
    found = _keras_global_state()
    return None if found is None else found[0].get_global_attribute(found[1])


def _set_keras_seed_generator(generator) -> None:
    found = _keras_global_state()
    if found is not None:
        found[0].set_global_attribute(found[1], generator)


@contextlib.contextmanager
def kept_global_random_state():
    """Restore Python's, NumPy's and Keras' global random streams after the block.

    The toolkit's own methods use explicit seeds only; this guards against third-party code inside
    a method (or a future method) drawing from the streams that training reads. TensorFlow's
    op-seed counter (unseeded ``tf.random`` ops) has no public save/restore; the toolkit's methods
    create no unseeded TF random ops, which ``tests/test_callbacks.py`` checks.
    """
    python_state = random.getstate()
    numpy_state = np.random.get_state()
    generator = _get_keras_seed_generator()
    keras_state = None if generator is None else generator.state.numpy()
    try:
        yield
    finally:
        random.setstate(python_state)
        np.random.set_state(numpy_state)
        if generator is not None:
            generator.state.assign(keras_state)
        _set_keras_seed_generator(generator)  # None again if the block created one
