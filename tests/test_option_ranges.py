"""Every numeric range check tested at both edges (issue 32, item 5).

The ranges below are the documented ones (each option's help, each method's docstring): the edge
value itself is accepted when the range is closed there and refused when it is open, and the
nearest value outside is refused with a ValueError naming the option. A check that is removed or
moved by one step fails here.
"""
from __future__ import annotations

import numpy as np
import pytest
from conftest import tiny_cnn

from xai_tf.explainers import explain
from xai_tf.metrics.registry import all_options

INF = None
OUTSIDE = 1e-6  # how far outside an edge the refused value lies

#: option: (low, low closed?, high, high closed?, integer?), from each option's help text.
METRIC_RANGES = {
    "pic_min_pred_value": (0.0, True, 1.0, True, False),  # a probability
    "pic_random_mask_fraction": (0.0, True, 1.0, False, False),  # pixels kept; 1 would keep the image
    "sensitivity_radius": (0.0, False, INF, None, False),
    "sensitivity_samples": (1, True, INF, None, True),
    "pointing_tolerance": (0.0, True, INF, None, False),
    "deletion_max_fraction": (0.0, False, 1.0, True, False),
    "insertion_max_fraction": (0.0, False, 1.0, True, False),
    "mufidelity_grid_size": (1, True, INF, None, True),
    "mufidelity_subset_percent": (0.0, False, 1.0, True, False),
    "mufidelity_samples": (1, True, INF, None, True),
    "faithfulness_correlation_runs": (2, True, INF, None, True),  # a correlation needs two subsets
    "faithfulness_correlation_subset_size": (1, True, INF, None, True),
    "monotonicity_features_in_step": (1, True, INF, None, True),
    "pixel_flipping_features_in_step": (1, True, INF, None, True),
    "road_noise": (0.0, True, INF, None, False),
    "sufficiency_threshold": (0.0, True, 1.0, True, False),
    "non_sensitivity_eps": (0.0, True, INF, None, False),
    "non_sensitivity_features_in_step": (1, True, INF, None, True),
    "avg_sensitivity_samples": (1, True, INF, None, True),
    "avg_sensitivity_lower_bound": (0.0, False, INF, None, False),
    "local_lipschitz_samples": (1, True, INF, None, True),
    "local_lipschitz_std": (0.0, False, INF, None, False),
    "effective_complexity_eps": (0.0, True, INF, None, False),
    "top_k_intersection_k": (1, True, INF, None, True),
}
#: Numeric perturbation baselines: a number in [0, 1] (raw pixel values) or a name.
BASELINE_OPTIONS = ("deletion_baseline", "insertion_baseline", "mufidelity_baseline",
                    "faithfulness_correlation_baseline", "monotonicity_baseline", "pixel_flipping_baseline",
                    "infidelity_baseline", "completeness_baseline")


def _accepts(check, value):
    check(value)


def _refuses(check, value, name):
    with pytest.raises(ValueError, match=name):
        check(value)


def _edges(check, name, low, low_closed, high, high_closed, integer):
    step = 1 if integer else OUTSIDE
    if low is not None:
        if low_closed:
            _accepts(check, low)
            _refuses(check, low - step, name)
        else:
            _refuses(check, low, name)
            _accepts(check, low + step)
    if high is not None:
        if high_closed:
            _accepts(check, high)
            _refuses(check, high + step, name)
        else:
            _refuses(check, high, name)
            _accepts(check, high - step)
    else:
        _accepts(check, 10 ** 6 if integer else 1e6)
    if integer:
        with pytest.raises(TypeError, match=name):
            check(float(low) + 1.5)


@pytest.mark.parametrize("name", sorted(METRIC_RANGES))
def test_metric_option_ranges_at_both_edges(name):
    _edges(all_options()[name].check, name, *METRIC_RANGES[name])


