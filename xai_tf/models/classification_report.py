"""Classification report: per-class precision/recall/F1/support, accuracy, averages, confusion matrix.

Written here (not scikit-learn's) so the result is a plain JSON-ready dict that reports and the CLI
store as is; the numbers follow scikit-learn's definitions (zero division gives 0.0), which a test
checks against ``sklearn.metrics.classification_report``.
"""
from __future__ import annotations

import numpy as np

from xai_tf._io import write_json
from xai_tf.models.head import head_of
from xai_tf.models.training import as_arrays, check_labels


def predict_classes(model, images, batch_size: int = 64) -> np.ndarray:
    """Predicted class per image, int64 ``(N,)``: the model head's one rule (``xai_tf.models.head``)."""
    return head_of(model).predicted_classes(np.asarray(images, np.float32), batch_size)


def report_from_predictions(y_true, y_pred, class_names=None, num_classes: int | None = None) -> dict:
    """Build the classification report dict from true and predicted class indices.

    The numbers follow scikit-learn's definitions (zero division gives 0.0), which a test checks
    against ``sklearn.metrics.classification_report``; the result is a plain JSON-ready dict.

    Parameters
    ----------
    y_true : array-like of int, shape (N,)
        True class indices in [0, num_classes).
    y_pred : array-like of int, shape (N,)
        Predicted class indices in [0, num_classes).
    class_names : sequence of str, optional
        One name per class; default None names the classes ``"0"``, ``"1"``, ...
    num_classes : int, optional
        Number of classes; default None takes ``len(class_names)``, else the largest index in
        ``y_true`` and ``y_pred`` plus one.

    Returns
    -------
    dict
        Keys: each class name -> ``{"precision", "recall", "f1-score", "support"}``;
        ``"accuracy"``; ``"macro avg"`` and ``"weighted avg"`` -> the same four keys;
        ``"confusion_matrix"`` -> list of rows (row = true class, column = predicted class);
        ``"class_names"``.

    Raises
    ------
    ValueError
        If ``y_true`` or ``y_pred`` is not a 1-D array of class indices in [0, num_classes), they
        differ in length, or ``class_names`` does not hold ``num_classes`` names.
    """
    num_classes = num_classes or (len(class_names) if class_names else int(max(np.max(y_true), np.max(y_pred)) + 1))
    y_true = check_labels(y_true, num_classes, "y_true")
    y_pred = check_labels(y_pred, num_classes, "y_pred")
    if len(y_true) != len(y_pred):
        raise ValueError(f"y_true has {len(y_true)} entries but y_pred has {len(y_pred)}")
    class_names = [str(c) for c in (class_names or range(num_classes))]
    if len(class_names) != num_classes:
        raise ValueError(f"class_names has {len(class_names)} names for {num_classes} classes")
    confusion = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(confusion, (y_true, y_pred), 1)
    true_positive = np.diag(confusion).astype(float)
    support = confusion.sum(axis=1)
    predicted = confusion.sum(axis=0)
    precision = np.divide(true_positive, predicted, out=np.zeros(num_classes), where=predicted > 0)
    recall = np.divide(true_positive, support, out=np.zeros(num_classes), where=support > 0)
    denominator = precision + recall
    f1 = np.divide(2 * precision * recall, denominator, out=np.zeros(num_classes), where=denominator > 0)
    report = {}
    for index, name in enumerate(class_names):
        report[name] = {"precision": float(precision[index]), "recall": float(recall[index]),
                        "f1-score": float(f1[index]), "support": int(support[index])}
    total = int(support.sum())
    report["accuracy"] = float(true_positive.sum() / total) if total else 0.0
    report["macro avg"] = {"precision": float(precision.mean()), "recall": float(recall.mean()),
                           "f1-score": float(f1.mean()), "support": total}
    weights = support / total if total else np.zeros(num_classes)
    report["weighted avg"] = {"precision": float(precision @ weights), "recall": float(recall @ weights),
                              "f1-score": float(f1 @ weights), "support": total}
    report["confusion_matrix"] = confusion.tolist()
    report["class_names"] = class_names
    return report


