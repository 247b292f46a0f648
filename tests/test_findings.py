"""Findings computed from hand-made evaluation rows: statistics against hand-computed values, verdicts,
warnings, a metric registered here judged from its declarations, and the Findings block of the report template."""
from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import ClassVar

import jinja2
import numpy as np
import pytest
from scipy import stats

from xai_tf.metrics.protocol import MapsMetric
from xai_tf.metrics.registry import METRICS, register, unregister
from xai_tf.report.findings import (
    GROUND_TRUTH_FINDINGS,
    column_label,
    compute_findings,
    mcnemar_greater,
    mean_interval,
    wilson_interval,
)

SIZE, N = 8, 10


def masks_and_maps(n=N, seed=0):
    """A 2x2 source per image; "good" puts all saliency on it, "bad" all on the background."""
    rng = np.random.default_rng(seed)
    masks = np.zeros((n, SIZE, SIZE))
    masks[:, 3:5, 3:5] = 1
    good = masks * (1 + rng.random((n, SIZE, SIZE))) + 1e-4 * rng.random((n, SIZE, SIZE))
    bad = (1 - masks) * (1 + rng.random((n, SIZE, SIZE)))
    random = rng.random((n, SIZE, SIZE))
    return masks, {"good": good, "bad": bad, "random": random}


def rows_for(methods: dict, n=N):
    """``{method: {column: [value per image]}}`` -> the runner's rows."""
    rows = []
    for image in range(n):
        for method, columns in methods.items():
            row = {"image": image, "method": method, "target": 0, "label": 0}
            row.update({column: values[image] for column, values in columns.items()})
            rows.append(row)
    return rows


def entry(findings, method):
    return next(e for e in findings["methods"] if e["method"] == method)


# ------------------------------------------------------------------------------------------ statistics
def test_wilson_interval_matches_the_hand_computed_value():
    result = wilson_interval(8, 10)
    # p = 0.8, z = 1.96: centre (0.8 + z^2/20) / (1 + z^2/10), half z * sqrt(0.016 + z^2/400) / (1 + z^2/10)
    assert result["rate"] == 0.8
    assert result["low"] == pytest.approx(0.4902, abs=1e-4) and result["high"] == pytest.approx(0.9433, abs=1e-4)
    zero = wilson_interval(0, 8)
    assert zero["low"] == 0.0 and 0.3 < zero["high"] < 0.33  # never a zero-width interval at 0 hits


def test_mean_interval_is_student_t_and_mcnemar_is_exact():
    values = [0.1, 0.4, 0.35, 0.8, 0.5]
    low, high = stats.t.interval(0.95, 4, loc=np.mean(values), scale=stats.sem(values))
    result = mean_interval(values + [None, float("nan")])  # missing values are left out
    assert result["n"] == 5 and result["mean"] == pytest.approx(0.43)
    assert (result["low"], result["high"]) == (pytest.approx(low), pytest.approx(high))
    assert mean_interval([0.3])["low"] is None and mean_interval([])["mean"] is None
    # six images hit by the method alone, none by the baseline alone: p = 0.5^6
    assert mcnemar_greater([1] * 6 + [1, 0], [0] * 6 + [1, 0]) == pytest.approx(0.5 ** 6)
    assert mcnemar_greater([1, 0], [1, 0]) == 1.0


