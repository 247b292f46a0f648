"""Data-set manifests: what a local copy of each paper's data set should look like, and a checker.

A manifest (``xai_tf/data/manifest_data/<name>.json``) records where a data set comes from (citation, DOI,
source URL, licence), its classes and expected counts, image size, the loader to use, and its file
layout as a list of entries:

- ``{"path": "batches/data_batch_1", "sha256": "...", "md5": "...", "optional": false}``: one file,
  with optional checksums;
- ``{"glob": "COVID/images/*.png", "count": 3616, "class": "COVID"}``: a set of files; ``count``
  (optional) is the exact number expected, else at least one must match.

``ignore`` lists glob patterns of files that may be present without being part of the data (read-me
files, archives). ``verify_manifest`` compares a local folder with this and reports, one line per
problem: missing files, extra files, checksum mismatches, counts that differ, and manifest paths
that would escape the root (``..``, absolute paths, symlinks pointing outside). Nothing is ever
downloaded.

Manifests are looked up in ``$XAI_TF_MANIFESTS`` when set, else in ``xai_tf/data/manifest_data/``
(shipped in the package: a source checkout, an editable install and a wheel alike).
"""
from __future__ import annotations

import fnmatch
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

REQUIRED_KEYS = ("name", "title", "loader", "layout")
LOADERS = ("image_folder", "mirabest", "figshare_mat", "object_cxr", "synthetic", "fits")
_SUMMARY_LINES = 50


@dataclass
class VerifyReport:
    """Outcome of ``verify_manifest``: ``ok`` is True when ``problems`` is empty.

    Parameters
    ----------
    name : str
        The manifest's name (its ``"name"`` key).
    root : str
        The local folder that was checked.
    ok : bool
        True when ``problems`` is empty.
    problems : list of str, optional
        One human-readable line per problem found (default: empty).
    files_checked : int, optional
        Number of local files matched by the manifest's entries (default 0).
    checksums_checked : int, optional
        Number of sha256 / md5 checksums computed and compared (default 0).
    """

    name: str
    root: str
    ok: bool
    problems: list[str] = field(default_factory=list)
    files_checked: int = 0
    checksums_checked: int = 0

    def summary(self) -> str:
        """Format the report as text: a verdict line, then one line per problem (the first 50).

        Returns
        -------
        str
            The verdict line (name, OK or the number of problems, root, files matched, checksums
            verified), then one indented line per problem; beyond 50 problems, a last line says how
            many more there are.
        """
        head = (f"{self.name}: {'OK' if self.ok else f'{len(self.problems)} problem(s)'} in {self.root} "
                f"({self.files_checked} files matched, {self.checksums_checked} checksums verified)")
        lines = [head] + [f"  {problem}" for problem in self.problems[:_SUMMARY_LINES]]
        if len(self.problems) > _SUMMARY_LINES:
            lines.append(f"  ... and {len(self.problems) - _SUMMARY_LINES} more")
        return "\n".join(lines)


def manifests_dir() -> Path:
    """The folder manifests are read from (see the module docstring for the search order)."""
    override = os.environ.get("XAI_TF_MANIFESTS")
    if override:
        return Path(override)
    return Path(__file__).resolve().parent / "manifest_data"  # shipped in the package (source, editable, wheel)


def available_manifests() -> list[str]:
    """Names of the manifests in ``manifests_dir()``, sorted."""
    folder = manifests_dir()
    return sorted(path.stem for path in folder.glob("*.json")) if folder.is_dir() else []


