"""``CustomerState.review_owed``, ``Offer.review_owed`` and ``OfferResult.reviewed`` (``holder_review.owe``/``owed``)
are last fields with defaults: they travel when set, and records written before them decode with them empty."""

from __future__ import annotations

import msgspec

from processors.identity.graph.customer_codec import plain_customer
from processors.identity.graph.limits import member
from processors.identity.graph.messages.steps import Offer, OfferResult
from processors.identity.graph.state import CustomerState, decode_state, encode_state
from tests.processors.identity.graph.test_came_with import E, X, saga


def test_the_debt_round_trips_and_earlier_records_decode_without_it() -> None:
    state = CustomerState(created=True, members={E: member(1, 7)}, came_with=b"\x01" * 6, review_owed=[E])
    assert decode_state(encode_state(state)) == state
    fields = msgspec.msgpack.decode(plain_customer(encode_state(state)))  # the plain array, as stored before
    assert decode_state(msgspec.msgpack.encode(fields[:-1])) == msgspec.structs.replace(state, review_owed=[])
    offer = Offer("cus_2", {E: member(1, 7)}, None, [], [], None, "t-1", False, X, saga(X, E), review_owed=[E])
    array = msgspec.msgpack.decode(msgspec.msgpack.encode(offer))
    assert msgspec.msgpack.decode(msgspec.msgpack.encode(array), type=Offer) == offer
    before = array[:1 + Offer.__struct_fields__.index("review_owed")]
    assert msgspec.msgpack.decode(msgspec.msgpack.encode(before), type=Offer) == msgspec.structs.replace(
        offer, review_owed=[])
    answer = OfferResult("t-1", False, reviewed=True)
    assert msgspec.msgpack.decode(msgspec.msgpack.encode(answer), type=OfferResult) == answer
    assert msgspec.msgpack.decode(msgspec.msgpack.encode(OfferResult("t-1", False)), type=OfferResult).reviewed is False
