"""Keras callbacks that explain fixed probe images while a model trains.

- ``SaliencyCallback``: at the end of every n-th epoch, saliency maps of the probe images with the
  current weights, written as TensorBoard image summaries (overlays, one tag per method) and/or as
  PNG method grids, one per epoch.
- ``MetricCallback``: at the end of every n-th epoch, the probe images scored with registered
  metrics (``xai_tf.metrics.registry.METRICS``) through the evaluation unit, so each value is what
  ``xai_tf.evaluate`` would report for those images; written as TensorBoard scalars and put into
  ``logs`` so that ``EarlyStopping``, ``CSVLogger`` and ``History`` see it.
- ``PICCallback``: the ``MetricCallback`` of the aggregated AIC/SIC AUC (Kapishnikov et al. 2021,
  as in paper 004), with PIC's options as arguments and the ``PicResult`` objects kept.

All only read the model: explaining and scoring run the model in inference mode (dropout off,
BatchNorm statistics frozen) and never touch weights or optimizer state. Their randomness comes
from explicit seeds (``seed=``; the toolkit's stochastic methods and PIC's random masks draw from
``xai_tf._random``'s seeded generators, never from global state), and the global streams that Keras
and user code read for initialisers, dropout seeds, shuffling and augmentation (Python's
``random``, NumPy's global ``np.random`` and Keras' global seed generator) are saved before and
restored after each explanation, as a guard against third-party code inside the methods. So a fit
with these callbacks gives the same weights as the same seeded fit without them (tested).

All follow ``keras.callbacks.Callback`` and log through ``tf.summary`` (docs/architecture.md; the
events are written by ``xai_tf.summaries`` in TensorBoard's plugin formats); there is no
device-specific code, so they run wherever ``model.fit`` runs. The predicted class (``targets=None``)
is the model head's one rule (``xai_tf.models.head``), the same as ``explain`` and ``evaluate``.
"""
from __future__ import annotations

from xai_tf.callbacks.metric import MetricCallback
from xai_tf.callbacks.pic import PICCallback
from xai_tf.callbacks.saliency import SaliencyCallback

__all__ = ["MetricCallback", "PICCallback", "SaliencyCallback"]
