"""The regression target: :class:`~xai_tf.Regression`, the value of one output unit."""
from __future__ import annotations

import numpy as np

from xai_tf.targets.base import Target, check_output_name, spec_options


class Regression(Target):
    """The value of one output unit of a regressor (``sign * y[:, unit]``).

    Parameters
    ----------
    output : str or int, optional
        Which model output, for a model with several (default None: the only one). On a
        single-output model ``Regression(output=0)`` is that output.
    unit : int, optional
        Which unit of that output ``(N, units)`` (default 0).
    sign : {1, -1}, optional
        1 (default): what raises the value; -1: what lowers it.

    Raises
    ------
    ValueError
        ``unit`` is not an int >= 0 or ``sign`` not 1 or -1.
    TypeError
        ``output`` is neither a name nor a position.

    Notes
    -----
    The value is the model's output as it is (after its final activation): the quantity a
    regressor predicts. A one-unit linear model is a two-class classifier unless this target is given.
    """

    kind = "regression"
    logits = False

    def __init__(self, output=None, *, unit: int = 0, sign: int = 1):
        self.output = check_output_name(output, "Regression")
        if isinstance(unit, bool) or not isinstance(unit, (int, np.integer)) or unit < 0:
            raise ValueError(f"Regression: unit must be an int >= 0; got {unit!r}")
        if sign not in (1, -1) or isinstance(sign, bool):
            raise ValueError(f"Regression: sign must be 1 or -1; got {sign!r}")
        self.unit, self.sign = int(unit), int(sign)

    def check_output(self, shape, name="targets"):
        if len(shape) != 2 or shape[-1] is None:
            raise ValueError(f"{name}: Regression needs an output of shape (N, units); the explained output has "
                             f"shape {shape}")
        if self.unit >= shape[-1]:
            raise ValueError(f"{name}: Regression unit={self.unit} does not exist; the output has {shape[-1]} unit(s)")

    def score(self, outputs, params):
        return outputs[:, self.unit] * float(self.sign)

    def spec(self):
        sign = self.sign if self.sign != 1 else None
        return "regression:" + spec_options(unit=self.unit, sign=sign, output=self.output)

