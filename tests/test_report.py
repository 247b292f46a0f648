"""The HTML report: every section and figure from a tiny run, bad configs, and a real headless browser."""
from __future__ import annotations

import base64
import io
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml
from conftest import tiny_cnn
from PIL import Image
from test_report_layout import dump_dom

from xai_tf.report import ReportConfigError, build
from xai_tf.report.builder import SECTIONS
from xai_tf.report.figures import pca_projection

N, SIZE, SEED = 24, 32, 0
EVAL_OPTIONS = {"pic_entropy": "shannon", "pic_blur": "fast", "pic_thresholds": [0.05, 0.2, 0.5],
                "pic_min_pred_value": 0.0, "sensitivity_samples": 2}
IMAGE = re.compile(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"')
CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
# Figures of the full tiny report: data (samples, PCA) + 2 runs x (curves, confusion) + F1 bars
# + 2 classes x (method grid, denoised grid) + 2 classes x denoise grid + SIC + AIC
# + one critical-difference diagram per evaluated column ("Which method": 7 columns).
EXPECTED_FIGURES = 2 + 2 * 2 + 1 + 2 * 2 + 2 + 2 + 7


def _write_run(folder: Path, model, history: dict, report: dict) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    model.save(folder / "model.keras")
    (folder / "history.json").write_text(json.dumps(history))
    (folder / "report.json").write_text(json.dumps(report))
    (folder / "config.json").write_text(json.dumps({"command": "train", "arguments": {
        "data": "synthetic", "n": N, "image_size": SIZE, "seed": SEED, "model": "tiny", "epochs": 1}}))


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """A tiny finished project: a training run, `xai-tf explain` output and an evaluation runner folder."""
    from xai_tf import models
    from xai_tf.cli import build_parser
    from xai_tf.cli.explain import run_explain
    from xai_tf.data import load
    from xai_tf.evaluation import evaluate

    root = tmp_path_factory.mktemp("report")
    data = load("synthetic", n=N, image_size=SIZE, seed=SEED)
    train, held_out = data.split(0.25, seed=SEED)
    result = models.fit(tiny_cnn((SIZE, SIZE, 1), 2), train, held_out, epochs=1, augment=False, verbose=0)
    report = models.classification_report(result.model, held_out, verbose=0)
    _write_run(root / "train", result.model, result.history, report)
    run_explain(build_parser().parse_args([
        "explain", "--model", str(root / "train" / "model.keras"), "--data", "synthetic",
        "--methods", "gradcam,vanilla_gradient",
        "--limit", "6", "--n", str(N), "--image-size", str(SIZE), "--seed", str(SEED),
        "--out", str(root / "explain"), "--verbose", "0"]))
    summary = evaluate(result.model, held_out, ["gradcam", "random"],
                       ["sic", "aic", "max_sensitivity", "xai_entropy", "pointing_game", "randomization"],
                       root / "evaluation",
                       chunk_size=4, options=EVAL_OPTIONS, verbose=0)
    config = {"title": "Tiny <b>report</b>", "data": {"source": "synthetic", "n": N, "image_size": SIZE, "seed": SEED},
              "runs": [{"name": "first", "dir": "train"}, {"name": "second", "dir": "train"}],
              "explain": {"dir": "explain", "per_class": 2}, "denoise": {"methods": ["tv", "median"]},
              "evaluation": ["evaluation"]}
    (root / "report.yaml").write_text(yaml.safe_dump(config))
    return {"root": root, "config": config, "summary": summary, "model": result.model, "held_out": held_out,
            "labels": data.labels}


@pytest.fixture(scope="module")
def report_html(project):
    path = build(project["root"] / "report.yaml")
    return path, path.read_text()


def _images(html: str) -> list[Image.Image]:
    decoded = []
    for payload in IMAGE.findall(html):
        image = Image.open(io.BytesIO(base64.b64decode(payload, validate=True)))
        image.load()
        decoded.append(image)
    return decoded


def _headings(html: str) -> list[str]:
    return re.findall(r"<h2>(.*?)</h2>", html)


def test_report_has_every_section_and_figure(project, report_html):
    path, html = report_html
    assert path == project["root"] / "report.html"  # default: beside the config
    assert _headings(html) == ["Findings"] + [title for _, title in SECTIONS]  # Findings first
    # every section had what it needs (the meta-evaluation is a run of its own, tests/test_meta_evaluation.py)
    skipped = re.findall(r'<section id="(\w+)">\s*<h2>[^<]*</h2>\s*<p class="note">Skipped', html)
    assert skipped == ["meta"] and html.count('class="note"') == 1
    # Findings: one column per evaluated result column (labels from the registry), a sanity verdict per method
    # (the summary first; the table split to fit the page, the method column in each part, the badges in the first)
    findings = html[html.index('<section id="findings">'):html.index('<ul class="verdicts">')]
    assert findings.index('class="summary"') < findings.index('<table class="findings"')
    heads = [re.findall(r"<th(?: [^>]*)?>(.*?)</th>", part)
             for part in re.findall(r'<table class="findings".*?</thead>', findings, re.S)]
    assert all(head[0] == "method" for head in heads)
    assert [cell for head in heads for cell in head[1:]] == [
        "sanity", "better than random", "share of |map| in mask", "max in mask", "SIC AUC", "AIC AUC",
        "Max-Sensitivity", "XAI entropy", "Pointing Game", "Randomisation, full", "Randomisation, semi"]
    verdicts = dict(re.findall(r'<tr data-method="(\w+)" data-sanity="([\w ]+)"', html))
    assert verdicts["random"] == "baseline" and verdicts["gradcam"] in ("passes", "fails", "inconclusive")
    # the grids are also files beside the report
    assert sorted(p.name for p in (path.parent / "figures").glob("*.png")) == sorted(
        f"{stem}.png" for stem in ("methods_FRI", "methods_FRI_tv", "methods_FRII", "methods_FRII_tv",
                                   "denoised_vanilla_gradient_FRI", "denoised_vanilla_gradient_FRII"))
    images = _images(html)
    assert len(images) == html.count("<img ") == EXPECTED_FIGURES
    assert all(image.format == "PNG" and min(image.size) > 50 for image in images)
    # Self-contained: nothing loaded from elsewhere.
    assert not re.search(r'(src|href)="(?!data:|#)', html)
    assert "<link" not in html and "<script src" not in html


def test_report_tables_hold_the_runner_numbers(project, report_html):
    _, html = report_html
    table = project["summary"]["table"]
    pic = project["summary"]["pic"]
    for method in ("gradcam", "random"):
        entry = table[method]
        expected = f"{entry['xai_entropy']:.3f} ± {entry['xai_entropy_std']:.3f} (n={entry['xai_entropy_n']})"
        assert expected in html
        assert f"{entry['pointing_game']:.3f} ± " in html
        if pic["aic"][method]["auc"] is not None:
            assert f"<td>{pic['aic'][method]['auc']:.3f}</td>" in html
    assert "random (random baseline)" in html
    assert 'class="highlight"' in html
    report = json.loads((project["root"] / "train" / "report.json").read_text())
    assert f"<td>{report['macro avg']['f1-score']:.3f}</td>" in html


def test_report_records_config_versions_and_escapes(report_html):
    import tensorflow

    _, html = report_html
    assert "Tiny &lt;b&gt;report&lt;/b&gt;" in html and "<b>report</b>" not in html  # autoescaped
    assert f"<td>{tensorflow.__version__}</td>" in html
    assert "&#34;evaluation&#34;" in html and "&#34;pic_thresholds&#34;" in html  # report + runner configs


@pytest.mark.parametrize("shape", [(30, 4, 4, 1), (10, 6, 6, 1)])  # more images than pixels, and fewer
def test_pca_projection_matches_reference(shape):
    rng = np.random.default_rng(0)
    images = rng.random(shape)
    scores, ratio = pca_projection(images)
    flat = images.reshape(shape[0], -1)
    covariance = np.cov(flat, rowvar=False)
    values, vectors = np.linalg.eigh(covariance)
    top = vectors[:, ::-1][:, :2]
    reference = (flat - flat.mean(0)) @ top
    np.testing.assert_allclose(np.abs(scores), np.abs(reference), atol=1e-9)  # up to the sign of each axis
    np.testing.assert_allclose(ratio, values[::-1][:2] / values.sum(), rtol=1e-9)


def test_missing_sections_are_noted_not_fatal(project, tmp_path):
    path = build({"data": project["config"]["data"]}, out=tmp_path / "only_data.html")
    html = path.read_text()
    assert _headings(html) == [title for _, title in SECTIONS]
    notes = re.findall(r'<p class="note">(.*?)</p>', html)
    skipped = re.findall(r'<section id="(\w+)">\s*<h2>[^<]*</h2>\s*<p class="note">Skipped', html)
    assert skipped == ["training", "classification", "explanations", "denoising", "curves", "metrics", "which", "meta"]
    assert len(notes) == len(skipped)
    assert len(_images(html)) == 2


@pytest.mark.parametrize("config, words", [
    ({"tittle": "x"}, ["'tittle'", "title", "evaluation"]),
    ({"data": {"source": "synthetic", "size": 3}}, ["'size'", "image_size"]),
    ({"runs": [{"name": "a", "dir": "x", "path": "y"}]}, ["'path'", "name, dir"]),
    ({"explain": {"dir": "x", "grid": "tv"}}, ["'grid'", "denoised_grid"]),
    ({"runs": "train"}, ["list"]),
])
def test_bad_config_keys_are_named(config, words):
    with pytest.raises(ReportConfigError) as error:  # a ValueError
        build(config)
    for word in words:
        assert word in str(error.value)


def test_bad_config_files_and_values(project, tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="not a file"):
        build(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.txt"
    bad.write_text("title: x")
    with pytest.raises(ValueError, match=r"\.yaml, \.yml or \.json"):
        build(bad)
    with pytest.raises(TypeError, match="config must be a dict"):
        build(["title"])
    monkeypatch.chdir(project["root"])  # a dict config's relative paths are relative to the working directory
    config = {**project["config"], "denoise": {"methods": ["tv", "sharpen"]}}
    with pytest.raises(ValueError, match=r"'sharpen'.*bilateral"):
        build(config, out=tmp_path / "x.html")
    with pytest.raises(ValueError, match="does not exist"):
        build({"runs": [{"name": "a", "dir": str(tmp_path / "nowhere")}]}, out=tmp_path / "x.html")
    corrupt = tmp_path / "corrupt"
    shutil.copytree(project["root"] / "train", corrupt)
    (corrupt / "model.keras").write_bytes(b"not a zip file")
    with pytest.raises(ValueError, match="model.keras.* is a text file: it is not a Keras model file"):
        build({"runs": [{"name": "a", "dir": str(corrupt)}], "evaluation": "evaluation"}, out=tmp_path / "x.html")


def test_json_config_with_absolute_paths(project, tmp_path):
    root = project["root"]
    config = {"runs": [{"name": "only", "dir": str(root / "train")}], "evaluation": str(root / "evaluation")}
    (tmp_path / "c.json").write_text(json.dumps(config))
    html = build(tmp_path / "c.json").read_text()
    assert "One model: the F1 comparison" in html
    assert len(_images(html)) == 2 + 2 + 7  # curves, confusion matrix, SIC, AIC, a CD diagram per column


def test_results_of_another_configuration_are_refused(project, tmp_path):
    from xai_tf.evaluation import evaluate

    root = project["root"]
    other = tiny_cnn((SIZE, SIZE, 1), 2, seed=5)  # a different model scored on the same images
    evaluate(other, project["held_out"].subset(np.arange(2)), ["gradcam"], ["xai_entropy"], tmp_path / "other",
             verbose=0)
    config = {**project["config"], "explain": None, "evaluation": [str(tmp_path / "other")]}
    config["runs"] = [{"name": "first", "dir": str(root / "train")}]
    config["data"] = None
    with pytest.raises(ValueError, match="none of the runs' models"):
        build(config, out=tmp_path / "x.html")
    # A run trained on other data than the config's data section.
    with pytest.raises(ValueError, match=r"other data \(image_size: 32 in the run vs 48"):
        build({"data": {"source": "synthetic", "n": N, "image_size": 48, "seed": SEED},
               "runs": [{"name": "first", "dir": str(root / "train")}]}, out=tmp_path / "x.html")
    # Explanations made by a model that is not one of the runs'.
    explained = tmp_path / "explain"
    shutil.copytree(root / "explain", explained)
    other.save(tmp_path / "other.keras")
    meta = json.loads((explained / "explain.json").read_text())
    meta["arguments"]["model"] = str(tmp_path / "other.keras")
    meta.pop("model_weights")  # an explain folder of the format without the fingerprint: checked by the path
    (explained / "explain.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="explanations .* none of the runs' models"):
        build({"runs": [{"name": "first", "dir": str(root / "train")}], "explain": str(explained)},
              out=tmp_path / "x.html")


def _dump_dom(path: Path, profile: Path) -> str:
    # A 1280 px wide window: the report's 1200 px column fits, so "wider than the page" means wider than it
    return dump_dom(path, profile, window="1280,2000", budget_ms=10000, browser=CHROMIUM, flags=("--disable-quic",))


# The skip sits on the test (a skipif on a helper does nothing: the test then ran [None, ...]); where
# Chromium is installed the test runs and can fail.
@pytest.mark.skipif(CHROMIUM is None, reason="Debian `chromium` is not installed (apt-get install chromium); "
                                             "the headless-browser check of the report is skipped")
def test_report_loads_in_headless_chromium(report_html, tmp_path):
    path, html = report_html
    dom = _dump_dom(path, tmp_path / "profile")
    count = html.count("<img ")
    assert f'data-images-loaded="{count}/{count}"' in dom  # the page's load handler ran: every figure decoded
    assert dom.count('data-loaded="yes"') == count and 'data-loaded="no"' not in dom
    assert 'data-images-too-wide="0"' in dom and 'data-fits="no"' not in dom  # no figure wider than the page
    assert re.findall(r"<h2>(.*?)</h2>", dom) == ["Findings"] + [title for _, title in SECTIONS]
    # the Findings table has a row per evaluated method, each with its sanity-check verdict
    verdicts = dict(re.findall(r'<tr data-method="(\w+)" data-sanity="([\w ]+)"', dom))
    assert set(verdicts) == {"gradcam", "random"}
    assert verdicts["gradcam"] in ("passes", "fails", "inconclusive")
    # The check can fail: a figure whose data is not an image is reported as not loaded.
    payload = IMAGE.search(html).group(1)
    broken = tmp_path / "broken.html"
    broken.write_text(html.replace(payload, base64.b64encode(b"not a PNG at all").decode(), 1))
    dom = _dump_dom(broken, tmp_path / "profile")
    assert f'data-images-loaded="{count - 1}/{count}"' in dom and dom.count('data-loaded="no"') == 1
