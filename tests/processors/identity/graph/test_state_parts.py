"""The parts a node state holds keep their stored form: msgpack arrays of their fields in order."""

from __future__ import annotations

import msgspec

from processors.identity.graph.state_parts import AccountLines, MasterRecord, Person, RecordGift, RecordLine


def test_parts_are_stored_as_arrays_of_their_fields() -> None:
    assert msgspec.msgpack.decode(msgspec.msgpack.encode(Person(ids=["USER_ID:u1"]))) == [None, ["USER_ID:u1"]]
    assert msgspec.msgpack.decode(msgspec.msgpack.encode(Person())) == [None, []]
    assert msgspec.msgpack.decode(msgspec.msgpack.encode(MasterRecord(2, "NATIONAL_ID:x"))) == [2, "NATIONAL_ID:x"]
    gift = RecordGift(1, ["ACCOUNT:42"], "e1")
    assert msgspec.msgpack.decode(msgspec.msgpack.encode(gift), type=RecordGift) == gift
    lines = AccountLines(lines=[RecordLine(b"\x01" * 6, 3, True, ["PHONE:+33612345678"])])
    assert msgspec.msgpack.decode(msgspec.msgpack.encode(lines), type=AccountLines) == lines
    assert msgspec.msgpack.decode(msgspec.msgpack.encode(AccountLines(dated_record=True))) == [[], None, True]
