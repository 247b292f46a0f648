"""The evidence of the "Which method?" guide page, from this site's own example runs (``examples.json``).

For each question a reader asks of a saliency map, the metrics that answer it and how the three
methods every metric page scores (a CAM, a gradient and the random baseline) did on the held-out
synthetic galaxies when the site was built; then every method's cost per image, by family. Written
to ``_generated/which_method_evidence.md`` and included by ``guide/which_method.md``.
"""
from __future__ import annotations

#: question -> (what it asks, the metrics that answer it, the methods the papers and peers point to)
QUESTIONS = {
    "Where does the model look?": (
        "whether the map's mass or peak falls on what a person would point at (needs ground truth)",
        ("pointing_game", "relevance_mass_accuracy", "relevance_rank_accuracy", "top_k_intersection")),
    "Which pixels flip the decision?": (
        "whether removing (or keeping) the pixels the map ranks first changes the model's score fastest",
        ("deletion", "insertion", "sic", "aic", "road", "pixel_flipping", "irof")),
    "Is the map faithful to this model?": (
        "whether the map changes when the model or the explained class changes, and tracks the score",
        ("randomization", "random_logit", "faithfulness_correlation", "infidelity", "mufidelity")),
    "Is it stable?": (
        "whether a barely different image gets a barely different map",
        ("max_sensitivity", "avg_sensitivity", "local_lipschitz")),
    "Can a person read it?": (
        "how concentrated the map is",
        ("sparseness", "complexity", "effective_complexity", "xai_entropy")),
}


def _value(value) -> str:
    return "n/a" if value is None or value != value else f"{value:.3g}"


def _best(means: dict, column: str, direction: str | None) -> str:
    scored = {method: values.get(column) for method, values in means.items()}
    scored = {method: value for method, value in scored.items() if value is not None and value == value}
    if not scored or direction not in ("higher", "lower"):
        return "n/a"
    pick = max if direction == "higher" else min
    return pick(scored, key=scored.get)


def evidence(found: dict) -> str:
    """Markdown tables of the questions' metrics and the methods' costs.

    Parameters
    ----------
    found : dict
        ``examples.load_or_compute``'s result.

    Returns
    -------
    str
        One section per question (its metrics, the three methods' values, which did best), then the
        cost table.
    """
    from xai_tf.explainers.registry import FAMILIES, RECORDS
    from xai_tf.metrics.registry import METRICS

    settings = found["settings"]
    methods = list(settings["scored_methods"])
    parts = [f"Measured when this site was built: {settings['scored_images']} held-out synthetic radio galaxies, "
             f"the quickstart's custom CNN v2 with a pooling head ({settings['image_size']} px, held-out accuracy "
             f"{found['accuracy']:.2f}), "
             f"methods {', '.join(f'`{m}`' for m in methods)}, each metric at its defaults (its page says more).\n"]
    for question, (asks, names) in QUESTIONS.items():
        rows = []
        for name in names:
            if name not in METRICS or name not in found["metrics"]:
                continue
            example = found["metrics"][name]
            for column in example["columns"]:
                direction = METRICS[name].direction_of(column)
                values = " | ".join(_value(example["means"][method].get(column)) for method in methods)
                rows.append(f"| [{column}](../_generated/metrics/{name}.md) | {direction or 'neither'} | {values} | "
                            f"{_best(example['means'], column, direction)} |")
        parts.append(f"### {question}\n\nIt asks {asks}.\n\n| metric | better | {' | '.join(methods)} | best here |\n"
                     f"|---|---|{'---|' * len(methods)}---|\n" + "\n".join(rows) + "\n")
    rows = []
    for family in FAMILIES:
        chosen = sorted((name for name, record in RECORDS.items()
                         if record.family == family and name in found["methods"]),
                        key=lambda name: found["methods"][name]["seconds_per_image"])
        listed = ", ".join(f"[{name}](../_generated/methods/{name}.md) "
                           f"{found['methods'][name]['seconds_per_image'] * 1000:,.0f} ms" for name in chosen)
        if listed:
            rows.append(f"| {family} | {listed} |")
    parts.append("### What each method costs\n\nPer image at "
                 f"{settings['image_size']} px on the machine that built the site, cheapest first "
                 "(the transformers' methods on a small ViT):\n\n| family | methods |\n|---|---|\n"
                 + "\n".join(rows) + "\n")
    return "\n".join(parts)
