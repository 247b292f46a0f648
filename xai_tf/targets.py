"""What is explained: one score per image, computed from the model's outputs.

Every saliency method explains, and every fidelity metric perturbs the input and reads, ONE number
per image: the *target score*. For a classifier it is the logit of the explained class (today's
rule, :class:`~xai_tf.Classes`, the default); for the models scientists also have it is:

- :class:`~xai_tf.Regression`: the value of one output unit (a photometric redshift, a flux). A model with
  one *linear* output unit is read as a two-class classifier by default (its logit); pass
  ``targets=Regression()`` to explain it as a regressor. ``sign=-1`` explains what lowers the value.
- :class:`~xai_tf.Segmentation`: a segmentation output ``(N, H', W', K)``: the sum of class ``class_id``'s
  logit over a region, by default the pixels the model assigns to that class on the image as given
  (Seg-Grad-CAM, Vinogradova et al. 2020), or a mask per image (``region=``).
- :class:`~xai_tf.Detection`: a detector's boxes and class probabilities: the D-RISE similarity (Petsiuk et
  al. 2021) of the best-matching predicted box to a given box: ``max_j IoU(b, b_j) * cos(e_c, p_j)
  * o_j`` (``e_c`` the one-hot class vector, ``p_j`` the box's class probabilities, ``o_j`` its
  objectness, 1 without one). Layouts read: one output ``(N, D, 4 + K)`` (box ``y0, x0, y1, x1``
  then K class probabilities), ``(N, D, 5 + K)`` with ``objectness=True`` (box, objectness, K
  probabilities), or a model with two outputs ``(N, D, 4)`` boxes and ``(N, D, K)`` probabilities.
  Another layout: wrap the detector in a ``keras.Model`` whose output is one of these.
- :class:`~xai_tf.Custom` (or any callable ``f(outputs) -> (N,)`` passed as ``targets=``): ``outputs`` is
  the model's output tensor (a list of them, in ``model.outputs`` order, for several outputs when
  no ``output=`` is named). It must be written with TensorFlow operations (it runs inside the
  compiled gradient functions).

Every target takes ``output=`` (a name or position among ``model.outputs``) for models with several
outputs. A target turns into *per-image parameters* once per call (the predicted class, the region
the model assigns, the boxes), resolved on the images as given, never on a perturbed copy; the
model binding (``xai_tf.models.binding``) gathers them per perturbed copy inside the compiled
functions. ``bounded`` targets also have a score in [0, 1] (the class probability, the region's mean
probability, the D-RISE similarity) that methods such as Score-CAM, RISE and LIME read; a target
without one (regression, a callable) gives its value where a probability is asked.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
import tensorflow as tf

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


# -- the class rules, shared by the classifier path (``xai_tf.models.head``) and :class:`Classes` ----------
def class_scores(logits, ids):
    """Score ``(B,)`` of class ``ids`` ``(B,)``: its logit; one unit: ``+logit`` for class 1, ``-logit`` for 0."""
    if logits.shape[-1] == 1:
        sign = tf.cast(2 * ids - 1, logits.dtype)
        return logits[:, 0] * sign
    return tf.gather(logits, ids, axis=1, batch_dims=1)


def class_probabilities(logits, ids):
    """Probability ``(B,)`` of class ``ids``: softmax of the logits, or sigmoid of the signed logit."""
    if logits.shape[-1] == 1:
        return tf.sigmoid(class_scores(logits, ids))
    return tf.gather(tf.nn.softmax(logits, axis=-1), ids, axis=1, batch_dims=1)


def predicted_classes(logits):
    """THE predicted-class rule on logits ``(B, K)``: the argmax; one unit: class 1 when ``logit >= 0``."""
    if logits.shape[-1] == 1:
        return tf.cast(logits[:, 0] >= 0, tf.int32)
    return tf.argmax(logits, axis=1, output_type=tf.int32)


def _check_output_name(output, name: str):
    if output is not None and (isinstance(output, bool) or not isinstance(output, (str, int, np.integer))):
        raise TypeError(f"{name}: output must be a model output's name or position (str or int); got {output!r}")
    return output if output is None or isinstance(output, str) else int(output)


def _options(**values) -> str:
    return ",".join(f"{key}={value}" for key, value in values.items() if value is not None)


class Classes(Target):
    """A class score: today's rule, the default (``targets=None`` or ints mean ``Classes``).

    Parameters
    ----------
    ids : None, int or array-like of int, shape (N,), optional
        ``None`` (default): the class the model predicts on each image as given; one int for every
        image; or one class per image. A single sigmoid unit has classes 0 and 1 (class 1 scores
        with the logit, class 0 with its negative).
    output : str or int, optional
        Which model output, for a model with several.
    """

    kind = "classes"
    bounded = True

    def __init__(self, ids=None, *, output=None):
        self.ids = ids
        self.output = _check_output_name(output, "Classes")

    def check_output(self, shape, name="targets"):
        if len(shape) != 2 or shape[-1] is None:
            raise ValueError(f"{name}: Classes needs an output of class scores (N, classes); the explained output "
                             f"has shape {shape} (choose Regression, Segmentation, Detection or a callable)")

    def needs_outputs(self):
        return self.ids is None

    def resolve(self, outputs, n, image_shape, name="targets"):
        from xai_tf._checks import check_targets

        if self.ids is None:
            ids = predicted_classes(tf.constant(outputs)).numpy()
        else:
            ids = check_targets(self.ids, n, None, name)
        return {"ids": ids.astype(np.int32)}

    def score(self, outputs, params):
        return class_scores(outputs, params["ids"])

    def probability(self, outputs, params):
        return class_probabilities(outputs, params["ids"])

    def spec(self):
        ids = self.ids if self.ids is None or isinstance(self.ids, (int, np.integer)) else "given"
        return "classes" + (":" + _options(id=ids, output=self.output) if (ids, self.output) != (None, None) else "")


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
        self.output = _check_output_name(output, "Regression")
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
        return "regression:" + _options(unit=self.unit, sign=self.sign if self.sign != 1 else None, output=self.output)


class Segmentation(Target):
    """The summed logit of one class over a region of a segmentation output ``(N, H', W', K)``.

    Parameters
    ----------
    class_id : int
        The class whose score is summed; with one output channel (a sigmoid mask), class 1 scores
        with the logit and class 0 with its negative.
    region : array-like of {0, 1}, shape (N, H', W') or (H', W'), optional
        The pixels summed, per image (or one region for every image), at the output's resolution.
        Default None: the pixels the model assigns to ``class_id`` on each image as given (Seg-Grad-CAM,
        Vinogradova et al. 2020); an image where it assigns none explains an empty region (a zero
        score) with a warning.
    output : str or int, optional
        Which model output, for a model with several.

    Raises
    ------
    ValueError
        ``class_id`` is not an int >= 0.
    TypeError
        ``output`` is neither a name nor a position.
    """

    kind = "segmentation"
    bounded = True

    def __init__(self, class_id: int, region=None, *, output=None):
        if isinstance(class_id, bool) or not isinstance(class_id, (int, np.integer)) or class_id < 0:
            raise ValueError(f"Segmentation: class_id must be an int >= 0; got {class_id!r}")
        self.class_id, self.region = int(class_id), region
        self.output = _check_output_name(output, "Segmentation")

    def check_output(self, shape, name="targets"):
        if len(shape) != 4 or shape[-1] is None:
            raise ValueError(f"{name}: Segmentation needs an output of shape (N, H', W', classes); the explained "
                             f"output has shape {shape}")
        classes = 2 if shape[-1] == 1 else shape[-1]
        if self.class_id >= classes:
            raise ValueError(f"{name}: Segmentation class_id={self.class_id} does not exist; the output has "
                             f"{classes} classes")

    def needs_outputs(self):
        return True

    def resolve(self, outputs, n, image_shape, name="targets"):
        import warnings

        spatial = outputs.shape[1:3]
        if self.region is None:
            if outputs.shape[-1] == 1:
                region = (outputs[..., 0] >= 0) == bool(self.class_id)
            else:
                region = np.argmax(outputs, axis=-1) == self.class_id
            empty = np.flatnonzero(~region.reshape(n, -1).any(axis=1))
            if len(empty):
                warnings.warn(f"{name}: the model assigns no pixel to class {self.class_id} on image(s) "
                              f"{empty.tolist()}; their score is 0 (give region= to choose the pixels)", stacklevel=4)
        else:
            region = np.asarray(self.region)
            if region.ndim == 2:
                region = np.broadcast_to(region, (n, *region.shape))
            if region.shape != (n, *spatial):
                raise ValueError(f"{name}: Segmentation region must have shape ({n}, {spatial[0]}, {spatial[1]}) or "
                                 f"({spatial[0]}, {spatial[1]}), the output's resolution; got {region.shape}")
            if not np.isin(region, (0, 1)).all():
                raise ValueError(f"{name}: Segmentation region must hold 0/1 (or bool) values")
        return {"region": region.astype(np.float32)}

    def _logit(self, outputs):
        if outputs.shape[-1] == 1:
            return outputs[..., 0] * (1.0 if self.class_id else -1.0)
        return outputs[..., self.class_id]

    def score(self, outputs, params):
        return tf.reduce_sum(self._logit(outputs) * params["region"], axis=[1, 2])

    def probability(self, outputs, params):
        if outputs.shape[-1] == 1:
            probabilities = tf.sigmoid(self._logit(outputs))
        else:
            probabilities = tf.nn.softmax(outputs, axis=-1)[..., self.class_id]
        area = tf.maximum(tf.reduce_sum(params["region"], axis=[1, 2]), 1.0)
        return tf.reduce_sum(probabilities * params["region"], axis=[1, 2]) / area

    def spec(self):
        return "segmentation:" + _options(**{"class": self.class_id, "output": self.output,
                                             "region": None if self.region is None else "given"})


class Detection(Target):
    """The D-RISE similarity of a detector's best-matching box to a given box (Petsiuk et al. 2021).

    Parameters
    ----------
    boxes : array-like, shape (N, 4) or (4,)
        One box per image (or one for every image), ``(y0, x0, y1, x1)`` in the detector's output
        coordinates: fractions of the image in [0, 1] (``normalized=True``, default) or pixels.
    class_ids : int or array-like of int, shape (N,)
        The class of each box, an index into the detector's class probabilities.
    objectness : bool, optional
        The single-output layout carries an objectness score after the box (``(N, D, 5 + K)``);
        default False (``(N, D, 4 + K)``).
    normalized : bool, optional
        Boxes are fractions of the image (default True) or pixels.
    output : str or int, optional
        Which model output holds the detections, for a model with several outputs other than the
        two-output (boxes, probabilities) layout.

    Notes
    -----
    The score ``max_j IoU(b, b_j) * p_j[c] / ||p_j|| * o_j`` lies in [0, 1] and is used for both the
    score and the probability: D-RISE defines no logit.
    """

    kind = "detection"
    logits = False
    bounded = True

    def __init__(self, boxes, class_ids, *, objectness: bool = False, normalized: bool = True, output=None):
        self.boxes, self.class_ids = boxes, class_ids
        self.objectness, self.normalized = bool(objectness), bool(normalized)
        self.output = _check_output_name(output, "Detection")

    def check_output(self, shape, name="targets"):
        shapes = shape if isinstance(shape, list) else [shape]
        if len(shapes) == 2:
            boxes, probabilities = shapes
            if len(boxes) != 3 or boxes[-1] != 4 or len(probabilities) != 3:
                raise ValueError(f"{name}: Detection with two outputs needs (N, D, 4) boxes and (N, D, K) class "
                                 f"probabilities; got {boxes} and {probabilities}")
            self._classes = probabilities[-1]
            return
        if len(shapes) != 1 or len(shapes[0]) != 3:
            raise ValueError(f"{name}: Detection needs an output (N, D, 4 + K) (or (N, D, 5 + K) with objectness=True) "
                             f"or two outputs (N, D, 4) and (N, D, K); got {shape}")
        self._classes = shapes[0][-1] - (5 if self.objectness else 4)
        if self._classes < 1:
            raise ValueError(f"{name}: Detection output {shapes[0]} has no class probabilities after the box")

    def resolve(self, outputs, n, image_shape, name="targets"):
        from xai_tf._checks import check_targets

        boxes = np.asarray(self.boxes, np.float64)
        if boxes.shape == (4,):
            boxes = np.broadcast_to(boxes, (n, 4))
        if boxes.shape != (n, 4) or not np.all(np.isfinite(boxes)):
            raise ValueError(f"{name}: Detection boxes must be finite with shape ({n}, 4) or (4,); got {boxes.shape}")
        height, width = (1.0, 1.0) if self.normalized else (image_shape[0], image_shape[1])
        inside = ((boxes[:, 0] >= 0) & (boxes[:, 1] >= 0) & (boxes[:, 2] <= height) & (boxes[:, 3] <= width)
                  & (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1]))
        if not inside.all():
            where = "[0, 1]" if self.normalized else f"the {height} x {width} image"
            raise ValueError(f"{name}: Detection boxes {np.flatnonzero(~inside).tolist()} are outside {where} or "
                             "empty (expected y0 < y1, x0 < x1)")
        ids = check_targets(self.class_ids, n, self._classes, f"{name} class_ids")
        return {"boxes": boxes.astype(np.float32), "class_ids": ids.astype(np.int32)}

    def _split(self, outputs):
        if isinstance(outputs, (list, tuple)):
            return outputs[0], outputs[1], None
        start = 5 if self.objectness else 4
        return outputs[..., :4], outputs[..., start:], outputs[..., 4] if self.objectness else None

    def score(self, outputs, params):
        boxes, probabilities, objectness = self._split(outputs)
        target = params["boxes"][:, None, :]
        top = tf.maximum(boxes[..., 0], target[..., 0])
        left = tf.maximum(boxes[..., 1], target[..., 1])
        bottom = tf.minimum(boxes[..., 2], target[..., 2])
        right = tf.minimum(boxes[..., 3], target[..., 3])
        overlap = tf.nn.relu(bottom - top) * tf.nn.relu(right - left)
        area = (boxes[..., 2] - boxes[..., 0]) * (boxes[..., 3] - boxes[..., 1])
        target_area = (target[..., 2] - target[..., 0]) * (target[..., 3] - target[..., 1])
        iou = overlap / tf.maximum(area + target_area - overlap, 1e-12)
        chosen = tf.gather(probabilities, params["class_ids"], axis=2, batch_dims=1)
        cosine = chosen / tf.maximum(tf.norm(probabilities, axis=-1), 1e-12)
        similarity = iou * cosine * (1.0 if objectness is None else objectness)
        return tf.reduce_max(similarity, axis=1)

    def spec(self):
        return "detection:" + _options(objectness=self.objectness or None, output=self.output)


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
        self.output = _check_output_name(output, "Custom")

    def score(self, outputs, params):
        return self.fn(outputs)

    def spec(self):
        return "custom:" + getattr(self.fn, "__name__", "callable")


#: Whether each kind of target has a probability (a callable's says False unless ``bounded=True``).
BOUNDED = {cls.kind: cls.bounded for cls in (Classes, Regression, Segmentation, Detection, Custom)}


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
