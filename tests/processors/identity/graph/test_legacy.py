"""An upgrade needs no replay: JSON states, profiles and graph records of the protocol before msgpack are read."""

from __future__ import annotations

import base64
import json

from bus.serde import SerdeContext
from processors.identity.graph.legacy import decode_any_profile, decode_any_state
from processors.identity.graph.messages.steps import Assign, Visit
from processors.identity.graph.outputs import Created, Resolved, Send
from processors.identity.graph.state import BlockEntry, BlockState, CustomerState, IdentifierState, encode_state
from processors.identity.wire import decode_record
from tests.processors.identity.support import SERIALIZER, Harness, interaction


def test_json_states_of_the_old_protocol_are_read_as_typed_states() -> None:
    identifier = {"o": "cus_1", "v": 2, "r": "a1b2c3d4e5f6", "f": 123, "as": ["cus_7"]}
    assert decode_any_state(json.dumps(identifier).encode()) == IdentifierState(
        owner="cus_1", version=2, recent=bytes.fromhex("a1b2c3d4e5f6"), first_rank=123, refused_with=["cus_7"])
    customer = {"init": True, "m": {"EMAIL:a@x.org": (5 << 24) | 3, "PHONE:+1": 1}, "b": 5, "dn": ["cus_9"],
                "tr": {"gn": ["ann"]}}
    assert decode_any_state(json.dumps(customer).encode()) == CustomerState(
        created=True, members={"EMAIL:a@x.org": (3, 5), "PHONE:+1": (1, 0)}, born=5, traits={"gn": ["ann"]},
        do_not_merge=["cus_9"])
    stub = {"init": False, "q": [{"k": "assign", "o": "cus_2", "v": 1, "tok": None}]}
    assert decode_any_state(json.dumps(stub).encode()) == CustomerState(waiting=[Assign("cus_2", 1)])
    block = {"e": {"cus_1": [{"gn": ["ann"]}, ["EMAIL"]]}}
    assert decode_any_state(json.dumps(block).encode()) == BlockState({"cus_1": BlockEntry({"gn": ["ann"]}, ["EMAIL"])})
    state = CustomerState(created=True, members={"A:1": (1, 0)})
    assert decode_any_state(encode_state(state)) == state
    assert decode_any_profile(b'{"products": {"products": {}}}') == {"products": {"products": {}}}


def test_a_json_saga_still_on_the_graph_topic_finishes_its_way() -> None:
    h = Harness()
    event = interaction([("EMAIL", "a@x.org")])
    raw = SERIALIZER(event, SerdeContext(topic="contact.events.v1"))
    old_saga = {"e": event.value["envelope"]["event_id"], "ch": "CALL_CENTER", "at": 1_000, "t0": 0.0,
                "ids": ["EMAIL:a@x.org"], "i": 0, "seen": {}, "plan": [], "j": 0, "cur": None, "pend": [],
                "ev": {"t": "contact.events.v1", "s": event.schema, "b": base64.b64encode(raw).decode()}}
    bundle = {"k": "bundle", "m": [["EMAIL:a@x.org", {"k": "visit", "saga": old_saga}]]}
    ((node, message),) = decode_record(json.dumps(bundle).encode(), "EMAIL:a@x.org")
    assert isinstance(message, Visit) and message.saga.event is not None and message.saga.event.record == raw
    assert decode_record(json.dumps({"k": "visit", "saga": old_saga}).encode(), node) == [(node, message)]
    h.local.submit([Send(node, message)])
    h.local.run()
    (created,) = h.decisions(Created)
    (resolved,) = h.decisions(Resolved)
    assert resolved.customer_id == created.customer_id == h.customer("EMAIL", "a@x.org")
    assert h.local.store.profiles[created.customer_id]["recent_contacts"]
