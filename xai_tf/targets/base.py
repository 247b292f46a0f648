"""The target protocol: :class:`~xai_tf.Target`, what every kind of target defines, and ``KINDS``.

A target turns the model's outputs into one score per image (``score``), optionally a score in [0, 1]
(``probability``), after resolving per-image parameters on the images as given (``resolve``). The
kinds live one per module beside this one (``classes``, ``regression``, ``segmentation``,
``detection``, ``custom``); the two small helpers every kind shares (checking ``output=`` and writing
``spec()``) live here, so the kinds import only this module.
"""
from __future__ import annotations

import numpy as np

#: The kinds of target, as ``list_methods(target=...)`` and the metrics' ``targets`` name them.
KINDS = ("classes", "regression", "segmentation", "detection", "custom")


class Target:
    """What is explained: the base of :class:`~xai_tf.Classes`, :class:`~xai_tf.Regression`,
    :class:`~xai_tf.Segmentation`, :class:`~xai_tf.Detection` and :class:`~xai_tf.Custom`.

    Attributes
    ----------
    kind : str
        One of ``KINDS``.
    output : str, int or None
        Which of the model's outputs is explained (a name or a position), ``None`` for the only one.
    logits : bool
        The explained output is read before its final softmax/sigmoid (pre-activation).
    bounded : bool
        The target has a score in [0, 1] (:meth:`~xai_tf.Target.probability`).
    """

    kind = ""
    logits = True
    bounded = False
    output = None

    def check_output(self, shape, name: str = "targets") -> None:
        """Check that the explained output fits the target.

        Parameters
        ----------
        shape : tuple or list of tuple
            The explained output's shape ``(None, ...)`` (a list of shapes when the target reads
            every output of a model with several).
        name : str, optional
            The argument's name in error messages (default "targets").

        Raises
        ------
        ValueError
            The output does not fit (wrong rank, a unit or class that does not exist).
        """

    def resolve(self, outputs, n: int, image_shape: tuple, name: str = "targets") -> dict:
        """Resolve the per-image parameters on the images as given.

        Parameters
        ----------
        outputs : numpy.ndarray, shape (n, ...), or None
            The explained output of the ``n`` images as given (pre-activation where ``logits``),
            or None when :meth:`~xai_tf.Target.needs_outputs` is False.
        n : int
            Number of images.
        image_shape : tuple
            ``(H, W, C)`` of the explained input.
        name : str, optional
            The argument's name in error messages (default "targets").

        Returns
        -------
        dict
            ``{name: (n, ...) array}``, gathered per image (and per perturbed copy) in :meth:`~xai_tf.Target.score`;
            empty by default.
        """
        return {}

    def needs_outputs(self) -> bool:
        """Tell whether :meth:`~xai_tf.Target.resolve` reads the model's outputs on the images as given.

        Returns
        -------
        bool
            True for the predicted class or region; default False.
        """
        return False

    def score(self, outputs, params: dict):
        """Compute the target score, inside the compiled functions.

        Parameters
        ----------
        outputs : tf.Tensor, shape (B, ...), or list of tf.Tensor
            The explained output (or every output), on real tensors.
        params : dict
            The parameters of :meth:`~xai_tf.Target.resolve`, gathered for the ``B`` rows.

        Returns
        -------
        tf.Tensor
            ``(B,)`` one score per row: what every method explains and every fidelity metric reads.

        Raises
        ------
        NotImplementedError
            On the base class: every target defines its score.
        """
        raise NotImplementedError

    def probability(self, outputs, params: dict):
        """Compute the target's score in [0, 1] (the score itself for a target without one).

        Parameters
        ----------
        outputs : tf.Tensor, shape (B, ...), or list of tf.Tensor
            As :meth:`~xai_tf.Target.score`.
        params : dict
            As :meth:`~xai_tf.Target.score`.

        Returns
        -------
        tf.Tensor
            ``(B,)`` probabilities (bounded targets) or scores.
        """
        return self.score(outputs, params)

    def spec(self) -> str:
        """Write the target as the command line and ``config.json`` do.

        Returns
        -------
        str
            E.g. ``"regression:unit=0"``, ``"segmentation:class=1"``.
        """
        return self.kind

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.spec()!r})"


def check_output_name(output, name: str):
    """``output=`` of a target: None, a name (str) or a position (int); TypeError naming ``name`` otherwise."""
    if output is not None and (isinstance(output, bool) or not isinstance(output, (str, int, np.integer))):
        raise TypeError(f"{name}: output must be a model output's name or position (str or int); got {output!r}")
    return output if output is None or isinstance(output, str) else int(output)



def spec_options(**values) -> str:
    """``key=value`` pairs of ``spec()``, comma-separated, the ``None`` values left out."""
    return ",".join(f"{key}={value}" for key, value in values.items() if value is not None)
