"""``fields.text``: scalars rendered as ``json.dumps`` renders them (its fast path must not change a byte)."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.web import fields


@given(st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
       | st.lists(st.integers(), max_size=3) | st.dictionaries(st.text(max_size=3), st.floats(), max_size=2))
@settings(max_examples=300, deadline=None)
def test_a_value_renders_as_compact_json(value: object) -> None:
    assert fields.text(value) == json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)