# ------------------------------------------------------------------------------------------ localisation
def test_localisation_beside_random_with_background_and_maximum_warnings():
    masks, maps = masks_and_maps()
    hits = {"good": [1] * N, "bad": [1, 0, 0, 0, 1, 0, 0, 0, 1, 0], "random": [1, 0, 0, 0, 0, 1, 0, 0, 1, 0]}
    rows = rows_for({method: {"pointing_game": hits[method]} for method in maps})
    findings = compute_findings(rows, maps=maps, masks=masks)
    good, bad = entry(findings, "good"), entry(findings, "bad")
    assert good["localisation"]["mass_inside"]["mean"] == pytest.approx(1.0, abs=1e-3)
    share = [m[k > 0].sum() / m.sum() for m, k in zip(maps["random"], masks)]
    assert good["localisation"]["mass_inside"]["baseline"]["mean"] == pytest.approx(np.mean(share))
    assert good["localisation"]["mass_inside"]["better"] is True
    assert bad["localisation"]["mass_inside"]["mean"] == 0.0 and bad["localisation"]["mass_inside"]["better"] is False
    assert bad["localisation"]["inside_outside"]["below_one"] == N
    assert good["localisation"]["max_inside"]["hits"] == N and bad["localisation"]["max_inside"]["hits"] == 0
    # Pointing Game (evidence "hits"): 10/10 against random's 3/10 (7 discordant, all for the method): p = 0.5^7
    game = good["scores"]["pointing_game"]
    assert game["rate"] == 1.0 and game["baseline"]["rate"] == 0.3
    assert game["p_value"] == pytest.approx(0.5 ** 7) and game["better"] is True
    z = stats.norm.ppf(0.975)  # Wilson at 10/10: low = 1 / (1 + z^2 / n), high = 1
    assert (game["low"], game["high"]) == (pytest.approx(1 / (1 + z * z / N)), pytest.approx(1.0))
    assert bad["scores"]["pointing_game"]["better"] is False
    warnings = findings["warnings"]
    assert f"bad: highlights the background on {N} of {N} images (mean saliency inside the mask below that outside)" \
        in warnings
    assert f"bad: its maximum is never inside the source (0 of {N} images)" in warnings
    assert any(w.startswith("bad: Pointing Game 0.30 is not better than random's 0.30") for w in warnings)
    assert not any(w.startswith("good:") for w in warnings)
    assert good["verdict"][0] == "localises better than random"
    assert bad["verdict"][0] == "localisation not better than random"
    assert "Pointing Game better than random" in good["verdict"]
    assert "Pointing Game not better than random" in bad["verdict"]
    assert findings["needs_ground_truth"] == []
    table = findings["table"]
    assert table["header"] == ["method", "share of |map| in mask", "max in mask", "Pointing Game", "sanity",
                               "better than random"]
    good_row = table["rows"][[e["method"] for e in findings["methods"]].index("good")]
    assert good_row[2] == f"{N}/{N}" and good_row[3].startswith("1.00 [0.72, 1.00]")


def test_without_baseline_maps_the_mask_area_is_the_random_expectation():
    masks, maps = masks_and_maps()
    del maps["random"]
    findings = compute_findings(rows_for({m: {} for m in maps}), maps=maps, masks=masks)
    baseline = entry(findings, "good")["localisation"]["mass_inside"]["baseline"]
    assert baseline["mean"] == pytest.approx(4 / SIZE ** 2) and baseline["n"] == 0


def test_without_ground_truth_the_findings_that_need_it_are_named():
    rows = rows_for({"gradcam": {"sic": [0.5] * N}, "random": {"sic": [0.4] * N}})
    findings = compute_findings(rows)
    assert len(findings["needs_ground_truth"]) == len(GROUND_TRUTH_FINDINGS)
    assert all("needs ground-truth masks or boxes" in line for line in findings["needs_ground_truth"])
    assert entry(findings, "gradcam")["localisation"] == {}
    # no mask: no localisation columns
    assert findings["table"]["header"] == ["method", "SIC AUC", "sanity", "better than random"]
    with_boxes = compute_findings(rows_for({"gradcam": {"pointing_game": [1] * N}}))  # boxes: PG but no masks
    assert [line.split(" (")[0] for line in with_boxes["needs_ground_truth"]] == list(GROUND_TRUTH_FINDINGS)
    assert all("needs the ground-truth masks and the maps" in line for line in with_boxes["needs_ground_truth"])
    # an evaluated metric that needs ground truth but got none is named by its label
    columns = [("sic", METRICS["sic"]), ("pointing_game", METRICS["pointing_game"])]
    named = compute_findings(rows, columns=columns)["needs_ground_truth"]
    assert [line.split(" (")[0] for line in named] == [*GROUND_TRUTH_FINDINGS, "Pointing Game"]


