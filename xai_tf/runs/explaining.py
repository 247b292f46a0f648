"""The explain recipe: a saved model's images explained with each method, written as an explain folder and grid.

``xai-tf explain`` is this function with its flags as arguments (``xai_tf.cli.explain``); the folder
format is :func:`xai_tf.runs.write_explain_folder`'s.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

from xai_tf._docstrings import fill_doc
from xai_tf.runs.model_data import DATA_SETTINGS, MODEL_OUT_DATA, VERBOSE

_FOLDER = "the explain folder: ``maps.npz``, ``images.npz``, ``explain.json``, the grid"


@fill_doc(model_out_data=MODEL_OUT_DATA.format(what=_FOLDER), verbose=VERBOSE.format(doing="explaining"),
          data_settings=DATA_SETTINGS)
def explain_run(model, out, *, data: str, methods: str = "gradcam", limit: int = 8, figure_format: str = "png",
                denoise: str | None = None, seed: int = 0, verbose: int = 1, n: int | None = None,
                image_size: int | None = None, color: str | None = None, skip_bad: bool = False,
                split: str | None = None, data_seed: int | None = None, masks=None, class_names=None,
                data_options: dict | None = None, arguments: dict | None = None) -> Path:
    """Explain ``limit`` images (even per class, seeded) with each method; write the explain folder and grid.

    The model is loaded (and flattened, ``xai_tf.models.load_model``) once; that model object is
    what picks the images, predicts and is explained with every method (``xai_tf.explain`` and the
    model's head keep their compiled functions per model object). The images are those of
    :func:`xai_tf.runs.data_for_model` (the model's input size and channels; the held-out images
    when the model's train run recorded its split); the explain folder is written by
    :func:`xai_tf.runs.write_explain_folder` and the method grid to ``grid.<figure_format>`` in
    the same folder. Prints one line per method and a last line naming what was written.

    Parameters
    ----------
    {model_out_data}
    methods : str, optional
        Comma-separated method names (default "gradcam"; ``xai_tf.list_methods()``).
    limit : int, optional
        Explain that many images of the split (>= 1), an even number per class drawn with ``seed``
        (:func:`xai_tf.runs.per_class`), in data order; default 8.
    figure_format : {"png", "pdf"}, optional
        The grid's format (default "png").
    denoise : str, optional
        A denoiser applied to every map (``xai_tf.denoising.list_denoisers()``); default None.
    seed : int, optional
        Seed of the stochastic methods and of the pick per class (default 0).
    {verbose}
    {data_settings}
    arguments : dict, optional
        What ``explain.json`` records under ``"arguments"`` (the command line passes its parsed
        flags); default None: this call's arguments, paths as text.

    Returns
    -------
    pathlib.Path
        The explain folder ``out``.

    Raises
    ------
    ValueError
        If ``limit`` is below 1, a method or denoiser is unknown, or the data do not fit the model
        (see :func:`xai_tf.runs.data_for_model`).
    """
    if arguments is None:  # before any other local name exists: locals() is the call's arguments
        arguments = {key: os.fspath(value) if isinstance(value, os.PathLike) else value
                     for key, value in locals().items() if key != "arguments"}
    import xai_tf
    from xai_tf._checks import check_choice, check_names
    from xai_tf._io import fingerprint
    from xai_tf.models import load_model
    from xai_tf.models.head import head_of
    from xai_tf.runs.folders import cam_layer_of, write_explain_folder
    from xai_tf.runs.model_data import data_for_model, per_class
    from xai_tf.viz import method_grid

    started = time.time()
    names = check_names(methods, "--methods", xai_tf.list_methods())
    if denoise:
        check_choice(denoise, "--denoise", xai_tf.denoise.methods())
    if limit < 1:
        raise ValueError(f"--limit must be >= 1; got {limit}")
    loaded = load_model(model, name="--model")  # flattened once: every later step gets this object
    dataset, indices, split = data_for_model(
        loaded, model, data=data, n=n, image_size=image_size, color=color, skip_bad=skip_bad, data_seed=data_seed,
        seed=seed, split=split, verbose=verbose, masks=masks, class_names=class_names, data_options=data_options)
    picked = per_class(dataset.labels, limit, seed)
    chosen, indices = dataset.subset(picked), indices[picked]
    predictions = head_of(loaded).predicted_classes(chosen.images)
    maps = {}
    for method in names:
        print(f"explaining {len(chosen.labels)} images with {method}")
        maps[method] = xai_tf.explain(loaded, chosen.images, method, seed=seed, verbose=verbose)
    if denoise:
        maps = {method: xai_tf.denoise(values, denoise) for method, values in maps.items()}
    out = Path(out)
    write_explain_folder(out, images=chosen.images, labels=chosen.labels, predictions=predictions, maps=maps,
                         class_names=dataset.class_names, indices=indices, masks=chosen.masks,
                         meta={"command": "explain", "model_weights": fingerprint(loaded.get_weights()),
                               "split": split, "cam_layer": cam_layer_of(loaded), "arguments": arguments})
    titles = [f"{method} ({denoise})" if denoise else method for method in names]
    figure_path = out / f"grid.{figure_format}"
    method_grid(chosen.images, maps, titles=titles, masks=chosen.masks, boxes=chosen.boxes, labels=chosen.labels,
                predictions=predictions, class_names=list(dataset.class_names), path=figure_path)
    print(f"wrote {out / 'maps.npz'} and {figure_path} ({time.time() - started:.0f} s)")
    return out
