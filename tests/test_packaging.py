"""Installed as users install it: the wheel ships the manifests, templates and studies, and works outside the source.

The wheel is built from a copy of the sources (``pip wheel --no-deps --no-build-isolation``: no
network needed), installed with ``pip install --target`` into a fresh folder and run from a working
directory outside the repository with only that folder (and this interpreter's site-packages, for
the dependencies) on the path. Marked ``packaging`` (``pytest -m packaging``).
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import xai_tf

pytestmark = pytest.mark.packaging

SOURCE = Path(xai_tf.__file__).resolve().parents[1]
SHIPPED = sorted(path.stem for path in (SOURCE / "xai_tf" / "data" / "manifest_data").glob("*.json"))


def run(argv, *, cwd, env=None, check=True) -> subprocess.CompletedProcess:
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    if check:
        assert done.returncode == 0, f"{argv} failed:\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """``(site folder, environment, working directory)`` of the wheel installed with ``pip --target``."""
    root = tmp_path_factory.mktemp("packaging")
    source = root / "src"
    source.mkdir()
    for name in ("setup.cfg", "setup.py", "README.md", "pyproject.toml", "MANIFEST.in"):
        if (SOURCE / name).is_file():
            shutil.copy2(SOURCE / name, source / name)
    shutil.copytree(SOURCE / "xai_tf", source / "xai_tf", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    built = run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-cache-dir",
                 "-w", str(root / "wheel"), str(source)], cwd=root)
    assert "absent from the `packages` configuration" not in built.stdout + built.stderr  # setuptools' warning
    (wheel,) = (root / "wheel").glob("xai_tf-*.whl")
    site = root / "site"
    run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-compile", "--target", str(site), str(wheel)],
        cwd=root)
    env = {**os.environ, "PYTHONPATH": str(site)}
    env.pop("XAI_TF_MANIFESTS", None)
    outside = root / "elsewhere"
    outside.mkdir()
    return site, env, outside


def xai_tf_command(site: Path, *args: str) -> list[str]:
    return [sys.executable, str(site / "bin" / "xai-tf"), *args]


def test_the_installed_package_is_the_wheel_not_the_source(installed):
    site, env, outside = installed
    done = run([sys.executable, "-c", "import xai_tf, xai_tf.data.manifests as m; print(xai_tf.__file__); "
                                      "print(m.manifests_dir())"], cwd=outside, env=env)
    package, manifests = done.stdout.split()
    assert Path(package).resolve().is_relative_to(site.resolve())
    assert Path(manifests).resolve() == (site / "xai_tf" / "data" / "manifest_data").resolve()
    for data_file in ("report/templates/report.html.j2", "study/studies/paper004-synthetic.yaml"):
        assert (site / "xai_tf" / data_file).is_file(), data_file


def test_data_list_shows_every_manifest(installed):
    site, env, outside = installed
    done = run(xai_tf_command(site, "data", "list"), cwd=outside, env=env)
    listed = [line.split()[0] for line in done.stdout.splitlines()]
    assert SHIPPED and listed == SHIPPED


def test_data_verify_reads_a_shipped_manifest_and_a_fixture(installed, tmp_path):
    site, env, outside = installed
    empty = tmp_path / "empty"
    empty.mkdir()
    done = run(xai_tf_command(site, "data", "verify", "object_cxr", str(empty)), cwd=outside, env=env, check=False)
    assert done.returncode == 1 and "missing file: train.csv" in done.stdout, done.stdout + done.stderr
    root = tmp_path / "tiny"
    (root / "a").mkdir(parents=True)
    (root / "a" / "1.png").write_bytes(b"one")
    manifest = {"name": "tiny", "title": "Tiny", "loader": "image_folder",
                "layout": [{"path": "a/1.png", "sha256": hashlib.sha256(b"one").hexdigest()}]}
    (tmp_path / "tiny.json").write_text(json.dumps(manifest))
    done = run(xai_tf_command(site, "data", "verify", str(tmp_path / "tiny.json"), str(root)), cwd=outside, env=env)
    assert done.stdout.startswith("tiny: OK") and "1 files matched, 1 checksums verified" in done.stdout


def test_train_explain_and_report_run_from_the_wheel(installed, tmp_path):
    # the whole first-hour path from the installed package: templates, study files and manifests from the wheel
    site, env, outside = installed
    run(xai_tf_command(site, "train", "--data", "synthetic", "--n", "40", "--image-size", "32", "--model", "custom-v1",
                       "--epochs", "1", "--no-augment", "--verbose", "0", "--out", str(tmp_path / "train")),
        cwd=outside, env=env)
    done = run(xai_tf_command(site, "explain", "--model", str(tmp_path / "train" / "model.keras"), "--data",
                              "synthetic", "--methods", "gradcam,random", "--limit", "4", "--verbose", "0",
                              "--out", str(tmp_path / "explain")), cwd=outside, env=env)
    assert "data: synthetic radio galaxies" in done.stdout  # said, never silent
    with np.load(tmp_path / "explain" / "maps.npz") as maps:
        assert sorted(maps.files) == ["gradcam", "random"] and maps["gradcam"].shape == (4, 32, 32)
    (tmp_path / "report.yaml").write_text("title: from the wheel\nruns:\n- {name: tiny, dir: train}\n"
                                          "explain: {dir: explain, per_class: 1}\n")
    done = run(xai_tf_command(site, "report", "--config", str(tmp_path / "report.yaml")), cwd=outside, env=env)
    html = (tmp_path / "report.html").read_text()
    assert done.stdout.strip() == f"wrote {tmp_path / 'report.html'}"
    assert "from the wheel" in html and "gradcam" in html