# ------------------------------------------------------------------------------------------ SIC / AIC
def test_pic_auc_beside_random_with_exclusion_reasons():
    better = [0.6, 0.7, 0.65, 0.8, 0.75, 0.7, 0.6, 0.72, 0.68, None]
    excluded = [None] * 9 + ["original score below min_pred_value"]
    rows = rows_for({"ig": {"sic": better, "sic_excluded": excluded},
                     "flat": {"sic": [0.4] * N, "sic_excluded": [None] * N},
                     "random": {"sic": [0.4, 0.45, 0.35, 0.42, 0.38, 0.4, 0.41, 0.39, 0.43, 0.4],
                                "sic_excluded": [None] * N}})
    findings = compute_findings(rows, details={"sic": {"ig": {"auc": 0.71}}})
    sic = entry(findings, "ig")["scores"]["sic"]
    assert sic["n"] == 9 and sic["scored"] == N
    assert sic["excluded"] == {"original score below min_pred_value": 1}
    assert sic["mean"] == pytest.approx(np.mean(better[:9])) and sic["better"] is True
    # the paired difference on the 9 images both scored, as a hand-computed Student-t interval
    random = [0.4, 0.45, 0.35, 0.42, 0.38, 0.4, 0.41, 0.39, 0.43]
    difference = np.subtract(better[:9], random)
    low, high = stats.t.interval(0.95, 8, loc=difference.mean(), scale=stats.sem(difference))
    assert (sic["difference"]["low"], sic["difference"]["high"]) == (pytest.approx(low), pytest.approx(high))
    assert sic["aggregated_auc"] == 0.71
    assert entry(findings, "flat")["scores"]["sic"]["better"] is False
    assert "SIC AUC not better than random" in entry(findings, "flat")["verdict"]
    assert any(w.startswith("flat: SIC AUC is not better than random (per-image mean 0.400 vs 0.403)")
               for w in findings["warnings"])
    assert findings["table"]["rows"][0][1].endswith("(n=9/10)")


# ------------------------------------------------------------------------------------------ randomisation
def test_randomisation_verdicts_with_threshold_and_dropped_images():
    rng = np.random.default_rng(1)
    masks, maps = masks_and_maps()
    maps["cam"] = maps["good"].copy()
    maps["cam"][:4] = 0.0  # four all-zero maps: their similarity is undefined
    columns = {
        "good": {"randomization_full": list(0.1 + 0.05 * rng.random(N)), "randomization_semi": [0.2] * N},
        "bad": {"randomization_full": list(0.9 + 0.05 * rng.random(N)), "randomization_semi": [0.1] * N},
        "middle": {"randomization_full": list(np.linspace(0.1, 0.9, N))},
        "cam": {"randomization_full": [None] * 4 + [0.2] * 3 + [None] * 3},
        "random": {"randomization_full": [0.0] * N},
    }
    maps["middle"] = maps["good"]
    findings = compute_findings(rows_for(columns), maps=maps, masks=masks)
    info = {c["column"]: c for c in findings["columns"]}
    assert info["randomization_full"]["threshold"] == 0.5 and info["randomization_full"]["evidence"] == "sanity"
    good, bad, middle, cam = (entry(findings, m) for m in ("good", "bad", "middle", "cam"))
    assert good["sanity"]["randomization_full"]["verdict"] == "passes" and good["sanity_verdict"] == "passes"
    assert bad["sanity"]["randomization_full"]["verdict"] == "fails"
    assert bad["sanity"]["randomization_semi"]["verdict"] == "passes"
    assert bad["sanity_verdict"] == "fails"  # one failed column fails the method
    assert middle["sanity_verdict"] == "inconclusive"  # mean 0.5, interval across the threshold
    values = np.linspace(0.1, 0.9, N)
    low, high = stats.t.interval(0.95, N - 1, loc=values.mean(), scale=stats.sem(values))
    assert (middle["sanity"]["randomization_full"]["low"], middle["sanity"]["randomization_full"]["high"]) == (
        pytest.approx(low), pytest.approx(high))
    full = cam["sanity"]["randomization_full"]
    assert (full["n"], full["scored"], full["dropped"]) == (3, N, 7)
    assert full["drop_reasons"] == {"the trained model's map is constant": 4,
                                    "the randomised model's map is constant (rank correlation undefined)": 3}
    assert f"cam: Randomisation (full) uses 3 of {N} images; 7 dropped (4: the trained model's map is constant; " \
           "3: the randomised model's map is constant (rank correlation undefined))" in findings["warnings"]
    assert "cam: 4 of 10 maps are constant (no pixel ranked above another)" in findings["warnings"]
    assert any(w.startswith("bad: fails the Randomisation check (similarity full 0.9") and ">= 0.5" in w
               for w in findings["warnings"])
    assert "Randomisation check fails" in bad["verdict"] and "Randomisation check passes" in good["verdict"]
    assert entry(findings, "random")["verdict"] == ["random baseline: every score is read against it"]
    assert entry(findings, "random")["sanity_verdict"] == "baseline"  # its maps ignore the model: not judged
    table = findings["table"]
    cam_row = table["rows"][[e["method"] for e in findings["methods"]].index("cam")]
    assert cam_row[table["header"].index("Randomisation, full")] == "0.20 [0.20, 0.20] (n=3/10) passes"
    assert table["highlight"] == [4]
    assert any("threshold (Randomisation (full, semi): below 0.5)" in rule for rule in findings["rules"])
    # the threshold is the metric's: a copy declaring 0.1 fails the method that passed at 0.5
    strict = copy.copy(METRICS["randomization"])
    strict.threshold = 0.1
    stricter = compute_findings(rows_for(columns), columns=[(c, strict) for c in ("randomization_full",
                                                                                   "randomization_semi")])
    assert entry(stricter, "good")["sanity_verdict"] == "fails"
    assert any("below 0.1" in rule for rule in stricter["rules"])
    # without maps the reason cannot tell which map was constant, and says so
    plain = entry(compute_findings(rows_for(columns)), "cam")["sanity"]["randomization_full"]["drop_reasons"]
    assert list(plain.values()) == [7] and "trained or the randomised" in next(iter(plain))


