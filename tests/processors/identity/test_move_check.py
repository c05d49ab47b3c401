"""``omnibus identity move-contact`` refuses a move that would move nothing (tester22 F8 addendum): it exited 0 and
the graph's ``ContactMoved`` had ``moved_event_ids: []`` for a contact that stood on no customer."""

from __future__ import annotations

import pytest
import typer

from processors.identity.move_check import contact_customers, refuse_elsewhere
from tests.processors.identity.support import interaction
from tests.processors.verify.support import CONTACTS, record

CALL = interaction([("PHONE", "+33478112233")], interaction_id="t22-call-hugo")


def test_a_contact_stands_on_the_customer_it_was_placed_on() -> None:
    records = [record(CONTACTS, "cus_bruno", CALL, 0)]
    assert contact_customers(records, "t22-call-hugo") == {"cus_bruno"}
    assert contact_customers(records, "another-call") == set()


def test_a_move_from_a_customer_the_contact_is_not_on_exits_1_and_says_where_it_is(
        capsys: pytest.CaptureFixture[str]) -> None:
    records = [record(CONTACTS, "cus_bruno", CALL, 0)]
    refuse_elsewhere("t22-call-hugo", "cus_bruno", records)  # there: goes on
    for source, says in (("cus_hugo", "but on 1 other customer(s): cus_bruno"), ("cus_bruno", "on no customer")):
        with pytest.raises(typer.Exit) as exited:
            refuse_elsewhere("t22-call-hugo" if source == "cus_hugo" else "lost-call", source, records)
        assert exited.value.exit_code == 1
        err = capsys.readouterr().err
        assert says in err and "nothing to move" in err
