"""A key's revisions: the same content is a duplicate, other content a newer fact (tester F2)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from adapters.legacy.revisions import Revision, RevisionStore, content_digest, next_revision

KEY = "batch:accounts:400055556666"
HOME = {"account_number": "400055556666", "address_line": "1 rue X", "phone": "0600000001"}
MOVED = {**HOME, "address_line": "9 quai Y", "phone": "0600000009"}


def _history(*contents: dict[str, str]) -> list[str]:
    """The line ids the same key's lines get, night after night."""
    ids, last = [], None
    for fields in contents:
        line = next_revision(KEY, content_digest(fields), last)
        ids.append(line.revision.line_id)
        last = line.revision
    return ids


def test_the_same_line_twice_keeps_its_id_and_is_no_change() -> None:
    first = next_revision(KEY, content_digest(HOME), None)
    again = next_revision(KEY, content_digest(dict(reversed(HOME.items()))), first.revision)
    assert (first.revision.line_id, first.changed) == (KEY, False)  # a new key: the plain id, as before
    assert (again.revision, again.changed) == (first.revision, False)


def test_f2_a_changed_line_is_a_newer_fact_with_an_id_of_its_own() -> None:
    """tester F2: a customer who moved (new address, new mobile) kept the account number and was dropped."""
    first = next_revision(KEY, content_digest(HOME), None)
    moved = next_revision(KEY, content_digest(MOVED), first.revision)
    assert moved.changed and moved.key == KEY
    assert moved.revision.line_id.startswith(f"{KEY}@") and moved.revision.line_id != KEY
    assert next_revision(KEY, content_digest(MOVED), first.revision) == moved  # a re-run after a crash: same id


def test_a_line_changed_back_is_a_new_fact_again() -> None:
    ids = _history(HOME, MOVED, HOME, MOVED)
    assert len(set(ids)) == 4  # no revision's id is an earlier one's, which the dedupe store would drop


def test_a_key_published_before_revisions_were_kept_keeps_its_plain_id() -> None:
    """An older state directory: the key is in ``dedupe.sqlite`` without a digest, and no revision names it. The line
    keeps the plain id the dedupe store knows (a duplicate, as before) and becomes the key's first revision."""
    line = next_revision(KEY, content_digest(MOVED), None)
    assert (line.revision, line.changed) == (Revision(content_digest(MOVED), KEY), False)


def test_the_digest_reads_parsed_values_of_any_type() -> None:
    fields = {"amount": Decimal("59.99"), "due_date": date(2024, 4, 15), "email": None}
    assert content_digest(fields) == content_digest(dict(reversed(fields.items())))
    assert content_digest(fields) != content_digest({**fields, "amount": Decimal("60.00")})
    assert len(content_digest(fields)) == 32


def test_the_store_keeps_the_latest_revision_per_key_across_runs(tmp_path: Path) -> None:
    path = tmp_path / "batch" / "revisions.sqlite"
    store = RevisionStore(path)
    first = next_revision(KEY, content_digest(HOME), None)
    moved = next_revision(KEY, content_digest(MOVED), first.revision)
    assert store.latest(KEY) is None
    store.save([first, moved])  # one key twice in a chunk: the later line wins
    store.close()
    reopened = RevisionStore(path)
    assert reopened.latest(KEY) == moved.revision and reopened.latest(f"{KEY}0") is None
    reopened.close()
