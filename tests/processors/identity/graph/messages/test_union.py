"""The message modules, their union and protocol.md's catalogue name the same kinds."""

from __future__ import annotations

import re
import typing
from pathlib import Path

from processors.identity.graph import messages
from processors.identity.graph.messages import AnyMessage, base, claims, commands, kind, steps

PROTOCOL = Path(messages.__file__).parent.parent / "protocol.md"


def _declared() -> dict[str, type]:
    found = {}
    for module in (base, steps, claims, commands):
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, base.Message) and value is not base.Message:
                if value.__module__ == module.__name__:
                    found[value.__name__] = value
    return found


def test_the_union_holds_every_message_declared_in_the_group_modules_once() -> None:
    union = typing.get_args(AnyMessage)
    assert len(union) == len(set(union))
    assert {cls.__name__: cls for cls in union} == _declared()


def test_every_kind_has_one_row_in_protocol_md_and_every_row_names_a_kind() -> None:
    tags = [cls.__struct_config__.tag for cls in typing.get_args(AnyMessage)]
    assert len(tags) == len(set(tags))
    table = PROTOCOL.read_text().split("## Message catalogue", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `([a-z_]+)` \|", table, flags=re.MULTILINE)
    assert sorted(rows) == sorted(tags)


def test_kind_names_a_message_by_its_tag() -> None:
    assert kind(commands.ReleaseIdentifier(identifier="PHONE:+33600000001", operator="op", reason=None, token="t",
                                           at=1)) == "release_identifier"
