"""The method records: one :class:`MethodRecord` per saliency method, and the queries over them.

Every saliency method is one :class:`MethodRecord` (name, function, family, stochastic or not,
``layer=`` or not, whether the demo's probe grid runs it, a one-line description; the default
parameters are read from the function's keyword-only signature). ``list_methods``, the checks of
``explain`` (:mod:`xai_tf.explainers.entry`), ``xai-tf explain --help``, ``xai-tf evaluate`` and
the report's method notes read :data:`RECORDS` (the demo's probe grid can take
``list_methods(in_demo_grid=True)``); a new method is its function in a family module plus one
record in the table at the bottom of this file (``register`` does the same at run time). The
``FAMILIES`` literal and the table stay in this file: ``xai_tf.cli.startup`` reads both from its
source to list the methods without TensorFlow.
"""
from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from xai_tf._checks import check_choice
from xai_tf._docstrings import fill_doc
from xai_tf._listing import help_line, method_listing
from xai_tf._registry import REGISTER_RETURNS, UNREGISTER_DOC, Registry
from xai_tf.explainers import (
    attention,
    backprop,
    cam,
    fem,
    global_sensitivity,
    gradients,
    integrated,
    normgrad,
    perturbation,
    random,
    rise,
    shapley,
    xrai,
)
from xai_tf.models import graph
from xai_tf.models.loading import as_keras_model
from xai_tf.targets import BOUNDED, KINDS, as_target

#: Families of methods, with what each needs of the model.
FAMILIES = {
    "gradient": "gradients of the target logit with respect to the input pixels",
    "layer": "activations and gradients of one convolution layer; layer= applies",
    "perturbation": "target scores of images with regions removed, fitted locally",
    "black-box": "target scores of randomly or quasi-randomly masked images, with a global estimator",
    "attention": "attention probabilities of the model's MultiHeadAttention layers (transformers only)",
    "baseline": "no model at all: the reference every score is read against",
}


@dataclass(frozen=True)
class MethodRecord:
    """One saliency method as the toolkit knows it.

    Parameters
    ----------
    name : str
        Registry name (``explain(model, images, name)``), a Python identifier.
    function : callable
        ``function(request, *, params...) -> (N, H, W)`` maps; its keyword-only parameters (with
        defaults) are the method's parameters.
    family : str
        One of ``xai_tf.explainers.registry.FAMILIES``.
    description : str
        One line: what the method computes and the paper it comes from.
    stochastic : bool
        The method draws random numbers (``seed=`` changes its maps); default False.
    layer : bool
        The method looks inside the network at one convolution layer (``layer=`` applies); default False.
    in_demo_grid : bool
        Cheap enough for the demo's probe grid on 2 CPU cores (default True); expensive methods
        (thousands of forward passes per image) say False and give the reason in ``description``.
    needs_probability : bool
        The method is defined on a score in [0, 1] (Score-CAM's masked-image probabilities), so it
        explains only bounded targets (classes, segmentation, detection, ``Custom(bounded=True)``);
        default False: every target (``xai_tf.targets``).
    """

    name: str
    function: Callable
    family: str
    description: str
    stochastic: bool = False
    layer: bool = False
    in_demo_grid: bool = True
    needs_probability: bool = False

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name.isidentifier():
            raise ValueError(f"MethodRecord name must be a Python identifier; got {self.name!r}")
        if not callable(self.function):
            raise TypeError(f"MethodRecord {self.name!r}: function must be callable; got {self.function!r}")
        check_choice(self.family, f"MethodRecord {self.name!r} family", FAMILIES)
        if not isinstance(self.description, str) or not self.description.strip() or "\n" in self.description:
            raise ValueError(f"MethodRecord {self.name!r}: description must be one non-empty line")
        for flag in ("stochastic", "layer", "in_demo_grid", "needs_probability"):
            if not isinstance(getattr(self, flag), bool):
                raise TypeError(f"MethodRecord {self.name!r}: {flag} must be True or False")

    @property
    def defaults(self) -> dict[str, object]:
        """The method's keyword parameters with their defaults (beyond the common ones of ``explain``)."""
        signature = inspect.signature(self.function)
        return {name: p.default for name, p in signature.parameters.items() if p.kind is p.KEYWORD_ONLY}

    def help_line(self) -> str:
        """One listing line ``name: description [flags]`` (``xai-tf explain --help``, ``describe_methods``).

        Returns
        -------
        str
            ``"name: description"``, followed by the record's flags in brackets when any is set:
            "seeded" (``stochastic``), "layer=" (``layer``) and "not in the demo grid"
            (``in_demo_grid=False``), e.g. ``"gradcam: ... [layer=]"``.
        """
        return help_line(_listed(self))


