"""Self-contained HTML reports from finished runs: ``xai_tf.report.build(config, out=None)``.

See ``xai_tf.report.config`` (``SCHEMA``) for the config schema; ``xai-tf report --config X`` calls ``build``.
``compute_findings`` (``xai_tf.report.findings``) turns an evaluation's rows into the report's Findings.
"""
from xai_tf.report.builder import ReportConfigError, build, load_config
from xai_tf.report.findings import compute_findings

__all__ = ["ReportConfigError", "build", "compute_findings", "load_config"]
