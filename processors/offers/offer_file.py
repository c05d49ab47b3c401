"""Offer files: YAML in, validated ``Offer`` objects out, or every error with its line number.

A file holds one offer (a mapping) or several (a list of mappings). Keys are the fields of ``Offer``::

    offer_id: fibre-upgrade
    version: 2
    title: Fibre 1 Gbit/s for the price of 500
    content: {default: "...", CALL_CENTER: "Script: ..."}
    channels: [WEB, CALL_CENTER, BRANCH]
    valid_from: 2026-12-01T00:00:00+01:00
    valid_until: 2027-01-31T23:59:59+01:00
    priority: 50
    eligibility: '"DSL" in products && service_tier != "BASIC"'
    caps: [{max: 2, per: 7d}]
    quiet_hours: {start: "21:00", end: "08:00"}
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from bus.errors import OmnibusError
from bus.validation_errors import validation_reason
from processors.offers.definition import Offer


@dataclass(frozen=True, slots=True)
class FileError:
    line: int  # 1-based
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


class OfferFileError(OmnibusError, ValueError):
    """The file is not a valid offer file; ``errors`` has every problem found, with its line."""

    def __init__(self, path: str, errors: list[FileError]) -> None:
        self.errors = errors
        super().__init__(f"{path}: " + "; ".join(str(e) for e in errors))


def _line_of(node: yaml.Node, loc: tuple[Any, ...]) -> int:
    """The line of the deepest node of ``loc`` (a pydantic error location) that exists in the YAML tree;
    for a mapping or list under a key, the key's line."""
    line = node.start_mark.line + 1
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            pair = next(((key, value) for key, value in node.value if key.value == str(part)), None)
            if pair is None:
                return line
            line, node = pair[0].start_mark.line + 1, pair[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line if isinstance(node, yaml.CollectionNode) else node.start_mark.line + 1


def parse_offers(text: str, path: str = "<offers>") -> list[Offer]:
    """Every offer of the file; raises ``OfferFileError`` listing each problem with its line."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        raise OfferFileError(path, [FileError(line, f"not YAML: {getattr(exc, 'problem', exc)}")]) from exc
    if root is None:
        raise OfferFileError(path, [FileError(1, "the file is empty")])
    items, nodes = ([data], [root]) if isinstance(data, dict) else (data, getattr(root, "value", []))
    if not isinstance(items, list) or not items:
        expected = "expected an offer (a mapping) or a list of offers"
        raise OfferFileError(path, [FileError(root.start_mark.line + 1, expected)])
    offers: list[Offer] = []
    errors: list[FileError] = []
    for item, node in zip(items, nodes, strict=True):
        if not isinstance(item, dict):
            errors.append(FileError(node.start_mark.line + 1, "an offer must be a mapping of fields"))
            continue
        try:
            offers.append(Offer.model_validate(item))
        except ValidationError as exc:
            for error in exc.errors():
                loc, message = tuple(error["loc"]), validation_reason(error)
                field, _, rest = message.partition(": ")
                if not loc and field in Offer.model_fields:  # a check across fields names the field it is about
                    loc, message = (field,), rest
                where = ".".join(str(p) for p in loc) or "offer"
                errors.append(FileError(_line_of(node, loc), f"{where}: {message}"))
    repeated = sorted({o.offer_id for o in offers if [p.offer_id for p in offers].count(o.offer_id) > 1})
    errors.extend(FileError(1, f"offer {offer_id!r} appears more than once in the file") for offer_id in repeated)
    if errors:
        raise OfferFileError(path, sorted(errors, key=lambda e: e.line))
    return offers


def load_offers(path: Path) -> list[Offer]:
    return parse_offers(path.read_text(encoding="utf-8"), str(path))
