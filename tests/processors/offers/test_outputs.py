"""Instructions and signals are valid records of the Avro contract, with stable event ids."""

from bus.config import RegistrySettings, TopicSettings
from bus.serde import SerdeContext, build_serde
from processors.offers.outputs import Emitter, Instruction
from processors.offers.signals import Evidence, Signal, SignalKind
from tests.processors.offers.factories import T0, offer, us

EMITTER = Emitter(TopicSettings(), "omnibus-offers", lambda: T0)


def round_trip(outgoing):  # type: ignore[no-untyped-def]
    serializer, deserializer = build_serde(RegistrySettings())
    ctx = SerdeContext(topic=outgoing.topic)
    return deserializer(serializer(outgoing.event, ctx), ctx).value


def test_instruction_round_trips_and_ids_are_stable() -> None:
    item = Instruction("WITHDRAW", "BRANCH", "cus_1", ("EMAIL:a@x.org", "PHONE:+33612345678"), offer("fibre"), reason="ACCEPTED",
                       answered_channel="WEB", cause_id="ev-1")
    out = EMITTER.instruction(item)
    value = round_trip(out)
    assert out.topic == "omnibus.marketing.instructions.branch.v1" and out.key == "cus_1"
    assert (value["action"], value["reason"], value["answered_channel"], value["content"]) == ("WITHDRAW", "ACCEPTED", "WEB", "")
    assert EMITTER.instruction(item).event.value["envelope"]["event_id"] == value["envelope"]["event_id"]
    # identity links what an event's customer_identifiers carry together: one only, the rest for lookups
    assert value["customer_identifiers"] == [{"type": "EMAIL", "value": "a@x.org"}]
    assert [i["type"] for i in value["lookup_identifiers"]] == ["EMAIL", "PHONE"]


def test_signal_round_trips_with_its_evidence() -> None:
    signal = Signal(SignalKind.PAYMENT_OVERDUE, us(T0), us(T0) + 7 * 86400 * 10**6,
                    (Evidence("ev-9", "omnibus.business.PaymentOverdue", us(T0), "BUSINESS_SYSTEM", "bill b1: 15 days"),))
    out = EMITTER.signal("cus_1", signal)
    value = round_trip(out)
    assert out.topic == "omnibus.marketing.signals.v1" and value["kind"] == "PAYMENT_OVERDUE"
    assert value["evidence"][0]["detail"] == "bill b1: 15 days" and value["window_start"] == T0
