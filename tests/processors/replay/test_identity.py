import json

from processors.identity.graph.state import CustomerState, IdentifierState, encode_state
from processors.replay import Replayed
from processors.replay.identity import clusters, running


def test_clusters_are_the_roots_members_keyed_by_their_smallest_identifier():
    nodes = {
        "cus_1": CustomerState(created=True, members={"PHONE:+33611": (1, 0), "EMAIL:a@x.org": (1, 0)}),
        "cus_2": CustomerState(created=True, parent="cus_1", members={"USER_ID:u2": (1, 0)}),  # merged away
        "cus_3": CustomerState(created=False, members={"USER_ID:u3": (1, 0)}),  # a stub not created yet
        "PHONE:+33611": IdentifierState(owner="cus_1"),
    }
    assert clusters(nodes) == {"EMAIL:a@x.org": ["EMAIL:a@x.org", "PHONE:+33611"]}


def test_running_reads_the_changelog_latest_value_wins_and_tombstones_delete():
    def record(key: str, value: dict | None) -> Replayed:
        return Replayed("t", 0, 0, key.encode(), None, json.dumps(value).encode() if value is not None else None)

    found, undecodable = running([
        record("cus_1", {"init": True, "m": {"USER_ID:u1": 1}}),
        Replayed("t", 0, 1, b"cus_1", None,
                 encode_state(CustomerState(created=True, members={"USER_ID:u1": (1, 0), "PHONE:+1": (1, 0)}))),
        record("cus_9", {"init": True, "m": {"USER_ID:u9": 1}}), record("cus_9", None),
        Replayed("t", 0, 5, b"cus_5", None, b"\x00not json"),
    ])
    assert found == {"PHONE:+1": ["PHONE:+1", "USER_ID:u1"]} and undecodable == 1


def test_running_profiles_reads_those_the_node_values_hold_over_the_rows_of_the_profile_changelog():
    """memory33: a customer's profile is kept in its node value (``customer_codec.CUSTOMER_WITH_PROFILE``); verify's
    screen-pop check reads it there, and a row of the profile changelog written before for the others."""
    from processors.identity.graph.customer_codec import with_profile
    from processors.identity.graph.profile_codec import encode_profile
    from processors.replay.identity import running_profiles

    def row(topic, offset, key, value):
        return Replayed(f"v.identity-identity-{topic}-changelog", 0, offset, key.encode(), None, value)

    customer = encode_state(CustomerState(created=True))
    old, new, moved = {"products": {"a": 1}}, {"products": {"b": 2}}, {"products": {"c": 3}}
    profiles = [row("profiles", 0, "cus_old", encode_profile(old)),
                row("profiles", 1, "cus_moved", encode_profile(old)), row("profiles", 2, "cus_moved", None)]
    nodes = [row("nodes", 0, "cus_old", customer),
             row("nodes", 1, "cus_new", with_profile(customer, encode_profile(new))),
             row("nodes", 2, "cus_moved", with_profile(customer, encode_profile(moved))),
             row("nodes", 3, "cus_gone", with_profile(customer, encode_profile(new))),
             row("nodes", 4, "cus_gone", None)]
    assert running_profiles(profiles, nodes) == ({"cus_old": old, "cus_new": new, "cus_moved": moved}, 0)
    assert running_profiles(profiles) == ({"cus_old": old}, 0)


def test_a_table_value_with_a_codec_mark_on_something_else_counts_as_undecodable():
    """A profile or contact record whose mark says zstd (or deflate) but whose frame is not: counted, not raised
    (a verifier that read such a record stopped with ``ZstdError``)."""
    from processors.identity.graph.profile_codec import PROFILE_ZSTD_V4, encode_profile
    from processors.replay.identity import running_profiles

    good = Replayed("p", 0, 0, b"cus_a", None, encode_profile({}))
    bad = [Replayed("p", 0, 1 + i, f"cus_{i}".encode(), None, bytes((mark,)) + b"not a frame")
           for i, mark in enumerate((PROFILE_ZSTD_V4, 0x01, 0x02))]
    assert running_profiles([good, *bad]) == ({"cus_a": {}}, 3)


def test_running_reads_the_node_changelog_as_its_owner_holds_it_with_a_cut_batch_taken_back():
    """``replay identity`` compares what the owner holds: batch w1:2, without its done marker (cut by a stop), is
    taken back as the owner's restore takes it back (``bus.batch_restore``); w1:1, done, stays."""
    from bus.batch_restore import batch_header, done_marker
    from bus.fencing import fence_headers

    def written(offset: int, key: str, state, batch: str) -> Replayed:
        return Replayed("t", 0, offset, key.encode(), None, encode_state(state),
                        (*fence_headers(1), batch_header(batch)))

    marker_key, marker_value, marker_headers = done_marker(("w1", 1), 1)
    one = CustomerState(created=True, members={"USER_ID:u1": (1, 0)})
    two = CustomerState(created=True, members={"USER_ID:u1": (1, 0), "PHONE:+1": (1, 0)})
    other = CustomerState(created=True, members={"USER_ID:u2": (1, 0)})
    records = [written(0, "cus_1", one, "w1:1"), Replayed("t", 0, 1, marker_key, None, marker_value, marker_headers),
               written(2, "cus_1", two, "w1:2"), written(3, "cus_2", other, "w1:2")]
    assert running(records) == ({"USER_ID:u1": ["USER_ID:u1"]}, 0)
    done_key, done_value, done_headers = done_marker(("w1", 2), 1)
    finished = [*records, Replayed("t", 0, 4, done_key, None, done_value, done_headers)]
    assert running(finished) == ({"PHONE:+1": ["PHONE:+1", "USER_ID:u1"], "USER_ID:u2": ["USER_ID:u2"]}, 0)
