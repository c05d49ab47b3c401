"""Contact records as the contacts table stores them: a format mark and a zstd frame; older ones still read."""

from __future__ import annotations

import msgspec
from hypothesis import given
from hypothesis import settings as settings_
from hypothesis import strategies as st

from processors.identity.graph.contact_codec import CONTACT_ZSTD_V1, decode_contact, encode_contact
from processors.identity.graph.messages.base import ContactRecord, EventRef
from tests.processors.identity.support import SERIALIZER, interaction

RECORD = ContactRecord("95fd8e28-4ace-436c-860e-476aaac505ff", 1_740_819_600_000_000, "CALL_CENTER",
                       ["EMAIL:p0@example.org", "PHONE:+8613900000000"],
                       EventRef("omnibus.contact.events.v1", "omnibus.contact.InteractionRecorded", b"\xc3\x01avro"),
                       True)
# RECORD as the contacts table held it before the mark: its plain msgpack array (store.py up to this format).
PLAIN = bytes.fromhex(
    "96d92439356664386532382d346163652d343336632d383630652d343736616161633530356666cf00062f4425e04400ab43414c4c5f43"
    "454e54455292b4454d41494c3a7030406578616d706c652e6f7267b450484f4e453a2b3836313339303030303030303093b96f6d6e6962"
    "75732e636f6e746163742e6576656e74732e7631d9236f6d6e696275732e636f6e746163742e496e746572616374696f6e5265636f7264"
    "6564c406c3016176726fc3")


def test_a_record_written_before_the_mark_still_decodes() -> None:
    assert decode_contact(PLAIN) == RECORD
    assert PLAIN[0] != CONTACT_ZSTD_V1  # a plain record is a msgpack array: never the mark


def test_a_contact_s_record_is_stored_compressed_in_about_two_thirds_of_its_plain_bytes() -> None:
    from bus.serde import SerdeContext

    topic = "omnibus.contact.events.v1"
    event = interaction([("PHONE", "+8613900000010"), ("EMAIL", "p10@example.org"), ("ACCOUNT", "ACC-0")], minutes=3)
    record = ContactRecord(event.value["envelope"]["event_id"], 1_740_819_780_000_000, "CALL_CENTER",
                           ["ACCOUNT:ACC-0", "EMAIL:p10@example.org", "PHONE:+8613900000010"],
                           EventRef(topic, event.schema, SERIALIZER(event, SerdeContext(topic=topic))))
    stored = encode_contact(record)
    assert stored[0] == CONTACT_ZSTD_V1
    assert decode_contact(stored) == record
    assert len(stored) < 0.75 * len(msgspec.msgpack.encode(record))  # the memory bench's records: ~390 -> ~265


def test_the_v1_dictionary_never_changes_and_a_v1_value_is_a_zstd_frame_without_its_magic_number() -> None:
    import hashlib

    import zstandard

    from processors.identity.graph.contact_codec import _CONTACT_ZDICT_V1

    # Stored records need these very bytes: a better dictionary is a new mark, this one stays readable.
    assert hashlib.sha256(_CONTACT_ZDICT_V1).hexdigest() == \
        "2068716389a36ac1e5219d1ae04b7971cee4ff93063ca67e865f45fe2aa74faa"
    frame = b"\x28\xb5\x2f\xfd" + encode_contact(RECORD)[1:]
    raw_content = zstandard.ZstdCompressionDict(_CONTACT_ZDICT_V1, dict_type=zstandard.DICT_TYPE_RAWCONTENT)
    assert zstandard.ZstdDecompressor(dict_data=raw_content).decompress(frame) == PLAIN

_TEXT = st.text(max_size=40)


@settings_(max_examples=200, deadline=None)
@given(event_id=_TEXT, at=st.integers(min_value=0, max_value=2**63 - 1), channel=_TEXT,
       ids=st.lists(_TEXT, max_size=6), topic=_TEXT, schema=_TEXT, data=st.binary(max_size=600), told=st.booleans())
def test_any_record_reads_back_as_it_was_written_in_either_format(event_id: str, at: int, channel: str, ids: list[str],
                                                                 topic: str, schema: str, data: bytes,
                                                                 told: bool) -> None:
    record = ContactRecord(event_id, at, channel, ids, EventRef(topic, schema, data), told)
    assert decode_contact(encode_contact(record)) == record
    assert decode_contact(msgspec.msgpack.encode(record)) == record
