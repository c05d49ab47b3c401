"""``omnibus deadletters open-case``: the case an operator opens by hand from a dead letter, for every
channel whose requests are dead-lettered; the broker run is in ``test_sealed_handoffs_broker``."""

from __future__ import annotations

from io import BytesIO

import fastavro
import pytest
from typer.testing import CliRunner

from bus.errors import RawRecord
from bus.identifiers import IdentifierNormaliser, IdentifierSettings
from omnibus.cli import app as omnibus
from processors.deadletters.manual_case import BadCase, ManualCase, case_event, manual_handoff_id
from processors.deadletters.new_id import Operator
from schemas.catalog import default_catalog
from tests.processors.deadletters.test_init import letter

OPERATOR = Operator("ops-kasia", "agent form left the kind out")
NORMALISER = IdentifierNormaliser(IdentifierSettings(default_region="PL"), component="test")


@pytest.mark.parametrize(("component", "channel"), [
    ("adapter.call_center", "CALL_CENTER"), ("adapter.web", "WEB"), ("adapter.branch", "BRANCH"),
    ("adapter.legacy", "BUSINESS_SYSTEM"),
])
def test_every_channel_s_dead_letter_opens_one_valid_case(component: str, channel: str) -> None:
    dead = letter(RawRecord(value=b"{}"), reason="handoff refused, the rest of the record was published: x",
                  component=component)
    case = ManualCase("Line-Repair", ["PHONE=+48 22 123 45 67"], "Brak sygnału od burzy")
    event = case_event(dead, case, OPERATOR, NORMALISER)
    fastavro.schemaless_writer(BytesIO(), default_catalog().get(event.schema).parsed, event.value, strict=True)
    value = event.value
    assert (value["handoff_id"], value["case_type"], value["origin_channel"]) == (
        manual_handoff_id(dead), "line-repair", channel)
    assert value["customer_identifiers"] == [{"type": "PHONE", "value": "+48221234567"}]
    assert value["actor"] == {"kind": "EMPLOYEE", "id": "ops-kasia"}
    assert value["intake_facts"] == {"dead_letter_id": dead.id, "opened_by": "ops-kasia",
                                     "opened_why": "agent form left the kind out"}
    assert value["envelope"]["occurred_at"] == dead.fields["failed_at"]
    # the same dead letter opened again: the same case under the same event id
    again = case_event(dead, case, OPERATOR, NORMALISER).value
    assert again["envelope"]["event_id"] == value["envelope"]["event_id"] and again["handoff_id"] == value[
        "handoff_id"]


def test_the_channel_s_own_id_and_channel_may_be_given() -> None:
    dead = letter(RawRecord(value=b"{}"), component="processor.handoffs")
    with pytest.raises(BadCase, match="--channel"):
        case_event(dead, ManualCase("line-repair", ["PHONE=+48221234567"]), OPERATOR, NORMALISER)
    value = case_event(dead, ManualCase("line-repair", ["PHONE=+48221234567"], channel="call_center",
                                        handoff_id="call:twilio-taskrouter:WT1"), OPERATOR, NORMALISER).value
    assert (value["origin_channel"], value["handoff_id"]) == ("CALL_CENTER", "call:twilio-taskrouter:WT1")
    assert value["summary"] == f"line-repair opened by hand from dead letter {dead.id}"


@pytest.mark.parametrize(("case", "says"), [
    (ManualCase("line-repair", []), "--identifier TYPE=VALUE is required"),
    (ManualCase("line-repair", ["+48221234567"]), "expected TYPE=VALUE"),
    (ManualCase("line-repair", ["PHONE=12"]), "--identifier PHONE=...: "),
    (ManualCase(" ", ["PHONE=+48221234567"]), "--kind"),
    (ManualCase("x" * 65, ["PHONE=+48221234567"]), "--kind"),
    (ManualCase("line-repair", ["PHONE=+48221234567"], "s" * 1001), "--summary"),
    (ManualCase("line-repair", ["PHONE=+48221234567"], channel="fax"), "--channel fax"),
])
def test_what_a_case_needs_is_checked_and_no_value_is_echoed(case: ManualCase, says: str) -> None:
    dead = letter(RawRecord(value=b"{}"), component="adapter.call_center")
    with pytest.raises(BadCase) as raised:
        case_event(dead, case, OPERATOR, NORMALISER)
    assert says in str(raised.value) and "48221234567" not in str(raised.value) and "=12" not in str(raised.value)


def test_the_command_needs_who_why_kind_and_the_customer() -> None:
    runner = CliRunner()
    for missing in (["--by", "ops"], ["--why", "w", "--by", "ops"]):
        result = runner.invoke(omnibus, ["deadletters", "open-case", "some-id", *missing])
        assert result.exit_code == 2, result.output
    result = runner.invoke(omnibus, ["deadletters", "open-case", "--help"])
    assert result.exit_code == 0 and "--identifier" in result.output and "--kind" in result.output
