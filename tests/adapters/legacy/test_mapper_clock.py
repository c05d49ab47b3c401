"""Business-system times: out of range refused, a clock running ahead moved back (adapters.base.clock)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from adapters.base.errors import RejectedInput
from adapters.legacy.mapper import BusinessRecord, map_business
from tests.adapters.legacy.support import legacy_context

FIELDS = {"account_number": "ACC-1", "account_type": "mobile"}


def test_a_future_occurred_at_is_moved_back_to_now() -> None:
    record = BusinessRecord("AccountOpened", FIELDS, "r-1", datetime.now(UTC) + timedelta(days=3))
    occurred = map_business(record, legacy_context()).events[0].event.value["envelope"]["occurred_at"]
    assert occurred <= datetime.now(UTC)


@pytest.mark.parametrize("value", ["9999-12-31T23:59:59.999999-14:00", "0001-01-01T00:00:00+14:00", "1969-01-01"])
def test_an_impossible_effective_time_is_refused(value: str) -> None:
    record = BusinessRecord("ProductSubscribed", {**FIELDS, "subscription_id": "s", "product_code": "p",
                                                  "effective_at": value}, "r-2", datetime.now(UTC))
    with pytest.raises(RejectedInput, match="outside"):
        map_business(record, legacy_context())
