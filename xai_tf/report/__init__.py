"""Self-contained HTML reports from finished runs: ``xai_tf.report.build(config, out=None)``.

See ``xai_tf.report.config`` (``SCHEMA``) for the config schema; ``xai-tf report --config X`` calls ``build``.
``compute_findings`` (``xai_tf.report.findings``) turns an evaluation's rows into the report's Findings.
"""
from xai_tf._lazy import lazy_exports

# imported on first use: ``xai-tf report --help`` reads ``config.SCHEMA`` without loading TensorFlow
_EXPORTS = {"ReportConfigError": "builder", "build": "builder", "load_config": "builder",
            "compute_findings": "findings"}
__all__ = ["ReportConfigError", "build", "compute_findings", "load_config"]
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
