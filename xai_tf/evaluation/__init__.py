"""The evaluation runner (a package): score saliency methods over a data set, resumably and in shards.

``evaluate(model, data, methods, metrics, out_dir, shard=None)`` explains every image with every
method and scores the maps with the chosen metrics, writing as it goes:

- ``out_dir/config.json``: everything that decides the results (methods, metrics and their
  options, seed, chunk size, shard, fingerprints of the model's weights and of the images), plus
  package versions and the start time (recorded, not compared). A later run in the same folder
  with a different configuration is refused with the differing keys named.
- ``out_dir/results.jsonl``: one JSON line per (image, method), appended and fsync'ed as soon as
  its chunk is scored: ``image`` (index in the data set), ``method``, ``target``, ``label`` and one
  column per metric (``sic``/``aic``: the image's AUC, with ``sic_excluded``/``aic_excluded`` the
  reason PIC left it out; ``pointing_game``: 1 hit / 0 miss; ``randomization_full`` /
  ``randomization_semi``: Spearman similarity to the maps of the randomised model).
- ``out_dir/arrays/chunk{c:06d}_{method}.npz``: the maps of that chunk and its PIC results (written
  atomically before the chunk's rows).
- ``summary.json``, ``table.csv`` (method x metric, like paper 001's Table 1) and
  ``curve_<column>.png`` (the aggregated curves of every curve metric: SIC, AIC, Deletion, ...).

Resuming: run the same command again. Finished (chunk, method) units are skipped; a truncated or
unreadable line, a duplicate row or a corrupt ``.npz`` is reported and its unit redone (the file is
rewritten without the bad rows first). Nothing finished is recomputed.

Sharding (``shard=(k, n)``, ``--shard k/n``): images are cut into chunks of ``chunk_size``
consecutive images (chunk ``c`` holds images ``c*chunk_size ... (c+1)*chunk_size - 1``) and shard
``k`` of ``n`` (1-based) takes the chunks with ``c % n == k - 1``. Each chunk is scored by pure
functions of its images and of seeds derived from ``(seed, chunk)`` / ``(seed, image index)``, so
results do not depend on which shard or process computed them, and ``merge`` of the shards' folders
equals one unsharded run. Each shard writes its own folder; a lock file refuses a second process on
the same folder, and the recorded shard refuses another shard in it.

Modules: ``units`` (the evaluation unit: plan, resume, explain, score; used by ``evaluate``, the
studies and the demo), ``config`` (the one builder of ``config.json`` and the checks before it),
``shards`` (``--shard`` parsing and the chunks of a shard), ``store`` (the folder: lock, config,
rows, arrays), ``runner`` (``evaluate``), ``summary`` (data only; figures by ``xai_tf.viz``),
``merge``, ``compare`` (which method: paired tests, ranks, critical-difference diagrams, written to
``comparison.json``/``comparison.csv``; its statistics are ``statistics``'), ``meta`` (can the
metric be trusted: ``meta_evaluate``, MetaQuantus' noise-resilience and adversary-reactivity tests,
written to ``meta_evaluation.json``/``.csv``; ``meta_shards``: its runs in shards),
``parameterisation`` (how the method rankings move when one metric option changes), ``skipping``
(``skipped.json``). Its command line (``xai-tf evaluate``, ``meta-evaluate``, ``compare``) is
``xai_tf.cli``'s. Metrics come from
``xai_tf.metrics.registry.METRICS`` (the metric protocol); files are written and fingerprinted by
``xai_tf._io``.
"""
import sys
import types

from xai_tf._io import fingerprint
from xai_tf._lazy import lazy_exports

# name -> module, imported on first use (``xai_tf._lazy``): ``xai-tf --help`` must not load TensorFlow
_EXPORTS = {
    "CONFIG": "store",
    "EvaluationError": "store",
    "RESULTS": "store",
    "Store": "store",
    "Unit": "units",
    "UnitScorer": "units",
    "build_config": "config",
    "check_options": "config",
    "chunk_seed": "units",
    "compare": "compare",
    "critical_difference": "statistics",
    "evaluate": "runner",
    "holm": "statistics",
    "merge": "merge",
    "meta_consistency": "meta",
    "meta_evaluate": "meta",
    "parameterisation": "parameterisation",
    "parse_shard": "shards",
    "pending_units": "units",
    "pic_results": "summary",
    "plan_units": "units",
    "read_results": "summary",
    "shard_chunks": "shards",
    "summarize": "summary",
}

__all__ = ["CONFIG", "RESULTS", "EvaluationError", "Store", "Unit", "UnitScorer", "build_config",
           "check_options", "chunk_seed", "compare", "critical_difference", "evaluate", "fingerprint",
           "holm", "merge", "meta_consistency", "meta_evaluate", "parameterisation", "parse_shard", "pending_units",
           "pic_results", "plan_units", "read_results", "shard_chunks", "summarize"]
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)


class _Package(types.ModuleType):
    """Importing submodule ``compare`` (``merge``, ``parameterisation``) binds it on the package; the
    package's name ``compare`` is that module's function, as the eager imports made it."""

    def __setattr__(self, name, value):
        if isinstance(value, types.ModuleType) and _EXPORTS.get(name) == name and hasattr(value, name):
            value = getattr(value, name)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