def _listed(record: MethodRecord) -> dict:
    """The fields of ``record`` a listing shows (``xai_tf._listing.help_line``)."""
    return {key: getattr(record, key) for key in ("name", "family", "description", "stochastic", "layer",
                                                  "in_demo_grid")}


#: name -> record of every registered method (registration order; ``list_methods`` sorts).
RECORDS: Registry[MethodRecord] = Registry("method", MethodRecord)


@fill_doc(returns=REGISTER_RETURNS.format(kind="method", record="~xai_tf.explainers.MethodRecord"))
def register(record: MethodRecord) -> MethodRecord:
    """Add a method's record to ``RECORDS``, so that ``explain`` and every listing know it.

    The method is then available to :func:`~xai_tf.explain`, :func:`~xai_tf.list_methods`,
    :func:`~xai_tf.explainers.describe_methods`, ``xai-tf explain`` and ``xai-tf evaluate`` under
    ``record.name``.

    Parameters
    ----------
    record : MethodRecord
        The method's record; its name must not be registered yet
        (:func:`~xai_tf.explainers.unregister` first to replace one).

    {returns}
    """
    return RECORDS.add(record)


@fill_doc(unregister=UNREGISTER_DOC.format(kind="method", record="MethodRecord"))
def unregister(name: str) -> MethodRecord | None:
    """{unregister}"""
    return RECORDS.remove(name)


class _Functions(Mapping):
    """Read-only live view ``name -> function`` of :data:`RECORDS` (the former ``METHODS`` dict)."""

    def __getitem__(self, name: str) -> Callable:
        return RECORDS[name].function

    def __iter__(self) -> Iterator[str]:
        return iter(RECORDS)

    def __len__(self) -> int:
        return len(RECORDS)


METHODS: Mapping[str, Callable] = _Functions()


def list_methods(*, family: str | None = None, stochastic: bool | None = None, layer: bool | None = None,
                 in_demo_grid: bool | None = None, target=None, model=None) -> tuple[str, ...]:
    """Sorted names of the registered saliency methods, optionally filtered by their records.

    Parameters
    ----------
    family : {"gradient", "layer", "perturbation", "black-box", "baseline"}, optional
        Only this family (``FAMILIES``); None (default) for all.
    stochastic : bool, optional
        Only methods that draw random numbers (True) or only deterministic ones (False); None
        (default) for both.
    layer : bool, optional
        Only methods that take ``layer=`` (True) or only those that do not (False); None (default)
        for both.
    in_demo_grid : bool, optional
        Only methods the demo's probe grid runs (True) or only the expensive ones it leaves out
        (False); None (default) for both.
    target : Target, str or callable, optional
        Only the methods defined for this target (a :class:`~xai_tf.Target`, a callable, or
        a kind of ``xai_tf.targets.KINDS``: "regression" and "custom" are taken as targets
        without a probability); None (default) for all.
    model : keras.Model, optional
        Only the methods that apply to this model: the "attention" family needs a transformer
        (``keras.layers.MultiHeadAttention`` layers, :func:`xai_tf.models.attention_layers`), the
        layer methods a convolution or (on a transformer) a token layer. None (default) for all.

    Returns
    -------
    tuple of str
        The names of the matching methods, sorted alphabetically; empty when none matches.

    Raises
    ------
    ValueError
        If ``family`` is not one of the families, or ``target`` is a string that is not a kind.
    """
    if family is not None:
        check_choice(family, "family", FAMILIES)
    bounded = True
    if isinstance(target, str):
        bounded = BOUNDED[check_choice(target, "target", KINDS)]
    elif target is not None:
        chosen = as_target(target)
        bounded = chosen is None or chosen.bounded
    wanted = {"family": family, "stochastic": stochastic, "layer": layer, "in_demo_grid": in_demo_grid}
    fits = {"attention": True, "layer": True}
    if model is not None:
        model = as_keras_model(model)
        fits["attention"] = graph.is_token_model(model)
        try:
            graph.default_cam_layer(model)
        except ValueError:  # no convolution, no token layer: layer= may still name a 4-D layer
            fits["layer"] = bool(graph.conv_layer_candidates(model))
    return tuple(sorted(name for name, record in RECORDS.items()
                        if all(value is None or getattr(record, key) == value for key, value in wanted.items())
                        and (bounded or not record.needs_probability)
                        and (fits["attention"] or record.family != "attention")
                        and (fits["layer"] or not record.layer)))


