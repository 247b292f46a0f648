"""How the Findings read at a glance: the summary sentences and the per-method table, from ``compute_findings``.

- ``findings_summary``: the sentences the Findings open with, before any warning: which methods pass
  the sanity checks, on which scores each beats the baseline, which do both;
- ``findings_table``: one row of short strings per method (a number with its interval on one line,
  the count of images only where some were left out), two short badge columns (the sanity verdict and
  on how many judged scores the method beats the baseline), a mark per cell (better / not better than
  the baseline, check passed / failed) and the table's ``parts``: the columns split into tables narrow
  enough for the page (``CHAR_BUDGET`` characters a row; the method column repeated in each). The
  long verdict lines are not in the table: the report lists them below it.

All functions are pure: they read the dict of ``xai_tf.report.findings.compute_findings``.
"""
from __future__ import annotations

#: Characters of one row of a Findings table part (each column counted at its longest cell plus 2 for its
#: padding): at the report's 0.85em (about 7.2 px a character in DejaVu Sans) a part stays under the
#: report's 1136 px text column.
CHAR_BUDGET = 140
#: The sanity badge of a method without any sanity column scored.
NOT_SCORED = "not scored"


def _judged(entry: dict) -> list[tuple[str, bool]]:
    """``[(label key, better)]`` of every score of a method judged against the baseline (localisation first)."""
    judged = []
    better = entry["localisation"].get("mass_inside", {}).get("better")
    if better is not None:
        judged.append(("share of |map| in the mask", better))
    judged += [(column, result["better"]) for column, result in entry["scores"].items()
               if result.get("better") is not None]
    return judged


def _names(items: list[str]) -> str:
    if not items:
        return ""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def findings_summary(findings: dict) -> list[str]:
    """The sentences the Findings open with (before the warnings), computed from the findings.

    Parameters
    ----------
    findings : dict
        The result of ``compute_findings`` (its ``methods``, ``columns``, ``baseline`` and ``warnings``).

    Returns
    -------
    list of str
        The sanity checks' verdicts per method; per method, the scores on which it beats the baseline;
        the methods that both pass the sanity checks and beat the baseline on at least one score; how
        many warnings follow.
    """
    labels = {info["column"]: info["label"] for info in findings["columns"]}
    methods = [entry for entry in findings["methods"] if not entry["is_baseline"]]
    baseline = findings["baseline"]
    lines = []
    if any(info["evidence"] == "sanity" for info in findings["columns"]):
        groups: dict[str, list[str]] = {}
        for entry in methods:
            groups.setdefault(entry["sanity_verdict"] or NOT_SCORED, []).append(entry["method"])
        words = {"passes": "pass", "fails": "fail", "inconclusive": "inconclusive", NOT_SCORED: "not scored"}
        parts = [f"{words.get(verdict, verdict)}: {_names(names)}" for verdict, names in groups.items()]
        lines.append("Sanity checks (maps of a randomised model): " + ("; ".join(parts) if parts else "no method")
                     + ".")
    else:
        lines.append("No sanity check was evaluated: nothing here shows that the maps depend on the model's weights.")
    if baseline is None:
        lines.append("No baseline method was evaluated: no score is compared (evaluate `random` beside the methods).")
        return lines + [_warnings_line(findings)]
    every, some, none = [], [], []
    for entry in methods:
        judged = _judged(entry)
        better = [labels.get(key, key) for key, verdict in judged if verdict]
        if better and len(better) == len(judged):
            every.append(entry["method"])
        elif better:
            some.append(f"{entry['method']} ({', '.join(better)})")
        elif judged:
            none.append(entry["method"])
    groups = [(f"on every judged score: {_names(every)}", every), (f"on some: {'; '.join(some)}", some),
              (f"on none: {_names(none)}", none)]
    told = [text for text, members in groups if members]
    lines.append(f"Better than the {baseline} baseline " + ("; ".join(told) if told else "(no score judged)") + ".")
    if any(info["evidence"] == "sanity" for info in findings["columns"]):
        both = [entry["method"] for entry in methods if entry["sanity_verdict"] == "passes"
                and any(verdict for _, verdict in _judged(entry))]
        lines.append(f"Pass the sanity checks and beat {baseline} on at least one score: {_names(both)}." if both
                     else f"No method both passes the sanity checks and beats {baseline} on a score.")
    return lines + [_warnings_line(findings)]


def _warnings_line(findings: dict) -> str:
    count = len(findings["warnings"])
    if not count:
        return "No warnings."
    return "1 warning follows." if count == 1 else f"{count} warnings follow."