def load_manifest(name_or_path) -> dict:
    """Read and validate one manifest, by name (``"mirabest"``) or by path to a ``.json`` file.

    Manifests are looked up in ``$XAI_TF_MANIFESTS`` when set, else in ``xai_tf/data/manifest_data/``
    (shipped in the package: a source checkout, an editable install and a wheel alike).

    Parameters
    ----------
    name_or_path : str or pathlib.Path
        A manifest name (``"mirabest"``, looked up as ``<name>.json`` in the manifests folder) or
        the path to a ``.json`` file.

    Returns
    -------
    dict
        The manifest's JSON object, with ``"ignore"`` defaulted to ``[]`` and ``"_path"`` (str, the
        file read) added.

    Raises
    ------
    ValueError
        If the name is unknown (the message lists the available ones), or the manifest is not
        readable JSON, lacks required keys (name, title, loader, layout), names an unknown loader or
        has a malformed layout entry; the message names the file.
    TypeError
        If the manifest, its ``layout`` or its ``ignore`` has the wrong JSON type (not an object,
        not a list).
    """
    path = Path(name_or_path)
    if not (path.suffix == ".json" or path.is_file()):
        path = manifests_dir() / f"{name_or_path}.json"
        if not path.is_file():
            names = available_manifests()
            raise ValueError(f"no manifest named {str(name_or_path)!r} in {manifests_dir()}; available: "
                             f"{', '.join(names) if names else '(none)'}")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{path}: not a readable JSON manifest ({error})") from error
    _validate(manifest, path)
    manifest.setdefault("ignore", [])
    manifest["_path"] = str(path)
    return manifest


def list_manifests() -> list[dict]:
    """List the available data-set manifests.

    Returns
    -------
    list of dict
        One dict per manifest, sorted by name, with keys ``name``, ``title``, ``loader``,
        ``classes``, ``licence``, ``source_url``, ``doi`` (None when the manifest lacks them) and
        ``path`` (the ``.json`` file).

    Raises
    ------
    ValueError
        If a manifest in the folder is malformed (see :func:`~xai_tf.data.load_manifest`).
    """
    result = []
    for name in available_manifests():
        manifest = load_manifest(name)
        result.append({"name": manifest["name"], "title": manifest["title"], "loader": manifest["loader"],
                       "classes": manifest.get("classes"), "licence": manifest.get("licence"),
                       "source_url": manifest.get("source_url"), "doi": manifest.get("doi"),
                       "path": manifest["_path"]})
    return result


def verify_manifest(name_or_path, root) -> VerifyReport:
    """Check the local copy at ``root`` against a manifest; never downloads, never modifies.

    Parameters
    ----------
    name_or_path : str or pathlib.Path
        A manifest name (``"mirabest"``) or the path to a ``.json`` manifest (see
        :func:`~xai_tf.data.load_manifest`).
    root : str or pathlib.Path
        The folder holding the local copy of the data set.

    Returns
    -------
    VerifyReport
        ``problems`` hold one line each for: a missing file (or a glob with no match), an extra
        file (not named by any entry nor ``ignore``), a checksum (sha256 / md5) or size mismatch, a
        glob whose file count differs, and a manifest path escaping the root (``..``, absolute
        paths, symlinks pointing outside). Hidden files (``.name``) are not reported as extra.
        ``ok`` is True when there are none.

    Raises
    ------
    ValueError
        If ``root`` is not a folder, or the manifest cannot be loaded (see :func:`~xai_tf.data.load_manifest`).
    """
    manifest = load_manifest(name_or_path)
    root = Path(root)
    if not root.is_dir():
        raise ValueError(f"root={str(root)!r} is not a folder; expected the local copy of {manifest['name']!r}")
    real_root = root.resolve()
    problems: list[str] = []
    covered: set[Path] = set()
    files_checked = checksums_checked = 0

    for entry in manifest["layout"]:
        pattern = entry.get("path", entry.get("glob"))
        if _escapes(pattern):
            problems.append(f"path escapes the root: {pattern!r} (manifest paths must be relative, without '..')")
            continue
        if "path" in entry:
            target = root / pattern
            if not target.is_file():
                if not entry.get("optional", False):
                    problems.append(f"missing file: {pattern}")
                continue
            if not _inside(target, real_root):
                problems.append(f"path escapes the root: {pattern} -> {target.resolve()}")
                continue
            covered.add(target)
            files_checked += 1
            problem, checked = _check_file(target, pattern, entry)
            checksums_checked += checked
            if problem:
                problems.append(problem)
        else:
            matches = sorted(path for path in root.glob(pattern) if path.is_file())
            outside = [path for path in matches if not _inside(path, real_root)]
            for path in outside:
                problems.append(f"path escapes the root: {path.relative_to(root).as_posix()} -> {path.resolve()}")
            matches = [path for path in matches if path not in outside]
            covered.update(matches)
            files_checked += len(matches)
            expected = entry.get("count")
            if expected is not None and len(matches) != expected:
                label = f" (class {entry['class']})" if entry.get("class") else ""
                problems.append(f"count differs: {pattern}{label} matches {len(matches)} files, expected {expected}")
            elif expected is None and not matches and not entry.get("optional", False):
                problems.append(f"missing files: nothing matches {pattern}")

    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if not path.is_file() or path in covered or any(part.startswith(".") for part in relative.parts):
            continue
        if any(fnmatch.fnmatch(relative.as_posix(), pattern) or fnmatch.fnmatch(path.name, pattern)
               for pattern in manifest["ignore"]):
            continue
        problems.append(f"extra file: {relative.as_posix()}")
    return VerifyReport(name=manifest["name"], root=str(root), ok=not problems, problems=problems,
                        files_checked=files_checked, checksums_checked=checksums_checked)


