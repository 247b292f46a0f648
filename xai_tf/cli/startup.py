"""What the ``xai-tf`` entry point does before a command runs: quiet TensorFlow, help without TensorFlow.

``xai-tf --help`` and ``xai-tf <command> --help`` must answer at once, so nothing here imports
TensorFlow or Keras at module level, and the method listing of ``xai-tf explain --help`` is read
from the records' table in ``xai_tf/explainers/registry.py`` with ``ast`` (the records' module
imports every method, hence TensorFlow) unless that module is already loaded, when its live
:func:`~xai_tf.explainers.describe_methods` is used (methods registered at run time included).
``tests/test_cli_startup.py`` checks that both listings agree.
"""
from __future__ import annotations

import ast
import importlib
import os
import sys
from pathlib import Path

from xai_tf._listing import method_listing

#: The flag that lets TensorFlow's and absl's start-up lines through (any position in argv).
TF_LOG_FLAG = "--tf-log"
#: ``xai-tf meta-evaluate``'s help line (``xai_tf.cli.meta_evaluate.add_meta_command``), listed without TensorFlow.
META_HELP = "can the metrics be trusted: noise resilience and adversary reactivity (MetaQuantus)"
#: Environment variables set (unless the user set them) before TensorFlow loads, without --tf-log.
QUIET_ENVIRONMENT = {"TF_CPP_MIN_LOG_LEVEL": "3", "GRPC_VERBOSITY": "ERROR", "GLOG_minloglevel": "3"}


def prepare(argv: list[str]) -> tuple[list[str], bool]:
    """Strip ``--tf-log`` from ``argv`` and set the quiet environment unless it (or ``--verbose 2``) was given.

    Returns ``(argv without --tf-log, loud)``; ``loud`` is True when TensorFlow's own start-up log
    should be shown (``--tf-log``, or ``--verbose 2`` as before); the commands that start TensorFlow
    after parsing (``evaluate``, the metric catalogue) are given it as an argument.
    """
    loud = TF_LOG_FLAG in argv
    argv = [arg for arg in argv if arg != TF_LOG_FLAG]
    loud = loud or any(a == "--verbose=2" or (a == "--verbose" and argv[i + 1:i + 2] == ["2"])
                       for i, a in enumerate(argv))
    if loud:  # the start-up lines and warnings; not the INFO lines (XLA's "Compiled cluster") mid-output
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")
    else:
        for name, value in QUIET_ENVIRONMENT.items():
            os.environ.setdefault(name, value)
    return argv, loud


_STARTED: list = []  # non-empty once start_tensorflow ran in this process


def start_tensorflow(loud: bool) -> None:
    """Import TensorFlow once before a command runs; quietly unless ``loud``; Keras bars off when not a terminal.

    Without ``loud``, TensorFlow's C++ start-up lines (absl's "All log messages before
    absl::InitializeLog()", oneDNN notices, cuInit on a machine without a GPU) are sent to
    ``/dev/null``: they are printed before ``TF_CPP_MIN_LOG_LEVEL`` is read. An import error is
    raised again, so nothing real is hidden. When standard output is not a terminal, Keras'
    progress bars (``verbose=1``: escape codes redrawn at every step; Keras takes any POSIX
    output for a terminal) print as ``verbose=2`` does, one plain line when done, so a log gets
    the epoch lines and no escape code; without Keras' ``Progbar`` class to adjust, interactive
    logging is switched off instead (``keras.utils.disable_interactive_logging``).
    """
    if _STARTED:
        return
    if not loud:
        _import_quietly()
    import keras

    _STARTED.append(True)

    if not _is_terminal(sys.stdout):
        _plain_progress_bars(keras)


def _plain_progress_bars(keras) -> None:
    try:
        from keras.src.utils.progbar import Progbar
    except ImportError:  # another Keras layout: no progress output at all rather than escape codes
        keras.utils.disable_interactive_logging()
        return
    if getattr(Progbar.__init__, "plain_when_not_a_terminal", False):
        return
    original = Progbar.__init__

    def __init__(self, *args, **kwargs):
        original(self, *args, **kwargs)
        if self.verbose == 1 and not _is_terminal(sys.stdout):
            self.verbose = 2  # one line when done, no escape code

    __init__.plain_when_not_a_terminal = True
    Progbar.__init__ = __init__


def _is_terminal(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def _import_quietly() -> None:
    try:
        saved = os.dup(2)
    except OSError:  # no file descriptor 2 (an embedded interpreter): nothing to silence
        return
    try:
        with open(os.devnull, "w") as sink:
            os.dup2(sink.fileno(), 2)
            try:
                import tensorflow

                tensorflow.config.list_physical_devices("GPU")  # initialises CUDA now, quietly
                import keras  # noqa: F401  (its own start-up lines too)
            finally:
                os.dup2(saved, 2)
    finally:
        os.close(saved)


# ------------------------------------------------------------------------- methods without TensorFlow
_REGISTRY = Path(__file__).parents[1] / "explainers" / "registry.py"


def describe_methods_offline() -> str:
    """The text of ``xai_tf.explainers.describe_methods()``, without importing TensorFlow when possible.

    When ``xai_tf.explainers.registry`` is loaded, its live listing is returned; else the records'
    table is read from the module's source (``_R(name, function, family, description, flags...)``
    calls and the ``FAMILIES`` literal) and formatted as ``MethodRecord.help_line`` does; a source
    this reader cannot follow (a non-literal field) falls back to the live registry.
    """
    registry = sys.modules.get("xai_tf.explainers.registry")
    try:
        families, records = _read_registry(_REGISTRY.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError, TypeError):  # a table this reader does not follow: the live one
        registry = registry or importlib.import_module("xai_tf.explainers.registry")
    if registry is not None:
        return registry.describe_methods()
    return method_listing(families, sorted(records, key=lambda record: record["name"]))


def _read_registry(source: str) -> tuple[dict, list[dict]]:
    tree = ast.parse(source)
    families, records = {}, []
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "FAMILIES" for t in node.targets):
            families = ast.literal_eval(node.value)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.target.id == "FAMILIES":
            families = ast.literal_eval(node.value)
        elif isinstance(node, ast.For) and isinstance(node.iter, ast.Tuple):  # for _record in (_R(...), ...)
            records.extend(_record_of(call) for call in node.iter.elts if isinstance(call, ast.Call))
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call) and node.value.args \
                and isinstance(node.value.args[0], ast.Call):  # register(MethodRecord(...))
            records.append(_record_of(node.value.args[0]))
    return families, records


def _record_of(call: ast.Call) -> dict:
    """The literal fields of ``MethodRecord(name, function, family, description, **flags)``."""
    names = ("name", "function", "family", "description")
    record = {key: ast.literal_eval(value) for key, value in zip(names, call.args) if key != "function"}
    record.update({kw.arg: ast.literal_eval(kw.value) for kw in call.keywords if kw.arg and kw.arg != "function"})
    return record
