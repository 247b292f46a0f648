"""Every default pinned to its reference (issue 32, item 2).

One table per kind: each method record's keyword defaults and each metric option's default, with
the source the value comes from (a paper in ``shared/papers`` by number, or the reference code it
follows). A default changed on purpose changes this table in the same commit; a default changed by
accident fails here. "xai-tf" marks the toolkit's own documented choices (no reference value exists).
"""
from __future__ import annotations

import pytest

from xai_tf.explainers.registry import RECORDS
from xai_tf.metrics.registry import all_options

PAIR = "PAIR saliency (google-pair/saliency, core/*.py GetMask / GetSmoothedMask signatures)"
XPLIQUE = "Xplique 1.x/2.0 attribution signatures (deel-ai/xplique)"
QUANTUS = "Quantus 0.5 metric signatures (understandable-machine-intelligence-lab/Quantus)"
SUM = ("sum", "xai-tf: channel sum keeps the sign and completeness (PAIR sums channels before visualising)")
NOISE = (None, "xai-tf: None = use stdev_spread (Xplique's absolute sigma when given)")
RIEMANN = ("riemann", f"{PAIR}: IntegratedGradients mean of the path gradients (Xplique's is the trapezoid)")
BILINEAR = ("bilinear", "Selvaraju et al. 2017 Grad-CAM code and PAIR GradCam: bilinear tf.image.resize")
BICUBIC = ("bicubic", f"{XPLIQUE}: bicubic tf.image.resize of the coarse map")