# ------------------------------------------------------------------------------------------- table
def _interval(entry, digits=3, count=False, images=None) -> str:
    """``mean [low, high]`` on one line, ``(n=used/scored)`` only where images were left out."""
    if not entry or entry.get("mean" if "mean" in entry else "rate") is None:
        return "n/a" if not count or not entry else f"n/a (n=0/{entry.get('scored', 0)})"
    value = entry.get("mean", entry.get("rate"))
    text = f"{value:.{digits}f}"
    if entry.get("low") is not None:
        text += f" [{entry['low']:.{digits}f}, {entry['high']:.{digits}f}]"
    complete = entry["n"] == entry.get("scored") == images
    return text + (f" (n={entry['n']}/{entry['scored']})" if count and not complete else "")


def _cell(entry: dict, info: dict) -> tuple[str, str | None]:
    """``(text, mark)`` of one result column of one method."""
    if info["evidence"] == "sanity":
        result = entry["sanity"].get(info["column"])
        if result is None:
            return "n/a", None
        mark = {"passes": "pass", "fails": "fail"}.get(result["verdict"])
        return f"{_interval(result, 2, True, entry['images'])} {result['verdict']}", mark
    result = entry["scores"].get(info["column"])
    text = (_interval(result, 2) if info["evidence"] == "hits"
            else _interval(result, count=True, images=entry["images"]))
    better = None if result is None else result.get("better")
    return text, None if better is None else ("better" if better else "worse")


def _parts(header: list[str], rows: list[list[str]], first: list[int]) -> list[list[int]]:
    """The columns split into tables of at most ``CHAR_BUDGET`` characters a row, column 0 in each.

    ``first`` (the badge columns) go into the first table, beside the method; the others follow in order.
    """
    def width(index: int) -> int:
        words = [len(word) for word in header[index].split()] or [0]
        return max([max(words)] + [len(row[index]) for row in rows]) + 2

    parts, current = [], [0, *first]
    used = sum(width(index) for index in current)
    for index in range(1, len(header)):
        if index in first:
            continue
        if used + width(index) > CHAR_BUDGET and len(current) > 1:
            parts.append(current)
            current, used = [0], width(0)
        current.append(index)
        used += width(index)
    parts.append(current)
    return parts


def findings_table(findings: dict) -> dict:
    """One row of short strings per method for the report, split into tables that fit the page.

    Parameters
    ----------
    findings : dict
        The result of ``compute_findings`` (without its ``table``).

    Returns
    -------
    dict
        ``{"header", "titles", "rows", "marks", "highlight", "parts"}``: the header (method, the
        localisation columns when masks were given, one label per result column, then the badges
        ``sanity`` and ``better than <baseline>``), each header's full note (or None), the rows'
        cells, a mark per cell (``"better"``, ``"worse"``, ``"pass"``, ``"fail"`` or None), the
        positions of the baseline's row and the column indices of each table to draw.
    """
    located = any(entry["localisation"] for entry in findings["methods"])
    baseline = findings.get("baseline")
    header = ["method"] + (["share of |map| in mask", "max in mask"] if located else [])
    titles = [None] + (["mean share of |map| inside the ground-truth mask",
                        "images whose map's maximum lies inside the mask"] if located else [])
    header += [info["label"] for info in findings["columns"]] + ["sanity", f"better than {baseline or 'baseline'}"]
    titles += [info["note"] for info in findings["columns"]] + [
        "the sanity checks' verdict (rules below)",
        "on how many of the scores judged against the baseline the method is better (the scores are named below)"]
    rows, marks, highlight = [], [], []
    for position, entry in enumerate(findings["methods"]):
        row, mark = [entry["method"] + (" (baseline)" if entry["is_baseline"] else "")], [None]
        if located:
            location = entry["localisation"]
            maximum, inside = location.get("max_inside"), location.get("mass_inside")
            row += [_interval(inside),
                    "n/a" if not maximum or maximum["n"] == 0 else f"{maximum['hits']}/{maximum['n']}"]
            better = (inside or {}).get("better")
            mark += [None if better is None else ("better" if better else "worse"), None]
        for info in findings["columns"]:
            text, cell_mark = _cell(entry, info)
            row.append(text)
            mark.append(cell_mark)
        judged = _judged(entry)
        row += [entry["sanity_verdict"] or NOT_SCORED,
                "baseline" if entry["is_baseline"] else f"{sum(v for _, v in judged)} of {len(judged)}"]
        mark += [{"passes": "pass", "fails": "fail"}.get(entry["sanity_verdict"]), None]
        rows.append(row)
        marks.append([None] * len(mark) if entry["is_baseline"] else mark)  # the baseline is not judged
        if entry["is_baseline"]:
            highlight.append(position)
    parts = _parts(header, rows, [len(header) - 2, len(header) - 1])
    return {"header": header, "titles": titles, "rows": rows, "marks": marks, "highlight": highlight,
            "parts": parts}
