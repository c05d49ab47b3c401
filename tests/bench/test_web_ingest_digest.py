"""The web hall produces the same bytes, ids and answers for the digest tool's fixed calls as main did before the speed
work of #9 build 6 (``tests.bench.web_ingest_digest``)."""

from __future__ import annotations

from tests.bench.web_ingest_digest import CALLS, digest

# ``python -m tests.bench.web_ingest_digest`` on main 562b1b9e (before the cuts of the webfast3 session): change it only
# with a deliberate change of what the web hall publishes or answers, and say so in the commit.
GOLDEN = "191c871f238d650d5e4ced0173fe952a1a4b9b50fb4c510fc606cb64544db53e"


def test_the_fixed_calls_produce_the_bytes_and_answers_of_before() -> None:
    found, lines = digest(CALLS)
    assert lines == 5156
    assert found == GOLDEN, "a produced record or an answer changed: dump both trees with --dump and diff them"
