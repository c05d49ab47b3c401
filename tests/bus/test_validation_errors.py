"""The one wording of a pydantic validation error (``bus.validation_errors``). Its use in the settings' messages:
``test_config.py``."""

import pytest
from pydantic import BaseModel, ValidationError, field_validator, model_validator

from bus.validation_errors import describe_validation_error


class _Checked(BaseModel):
    start: int = 0
    end: int = 0

    @field_validator("start")
    @classmethod
    def _positive(cls, value: int) -> int:
        if value < 0:
            raise ValueError("must not be negative")
        return value

    @field_validator("end")
    @classmethod
    def _small(cls, value: int) -> int:
        assert value < 100, "must be under 100"
        return value

    @model_validator(mode="after")
    def _ordered(self) -> "_Checked":
        if self.end < self.start:
            raise ValueError("end must not be before start")
        return self


@pytest.mark.parametrize(("values", "expected"), [
    ({"start": -1}, "start: must not be negative (got -1)"),
    ({"end": 100}, "end: must be under 100"),  # pytest rewrites the assert: its own text follows
    ({"start": 5, "end": 1}, "end must not be before start"),
    ({"start": "x"}, "start: Input should be a valid integer, unable to parse string as an integer (got 'x')"),
], ids=["field validator", "assertion", "check across fields", "pydantic's own check"])
def test_tester25_f4_a_validation_error_says_the_field_path_and_the_reason_without_pydantics_prefix(
    values: dict, expected: str
) -> None:
    """tester25 F4: a layout missing a required field read ``value: Value error, BillIssued requires ...``: pydantic's
    prefix of a validator's message, and ``value`` for the path of a check across fields, which has none."""
    with pytest.raises(ValidationError) as caught:
        _Checked.model_validate(values)
    described = describe_validation_error(caught.value)
    assert described.startswith(expected), described
    assert "Value error" not in described and "Assertion failed" not in described
