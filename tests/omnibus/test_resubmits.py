"""``omnibus.resubmits``: how a body an adapter refuses again is answered (tester: a CTR cut short was answered
"correct it with --set", and ``--set`` then said it cannot correct that body)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from adapters.base.errors import UNKNOWN_FIELD, RejectedInput
from omnibus.resubmits import _resubmit
from processors.deadletters.redrive import OPEN_CASE_HINT
from processors.deadletters.sealed import NotResubmitted, corrected

AT = datetime(2026, 12, 4, tzinfo=UTC)


def refusing(code: str):
    def remap(body: bytes, headers: object, at: datetime, published: bytes | None) -> tuple[()]:
        raise RejectedInput("line 1 is not valid JSON: +48606600604", code=code)
    return _resubmit(lambda: remap, "the call center")


@pytest.mark.parametrize("code", ["bad_json", "bad_encoding"])
def test_a_body_that_does_not_parse_points_to_open_case_not_to_set(code: str) -> None:
    with pytest.raises(NotResubmitted) as refused:
        refusing(code).resubmit(b'{"ContactId": "c-1"', {}, AT, None)
    assert OPEN_CASE_HINT in str(refused.value) and "correct it with --set" not in str(refused.value)
    assert "606600604" not in str(refused.value)  # scrubbed as logs are


def test_a_body_refused_for_a_field_is_still_corrected_with_set() -> None:
    with pytest.raises(NotResubmitted) as refused:
        refusing("missing_field").resubmit(b"{}", {}, AT, None)
    assert "correct it with --set FIELD=VALUE" in str(refused.value)


def test_a_body_refused_for_a_field_the_adapter_does_not_declare_is_told_to_unset_it() -> None:
    """Reported: a counter body refused for ``customer.pesel`` and re-driven as it was said "correct it with --set
    FIELD=VALUE", where no value of an undeclared field is accepted: the way is ``--unset customer.pesel``."""
    with pytest.raises(NotResubmitted) as refused:
        refusing(UNKNOWN_FIELD).resubmit(b"{}", {}, AT, None)
    assert "--unset FIELD" in str(refused.value) and "correct it with --set" not in str(refused.value)


def test_set_on_a_body_that_is_neither_json_nor_a_form_names_open_case() -> None:
    with pytest.raises(NotResubmitted) as refused:
        corrected(b'{"ContactId": "c-1"', {"ContactId": "c-1"})
    assert OPEN_CASE_HINT in str(refused.value)
