"""A minimal HTML report of a study, built by the existing report machinery (``xai_tf.report.build``).

It writes ``out/report.yaml`` (the report config: the study's data and every model's train run)
and ``out/report.html``: the data set, the training curves and the held-out classification reports
(accuracy and F1 per model, paper 004's table) and the study section (``xai_tf.report.study_sections``:
scores per model x method with the random baseline and each cell's cost, aggregated curves per model,
the denoiser effect, the Difference of Means across architectures, the Pointing Game per class).
"""
from __future__ import annotations

from pathlib import Path


def report_config(out, study: dict) -> dict:
    """The ``xai_tf.report`` config of a study's output folder (paths absolute)."""
    from xai_tf.runs import run_folder_of

    data = study["data"]
    runs = [{"name": model["name"], "dir": str(run_folder_of(model["path"]).resolve())}
            for model in study["models"] if run_folder_of(model["path"]) is not None]
    config = {"title": f"Study {study['name']}", "out": str((Path(out) / "report.html").resolve()),
              "data": {"source": data["source"], "n": data["n"], "image_size": data["image_size"],
                       "seed": data["seed"]}}
    if data["source"] != "synthetic":
        config["data"] = {"source": data["source"], "image_size": data["image_size"], "color": data["color"]}
    if runs:
        config["runs"] = runs
    config["study"] = str(Path(out).resolve())  # the cells: scores, curves, denoiser effect, consistency
    return config


def write_report(out, study: dict) -> Path:
    """Write ``report.yaml`` and ``report.html`` into ``out``; returns the HTML path."""
    import yaml

    from xai_tf._io import write_atomic
    from xai_tf.report import build

    config = report_config(out, study)
    write_atomic(Path(out) / "report.yaml", yaml.safe_dump(config, sort_keys=False).encode())
    return build(config)
