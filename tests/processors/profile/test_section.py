from typing import Any, ClassVar

from bus.serde import Event
from bus.topics import HANDOFF_EVENTS, TopicSpec
from processors.profile.section import ProfileSection, deep_union


class Notes(ProfileSection):
    name: ClassVar[str] = "notes"
    topics: ClassVar[tuple[TopicSpec, ...]] = (HANDOFF_EVENTS,)
    schemas: ClassVar[frozenset[str]] = frozenset({"x.Note"})

    def identifiers(self, event: Event) -> list[dict[str, str]]:
        return list(event.value["ids"])

    def apply(self, state: dict[str, Any] | None, event: Event) -> dict[str, Any]:
        return {**(state or {}), event.value["id"]: event.value["text"]}


def test_a_section_needs_only_identifiers_and_apply() -> None:
    section = Notes()
    event = Event("x.Note", {"id": "n1", "text": "hello", "ids": [{"type": "PHONE", "value": "+1"}]})
    assert section.accepts(event) and not section.accepts(Event("x.Other", {}))
    state = section.apply(None, event)
    assert section.apply(state, event) == state == {"n1": "hello"}  # idempotent
    assert section.render(state) == state
    assert section.merge({"n1": "a"}, {"n2": "b"}) == {"n1": "a", "n2": "b"}


def test_the_default_merge_is_a_deep_union_favouring_the_survivor() -> None:
    assert deep_union(None, {"a": 1}) == {"a": 1} and deep_union({"a": 1}, None) == {"a": 1}
    assert deep_union({"h": {"x": 1, "y": [1, 2]}, "k": "s"}, {"h": {"y": [2, 3], "z": 0}, "k": "m"}) == {
        "h": {"x": 1, "y": [1, 2, 3], "z": 0}, "k": "s",
    }