def method_record(method: str) -> MethodRecord:
    """The :class:`~xai_tf.explainers.MethodRecord` of ``method``; ValueError listing the valid names otherwise.

    Parameters
    ----------
    method : str
        A registered method name (:func:`~xai_tf.list_methods`).

    Returns
    -------
    MethodRecord
        The method's record: its function, family, description and flags.

    Raises
    ------
    ValueError
        If ``method`` is not a registered name (the message lists the valid ones).
    """
    check_choice(method, "method", list_methods())
    return RECORDS[method]


def method_parameters(method: str) -> dict[str, object]:
    """Keyword parameters of ``method`` with their defaults (beyond the common ones of ``explain``).

    Parameters
    ----------
    method : str
        A registered method name (:func:`~xai_tf.list_methods`).

    Returns
    -------
    dict of str to object
        ``{parameter: default}`` in signature order, e.g. ``{"steps": 25, "baseline": "black",
        "channel_reduction": "sum"}`` for integrated_gradients; empty for a method without
        parameters. These are the ``**params`` :func:`~xai_tf.explain` accepts for ``method``.

    Raises
    ------
    ValueError
        If ``method`` is not a registered name (the message lists the valid ones).
    """
    return method_record(method).defaults


def describe_methods(methods=None) -> str:
    """Plain-text listing of ``methods`` (default: all), grouped by family, one line each.

    Used by ``xai-tf explain --help`` and the report's method notes.

    Parameters
    ----------
    methods : None or iterable of str, optional
        Method names to list (default None: every registered method). Names that are not
        registered are left out silently.

    Returns
    -------
    str
        One header line per family that has a listed method, ``"family (what it needs):"``, then
        one indented line per method (:meth:`~xai_tf.explainers.MethodRecord.help_line`), lines
        joined by newlines; families in the order of ``FAMILIES``, methods in the order given
        (alphabetical by default). Empty when no name is registered.
    """
    names = list_methods() if methods is None else tuple(methods)
    return method_listing(FAMILIES, [_listed(RECORDS[name]) for name in names if name in RECORDS])


