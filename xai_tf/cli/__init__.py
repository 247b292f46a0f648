"""The ``xai-tf`` command line (a package): one module per command, each parsing its flags into one library call.

``main`` (the ``xai-tf`` console script, ``python -m xai_tf.cli``) and ``build_parser`` live in
``xai_tf.cli.program``. The commands: ``train`` (``xai_tf.cli.train``), ``data list | verify``
(``xai_tf.cli.data``), ``explain`` (``xai_tf.cli.explain``), ``evaluate`` and ``evaluate merge``
(``xai_tf.cli.evaluate``), ``meta-evaluate`` (``xai_tf.cli.meta_evaluate``), ``compare``
(``xai_tf.cli.compare``), ``study`` (``xai_tf.cli.study``), ``report`` (``xai_tf.cli.report``) and
``demo`` (``xai_tf.cli.demo``). Shared by several: the data flags (``xai_tf.cli.data_flags``) and
what runs before a command (``xai_tf.cli.startup``: TensorFlow started quietly, help without
TensorFlow; the metric names and flags of ``--help`` read from ``xai_tf.cli.catalogue``).

This module imports nothing until a name is used (``xai_tf._lazy``): ``xai-tf --help`` must not
load TensorFlow.
"""
from xai_tf._lazy import lazy_exports

# name -> module, imported on first use
_EXPORTS = {"build_parser": "program", "main": "program"}

__all__ = ["build_parser", "main"]
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
