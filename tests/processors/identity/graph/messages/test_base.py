"""``messages.base``: a saga written before a field was added still decodes (array-like, defaults at the end)."""

from __future__ import annotations

import msgspec

from processors.identity.graph.messages.base import Saga


def test_a_saga_from_before_prior_ranks_decodes_with_none_and_a_new_one_round_trips() -> None:
    """``Saga.prior_ranks`` is its last field, default ``{}``: the array of a saga whose last field was ``contact``
    decodes (graph records in flight across a deploy), and the field travels when set."""
    saga = Saga("evt-1", "WEB", 60_000_000, 0.0, ["USER_ID:u-1"], contact=b"\x01" * 6)
    fields = msgspec.msgpack.decode(msgspec.msgpack.encode(saga))
    old = msgspec.msgpack.encode(fields[:-1])  # the array as written before: it ends at ``contact``
    assert msgspec.msgpack.decode(old, type=Saga) == saga
    lowered = msgspec.structs.replace(saga, prior_ranks={"USER_ID:u-1": 7 << 10})
    assert msgspec.msgpack.decode(msgspec.msgpack.encode(lowered), type=Saga) == lowered


def test_a_saga_and_an_apply_from_before_member_line_decode_as_no_member_line() -> None:
    """``Saga.member_line`` and ``Apply.member_line`` (tester32 F3) are their last fields, default False: the arrays
    written by a worker of the version before decode (graph records in flight across a deploy), and True travels."""
    from processors.identity.graph.messages.steps import Apply

    saga = Saga("evt-1", "BUSINESS_SYSTEM", 60_000_000, 0.0, ["ACCOUNT:FAM-1"], review_owed=["PHONE:+447911123412"])
    member = msgspec.structs.replace(saga, member_line=True)
    fields = msgspec.msgpack.decode(msgspec.msgpack.encode(member))
    before = Saga.__struct_fields__.index("member_line")  # the fields of the version before (later ones came since)
    assert msgspec.msgpack.decode(msgspec.msgpack.encode(fields[:before]), type=Saga) == saga
    assert msgspec.msgpack.decode(msgspec.msgpack.encode(member), type=Saga) == member
    apply = Apply("evt-1", 0.0, None, None, ["ACCOUNT:FAM-1"], 7 << 10, "BUSINESS_SYSTEM", linked=["a", "b"])
    member_apply = msgspec.structs.replace(apply, member_line=True)
    encoded = msgspec.msgpack.encode(member_apply)
    assert msgspec.msgpack.decode(encoded, type=Apply) == member_apply
    assert msgspec.msgpack.decode(msgspec.msgpack.encode(apply), type=Apply) == apply