METHOD_DEFAULTS = {
    "vanilla_gradient": {"channel_reduction": SUM},
    "input_x_gradient": {"channel_reduction": SUM},
    "guided_backprop": {"channel_reduction": SUM},
    "deconvnet": {"channel_reduction": SUM},
    "guided_gradcam": {"upsample": BILINEAR, "channel_reduction": SUM},
    "smoothgrad": {
        "n_samples": (25, f"{PAIR}: GetSmoothedMask nsamples=25; Smilkov et al. 2017"),
        "stdev_spread": (0.15, f"{PAIR}: GetSmoothedMask stdev_spread=.15; Smilkov et al. 2017 (10-20%)"),
        "noise": NOISE,
        "magnitude": (True, f"{PAIR}: GetSmoothedMask magnitude=True"),
        "channel_reduction": SUM},
    "vargrad": {
        "n_samples": (50, f"{XPLIQUE}: VarGrad nb_samples=50"),
        "stdev_spread": (0.2, f"{XPLIQUE}: VarGrad noise=0.2 on a [0, 1] image"),
        "noise": NOISE,
        "channel_reduction": ("mean", f"{XPLIQUE}: reducer='mean'")},
    "squaregrad": {
        "n_samples": (50, f"{XPLIQUE}: SquareGrad nb_samples=50"),
        "stdev_spread": (0.2, f"{XPLIQUE}: SquareGrad noise=0.2 on a [0, 1] image"),
        "noise": NOISE,
        "channel_reduction": ("mean", f"{XPLIQUE}: reducer='mean'")},
    "integrated_gradients": {
        "steps": (25, f"{PAIR}: IntegratedGradients x_steps=25"),
        "baseline": ("black", f"{PAIR}: x_baseline=None -> zeros; Sundararajan et al. 2017 black image"),
        "rule": RIEMANN,
        "channel_reduction": SUM},
    "smoothgrad_ig": {
        "steps": (25, f"{PAIR}: IntegratedGradients x_steps=25"),
        "n_samples": (25, f"{PAIR}: GetSmoothedMask nsamples=25"),
        "stdev_spread": (0.15, f"{PAIR}: GetSmoothedMask stdev_spread=.15"),
        "noise": NOISE,
        "magnitude": (True, f"{PAIR}: GetSmoothedMask magnitude=True"),
        "baseline": ("black", f"{PAIR}: x_baseline=None -> zeros"),
        "rule": RIEMANN,
        "channel_reduction": SUM},
    "guided_ig": {
        "steps": (25, "PAIR saliency's example notebook (GuidedIG.GetMask's own default is x_steps=200)"),
        "fraction": (0.5, "PAIR saliency's example notebook (GetMask's own default fraction=0.25)"),
        "max_dist": (1.0, "PAIR saliency's example notebook (GetMask's own default max_dist=0.02)"),
        "baseline": ("black", f"{PAIR}: x_baseline=None -> zeros"),
        "channel_reduction": SUM},
    "blur_ig": {
        "max_sigma": (50.0, f"{PAIR}: BlurIG max_sigma=50"),
        "steps": (100, f"{PAIR}: BlurIG steps=100"),
        "grad_step": (0.01, f"{PAIR}: BlurIG grad_step=0.01"),
        "sqrt": (False, f"{PAIR}: BlurIG sqrt=False"),
        "channel_reduction": SUM},
    "smooth_blur_ig": {
        "max_sigma": (50.0, f"{PAIR}: BlurIG max_sigma=50"),
        "steps": (100, f"{PAIR}: BlurIG steps=100"),
        "grad_step": (0.01, f"{PAIR}: BlurIG grad_step=0.01"),
        "sqrt": (False, f"{PAIR}: BlurIG sqrt=False"),
        "n_samples": (25, f"{PAIR}: GetSmoothedMask nsamples=25"),
        "stdev_spread": (0.15, f"{PAIR}: GetSmoothedMask stdev_spread=.15"),
        "noise": NOISE,
        "magnitude": (True, f"{PAIR}: GetSmoothedMask magnitude=True"),
        "channel_reduction": SUM},
    "xrai": {
        "steps": (100, f"{PAIR}: XRAIParameters steps=100"),
        "area_threshold": (1.0, f"{PAIR}: XRAIParameters area_threshold=1.0"),
        "segments": (None, f"{PAIR}: XRAI segments=None -> Felzenszwalb at PAIR's scales")},
    "fast_xrai": {
        "steps": (100, f"{PAIR}: XRAIParameters steps=100"),
        "top_fraction": (0.3, "paper 000: Fast XRAI 30%"),
        "segments": (None, f"{PAIR}: XRAI segments=None -> Felzenszwalb at PAIR's scales")},
    "gradcam": {"upsample": BILINEAR}, "gradcam_pp": {"upsample": BILINEAR}, "scorecam": {"upsample": BILINEAR},
    "random": {},
    "faster_scorecam": {"max_channels": (10, "tf-keras-vis Scorecam max_N example (Faster Score-CAM, 10)"),
                        "upsample": BILINEAR},
    "fem": {"k": (2.0, f"{XPLIQUE}: FEM k=2 (Fuad et al. 2020)"), "upsample": BICUBIC},
    "normgrad": {
        "variant": ("conv1x1", "paper 003: NormGrad conv1x1 (Rebuffi et al. 2020 default)"),
        "layers": (None, "xai-tf: None = the single layer= (paper 003's single-layer NormGrad)"),
        "upsample": BILINEAR},
    "occlusion": {
        "window": (15, "paper 001: occlusion 15x15 window"),
        "stride": (5, "paper 001: stride 5"),
        "baseline": (0.0, "Captum Occlusion baselines=0 (paper 001's tool)"),
        "cover_edges": (False, "Captum Occlusion tiling (windows cut at the edge)")},
    "lime": {
        "num_samples": (1000, "lime LimeImageExplainer.explain_instance num_samples=1000"),
        "segmentation": ("quickshift", "lime explain_instance: quickshift(kernel_size=4, max_dist=200, ratio=0.2)"),
        "hide_color": (0.0, "xai-tf: black (paper 002 hides superpixels; lime's None = mean colour)"),
        "segmentation_params": (None, "lime's quickshift parameters")},
    "kernel_shap": {
        "n_samples": (800, f"{XPLIQUE}: KernelShap nb_samples=800"),
        "segmentation": ("grid", "xai-tf: the Sobol/HSIC grid (Xplique's map_to_interpret_space grid)"),
        "grid_size": (8, f"{XPLIQUE}: Sobol/HSIC grid_size=8"),
        "segmentation_params": (None, "lime's superpixel parameters"),
        "baseline": (0.0, f"{XPLIQUE}: ref_value=0 (black)"),
        "score": ("probability", f"{XPLIQUE}: scores the model output f(x)[y]")},
    "gradient_shap": {
        "n_samples": (50, "xai-tf: between Captum GradientShap n_samples=5 and SHAP GradientExplainer "
                          "nsamples=200 (documented in the docstring)"),
        "baselines": ("uniform", "SHAP GradientExplainer examples: random background; xai-tf: U(0, 1) images"),
        "stdev_spread": (0.0, "Captum GradientShap stdevs=0.0"),
        "channel_reduction": SUM},
    "rise": {
        "n_masks": (4000, "Petsiuk et al. 2018 RISE: N = 4000 masks (ResNet50)"),
        "grid_size": (7, "Petsiuk et al. 2018 RISE: s = 7"),
        "keep_probability": (0.5, "Petsiuk et al. 2018 RISE: p = 0.5"),
        "mask_value": (0.0, "Petsiuk et al. 2018 RISE: masked pixels black"),
        "normalization": ("paper", "Petsiuk et al. 2018 RISE: divide by N p"),
        "score": ("probability", "Petsiuk et al. 2018 RISE: class probability")},
    "sobol": {
        "grid_size": (8, f"{XPLIQUE}: SobolAttributionMethod grid_size=8"),
        "n_designs": (32, f"{XPLIQUE}: SobolAttributionMethod nb_design=32"),
        "score": ("probability", f"{XPLIQUE}: scores the model output"),
        "upsample": BICUBIC},
    "hsic": {
        "grid_size": (8, f"{XPLIQUE}: HsicAttributionMethod grid_size=8"),
        "n_designs": (500, f"{XPLIQUE}: HsicAttributionMethod nb_design=500"),
        "score": ("probability", f"{XPLIQUE}: scores the model output"),
        "upsample": BICUBIC},
    "attention_rollout": {
        "head_fusion": ("mean", "Abnar & Zuidema 2020 attention rollout: heads averaged (jacobgil/vit-explain)"),
        "extra_tokens": (None, "xai-tf: None = read from the model (class/distillation tokens)"),
        "upsample": BILINEAR},
    "transformer_attribution": {
        "extra_tokens": (None, "xai-tf: None = read from the model (class/distillation tokens)")},
}