def test_a_reason_in_column_excluded_drops_the_image_from_a_sanity_column_too():
    similarity = [0.1, 0.12, 0.11, 0.9, 0.1, 0.13, 0.1, 0.12, 0.11, 0.1]
    excluded = [None] * 3 + ["model output unchanged"] + [None] * 6
    rows = rows_for({"ig": {"randomization_full": similarity, "randomization_full_excluded": excluded}})
    full = entry(compute_findings(rows), "ig")["sanity"]["randomization_full"]
    assert (full["n"], full["scored"], full["dropped"]) == (9, N, 1)
    assert full["drop_reasons"] == {"model output unchanged": 1}
    assert full["mean"] == pytest.approx(np.mean(similarity[:3] + similarity[4:]))


# ------------------------------------------------------------------------------------------ warnings
def test_coarse_lime_maps_and_few_images_are_flagged():
    masks, maps = masks_and_maps(n=4)
    segments = np.zeros((4, SIZE, SIZE))
    for index, count in enumerate((3, 4, 5, 4)):  # LIME at a small size: 3-5 segments per image
        segments[index] = np.repeat(np.arange(count), math.ceil(SIZE * SIZE / count))[:SIZE * SIZE].reshape(SIZE, SIZE)
    maps["lime"] = segments
    findings = compute_findings(rows_for({m: {} for m in maps}, n=4), maps=maps, masks=masks,
                                method_params={"lime": {"num_segments": 50}})
    assert "lime: 3-5 segments per image at 8x8 (num_segments=50); raise num_segments" in findings["warnings"]
    assert "good: only 4 images; the intervals are wide" in findings["warnings"]
    assert not any(w.startswith("random:") for w in findings["warnings"])


def test_bad_input_is_named():
    masks, maps = masks_and_maps()
    with pytest.raises(TypeError, match="rows must be a list"):
        compute_findings({"image": 0})
    with pytest.raises(ValueError, match=r"rows\[0\]"):
        compute_findings([{"method": "a"}])
    with pytest.raises(ValueError, match="same \\(image, method\\) twice"):
        compute_findings([{"image": 0, "method": "a"}, {"image": 0, "method": "a"}])
    with pytest.raises(ValueError, match="masks must be"):
        compute_findings([], maps=maps, masks=masks[:, :4])
    with pytest.raises(ValueError, match="image_indices"):
        compute_findings([], maps=maps, masks=masks, image_indices=np.arange(3))
    with pytest.raises(ValueError, match="confidence"):
        compute_findings([], confidence=1.5)
    with pytest.raises(TypeError, match=r"columns\[0\]"):
        compute_findings([], columns=[("sic", "sic")])
    with pytest.raises(ValueError, match=r"columns\[1\]: column 'sic' is listed twice"):
        compute_findings([], columns=[("sic", METRICS["sic"])] * 2)
    odd = copy.copy(METRICS["sic"])
    odd.evidence = "median"
    with pytest.raises(ValueError, match="evidence 'median'"):
        compute_findings([], columns=[("sic", odd)])
    no_threshold = copy.copy(METRICS["randomization"])
    no_threshold.threshold = None
    with pytest.raises(ValueError, match="finite threshold"):
        compute_findings([], columns=[("randomization_full", no_threshold)])


