"""A key's revisions: the same content is a duplicate, other content a newer fact (tester F2)."""

from __future__ import annotations

import sqlite3
from contextlib import closing
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


def test_a_line_whose_secret_could_not_be_spelled_is_compared_by_its_other_fields() -> None:
    """A national ID spelled as written (its schemes unset in this run) matches no digest taken with its token: the
    other fields (``rest``) tell. Unchanged: the key's revision stays, digest included, for a run with the settings."""
    first = next_revision(KEY, "with-token", None, rest="others")
    kept = next_revision(KEY, "as-written", first.revision, rest="others", unsure=True)
    assert (kept.revision, kept.changed) == (first.revision, False)
    moved = next_revision(KEY, "as-written-moved", first.revision, rest="others-moved", unsure=True)
    assert moved.changed and moved.revision.rest == "others-moved"
    # a national ID that was spelled and differs is a change, whatever the other fields
    assert next_revision(KEY, "other-token", first.revision, rest="others").changed
    # a revision kept before ``rest`` was: no rest to compare, a change as before
    assert next_revision(KEY, "as-written", Revision("with-token", KEY), rest="others", unsure=True).changed


def test_a_store_of_before_gains_the_rest_column_and_reads_its_revisions(tmp_path: Path) -> None:
    path = tmp_path / "revisions.sqlite"
    with closing(sqlite3.connect(str(path))) as db, db:
        db.execute("CREATE TABLE revisions (key TEXT PRIMARY KEY, digest TEXT NOT NULL, line_id TEXT NOT NULL) "
                   "WITHOUT ROWID")
        db.execute("INSERT INTO revisions VALUES (?, ?, ?)", [KEY, "d", KEY])
    with closing(RevisionStore(path)) as store:
        assert store.latest(KEY) == Revision("d", KEY)
        store.save([next_revision(KEY, "d", store.latest(KEY), rest="r")])
        assert store.latest(KEY) == Revision("d", KEY, "r")
    with closing(RevisionStore(path)) as store:  # opened again: the column is there already
        assert store.latest(KEY) == Revision("d", KEY, "r")