def format_report(report: dict, digits: int = 2) -> str:
    """Format a report as the familiar text table (scikit-learn's layout) and the confusion matrix.

    Parameters
    ----------
    report : dict
        A report from :func:`~xai_tf.models.report_from_predictions` (or ``classification_report``).
    digits : int, optional
        Decimal places of precision, recall, F1 and accuracy (default 2).

    Returns
    -------
    str
        One row per class, then accuracy, macro and weighted averages, then the confusion matrix
        (rows: true, columns: predicted), lines joined by newlines.
    """
    names = report["class_names"]
    width = max(len(name) for name in [*names, "weighted avg"])
    header = f"{'':>{width}} {'precision':>9} {'recall':>9} {'f1-score':>9} {'support':>9}"
    row = "{:>{w}} {:>9.{d}f} {:>9.{d}f} {:>9.{d}f} {:>9}"
    lines = [header, ""]
    for name in names:
        r = report[name]
        lines.append(row.format(name, r["precision"], r["recall"], r["f1-score"], r["support"], w=width, d=digits))
    lines.append("")
    support = report["macro avg"]["support"]
    lines.append(f"{'accuracy':>{width}} {'':>9} {'':>9} {report['accuracy']:>9.{digits}f} {support:>9}")
    for key in ("macro avg", "weighted avg"):
        r = report[key]
        lines.append(row.format(key, r["precision"], r["recall"], r["f1-score"], r["support"], w=width, d=digits))
    lines += ["", "confusion matrix (rows: true, columns: predicted)"]
    cell = max(len(str(v)) for r in report["confusion_matrix"] for v in r) + 1
    cell = max(cell, *(len(n) + 1 for n in names))
    lines.append(f"{'':>{width}}" + "".join(f"{n:>{cell}}" for n in names))
    for name, counts in zip(names, report["confusion_matrix"]):
        lines.append(f"{name:>{width}}" + "".join(f"{v:>{cell}}" for v in counts))
    return "\n".join(lines)


def classification_report(model, data, class_names=None, *, batch_size: int = 64, path=None,
                          verbose: int = 1) -> dict:
    """Evaluate ``model`` on ``data`` and return the classification report (precision, recall, F1).

    Parameters
    ----------
    model : keras.Model
        The classifier (softmax or single-sigmoid head; the predicted class is the head's rule,
        ``xai_tf.models.head``).
    data : tuple, LabelledImages or tf.data.Dataset
        ``(images, labels)`` with images ``(N, H, W, C)`` float32 in [0, 1] and int labels ``(N,)``,
        a ``LabelledImages`` (its ``class_names`` are used when none are given), or a batched
        ``tf.data.Dataset`` of ``(images, labels)``.
    class_names : sequence of str, optional
        One name per class; default the data's names, else ``"0"``, ``"1"``, ...
    batch_size : int, optional
        Images per forward pass for arrays (default 64; a dataset keeps its own batches).
    path : str or pathlib.Path, optional
        When given, the report is also written there as JSON.
    verbose : int, optional
        1 (default) prints the table (:func:`xai_tf.models.format_report`); 0 is silent.

    Returns
    -------
    dict
        The report of :func:`xai_tf.models.report_from_predictions`: per-class precision, recall,
        F1 and support, accuracy, macro and weighted averages, the confusion matrix and the class
        names.

    Raises
    ------
    TypeError
        If ``data`` is not one of the accepted forms.
    ValueError
        If ``class_names`` does not hold one name per class of the model.
    """
    if class_names is None:
        class_names = getattr(data, "class_names", None)
    arrays = as_arrays(data, "data")
    if arrays is None:
        batches = list(data.as_numpy_iterator())
        images = np.concatenate([x for x, _ in batches])
        labels = np.concatenate([np.asarray(y).reshape(-1) for _, y in batches])
    else:
        images, labels = arrays
    report = report_from_predictions(labels, predict_classes(model, images, batch_size), class_names,
                                     num_classes=head_of(model).num_classes)
    if path is not None:
        write_json(path, report)
    if verbose:
        print(format_report(report))
    return report
