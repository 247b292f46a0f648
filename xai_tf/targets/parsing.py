"""Reading a target from what the user passes: ``targets=`` (``as_target``) and ``--target`` (``parse_target``)."""
from __future__ import annotations

import numpy as np
import tensorflow as tf

from xai_tf.targets.base import Target
from xai_tf.targets.classes import Classes
from xai_tf.targets.custom import Custom
from xai_tf.targets.regression import Regression
from xai_tf.targets.segmentation import Segmentation


def as_target(targets, name: str = "targets") -> Target | None:
    """A :class:`~xai_tf.Target` from ``targets=``: a target as is, a callable as :class:`~xai_tf.Custom`; ``None``,
    ints and int arrays (class ids) give None (the classifier path, :class:`~xai_tf.Classes`)."""
    if isinstance(targets, Target):
        return targets
    if callable(targets) and not isinstance(targets, (np.ndarray, tf.Tensor)):
        return Custom(targets)
    return None


def parse_target(text: str) -> Target:
    """A target from its command-line form: ``classes``, ``classes:3``, ``regression:0``,
    ``regression:unit=1,sign=-1,output=z``, ``segmentation:class=1``, ``segmentation:1``.

    Raises
    ------
    ValueError
        An unknown kind or option, or a value that is not an integer where one is needed.
    """
    kind, _, rest = str(text).partition(":")
    kind = kind.strip().lower()
    options: dict = {}
    for position, part in enumerate(p for p in rest.split(",") if p.strip()):
        key, equals, value = part.partition("=")
        key, value = (key.strip(), value.strip()) if equals else ("", key.strip())
        options[key or ("unit" if kind == "regression" else "class" if kind == "segmentation" else "id")] = value

    def integer(key):
        try:
            return int(options.pop(key))
        except ValueError:
            raise ValueError(f"--target {text!r}: {key} must be an integer") from None

    output = options.pop("output", None)
    if kind == "classes":
        target = Classes(integer("id") if "id" in options else None, output=output)
    elif kind == "regression":
        target = Regression(output, unit=integer("unit") if "unit" in options else 0,
                            sign=integer("sign") if "sign" in options else 1)
    elif kind == "segmentation":
        if "class" not in options:
            raise ValueError(f"--target {text!r}: segmentation needs class=ID (e.g. segmentation:class=1)")
        target = Segmentation(integer("class"), output=output)
    else:
        raise ValueError(f"--target {text!r}: expected classes[:ID], regression[:UNIT] or segmentation:class=ID "
                         "(detection and callables are given from Python)")
    if options:
        raise ValueError(f"--target {text!r}: unknown option(s) {sorted(options)} for {kind}")
    return target