METRIC_DEFAULTS = {
    "pic_entropy": ("webp", "PAIR pic.py: compressed WebP size (paper 004 also reports Shannon)"),
    "pic_blur": ("fast", "xai-tf: separable blur equal to PAIR's within tolerance (exact = PAIR's)"),
    "pic_thresholds": (None, "PAIR pic.py example: 13 thresholds (None = PAIR's list)"),
    "pic_min_pred_value": (0.8, "PAIR pic.py compute_pic_metric min_pred_value=0.8"),
    "pic_random_mask_fraction": (0.01, "PAIR pic.py generate_random_mask fraction=0.01"),
    "sensitivity_radius": (0.02, "Captum sensitivity_max perturb_radius=0.02"),
    "sensitivity_samples": (10, "Captum sensitivity_max n_perturb_samples=10"),
    "sensitivity_normalise": (True, f"{QUANTUS}: MaxSensitivity normalise=True"),
    "entropy_format": ("png", "paper 001: XAI entropy = compressed (lossless PNG) file size"),
    "pointing_tolerance": (15, "paper 003: Pointing Game tolerance 15 px"),
    "randomization_modes": (["full", "semi"], "paper 003: fully and semi randomised models"),
    "deletion_steps": (10, f"{XPLIQUE}: Deletion steps=10"),
    "deletion_max_fraction": (1.0, f"{XPLIQUE}: Deletion max_percentage_perturbed=1.0"),
    "deletion_baseline": (0.0, f"{XPLIQUE}: Deletion baseline_mode=0.0"),
    "insertion_steps": (10, f"{XPLIQUE}: Insertion steps=10"),
    "insertion_max_fraction": (1.0, f"{XPLIQUE}: Insertion max_percentage_perturbed=1.0"),
    "insertion_baseline": (0.0, f"{XPLIQUE}: Insertion baseline_mode=0.0"),
    "mufidelity_grid_size": (9, f"{XPLIQUE}: MuFidelity grid_size=9"),
    "mufidelity_subset_percent": (0.2, f"{XPLIQUE}: MuFidelity subset_percent=0.2"),
    "mufidelity_samples": (200, f"{XPLIQUE}: MuFidelity nb_samples=200"),
    "mufidelity_baseline": (0.0, f"{XPLIQUE}: MuFidelity baseline_mode=0.0"),
    "faithfulness_correlation_runs": (100, f"{QUANTUS}: FaithfulnessCorrelation nr_runs=100"),
    "faithfulness_correlation_subset_size": (224, f"{QUANTUS}: FaithfulnessCorrelation subset_size=224"),
    "faithfulness_correlation_baseline": ("black", f"{QUANTUS}: FaithfulnessCorrelation perturb_baseline='black'"),
    "monotonicity_features_in_step": (1, f"{QUANTUS}: Monotonicity features_in_step=1"),
    "monotonicity_baseline": ("black", f"{QUANTUS}: Monotonicity perturb_baseline='black'"),
    "pixel_flipping_features_in_step": (1, f"{QUANTUS}: PixelFlipping features_in_step=1"),
    "pixel_flipping_baseline": ("black", f"{QUANTUS}: PixelFlipping perturb_baseline='black'"),
    "road_percentages": ([round(0.01 + 0.02 * k, 2) for k in range(50)],
                         f"{QUANTUS}: ROAD percentages=list(range(1, 100, 2)) / 100"),
    "road_noise": (0.01, f"{QUANTUS}: ROAD noise=0.01"),
    "irof_segmentation": ("slic", f"{QUANTUS}: IROF segmentation_method='slic'"),
    "infidelity_patch_sizes": ([4], f"{QUANTUS}: Infidelity perturb_patch_sizes=[4]"),
    "infidelity_baseline": ("black", f"{QUANTUS}: Infidelity perturb_baseline='black'"),
    "sufficiency_threshold": (0.6, f"{QUANTUS}: Sufficiency threshold=0.6"),
    "completeness_normalise": (True, f"{QUANTUS}: Completeness normalise=True"),
    "completeness_baseline": ("black", f"{QUANTUS}: Completeness perturb_baseline='black'"),
    "non_sensitivity_eps": (1e-5, f"{QUANTUS}: NonSensitivity eps=1e-5"),
    "non_sensitivity_features_in_step": (1, f"{QUANTUS}: NonSensitivity features_in_step=1"),
    "avg_sensitivity_samples": (200, f"{QUANTUS}: AvgSensitivity nr_samples=200"),
    "avg_sensitivity_lower_bound": (0.2, f"{QUANTUS}: AvgSensitivity lower_bound=0.2"),
    "local_lipschitz_samples": (200, f"{QUANTUS}: LocalLipschitzEstimate nr_samples=200"),
    "local_lipschitz_std": (0.1, f"{QUANTUS}: LocalLipschitzEstimate perturb_std=0.1"),
    "effective_complexity_eps": (1e-5, f"{QUANTUS}: EffectiveComplexity eps=1e-5"),
    "top_k_intersection_k": (1000, f"{QUANTUS}: TopKIntersection k=1000"),
    # no reference has a tie rule (Xplique and Quantus take np.argsort's unstable order): issue 28's
    # order-free rule, the expectation over tie orders (xai_tf.metrics.ties)
    "ties": ("block", "xai-tf issue 28 item 5: a tied group perturbed as one block"),
}


