"""Backward-compatibility check against git history, in throw-away git repositories."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from bus.cli.schemas import app
from schemas.compat import check_compatibility, incompatibilities
from schemas.errors import SchemaError

GIT = ["git", "-c", "user.name=Test", "-c", "user.email=test@example.invalid", "-c", "commit.gpgsign=false"]


class Repo:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.git("init", "-q")

    def git(self, *args: str) -> str:
        return subprocess.run([*GIT, "-C", str(self.root), *args], check=True, capture_output=True, text=True).stdout

    def write(self, rel: str, schema: dict) -> None:
        path = self.root / "schemas" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(schema, indent=2), encoding="utf-8")

    def delete(self, rel: str) -> None:
        (self.root / "schemas" / rel).unlink()

    def commit(self, message: str) -> str:
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message)
        return self.git("rev-parse", "HEAD").strip()


def field(name: str, type_: Any, **extra: Any) -> dict:
    return {"name": name, "type": type_, "doc": name, **extra}


def thing(*fields: dict) -> dict:
    return {"type": "record", "name": "Thing", "namespace": "omnibus.test", "doc": "A thing.",
            "fields": [field("id", "string"), field("kind", "omnibus.test.Kind"), *fields]}


def kind(*symbols: str, default: str | None = None) -> dict:
    schema: dict[str, Any] = {"type": "enum", "name": "Kind", "namespace": "omnibus.test", "doc": "Kind.",
                              "symbols": list(symbols)}
    if default is not None:
        schema["default"] = default
    return schema


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    repo = Repo(tmp_path)
    repo.write("test/Kind.avsc", kind("A", "B", "C"))
    repo.write("test/Thing.avsc", thing(field("note", "string")))
    repo.commit("v1")
    return repo


def problems(repo: Repo, against: str | None = None) -> list[str]:
    return [str(p) for p in check_compatibility(repo.root, against=against).problems]


def test_unchanged_contract_is_compatible(repo: Repo) -> None:
    report = check_compatibility(repo.root)
    assert report.ok and report.revisions == 1 and report.comparisons == 2


def test_adding_an_optional_field_with_default_passes(repo: Repo) -> None:
    repo.write("test/Thing.avsc", thing(field("note", "string"), field("extra", ["null", "string"], default=None)))
    assert problems(repo) == []


def test_adding_a_schema_passes(repo: Repo) -> None:
    repo.write("test/Other.avsc", {"type": "fixed", "name": "Other", "namespace": "omnibus.test", "size": 4})
    assert problems(repo) == []


def test_adding_a_required_field_without_default_fails(repo: Repo) -> None:
    repo.write("test/Thing.avsc", thing(field("note", "string"), field("tier", "int")))
    [problem] = problems(repo)
    assert problem.startswith("omnibus.test.Thing: field tier has no default")


def test_changing_a_field_type_incompatibly_fails(repo: Repo) -> None:
    repo.write("test/Thing.avsc", thing(field("note", "int")))
    [problem] = problems(repo)
    assert problem.startswith("omnibus.test.Thing: note: reader type: int not compatible with writer type: string")


def test_type_promotion_allowed_by_avro_passes(repo: Repo) -> None:
    repo.write("test/Thing.avsc", thing(field("note", "bytes")))  # string -> bytes is a legal promotion
    assert problems(repo) == []


def test_referenced_type_changes_are_checked_with_the_historical_references(repo: Repo) -> None:
    repo.write("test/Kind.avsc", kind("A", "B"))  # C dropped, no default symbol to read it as
    found = problems(repo)
    assert len(found) == 2
    assert any(p.startswith("omnibus.test.Kind: symbols: enum lost symbols {'C'}") for p in found)
    assert any(p.startswith("omnibus.test.Thing: kind.symbols: enum lost symbols {'C'}") for p in found)


def test_removing_an_enum_symbol_is_fine_with_a_default(tmp_path: Path) -> None:
    repo = Repo(tmp_path)
    repo.write("test/Kind.avsc", kind("A", "B", "UNKNOWN", default="UNKNOWN"))
    repo.commit("v1")
    repo.write("test/Kind.avsc", kind("A", "UNKNOWN", default="UNKNOWN"))
    assert problems(repo) == []


@pytest.mark.parametrize("how", ["delete", "rename"])
def test_deleting_or_renaming_a_schema_fails(repo: Repo, how: str) -> None:
    repo.delete("test/Thing.avsc")
    if how == "rename":
        repo.write("test/Item.avsc", {**thing(field("note", "string")), "name": "Item"})
    [problem] = problems(repo)
    assert problem.startswith("omnibus.test.Thing: schemas/test/Thing.avsc was deleted or renamed")


def test_deletion_is_reported_even_once_committed(repo: Repo) -> None:
    repo.delete("test/Thing.avsc")
    repo.commit("v2 drops Thing")
    [problem] = problems(repo)
    assert "deleted or renamed" in problem


def test_every_historical_version_is_checked_and_against_selects_one(repo: Repo) -> None:
    v1 = repo.git("rev-parse", "HEAD").strip()
    repo.write("test/Thing.avsc", thing())  # v2 drops `note` (readers ignore it: compatible)
    v2 = repo.commit("v2")
    # `note` comes back as an int: v2 data (no note) reads with the default, v1 data (note: string) cannot.
    repo.write("test/Thing.avsc", thing(field("note", "int", default=0)))

    [problem] = problems(repo)
    assert "note: reader type: int not compatible with writer type: string" in problem
    assert f"(version at {v1[:12]})" in problem
    assert problems(repo, against=v2) == []
    assert len(problems(repo, against=v1)) == 1
    assert check_compatibility(repo.root, against="HEAD~1").revisions == 1


def test_repeated_problem_across_versions_is_one_line(repo: Repo) -> None:
    repo.write("test/Thing.avsc", thing(field("note", "string"), field("doc_only_change", ["null", "int"], default=None)))
    repo.commit("v2")
    repo.write("test/Thing.avsc", thing(field("note", "int")))
    [problem] = problems(repo)
    assert "and 1 older" in problem


def test_repository_without_commits_has_nothing_to_break(tmp_path: Path) -> None:
    repo = Repo(tmp_path)
    repo.write("test/Kind.avsc", kind("A"))
    report = check_compatibility(repo.root)
    assert report.ok and report.revisions == 0


def test_revision_before_the_contract_existed_has_nothing_to_break(tmp_path: Path) -> None:
    repo = Repo(tmp_path)
    (tmp_path / "README").write_text("hello", encoding="utf-8")
    first = repo.commit("no schemas yet")
    repo.write("test/Kind.avsc", kind("A"))
    repo.commit("v1")
    repo.write("test/Kind.avsc", kind("B"))
    assert problems(repo, against=first) == []
    assert len(problems(repo)) == 1


def test_unknown_revision_is_an_error(repo: Repo) -> None:
    with pytest.raises(SchemaError):
        check_compatibility(repo.root, against="no-such-rev")


def test_unloadable_historical_revision_is_a_warning(repo: Repo) -> None:
    (repo.root / "schemas" / "test" / "Thing.avsc").write_text("{broken", encoding="utf-8")
    repo.commit("v2 broken")
    repo.write("test/Thing.avsc", thing(field("note", "string")))
    report = check_compatibility(repo.root)
    assert report.ok
    assert len(report.warnings) == 1 and "skipped" in report.warnings[0]


def test_incompatibilities_of_nested_fields_name_the_field_path() -> None:
    inner = {"type": "record", "name": "Inner", "namespace": "t", "fields": [field("site", ["null", "string"], default=None)]}
    writer = {"type": "record", "name": "Outer", "namespace": "t", "fields": [field("envelope", inner)]}
    reader = json.loads(json.dumps(writer))
    reader["fields"][0]["type"]["fields"].append(field("tier", "int"))
    assert incompatibilities(reader, writer) == ["field envelope.tier has no default, so data written without it cannot be read"]


# --- CLI ------------------------------------------------------------------------------------------------


def test_cli_check_exit_codes(repo: Repo) -> None:
    runner = CliRunner()
    ok = runner.invoke(app, ["check", "--repo", str(repo.root)])
    assert ok.exit_code == 0, ok.output
    assert ok.output.startswith("ok:")

    repo.write("test/Thing.avsc", thing(field("note", "string"), field("tier", "int")))
    bad = runner.invoke(app, ["check", "--repo", str(repo.root)])
    assert bad.exit_code == 1
    assert "omnibus.test.Thing: field tier has no default" in bad.stdout

    head = repo.git("rev-parse", "HEAD").strip()
    assert runner.invoke(app, ["check", "--repo", str(repo.root), "--against", head]).exit_code == 1
    missing = runner.invoke(app, ["check", "--repo", str(repo.root), "--against", "nope"])
    assert missing.exit_code == 2 and "error:" in missing.stderr


def test_cli_check_defaults_to_the_current_directory(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo.root)
    repo.write("test/Thing.avsc", thing(field("note", "int")))
    result = CliRunner().invoke(app, ["check"])
    assert result.exit_code == 1 and "omnibus.test.Thing" in result.stdout


def test_cli_list_shows_name_file_and_fingerprint() -> None:
    from schemas.catalog import default_catalog

    result = CliRunner().invoke(app, ["list"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    envelope = default_catalog().get("omnibus.common.Envelope")
    assert "omnibus.common.Envelope" in result.output
    assert "common/Envelope.avsc" in result.output
    assert envelope.fingerprint.hex() in result.output
