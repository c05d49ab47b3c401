"""Transitive backward-compatibility check of the contract against its git history.

For every schema, the working-tree version (reader) must be able to read data written with every version
ever committed (writer). The Avro resolution rules are the Apache ``avro`` library's, not ours.
"""

from __future__ import annotations

import io
import json
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import avro.errors
import avro.schema
from avro.compatibility import ReaderWriterCompatibilityChecker, SchemaCompatibilityType

from schemas.catalog import SchemaCatalog
from schemas.errors import SchemaError, SchemaParseError


@dataclass(frozen=True)
class Problem:
    schema: str  # full name of the schema concerned
    reason: str

    def __str__(self) -> str:
        return f"{self.schema}: {self.reason}"


@dataclass
class CompatReport:
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    revisions: int = 0  # historical revisions looked at
    comparisons: int = 0  # distinct (schema, historical version) pairs checked

    @property
    def ok(self) -> bool:
        return not self.problems


# --- reader/writer comparison ---------------------------------------------------------------------


def incompatibilities(reader: dict, writer: dict) -> list[str]:
    """Why data written with ``writer`` cannot be read with ``reader`` (both standalone schemas); empty if it can."""
    result = ReaderWriterCompatibilityChecker().get_compatibility(_avro(reader), _avro(writer))
    if result.compatibility is not SchemaCompatibilityType.incompatible:
        return []
    kinds = [kind.value for kind in result.incompatibilities]
    messages = sorted(result.messages)
    # Compatible sub-results merged in contribute the root location "/"; it says nothing.
    locations = [loc for loc in result.locations if loc != "/"] or ["/"]
    places = sorted(_describe_location(reader, loc) for loc in locations)
    # The library keeps messages and locations as unpaired sets; only a single finding can be phrased exactly.
    if len(kinds) == 1 and len(messages) == 1 and len(places) == 1:
        return [_phrase(kinds[0], messages[0], places[0])]
    summary = f"{len(kinds)} incompatibilities ({', '.join(sorted(set(kinds)))})"
    return [f"{summary}: {'; '.join(messages)} at {', '.join(places)}"]


def _avro(schema: dict) -> avro.schema.Schema:
    try:
        return avro.schema.parse(json.dumps(schema))
    except (avro.errors.AvroException, ValueError) as exc:
        raise SchemaError(f"avro cannot parse {schema.get('namespace', '')}.{schema.get('name')}: {exc}") from exc


def _phrase(kind: str, message: str, place: str) -> str:
    if kind == "reader_field_missing_default_value":
        return f"field {place} has no default, so data written without it cannot be read"
    if kind == "missing_enum_symbols":
        return f"{place}: enum lost symbols {message} and has no default symbol to read them as"
    if kind == "name_mismatch":
        return f"{place}: named type renamed ({message})"
    return f"{place}: {message}"


def _describe_location(schema: dict, location: str) -> str:
    """Turn the library's JSON-pointer-ish location (``/fields/3/type``) into a field path (``envelope.site``)."""
    named: dict[str, dict] = {}
    _index_named(schema, schema.get("namespace", ""), named)
    node: Any = schema
    parts: list[str] = []
    tokens = [t for t in location.split("/") if t]
    try:
        for i, token in enumerate(tokens):
            node = _deref(node, named)
            if token == "fields":
                continue
            if token.isdigit() and i > 0 and tokens[i - 1] == "fields":
                node = node["fields"][int(token)]
                parts.append(node["name"])
            elif token == "type":
                node = node["type"]
            elif token in ("items", "values"):
                node = node[token]
                parts.append("[]" if token == "items" else "{}")
            else:
                parts.append(token)
    except (KeyError, IndexError, TypeError):
        return location
    return ".".join(parts).replace(".[]", "[]").replace(".{}", "{}") or "(top level)"


def _index_named(node: Any, namespace: str, out: dict[str, dict]) -> None:
    if isinstance(node, list):
        for item in node:
            _index_named(item, namespace, out)
    elif isinstance(node, dict):
        if node.get("type") in ("record", "error", "enum", "fixed") and "name" in node:
            namespace = node.get("namespace", namespace)
            name = node["name"]
            out[name if "." in name else f"{namespace}.{name}" if namespace else name] = node
        for key in ("type", "items", "values"):
            if isinstance(node.get(key), (dict, list)):
                _index_named(node[key], namespace, out)
        for fld in node.get("fields", []) if isinstance(node.get("fields"), list) else []:
            _index_named(fld.get("type"), namespace, out)