def file_digest(path, algorithm: str = "sha256") -> str:
    """Hex digest of a file, read in 1 MiB chunks (for writing checksums into a manifest)."""
    digest = hashlib.new(algorithm)
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _check_file(target: Path, pattern: str, entry: dict) -> tuple[str | None, int]:
    checked = 0
    if "size" in entry and target.stat().st_size != entry["size"]:
        return f"size mismatch: {pattern} is {target.stat().st_size} bytes, expected {entry['size']}", checked
    for algorithm in ("sha256", "md5"):
        if entry.get(algorithm):
            checked += 1
            actual = file_digest(target, algorithm)
            if actual != entry[algorithm].lower():
                return f"checksum mismatch: {pattern} ({algorithm} {actual}, expected {entry[algorithm]})", checked
    return None, checked


def _escapes(pattern: str) -> bool:
    """True for absolute paths, drive letters, backslash-absolute or any '..' component."""
    if pattern.startswith(("/", "\\")) or (len(pattern) > 1 and pattern[1] == ":"):
        return True
    return ".." in PurePosixPath(pattern.replace("\\", "/")).parts


def _inside(path: Path, real_root: Path) -> bool:
    return path.resolve().is_relative_to(real_root)


def _validate(manifest, path: Path) -> None:
    if not isinstance(manifest, dict):
        raise TypeError(f"{path}: a manifest must be a JSON object")
    missing = [key for key in REQUIRED_KEYS if key not in manifest]
    if missing:
        raise ValueError(f"{path}: manifest lacks required key(s) {', '.join(missing)}")
    if manifest["loader"] not in LOADERS:
        raise ValueError(f"{path}: loader {manifest['loader']!r} is not one of {', '.join(LOADERS)}")
    if not isinstance(manifest["layout"], list):
        raise TypeError(f"{path}: 'layout' must be a list of {{'path': ...}} / {{'glob': ...}} entries")
    for index, entry in enumerate(manifest["layout"]):
        if not isinstance(entry, dict) or ("path" in entry) == ("glob" in entry) \
                or not isinstance(entry.get("path", entry.get("glob")), str):
            raise ValueError(f"{path}: layout[{index}] must have exactly one of 'path' or 'glob' (a string)")
        count = entry.get("count")
        if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 0):
            raise ValueError(f"{path}: layout[{index}].count must be a non-negative integer or null")
    if not isinstance(manifest.get("ignore", []), list):
        raise TypeError(f"{path}: 'ignore' must be a list of glob patterns")
