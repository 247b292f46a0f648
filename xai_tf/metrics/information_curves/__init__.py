"""Performance Information Curves (AIC and SIC, Kapishnikov et al. 2021; paper 004).

- ``pic``: :func:`xai_tf.metrics.pic`, the curves of saliency maps, batched;
- ``pic_options``: its options (``PICOptions``), thresholds and random masks;
- ``curves``: ``PicResult`` and the curve arithmetic (PAIR's interpolation, AUC, aggregation);
- ``metric``: AIC and SIC in the evaluation runner (the metric protocol);
- ``blur``, ``delaunay``: the blurred images (PAIR's linear fill over a Delaunay triangulation);
- ``information``: the information estimators (WebP size, Shannon entropy), the curves' x axis.

The package is not named ``pic``: ``xai_tf.metrics.pic`` is the function, and a submodule of that
name would replace it as the package's attribute once imported.
"""
