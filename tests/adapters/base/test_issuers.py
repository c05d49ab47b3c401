"""Ids scoped by their issuer (``adapters.base.issuers``): one shape, and ids published bare before keep theirs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from adapters.base.handoff_request import handoff_id
from adapters.base.issuers import issued_id, scoped_id

UPGRADE = datetime(2026, 12, 5, 12, tzinfo=UTC)


def test_an_id_names_its_kind_and_its_issuer() -> None:
    assert scoped_id("counter", "CT-0001-01", "T-100") == "counter:CT-0001-01:T-100"
    assert scoped_id("counter", "CT-0001-01", "1") != scoped_id("counter", "CT-0002-01", "1")


def test_a_case_id_is_the_same_shape() -> None:
    assert handoff_id("counter", "CT-0001-01", "T-100") == scoped_id("counter", "CT-0001-01", "T-100")


def test_an_event_before_the_upgrade_keeps_its_bare_id_and_one_after_is_scoped() -> None:
    before, after = UPGRADE - timedelta(microseconds=1), UPGRADE
    assert issued_id("counter", "CT-0001-01", "T-100", before, UPGRADE) == "T-100"
    assert issued_id("counter", "CT-0001-01", "T-100", after, UPGRADE) == "counter:CT-0001-01:T-100"
    assert issued_id("counter", "CT-0001-01", "T-100", before, None) == "counter:CT-0001-01:T-100"