@pytest.mark.parametrize("name", BASELINE_OPTIONS)
def test_numeric_perturbation_baselines_lie_in_the_unit_interval(name):
    check = all_options()[name].check
    for edge in (0.0, 1.0):
        _accepts(check, edge)
    _refuses(check, -OUTSIDE, name)
    _refuses(check, 1.0 + OUTSIDE, name)
    _refuses(check, 1.5, name)


@pytest.mark.parametrize("name", ["deletion_steps", "insertion_steps"])
def test_curve_steps_are_positive_or_minus_one(name):
    check = all_options()[name].check
    _accepts(check, 1)
    _accepts(check, -1)  # one pixel per step
    _refuses(check, 0, name)
    _refuses(check, -2, name)


def test_every_numeric_option_has_a_range_here():
    numeric = {name for name, option in all_options().items()
               if isinstance(option.default, (int, float)) and not isinstance(option.default, bool)
               and not name.endswith("_baseline")}
    assert numeric - {"deletion_steps", "insertion_steps"} <= set(METRIC_RANGES)


# -- method parameters --------------------------------------------------------------------------------

#: (method, parameter, low, low closed?, high, high closed?, integer?, cheap parameters), from the docstrings.
METHOD_RANGES = [
    ("smoothgrad", "stdev_spread", 0.0, True, INF, None, False, {"n_samples": 1}),
    ("smoothgrad", "n_samples", 1, True, INF, None, True, {}),
    ("vargrad", "n_samples", 2, True, INF, None, True, {}),  # a variance needs two samples
    ("vargrad", "noise", 0.0, True, INF, None, False, {"n_samples": 2}),
    ("gradient_shap", "stdev_spread", 0.0, True, INF, None, False, {"n_samples": 2}),
    ("integrated_gradients", "steps", 1, True, INF, None, True, {}),
    ("guided_ig", "fraction", 0.0, False, 1.0, True, False, {"steps": 2}),
    ("guided_ig", "max_dist", 0.0, True, 1.0, True, False, {"steps": 2}),
    ("blur_ig", "max_sigma", 0.0, False, INF, None, False, {"steps": 2}),
    ("blur_ig", "grad_step", 0.0, False, INF, None, False, {"steps": 2}),
    ("fast_xrai", "top_fraction", 0.0, False, 1.0, True, False, {"steps": 2}),
    ("xrai", "area_threshold", 0.0, False, 1.0, True, False, {"steps": 2}),
    ("rise", "keep_probability", 0.0, False, 1.0, True, False, {"n_masks": 4}),
    ("rise", "grid_size", 1, True, INF, None, True, {"n_masks": 4}),
    ("kernel_shap", "grid_size", 1, True, 16, True, True, {"n_samples": 10}),  # at most min(H, W) = 16
    ("faster_scorecam", "max_channels", 1, True, INF, None, True, {}),
    ("hsic", "n_designs", 2, True, INF, None, True, {}),
    ("sobol", "n_designs", 1, True, INF, None, True, {}),
    ("occlusion", "stride", 1, True, INF, None, True, {}),
]


@pytest.fixture(scope="module")
def setup():
    model = tiny_cnn(input_shape=(16, 16, 3), seed=0)
    image = np.random.default_rng(0).random((1, 16, 16, 3)).astype(np.float32)
    return model, image


@pytest.mark.parametrize("method, parameter, low, low_closed, high, high_closed, integer, cheap", METHOD_RANGES,
                         ids=[f"{m}-{p}" for m, p, *_ in METHOD_RANGES])
def test_method_parameter_ranges_at_both_edges(setup, method, parameter, low, low_closed, high, high_closed,
                                               integer, cheap):
    model, image = setup

    def check(value):
        big = value >= 10 ** 6
        if big:  # the open upper end: a large value is accepted by the check (not run in full)
            value = {"n_samples": 3, "steps": 3, "n_designs": 4, "max_channels": 50, "grid_size": 8,
                     "stride": 15}.get(parameter, value)
        explain(model, image, method, 0, verbose=0, **{**cheap, parameter: value})

    _edges(check, parameter, low, low_closed, high, high_closed, integer)