# ------------------------------------------------------------------------------------------ template
def test_report_template_renders_the_findings_block():
    masks, maps = masks_and_maps()
    rows = rows_for({"good": {"pointing_game": [1] * N, "randomization_full": [0.1] * 5 + [0.15] * 5},
                     "bad": {"pointing_game": [0] * N, "randomization_full": [0.95] * 5 + [0.9] * 5},
                     "random": {"pointing_game": [0] * 5 + [1] * 5, "randomization_full": [0.0] * N}})
    findings = compute_findings(rows, maps=maps, masks=masks)
    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(
        Path(__file__).parents[1] / "xai_tf" / "report" / "templates"), autoescape=True,
        undefined=jinja2.StrictUndefined)
    template = environment.get_template("report.html.j2")
    common = {"title": "t", "version": "0", "generated": "now", "config_path": None, "sections": []}
    html = template.render(findings=findings, **common)
    assert '<section id="findings">' in html and '<a href="#findings">Findings</a>' in html
    assert 'data-method="good" data-sanity="passes"' in html
    assert 'data-method="bad" data-sanity="fails"' in html
    assert "bad: fails the Randomisation check" in html
    assert '<th title="Pointing Game (hit rate, higher = better)">Pointing Game</th>' in html
    assert html.count("<tr data-method=") == 3
    assert "Adebayo et al. 2018" in html  # the rule behind the verdict is printed
    assert "Findings" not in template.render(**common)  # the builder has not passed findings: no block


# ------------------------------------------------------------------------------------------ a metric registered here
class ToyLowerMetric(MapsMetric):
    """A metric the findings know only from its declarations: lower is better, judged on its mean."""

    name = "toy_lower"
    direction = "lower"
    evidence = "mean"
    notes: ClassVar[dict[str, str]] = {"toy_lower": "Toy lower, a test metric of the findings (lower = better)"}

    def score(self, chunk, options):
        return {self.name: [0.0] * len(chunk.indices)}, {}


@pytest.fixture
def toy_metric():
    metric = register(ToyLowerMetric())
    yield metric
    unregister(metric.name)
    assert "toy_lower" not in METRICS


def test_a_registered_metric_is_judged_from_its_declared_direction(toy_metric):
    rng = np.random.default_rng(3)
    random = list(0.8 + 0.1 * rng.random(N))
    lower = [value - 0.5 + 0.01 * i for i, value in enumerate(random)]  # below random's on every image
    higher = [value + 0.3 for value in random]
    rows = rows_for({"low": {"toy_lower": lower}, "high": {"toy_lower": higher}, "random": {"toy_lower": random}})
    findings = compute_findings(rows)  # columns derived from the registry and the rows
    assert column_label(toy_metric, "toy_lower") == "Toy lower"
    assert [c["column"] for c in findings["columns"]] == ["toy_lower"]
    assert findings["table"]["header"] == ["method", "Toy lower", "sanity", "better than random"]
    low, high = entry(findings, "low")["scores"]["toy_lower"], entry(findings, "high")["scores"]["toy_lower"]
    assert low["difference"]["high"] < 0 and low["better"] is True  # lower than the baseline: better
    assert high["difference"]["low"] > 0 and high["better"] is False  # higher: not better, and warned
    assert "Toy lower better than random" in entry(findings, "low")["verdict"]
    assert any(w.startswith("high: Toy lower is not better than random") for w in findings["warnings"])
    assert not any(w.startswith("low:") for w in findings["warnings"])
    assert findings["table"]["rows"][0][1].startswith(f"{np.mean(lower):.3f} [")
    # the same values under a metric without a direction are reported, not judged
    neutral = copy.copy(toy_metric)
    neutral.direction = None
    unjudged = compute_findings(rows, columns=[("toy_lower", neutral)])
    assert entry(unjudged, "low")["scores"]["toy_lower"]["better"] is None
    assert entry(unjudged, "low")["scores"]["toy_lower"]["mean"] == pytest.approx(np.mean(lower))
    assert not unjudged["warnings"]
