"""The identifier kinds' labels (tester27 F7: "a ACCOUNT" in an operator's answer)."""

from __future__ import annotations

import re

from bus.identifiers.kinds import IDENTIFIER_TYPES, LABELS, label


def test_every_kind_has_a_label_with_the_article_its_first_sound_takes() -> None:
    assert set(LABELS) == set(IDENTIFIER_TYPES)
    for kind in IDENTIFIER_TYPES:
        article, _, noun = label(kind).partition(" ")
        assert article == ("an" if re.match(r"[aeio]", noun) else "a"), label(kind)  # "a user id": a yoo sound
        assert kind not in label(kind)


def test_an_alias_reads_as_its_kind_and_an_unknown_name_as_an_identifier() -> None:
    assert label("iban") == label("ACCOUNT") == "an account number"
    assert label("SHOE_SIZE") == "an identifier"
