"""The report's explanation sections: "Saliency maps per class" and "Denoised saliency maps".

Read from the folder ``xai-tf explain`` (or ``xai_tf.demo``) wrote (``xai_tf.runs.read_explain_folder``),
checked against the runs' models by weights fingerprint and against the data's classes and image
shape; drawn with ``xai_tf.viz.method_grid`` and ``xai_tf.viz.denoise_grid``. Nothing is recomputed.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from xai_tf.report.config import ReportConfigError, resolve
from xai_tf.report.model_identity import weights_fingerprint


class ExplanationSections:
    """Mixin of the report builder: reading the ``explain`` folder and drawing its method and denoising grids."""

    def read_explanations(self) -> None:
        spec = self.config.get("explain")
        if not spec:
            return
        from xai_tf.runs import read_explain_folder

        folder = resolve(self.base, spec["dir"])
        try:
            stored = read_explain_folder(folder)
        except ValueError as error:
            raise ReportConfigError(f"config['explain']['dir']: {error}") from None
        meta, maps, methods, images = stored["meta"], stored["maps"], stored["methods"], stored["images"]
        class_names = list(meta.get("class_names") or self.class_names or [])
        if self.class_names and class_names and class_names != list(self.class_names):
            raise ReportConfigError(f"the explanations in {folder} are of classes {class_names}, the runs/data of "
                                    f"{list(self.class_names)}: they come from another configuration")
        self._check_shape(images.shape[1:], f"the explained images in {folder}")
        fingerprint = meta.get("model_weights") or self._explained_model_fingerprint(meta, folder)
        if fingerprint and self.fingerprints and fingerprint not in self.fingerprints:
            raise ReportConfigError(f"the explanations in {folder} were made with a model (weights {fingerprint}) "
                                    f"that is none of the runs' models ({', '.join(self.fingerprints)}); they come "
                                    "from another configuration")
        model_name = self.fingerprints.get(fingerprint, meta.get("arguments", {}).get("model", "unknown"))
        masks = stored["masks"]
        if masks is None:
            masks = self._masks_from_data(meta, images)
        self.explained = {"folder": folder, "meta": meta, "maps": maps, "methods": methods, "images": images,
                          "labels": stored["labels"], "predictions": stored["predictions"],
                          "masks": masks, "class_names": class_names, "model": model_name}
        self.provenance["explain"] = {"folder": str(folder), "arguments": meta.get("arguments"),
                                      "versions": meta.get("versions")}

    def _explained_model_fingerprint(self, meta: dict, folder: Path) -> str | None:
        """Weights fingerprint of the model ``xai-tf explain`` names (its explain.json has no fingerprint)."""
        named = (meta.get("arguments") or {}).get("model")
        if not named or not self.fingerprints:
            return None
        candidates = [Path(named)] if Path(named).is_absolute() else [Path.cwd() / named, self.base / named]
        existing = [path for path in candidates if path.is_file()]
        if not existing:
            self.note("explanations", f"the model that made these explanations ({named}) is not there any more; "
                                      "they could not be checked against the runs' models")
            return None
        for run in self.runs:
            run_model = run["dir"] / "model.keras"
            if run_model.is_file() and run_model.resolve() == existing[0].resolve():
                return run.get("fingerprint")
        from xai_tf.models import load_model
        return weights_fingerprint(load_model(existing[0]))

    def _masks_from_data(self, meta: dict, images: np.ndarray):
        """Ground-truth masks of ``xai-tf explain``'s images (the data set's first ones) when the data match."""
        arguments = meta.get("arguments") or {}
        data = self.data
        if data is None or data.masks is None or arguments.get("data") != "synthetic" or len(images) > len(data):
            return None
        if not np.array_equal(data.images[:len(images)], images):
            return None
        return data.masks[:len(images)]

    def explanation_section(self) -> None:
        from xai_tf.viz import method_grid

        if self.explained is None:
            self.note("explanations", "Skipped: the config has no `explain` folder.")
            return
        spec = self.config["explain"]
        per_class = int(spec.get("per_class", 2))
        denoised = spec.get("denoised_grid", "tv")
        if denoised is not None:
            from xai_tf._checks import check_choice
            from xai_tf.denoising import denoise
            check_choice(denoised, "config['explain']['denoised_grid']", denoise.methods())
        ex = self.explained
        layer = ex["meta"].get("cam_layer")
        self.add("explanations", "text",
                 text=f"{len(ex['methods'])} methods ({', '.join(ex['methods'])}) on {len(ex['images'])} images, "
                      f"model {ex['model']}; read from {ex['folder']}. Ground truth (where known) outlined in a "
                      "colour absent from the colour map; maps clipped at their 99th percentile of |map| (PAIR)."
                      + (f" CAM methods at layer={layer} (the last convolution)." if layer else ""))
        from xai_tf.explainers.registry import (
            RECORDS,  # the method notes come from the method records
        )

        notes = [[method, RECORDS[method].family, RECORDS[method].description] if method in RECORDS
                 else [method, "?", "not a registered method of this xai-tf version"] for method in ex["methods"]]
        self.add("explanations", "table", caption="The methods (xai_tf.explainers.registry records)",
                 header=["method", "family", "what the map shows"], rows=notes)
        costly = [name for name in RECORDS if name not in ex["methods"] and not RECORDS[name].in_demo_grid]
        if costly:  # the methods a probe grid leaves out by their records, and why
            self.add("explanations", "text", text="Not explained here: " + "; ".join(
                f"{name} ({RECORDS[name].description}, " + ("not for this kind of model)" if RECORDS[name].family
                                                            == "attention" else "too costly for the demo's probe grid)")
                for name in costly)
                + ". Explain them with xai_tf.explain or xai-tf explain.")
        labels = ex["labels"] if ex["labels"] is not None else np.zeros(len(ex["images"]), int)
        for index, name in enumerate(ex["class_names"] or ["all"]):
            rows = np.flatnonzero(labels == index)[:per_class] if ex["class_names"] else np.arange(per_class)
            if rows.size == 0:
                self.note("explanations", f"no explained image of class {name}")
                continue
            kwargs = {"masks": None if ex["masks"] is None else ex["masks"][rows], "labels": labels[rows],
                      "predictions": None if ex["predictions"] is None else ex["predictions"][rows],
                      "class_names": ex["class_names"] or None}
            maps = {method: ex["maps"][method][rows] for method in ex["methods"]}
            self.grids[f"methods_{name}"] = method_grid(ex["images"][rows], maps, **kwargs)
            self.add_figure("explanations", self.grids[f"methods_{name}"],
                            f"Class {name}: every method on {rows.size} image(s) (papers' figures 3/4).")
            if denoised:
                self.grids[f"methods_{name}_{denoised}"] = method_grid(ex["images"][rows], maps, denoise=denoised,
                                                                       **kwargs)
                self.add_figure("explanations", self.grids[f"methods_{name}_{denoised}"],
                                f"Class {name}: the same maps denoised with {denoised} (papers' figures 6/7).")

    def denoise_section(self) -> None:
        from xai_tf.denoising import denoise
        from xai_tf.viz import denoise_grid

        if self.explained is None:
            self.note("denoising", "Skipped: denoised variants are drawn from the `explain` folder, which the "
                                   "config does not name.")
            return
        spec = self.config.get("denoise") or {}
        methods = spec.get("methods") or list(denoise.methods())
        unknown = sorted(set(methods) - set(denoise.methods()))
        if unknown:
            raise ReportConfigError(f"config['denoise']['methods'] has unknown denoisers {unknown}; valid: "
                                    f"{', '.join(denoise.methods())}")
        ex = self.explained
        # Default: a noisy gradient map, the kind denoising is for (paper 002); Grad-CAM is smooth already.
        noisy = [m for m in ("vanilla_gradient", "integrated_gradients") if m in ex["methods"]]
        explanation = spec.get("explanation") or (noisy or ex["methods"])[0]
        if explanation not in ex["methods"]:
            raise ReportConfigError(f"config['denoise']['explanation']={explanation!r} is not among the explained "
                                    f"methods; valid: {', '.join(ex['methods'])}")
        labels = ex["labels"] if ex["labels"] is not None else np.zeros(len(ex["images"]), int)
        for index, name in enumerate(ex["class_names"] or ["all"]):
            rows = np.flatnonzero(labels == index)
            if rows.size == 0:
                continue
            row = rows[0]
            figure = denoise_grid(ex["maps"][explanation][row], methods=methods, image=ex["images"][row],
                                  mask=None if ex["masks"] is None else ex["masks"][row], label=explanation)
            self.grids[f"denoised_{explanation}_{name}"] = figure
            self.add_figure("denoising", figure,
                            f"Class {name}: the {explanation} map and its denoised variants (top; each title gives "
                            "the relative change), superimposed on the image (bottom), on the original's colour "
                            "scale (paper 002).")
