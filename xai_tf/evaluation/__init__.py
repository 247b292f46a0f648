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
``merge``, ``compare`` (which method: paired tests, ranks, critical-difference diagrams, written
to ``comparison.json``/``comparison.csv``; its statistics are ``statistics``'), ``cli``. Metrics
come from ``xai_tf.metrics.registry.METRICS`` (the metric protocol); files are written and
fingerprinted by ``xai_tf._io``.
"""
from xai_tf._io import fingerprint
from xai_tf.evaluation.cli import build_parser, cli_main
from xai_tf.evaluation.compare import compare
from xai_tf.evaluation.config import build_config, check_options
from xai_tf.evaluation.merge import merge
from xai_tf.evaluation.runner import evaluate
from xai_tf.evaluation.shards import parse_shard, shard_chunks
from xai_tf.evaluation.statistics import critical_difference, holm
from xai_tf.evaluation.store import CONFIG, RESULTS, EvaluationError, Store
from xai_tf.evaluation.summary import pic_results, read_results, summarize
from xai_tf.evaluation.units import (
           Unit,
           UnitScorer,
           chunk_seed,
           pending_units,
           plan_units,
)

__all__ = ["CONFIG", "RESULTS", "EvaluationError", "Store", "Unit", "UnitScorer", "build_config", "build_parser",
           "check_options", "chunk_seed", "cli_main", "compare", "critical_difference", "evaluate", "fingerprint",
           "holm", "merge", "parse_shard", "pending_units", "pic_results", "plan_units", "read_results",
           "shard_chunks", "summarize"]