def _same(value, expected):
    return type(value) is type(expected) and value == expected


@pytest.mark.parametrize("name", sorted(RECORDS))
def test_method_defaults_equal_their_references(name):
    assert name in METHOD_DEFAULTS, f"{name}: add its defaults and their sources to METHOD_DEFAULTS"
    table = METHOD_DEFAULTS[name]
    defaults = RECORDS[name].defaults
    assert set(defaults) == set(table), f"{name}: parameters {sorted(defaults)} vs table {sorted(table)}"
    for parameter, (expected, source) in table.items():
        assert source.strip(), f"{name}.{parameter}: no source named"
        assert _same(defaults[parameter], expected), \
            f"{name}.{parameter} = {defaults[parameter]!r}, the reference ({source}) is {expected!r}"


def test_metric_option_defaults_equal_their_references():
    options = all_options()
    missing = sorted(set(options) - set(METRIC_DEFAULTS))
    assert not missing, f"add these options' defaults and sources to METRIC_DEFAULTS: {missing}"
    for name, option in options.items():
        expected, source = METRIC_DEFAULTS[name]
        assert source.strip()
        value = option.default
        if isinstance(expected, list):
            assert list(value) == pytest.approx(expected, abs=1e-12), f"{name}: {value!r} vs {expected!r} ({source})"
        else:
            assert _same(value, expected), f"{name} = {value!r}, the reference ({source}) is {expected!r}"
