"""A target with its per-image parameters fixed: :class:`Resolved` (built by ``ModelBinding.freeze``)."""
from __future__ import annotations

from xai_tf.targets.base import Target


class Resolved(Target):
    """A target with its per-image parameters fixed: image ``i``'s resolved target, repeated for the
    copies of image ``i`` that a metric re-explains (Max-Sensitivity's noisy copies are explained for the
    class, region or box of the image as given, as class ids are). Built by ``ModelBinding.freeze``.

    Parameters
    ----------
    base : Target
        The target that was resolved.
    params : dict
        ``{name: (M, ...) array}``: the parameters of each of the ``M`` images to explain.
    """

    def __init__(self, base: Target, params: dict):
        self.base, self.params = base, dict(params)
        self.kind, self.logits, self.bounded, self.output = base.kind, base.logits, base.bounded, base.output

    def check_output(self, shape, name="targets"):
        self.base.check_output(shape, name)

    def resolve(self, outputs, n, image_shape, name="targets"):
        rows = {len(value) for value in self.params.values()}
        if rows and rows != {n}:
            raise ValueError(f"{name}: the resolved target holds {rows.pop()} rows; expected one per image ({n})")
        return self.params

    def score(self, outputs, params):
        return self.base.score(outputs, params)

    def probability(self, outputs, params):
        return self.base.probability(outputs, params)

    def spec(self):
        return self.base.spec()