# -- the records ---------------------------------------------------------------------------------
_R = MethodRecord
for _record in (
    _R("vanilla_gradient", gradients.vanilla_gradient, "gradient",
       "gradient of the target logit w.r.t. the pixels (Simonyan et al. 2014)"),
    _R("smoothgrad", gradients.smoothgrad, "gradient",
       "gradients averaged over noisy copies, PAIR's defaults (Smilkov et al. 2017)", stochastic=True),
    _R("input_x_gradient", gradients.input_x_gradient, "gradient",
       "pixels times their gradient (Shrikumar et al. 2016)"),
    _R("vargrad", gradients.vargrad, "gradient",
       "variance of the gradients over noisy copies (Adebayo et al. 2018)", stochastic=True),
    _R("squaregrad", gradients.squaregrad, "gradient",
       "mean squared gradient over noisy copies (Hooker et al. 2019)", stochastic=True),
    _R("integrated_gradients", integrated.integrated_gradients, "gradient",
       "gradients integrated on the straight path from a baseline (Sundararajan et al. 2017)"),
    _R("smoothgrad_ig", integrated.smoothgrad_ig, "gradient",
       "Integrated Gradients averaged over noisy copies (Smilkov et al. 2017)", stochastic=True),
    _R("guided_ig", integrated.guided_ig, "gradient",
       "Integrated Gradients on an adaptive path (Kapishnikov et al. 2021)"),
    _R("blur_ig", integrated.blur_ig, "gradient",
       "gradients integrated along a blur path (Xu et al. 2020)"),
    _R("smooth_blur_ig", integrated.smooth_blur_ig, "gradient",
       "Blur IG averaged over noisy copies (Xu et al. 2020)", stochastic=True),
    _R("gradient_shap", shapley.gradient_shap, "gradient",
       "expected gradients x (input - random baseline) at random path points (Lundberg & Lee 2017)",
       stochastic=True),
    _R("xrai", xrai.xrai, "gradient",
       "regions ranked by their Integrated Gradients attribution (Kapishnikov et al. 2019)"),
    _R("fast_xrai", xrai.fast_xrai, "gradient",
       "XRAI's fast variant: the top 30 % of the regions (Kapishnikov et al. 2019)"),
    _R("guided_backprop", backprop.guided_backprop, "gradient",
       "gradients with negative signals stopped at every ReLU (Springenberg et al. 2015)"),
    _R("deconvnet", backprop.deconvnet, "gradient",
       "ReLU applied to the backward signal (Zeiler & Fergus 2014)"),
    _R("gradcam", cam.gradcam, "layer",
       "channels weighted by their mean gradient (Selvaraju et al. 2017)", layer=True),
    _R("gradcam_pp", cam.gradcam_pp, "layer",
       "Grad-CAM with higher-order pixel weights (Chattopadhay et al. 2018)", layer=True),
    _R("scorecam", cam.scorecam, "layer",
       "channels weighted by the score of the image masked by each (Wang et al. 2020)", layer=True,
       needs_probability=True),
    _R("faster_scorecam", cam.faster_scorecam, "layer",
       "Score-CAM on the strongest channels only (tf-keras-vis)", layer=True, needs_probability=True),
    _R("guided_gradcam", backprop.guided_gradcam, "layer",
       "guided backpropagation times Grad-CAM (Selvaraju et al. 2017)", layer=True),
    _R("normgrad", normgrad.normgrad, "layer",
       "norm of activation x gradient outer products (Rebuffi et al. 2020)", layer=True),
    _R("fem", fem.fem, "layer",
       "class-agnostic k-sigma thresholded channels weighted by their means (Fuad et al. 2020)", layer=True),
    _R("occlusion", perturbation.occlusion, "perturbation",
       "mean score drop over the sliding windows covering a pixel (Zeiler & Fergus 2014)"),
    _R("lime", perturbation.lime, "perturbation",
       "ridge weights of superpixels on random on/off samples (Ribeiro et al. 2016)", stochastic=True),
    _R("kernel_shap", shapley.kernel_shap, "perturbation",
       "Shapley values of grid cells or superpixels by weighted regression (Lundberg & Lee 2017)",
       stochastic=True),
    _R("rise", rise.rise, "black-box",
       "score-weighted mean of 4,000 random smooth masks (Petsiuk et al. 2018); 4,000 passes per image",
       stochastic=True, in_demo_grid=False),
    _R("sobol", global_sensitivity.sobol, "black-box",
       "total Sobol indices of grid cells on QMC designs (Fel et al. 2021); 2,112 passes per image",
       in_demo_grid=False),
    _R("hsic", global_sensitivity.hsic, "black-box",
       "HSIC dependence of the score on binary grid designs (Novello et al. 2022)"),
    _R("attention_rollout", attention.attention_rollout, "attention",
       "attention multiplied through the layers, residual included (Abnar & Zuidema 2020); transformers only",
       in_demo_grid=False),
    _R("transformer_attribution", attention.transformer_attribution, "attention",
       "gradient-weighted attention relevance (Chefer et al. 2021); transformers only", in_demo_grid=False),
    _R("random", random.random_map, "baseline",
       "uniform noise: the random baseline AUCs are read against", stochastic=True),
):
    register(_record)
del _R, _record

#: Methods that look inside the network at one conv layer (derived from the records at import).
LAYER_METHODS = frozenset(list_methods(layer=True))
#: Methods that draw random numbers (derived from the records at import).
STOCHASTIC_METHODS = frozenset(list_methods(stochastic=True))
