"""The web hall produces the same bytes, ids and answers for the digest tool's fixed calls as main did before the speed
work of #9 build 6 (``tests.bench.web_ingest_digest``)."""

from __future__ import annotations

from tests.bench.web_ingest_digest import CALLS, digest

# ``python -m tests.bench.web_ingest_digest`` on main 562b1b9e (before the cuts of the webfast3 session): change it only
# with a deliberate change of what the web hall publishes or answers, and say so in the commit. Changed once since: the
# answers' dropped-trait reasons name a kind as "an account number (ACCOUNT)" / "a card number (CARD)" instead of "a
# ACCOUNT" (branch batchkey, tester27 F7); with those two texts put back, the dump equals 191c871f...'s byte for byte.
# Changed again: IdentifierType gained SUPPLY_POINT (branch meter, tester28 F5), which changes the fingerprint of every
# schema carrying an Identifier in the single-object header (``C3 01`` + 8 bytes); the bodies are the same: 7bd51865...
# And again: the default identifier traits no longer read a national ID (branch webnid, tester29 F9: 5156 -> 5136
# lines); with NATIONAL_ID put back in DEFAULT_IDENTIFIER_TRAITS the digest is 7bd51865... (the one before).
# And again: the free-text scrubber masks an IBAN whole, its country with its digits (branch ops30, tester29 F12's nit:
# ``FR[digits]`` -> ``[digits]`` in 165 of the 5136 lines, nothing else; with the country put back: 3d8b331b...).
# And again: Channel gained SMS and EMAIL (branch offers31, tester30 F4), which changes the fingerprint of every event
# schema (the envelope carries the channel); before it e4a7fc00... The bodies' sameness was checked on the pinned web
# batch (tests/adapters/web/samples/encoded_batch.json: only the 8 fingerprint bytes changed), not by a dump here.
# And again: IdentifiersObserved gained a nullable holder_role (branch payer33, tester32 F3): the 936 identity.observed
# records of the dump differ from cdb5edfa...'s only in the 8 fingerprint bytes and one trailing 0x00 (the null branch);
# every other record and answer is byte-identical (dumps of integ 9e84985c and ea52c3f0 compared record by record).
# And again: one phone and e-mail mask for raw forms (branch fix39c): a refused phone in national form shows its last
# four digits only (``06 *******6 78`` -> ``******5678``) and a refused e-mail with no domain ``n***@…`` (was
# ``n***@``), in the masked values of refusals; 187 of the 5136 lines, nothing else (with main's masking.py the digest
# is db1eb891..., the one before).
# And again: a national ID refused because no scheme is configured has code ``national-id-no-scheme`` and names the
# setting (branch small55, tester50 F16): 51 lines of the "verifying" deployment (30 identity.observed records, 21
# answers), each differing only in that code and message; before it 1a0dd67a...
GOLDEN = "88d7e574e98a67b369d9d098e586ae1321c9bda5a16943bed7d0398f7a2f87f5"


def test_the_fixed_calls_produce_the_bytes_and_answers_of_before() -> None:
    found, lines = digest(CALLS)
    assert lines == 5136
    assert found == GOLDEN, "a produced record or an answer changed: dump both trees with --dump and diff them"
