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

The package holds the protocol (``base``), one module per kind of target, the frozen per-image
target (``resolved``) and the reading of a target from ``targets=`` or ``--target`` (``parsing``);
every name is importable from here.
"""
from __future__ import annotations

# ``name as name``: explicit re-exports. No ``__all__``: the public targets are ``xai_tf.Classes`` and
# its siblings; an ``__all__`` here would add the helpers below to the API reference.
from xai_tf.targets.base import KINDS as KINDS
from xai_tf.targets.base import Target as Target
from xai_tf.targets.classes import Classes as Classes
from xai_tf.targets.classes import class_probabilities as class_probabilities
from xai_tf.targets.classes import class_scores as class_scores
from xai_tf.targets.classes import predicted_classes as predicted_classes
from xai_tf.targets.custom import Custom as Custom
from xai_tf.targets.detection import Detection as Detection
from xai_tf.targets.parsing import as_target as as_target
from xai_tf.targets.parsing import parse_target as parse_target
from xai_tf.targets.regression import Regression as Regression
from xai_tf.targets.resolved import Resolved as Resolved
from xai_tf.targets.segmentation import Segmentation as Segmentation

#: Whether each kind of target has a probability (a callable's says False unless ``bounded=True``).
BOUNDED = {cls.kind: cls.bounded for cls in (Classes, Regression, Segmentation, Detection, Custom)}
