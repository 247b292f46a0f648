"""Every install requirement is listed in docs/licences.md with a permissive licence, and that
licence agrees with the installed package's own metadata; Triangle (non-commercial) stays an extra."""
from __future__ import annotations

import configparser
import importlib.metadata
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: SPDX identifiers that allow commercial use without conditions on the user's own code. MPL-2.0 is
#: a weak, file-level copyleft (changes to MPL files are shared; using and shipping them is free).
PERMISSIVE = {"Apache-2.0", "MIT", "MIT-CMU", "BSD-2-Clause", "BSD-3-Clause", "0BSD", "ISC", "PSF-2.0",
              "Python-2.0", "MPL-2.0", "Zlib", "CC0-1.0", "HPND"}

#: Licence families, recognised in SPDX identifiers and in free-text metadata.
FAMILIES = {"apache": r"apache", "bsd": r"\bbsd\b|0bsd", "mit": r"\bmit\b",
            "psf": r"\bpsf\b|python software foundation",
            "mpl": r"\bmpl\b|mozilla", "isc": r"\bisc\b", "gpl": r"\b(a|l)?gpl\b|general public license",
            "non-commercial": r"non-?commercial|\bnc\b"}


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def install_requires() -> list[str]:
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    lines = [line.strip() for line in config["options"]["install_requires"].splitlines()]
    return [canonical(re.match(r"[A-Za-z0-9_.-]+", line).group())
            for line in lines if line and not line.startswith("#")]


def extras() -> dict[str, list[str]]:
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    return {extra: [canonical(re.match(r"[A-Za-z0-9_.-]+", line.strip()).group())
                    for line in value.splitlines() if line.strip() and not line.strip().startswith("#")]
            for extra, value in config["options.extras_require"].items()}


def documented() -> dict[str, str]:
    """``{package: licence expression}`` from the default-install table of docs/licences.md."""
    text = (ROOT / "docs" / "licences.md").read_text()
    section = text.split("## Default install", 1)[1].split("\n## ", 1)[0]
    rows = [line.split("|")[1:3] for line in section.splitlines() if line.startswith("| ")]
    return {canonical(name.strip()): licence.strip() for name, licence in rows[1:] if not name.strip().startswith("-")}


def families(text: str) -> set[str]:
    return {family for family, pattern in FAMILIES.items() if re.search(pattern, text, re.IGNORECASE)}


def metadata_licence(name: str) -> str:
    meta = importlib.metadata.metadata(name)
    classifiers = [c for c in meta.get_all("Classifier") or [] if c.startswith("License")]
    # The License field sometimes holds the whole licence text: its first line names it.
    first_line = (meta.get("License") or "").strip().splitlines()[:1]
    return " ; ".join([meta.get("License-Expression") or "", *first_line, *classifiers])


def test_every_install_requirement_has_a_permissive_licence_entry():
    table = documented()
    missing = [name for name in install_requires() if name not in table]
    assert not missing, f"add these install requirements to docs/licences.md with their licence: {missing}"
    for name, expression in table.items():
        identifiers = [token for token in re.split(r"[\s()]+", expression) if token and token not in ("AND", "OR")]
        assert identifiers, f"docs/licences.md: no licence for {name}"
        bad = [token for token in identifiers if token not in PERMISSIVE]
        assert not bad, f"docs/licences.md: {name} is listed under {bad}, not a permissive licence {sorted(PERMISSIVE)}"


@pytest.mark.parametrize("name", install_requires())
def test_documented_licence_agrees_with_installed_metadata(name):
    try:
        found = metadata_licence(name)
    except importlib.metadata.PackageNotFoundError:
        pytest.skip(f"{name} is not installed here: its metadata cannot be read")
    declared = families(documented()[name])
    installed = families(found)
    assert installed, f"{name}: no licence recognised in its metadata {found!r}; check it and extend FAMILIES"
    assert not installed & {"gpl", "non-commercial"}, f"{name}: its metadata says {found!r}"
    assert declared & installed, f"{name}: docs/licences.md says {documented()[name]!r}, its metadata {found!r}"


def test_triangle_is_an_extra_that_nothing_else_installs():
    assert "triangle" not in install_requires()
    found = extras()
    assert found["triangle"] == ["triangle"]
    assert all("triangle" not in packages for extra, packages in found.items() if extra != "triangle")
