"""A layout's ``holder_role`` column: each line of a family or joint account says whether its holder pays the bills
(``adapters/legacy/roles.py``, tester32 F3), on the business event and on the line's ``IdentifiersObserved``."""

from __future__ import annotations

from contextlib import AsyncExitStack
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from adapters.base.errors import RejectedInput
from adapters.base.runtime import adapter_runtime
from adapters.legacy.ingress_batch import BatchImporter
from adapters.legacy.layout import load_layout
from adapters.legacy.mapper import BusinessRecord, map_business
from adapters.legacy.roles import holder_role
from bus.topics import BUSINESS_EVENTS, IDENTIFIERS_OBSERVED
from schemas.enums import MEMBER, PAYER
from tests.adapters.legacy.support import legacy_context, legacy_settings, utc
from tests.support.kafka_io import read_events
from tests.support.settings import settings_with_topics

# A UK operator's subscriber master (tester32): one line per holder of a family account, the payer's marked.
SUBSCRIBERS = """name: subscribers
format: csv
event: AccountOpened
fields:
  account_number: {column: ACCOUNT}
  account_type: {column: PLAN}
  full_name: {column: NAME}
  birth_date: {column: DOB, type: date, format: "%d/%m/%Y"}
  mobile: {column: MSISDN}
  holder_role: {column: ROLE}
"""
FAMILY = ["ACCOUNT,PLAN,NAME,DOB,MSISDN,ROLE",
          "FAM-1,family-mobile,Mia Shaw,15/01/2008,07911 123412,Child",
          "FAM-1,family-mobile,Dan Shaw,02/06/1975,07911 123411,Bill payer"]
LINE = {"account_number": "FAM-1", "account_type": "family-mobile", "full_name": "Mia Shaw",
        "birth_date": "2008-01-15", "mobile": "07911 123412"}


@pytest.mark.parametrize(("word", "role"), [
    ("payer", PAYER), ("Bill payer", PAYER), ("ACCOUNT_HOLDER", PAYER), ("Primary", PAYER),
    ("member", MEMBER), ("User", MEMBER), ("child", MEMBER), ("Additional", MEMBER), ("Dependant", MEMBER),
    ("grandma", None),
])
def test_the_source_s_words_map_to_the_standard_roles(word: str, role: str | None) -> None:
    if role is None:  # not a known word: refused, naming the field and the words, never taken as no role
        with pytest.raises(RejectedInput, match="field holder_role names no known role; known words: .*payer"):
            holder_role(word)
    else:
        assert holder_role(word) == role


@pytest.mark.parametrize("blank", [None, "", "  "])
def test_a_blank_role_is_no_role(blank: str | None) -> None:
    assert holder_role(blank) is None


def _mapped(kind: str, fields: dict[str, Any]) -> dict[str, dict[str, Any]]:
    ctx = replace(legacy_context(), identity_topic="identity.observed.v1")
    out = map_business(BusinessRecord(kind, fields, "batch:subscribers:key-mia", utc(2026, 11, 3)), ctx)
    return {item.event.schema.rsplit(".", 1)[1]: item.event.value for item in out.events}


@pytest.mark.parametrize("kind", ["AccountOpened", "ProductSubscribed"])
def test_the_role_is_on_the_business_event_and_on_the_lines_identifiers(kind: str) -> None:
    extra = {"subscription_id": "S-1", "product_code": "FAM-PLAN"} if kind == "ProductSubscribed" else {}
    events = _mapped(kind, {**LINE, **extra, "holder_role": "child"})
    assert events[kind]["holder_role"] == MEMBER
    assert events["IdentifiersObserved"]["holder_role"] == MEMBER


def test_a_line_without_a_role_says_none() -> None:
    events = _mapped("AccountOpened", LINE)
    assert events["AccountOpened"]["holder_role"] is None and events["IdentifiersObserved"]["holder_role"] is None


def test_a_line_with_an_unknown_role_is_refused() -> None:
    with pytest.raises(RejectedInput, match="holder_role"):
        _mapped("AccountOpened", {**LINE, "holder_role": "grandma"})


def test_a_layout_may_map_a_column_to_holder_role(tmp_path: Path) -> None:
    path = tmp_path / "subscribers.yaml"
    path.write_text(SUBSCRIBERS)
    layout = load_layout(path)
    fields = layout.parse(FAMILY[2], layout.columns_from(FAMILY[0]))
    assert holder_role(fields["holder_role"]) == PAYER


@pytest.mark.kafka
async def test_a_family_export_imported_to_the_broker_puts_the_payers_overdue_bill_on_the_payers_screen_pop(
    exit_stack: AsyncExitStack, bootstrap_servers: str, tmp_path: Path
) -> None:
    """The family's master export goes through ``import-batch`` to Kafka (the child's line first, as in tester32's
    file); what identity reads off the topics (through the registry) places the account's overdue bill on Dan's pop."""
    from tests.processors.identity.graph.test_family_payer import _lands_on, _overdue
    from tests.processors.identity.support import Harness, matcher_settings

    settings = await settings_with_topics(bootstrap_servers)
    legacy = legacy_settings(tmp_path / "state")
    runtime = await exit_stack.enter_async_context(adapter_runtime("legacy", settings, legacy))
    ctx = replace(legacy_context(settings.topics), identity_topic=IDENTIFIERS_OBSERVED.name(settings.topics),
                  phone_region="GB")
    importer = BatchImporter(ctx, runtime.publisher, tmp_path / "state", chunk_lines=legacy.batch_chunk_lines)
    layout_path, export = tmp_path / "subscribers.yaml", tmp_path / "subscribers.csv"
    layout_path.write_text(SUBSCRIBERS)
    export.write_text("\n".join(FAMILY) + "\n")
    report = await importer.import_file(export, load_layout(layout_path))
    assert (report.lines, report.rejected) == (2, {})
    business = await read_events(settings, BUSINESS_EVENTS)
    observed = await read_events(settings, IDENTIFIERS_OBSERVED)
    assert sorted(landed.event.value["holder_role"] for landed in business) == [MEMBER, PAYER]
    assert sorted(landed.event.value["holder_role"] for landed in observed) == [MEMBER, PAYER]
    h = Harness(matcher_settings())
    for landed in [*business, *observed]:
        h.feed(landed.event, landed.topic)
    overdue = _overdue(source=ctx.source_system)
    for event, topic in overdue:
        h.feed(event, topic)
    assert _lands_on(h, overdue, ["payer", "child"]) == "payer"
