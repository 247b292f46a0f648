"""The callable target: :class:`~xai_tf.Custom`, any TensorFlow function of the model's outputs."""
from __future__ import annotations

from collections.abc import Callable

from xai_tf.targets.base import Target, check_output_name


class Custom(Target):
    """Any TensorFlow function of the model's outputs: ``fn(outputs) -> (N,)``.

    Parameters
    ----------
    fn : callable
        ``outputs -> (N,)`` tensor, written with TensorFlow operations. ``outputs`` is the explained
        output (after its final activation), or the list of every output for a model with several
        outputs when ``output`` is None.
    output : str or int, optional
        Which model output ``fn`` receives.
    bounded : bool, optional
        ``fn`` returns values in [0, 1] (a probability); default False.

    Raises
    ------
    TypeError
        ``fn`` is not callable, or ``output`` is neither a name nor a position.
    """

    kind = "custom"
    logits = False

    def __init__(self, fn: Callable, *, output=None, bounded: bool = False):
        if not callable(fn):
            raise TypeError(f"Custom: fn must be callable outputs -> (N,); got {type(fn).__name__}")
        self.fn, self.bounded = fn, bool(bounded)
        self.output = check_output_name(output, "Custom")

    def score(self, outputs, params):
        return self.fn(outputs)

    def spec(self):
        return "custom:" + getattr(self.fn, "__name__", "callable")

