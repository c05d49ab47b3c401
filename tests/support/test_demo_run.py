"""The demo run's record decoding, which the identifier scan reads (``tests/security/test_demo_scan.py``)."""

from __future__ import annotations

import msgspec

from processors.identity.graph.contact_codec import encode_contact
from tests.processors.identity.graph.test_contact_codec import PLAIN, RECORD
from tests.support.demo_run import decoded_internal


def test_a_contact_record_of_identity_s_contacts_changelog_decodes_to_its_fields_in_either_format() -> None:
    fields = msgspec.to_builtins(RECORD, builtin_types=(bytes,))
    assert decoded_internal(encode_contact(RECORD)) == fields  # its keys and embedded record reach the scan
    assert decoded_internal(PLAIN) == fields


def test_a_customer_s_node_state_decodes_to_its_fields_compressed_or_plain() -> None:
    from processors.identity.graph.state import encode_state
    from tests.processors.identity.graph.test_customer_codec import CUSTOMER
    from tests.processors.identity.graph.test_customer_codec import PLAIN as PLAIN_CUSTOMER

    fields = msgspec.to_builtins(CUSTOMER, builtin_types=(bytes,))
    assert decoded_internal(encode_state(CUSTOMER)) == fields  # its members' keys reach the scan
    assert decoded_internal(PLAIN_CUSTOMER) == msgspec.msgpack.decode(PLAIN_CUSTOMER)


def test_a_customer_s_node_state_holding_its_profile_decodes_to_the_customer_s_fields() -> None:
    from processors.identity.graph.customer_codec import with_profile
    from processors.identity.graph.profile_codec import encode_profile
    from processors.identity.graph.state import encode_state
    from tests.processors.identity.graph.test_customer_codec import CUSTOMER

    held = with_profile(encode_state(CUSTOMER), encode_profile({"products": {}}))
    assert decoded_internal(held) == msgspec.to_builtins(CUSTOMER, builtin_types=(bytes,))  # members' keys: the scan
