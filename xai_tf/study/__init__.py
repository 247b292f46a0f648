"""Studies: a paper's whole experiment (data x split x models x methods x denoisers x metrics) from one config.

::

    import xai_tf.study
    result = xai_tf.study.run("study.yaml", out="runs/my-study")          # in-process
    result = xai_tf.study.run("paper004-synthetic", dask="local:2")       # a LocalCluster of 2 processes

    xai-tf study --config study.yaml [--out DIR] [--dask local:2|tcp://host:8786]
    xai-tf study paper004-synthetic
    xai_tf.study.compare("runs/my-study", metric="sic")                  # method ranks across models

Units of work: train one model; explain one chunk of held-out images for one model x method, then
denoise the maps and score them for each denoiser cell. Every cell (model x method x denoiser) has
its own configuration hash and resumable store folder, so rerunning computes nothing and changing
one method's parameters recomputes only that method's cells.

Denoised cells: the metrics score the denoised maps (SIC/AIC, XAI entropy, Pointing Game: the
metrics with ``scores == "maps"``). Metrics that re-run the method (``scores == "method"``:
Max-Sensitivity, model randomisation) would re-run the raw method and compare its maps with
denoised ones, so a study refuses them next to a denoiser other than ``none``.

Modules: ``config`` (the format and its checks), ``tasks`` (the typed units of work, ``ModelTask`` and
``ScoreTask``, and the functions that run them anywhere), ``model_tasks`` (one model's work on the
client: its task, training, its cells and their score tasks), ``engine`` (in-process or Dask
distributed), ``runner`` (``run``: builds the tasks, submits them, writes the stores),
``output`` (the tables), ``compare`` (each method's rank per model, Friedman over the models,
one critical-difference diagram per metric). Shipped studies: ``xai_tf/study/studies/*.yaml``.
"""
from xai_tf.study.compare import compare
from xai_tf.study.config import check_config, read_config, shipped_studies
from xai_tf.study.runner import cell_config, config_hash, run

__all__ = ["cell_config", "check_config", "compare", "config_hash", "read_config", "run", "shipped_studies"]
