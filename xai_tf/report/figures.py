"""The report's own figures: data set, training, classification.

Every figure is a ``matplotlib.figure.Figure`` from ``xai_tf.viz.figures.new_figure`` (Agg canvas,
no pyplot state, works headless); the builder embeds them with ``xai_tf.viz.figures.figure_uri``.
"""
from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from xai_tf.viz.figures import new_figure


def sample_images(images: np.ndarray, labels: np.ndarray, class_names, per_class: int = 4) -> Figure:
    """The first ``per_class`` images of each class: one row per class (gray for one channel)."""
    rows = len(class_names)
    figure = new_figure(1.6 * per_class + 0.8, 1.6 * rows)
    for row, name in enumerate(class_names):
        members = np.flatnonzero(labels == row)[:per_class]
        for column in range(per_class):
            axes = figure.add_subplot(rows, per_class, row * per_class + column + 1)
            axes.set_xticks([])
            axes.set_yticks([])
            if column < len(members):
                image = images[members[column]]
                axes.imshow(image[..., 0] if image.shape[-1] == 1 else image, cmap="gray", vmin=0, vmax=1)
            if column == 0:
                axes.set_ylabel(name)
    figure.tight_layout()
    return figure


def pca_projection(images: np.ndarray, components: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Project flattened images on their first principal components (PCA of the centred data).

    Returns ``(scores (N, components), explained variance ratio (components,))``. The components
    come from the eigen-decomposition of the smaller Gram matrix (N x N or D x D, D = pixels), which
    equals the SVD of the centred data and is ~10x faster than ``np.linalg.svd`` for 600 x 4096.
    """
    flat = images.reshape(len(images), -1).astype(np.float64)
    centred = flat - flat.mean(axis=0)
    small_side = centred @ centred.T if len(centred) <= centred.shape[1] else centred.T @ centred
    eigenvalues, eigenvectors = np.linalg.eigh(small_side)
    order = np.argsort(eigenvalues)[::-1][:components]
    variance = np.clip(eigenvalues[order], 0, None)
    total = np.clip(eigenvalues, 0, None).sum()
    ratio = variance / total if total > 0 else np.zeros(components)
    if len(centred) <= centred.shape[1]:
        scores = eigenvectors[:, order] * np.sqrt(variance)  # C = U S V^T, so C V = U S
    else:
        scores = centred @ eigenvectors[:, order]
    return scores, ratio


def pca_scatter(images: np.ndarray, labels: np.ndarray, class_names) -> Figure:
    """Scatter of the first two principal components coloured by class (paper 000's PCA figure)."""
    scores, ratio = pca_projection(images)
    figure = new_figure(5.5, 4.5)
    axes = figure.add_subplot()
    for index, name in enumerate(class_names):
        members = labels == index
        axes.scatter(scores[members, 0], scores[members, 1], s=10, alpha=0.7, label=f"{name} ({members.sum()})")
    axes.set_xlabel(f"PC 1 ({100 * ratio[0]:.1f}% of variance)")
    axes.set_ylabel(f"PC 2 ({100 * ratio[1]:.1f}% of variance)")
    axes.set_title("PCA of the images")
    axes.legend(fontsize="small")
    figure.tight_layout()
    return figure


def training_curves(history: dict, title: str = "") -> Figure:
    """Loss and accuracy per epoch, training and validation (keys of Keras' ``History.history``)."""
    figure = new_figure(9, 3.5)
    for position, metric in enumerate(("loss", "accuracy")):
        axes = figure.add_subplot(1, 2, position + 1)
        for key, style in ((metric, "-o"), (f"val_{metric}", "--s")):
            if history.get(key):
                values = history[key]
                axes.plot(np.arange(1, len(values) + 1), values, style, markersize=3, label=key)
        axes.set_xlabel("epoch")
        axes.set_ylabel(metric)
        axes.grid(alpha=0.3)
        axes.legend(fontsize="small")
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    return figure


def f1_bars(reports: dict) -> Figure:
    """Grouped bars of per-class F1 (and macro average) for each model: ``{run name: report dict}``."""
    names = list(reports)
    classes = list(next(iter(reports.values()))["class_names"]) + ["macro avg"]
    figure = new_figure(max(5.0, 1.2 * len(classes) * len(names) ** 0.5 + 2), 4)
    axes = figure.add_subplot()
    width = 0.8 / len(names)
    positions = np.arange(len(classes))
    for index, name in enumerate(names):
        values = [reports[name][c]["f1-score"] for c in classes]
        axes.bar(positions + (index - (len(names) - 1) / 2) * width, values, width, label=name)
    axes.set_xticks(positions, classes)
    axes.set_ylim(0, 1.05)
    axes.set_ylabel("F1 score")
    axes.set_title("F1 per class and model (held-out images)")
    axes.legend(fontsize="small")
    figure.tight_layout()
    return figure


def confusion_matrix(matrix, class_names, title: str = "") -> Figure:
    """Confusion matrix (rows true class, columns predicted) with counts written in the cells."""
    matrix = np.asarray(matrix)
    size = 1.0 + 0.9 * len(class_names)
    figure = new_figure(size + 1.2, size)
    axes = figure.add_subplot()
    shown = axes.imshow(matrix, cmap="Blues")
    figure.colorbar(shown, ax=axes, fraction=0.046)
    threshold = matrix.max() / 2 if matrix.size else 0
    for (row, column), value in np.ndenumerate(matrix):
        axes.text(column, row, str(value), ha="center", va="center",
                  color="white" if value > threshold else "black")
    axes.set_xticks(range(len(class_names)), class_names)
    axes.set_yticks(range(len(class_names)), class_names)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    if title:
        axes.set_title(title)
    figure.tight_layout()
    return figure