def _deref(node: Any, named: dict[str, dict]) -> Any:
    return named.get(node, node) if isinstance(node, str) else node


# --- git ------------------------------------------------------------------------------------------


def _git(repo: Path, *args: str) -> bytes:
    proc = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, check=False)
    if proc.returncode != 0:
        raise SchemaError(f"git {' '.join(args)} failed: {proc.stderr.decode(errors='replace').strip()}")
    return proc.stdout


def _revisions(top: Path, rel: str, against: str | None) -> list[str]:
    if against is not None:
        return [_git(top, "rev-parse", "--verify", f"{against}^{{commit}}").decode().strip()]
    if subprocess.run(["git", "-C", str(top), "rev-parse", "--verify", "-q", "HEAD"], capture_output=True).returncode:
        return []  # no commit yet: no history to be compatible with
    # --full-history: keep versions that only lived on a merged side branch, they may have been published.
    out = _git(top, "rev-list", "--full-history", "HEAD", "--", f":(glob){rel}/**/*.avsc")
    return out.decode().split()


@contextmanager
def _exported(top: Path, rev: str, rel: str) -> Iterator[Path]:
    """The schema directory as it was at ``rev``, extracted into a temporary directory."""
    with tempfile.TemporaryDirectory(prefix="omnibus-schemas-") as tmp:
        target = Path(tmp) / rel
        target.mkdir(parents=True)
        if _git(top, "ls-tree", "-d", rev, "--", rel).strip():
            archive = _git(top, "archive", "--format=tar", rev, "--", rel)
            with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
                tar.extractall(tmp, filter="data")
        yield target


# --- the check ------------------------------------------------------------------------------------


def check_compatibility(repo: Path, *, against: str | None = None, schemas_dir: str = "schemas") -> CompatReport:
    """Check the working-tree schemas of ``repo`` against every committed version (or only ``against``)."""
    repo = Path(repo).resolve()
    top = Path(_git(repo, "rev-parse", "--show-toplevel").decode().strip()).resolve()
    current_root = (repo / schemas_dir).resolve()
    try:
        rel = current_root.relative_to(top).as_posix()
    except ValueError:
        raise SchemaError(f"{current_root} is not inside the git repository {top}") from None
    current = SchemaCatalog.load(current_root)
    current_by_file = {s.path.relative_to(current_root).as_posix(): s for s in current}

    report = CompatReport()
    findings: dict[tuple[str, str], list[str]] = {}  # (schema, reason) -> short revisions, newest first
    seen_writers: set[tuple[str, str]] = set()
    for rev in _revisions(top, rel, against):
        report.revisions += 1
        with _exported(top, rev, rel) as old_root:
            try:
                old = SchemaCatalog.load(old_root)
            except SchemaParseError as exc:
                report.warnings.append(f"{rev[:12]}: skipped, schemas do not load: {exc.message} ({exc.path.name})")
                continue
        for writer in old:
            file = writer.path.relative_to(old_root).as_posix()
            reader = current_by_file.get(file)
            if reader is None or reader.fullname != writer.fullname:
                reason = f"{rel}/{file} was deleted or renamed; data written with it can no longer be read"
                findings.setdefault((writer.fullname, reason), []).append(rev[:12])
                continue
            key = (writer.fullname, json.dumps(writer.schema, sort_keys=True))
            if key in seen_writers:
                continue
            seen_writers.add(key)
            report.comparisons += 1
            try:
                reasons = incompatibilities(reader.schema, writer.schema)
            except SchemaError as exc:
                report.warnings.append(f"{rev[:12]}: {writer.fullname} not compared: {exc}")
                continue
            for reason in reasons:
                findings.setdefault((writer.fullname, reason), []).append(rev[:12])
    for (schema, reason), revs in findings.items():
        where = revs[0] if len(revs) == 1 else f"{revs[0]} and {len(revs) - 1} older"
        report.problems.append(Problem(schema, f"{reason} (version at {where})"))
    return report
