"""Hypothesis strategies for every wire format the adapters read, generating hostile shapes as well as
valid ones: a real sample with some of its fields replaced by hostile values (wrong JSON types, lone
surrogates, NaN/Infinity/1e400, nesting up to 60 deep, out-of-range times, huge numbers, NUL bytes, long
text) or removed, then serialised, and sometimes damaged on the wire (truncated, garbage, compressed,
mislabelled).

Each strategy draws one seed from Hypothesis and builds the case with a ``random.Random`` of it: ten
thousand cases per ingress must fit in CI's minutes, and drawing every choice through Hypothesis costs
about 40 ms a case against 0.1 ms this way. A failing case is still reported with the seed that
reproduces it.
"""

from __future__ import annotations

import base64
import copy
import csv
import gzip
import io
import json
import random
from collections.abc import Callable
from typing import Any, TypeVar

from hypothesis import strategies as st

T = TypeVar("T")
DELETE = object()
HOSTILE_TEXT = [
    "\ud800", "a\udfffb", "", " ", "\x00", "x" * 5000, "é" * 300, "9999-12-31T23:59:59.999999-14:00",
    "0001-01-01T00:00:00+14:00", "2024-05-02T08:30:58Z", "2024-05-02 08:30:58", "1e400", "NaN", "-1",
    "99999999999999", "100000000000000000000", "+33612345678", "0031612345678", '"quoted"', "a,b;c\nd",
    "9999-12-31 23:59:59", "1969-07-20 20:17:40", '{"a":', "[]", "task.completed", "VOICE", "ANSWERED",
]
ALPHABET = "aZ09 -_:+.,;\"'\\/\n\t\x00é€\u202e\ud800\udfff😀"


def hostile(rnd: random.Random, depth: int = 0) -> Any:
    """One hostile JSON value."""
    kind = rnd.randrange(11 if depth < 2 else 8)
    if kind == 0:
        return None
    if kind == 1:
        return rnd.random() < 0.5
    if kind == 2:
        return rnd.choice([0, -1, 42, 2**31, 2**63, -(2**63) - 1, 10**30, 33600000000])
    if kind == 3:
        return rnd.choice([float("nan"), float("inf"), float("-inf"), 1e308, -0.0, 0.1, 1e-320])
    if kind in (4, 5):
        return rnd.choice(HOSTILE_TEXT)
    if kind == 6:
        return "".join(rnd.choice(ALPHABET) for _ in range(rnd.randrange(12)))
    if kind == 7:
        return nested(rnd.randint(2, 60))
    if kind == 8:
        return [hostile(rnd, depth + 1) for _ in range(rnd.randrange(3))]
    return {rnd.choice(["a", "", "\ud800", "ContactId", "type"]): hostile(rnd, depth + 1) for _ in range(rnd.randrange(3))}


def nested(depth: int) -> Any:
    value: Any = 0
    for level in range(depth):
        value = [value] if level % 2 else {"k": value}
    return value


def _paths(value: Any, prefix: tuple[Any, ...] = (), depth: int = 0) -> list[tuple[Any, ...]]:
    paths: list[tuple[Any, ...]] = []
    if isinstance(value, dict) and depth < 3:
        for key, child in value.items():
            paths.append((*prefix, key))
            paths.extend(_paths(child, (*prefix, key), depth + 1))
    elif isinstance(value, list) and depth < 3:
        for index, child in enumerate(value[:3]):
            paths.append((*prefix, index))
            paths.extend(_paths(child, (*prefix, index), depth + 1))
    return paths


def mutate(rnd: random.Random, base: Any) -> Any:
    """``base`` with up to four fields (at any depth up to 3) replaced by hostile values or removed."""
    result = copy.deepcopy(base)
    paths = _paths(base)
    for _ in range(rnd.randrange(5) if paths else 0):
        path = rnd.choice(paths)
        target = result
        try:
            for step in path[:-1]:
                target = target[step]
            if rnd.random() < 0.2:
                del target[path[-1]]
            else:
                target[path[-1]] = hostile(rnd)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier change removed or replaced a parent
    return result


def dumps(value: Any) -> bytes:
    """JSON as a careless sender writes it: NaN/Infinity literals, lone surrogates as \\u escapes."""
    return json.dumps(value, default=str).encode()


def damage(rnd: random.Random, data: bytes) -> tuple[bytes, dict[str, str]]:
    """A body and extra headers: mostly as is, sometimes truncated, garbage, gzip'd or mislabelled."""
    roll = rnd.randrange(10)
    if roll == 0:
        return data[: rnd.randrange(max(1, len(data)))], {}
    if roll == 1:
        return gzip.compress(data), {"Content-Encoding": "gzip"}
    if roll == 2:
        return data, {"Content-Encoding": rnd.choice(["gzip", "br", "zstd", "deflate", "compress"])}
    if roll == 3:
        return rnd.randbytes(rnd.randrange(64)), {}
    return data, {}


def csv_line(rnd: random.Random, base: str, delimiter: str = ",") -> str:
    """A CSV line with some columns replaced by hostile text, removed or added."""
    cells = next(csv.reader([base], delimiter=delimiter))
    for _ in range(rnd.randrange(5)):
        index = rnd.randrange(len(cells) + 2)
        roll = rnd.randrange(4)
        if roll == 0 and index < len(cells):
            del cells[index]
            continue
        value = rnd.choice(HOSTILE_TEXT) if roll < 3 else str(hostile(rnd))
        if index < len(cells):
            cells[index] = value
        else:
            cells.append(value)
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="").writerow(cells)
    return out.getvalue()


def cases(build: Callable[[random.Random], T]) -> st.SearchStrategy[T]:
    """A Hypothesis strategy of cases built by ``build`` from a seeded Random (see the module doc)."""
    return st.integers(min_value=0, max_value=2**64 - 1).map(lambda seed: build(random.Random(seed)))


# -- one builder per wire format ------------------------------------------------------------------------

def segment(samples: list[dict[str, Any]]) -> Callable[[random.Random], tuple[str, bytes, dict[str, str]]]:
    """(path, body, headers): a single call or a batch of mutated Segment messages."""
    def build(rnd: random.Random) -> tuple[str, bytes, dict[str, str]]:
        if rnd.random() < 0.5:
            path = rnd.choice(["/v1/track", "/v1/identify", "/v1/page", "/v1/s", "/v1/g", "/v1/a"])
            value: Any = mutate(rnd, rnd.choice(samples))
        else:
            path = "/v1/batch"
            value = mutate(rnd, {"batch": [mutate(rnd, rnd.choice(samples)) for _ in range(rnd.randint(1, 4))],
                                 "sentAt": "2024-05-02T08:31:30.781Z"})
        body, headers = damage(rnd, dumps(value))
        return path, body, {"Content-Type": rnd.choice(["application/json", "text/plain", "text/csv"]), **headers}
    return build


def ctr_bodies(samples: list[dict[str, Any]]) -> Callable[[random.Random], tuple[bytes, dict[str, str]]]:
    """A CTR, an array of CTRs, JSON lines or a Firehose delivery of mutated CTRs."""
    def build(rnd: random.Random) -> tuple[bytes, dict[str, str]]:
        items = [mutate(rnd, rnd.choice(samples)) for _ in range(rnd.randint(1, 3))]
        shape = rnd.randrange(4)
        if shape == 0:
            body = dumps(items[0])
        elif shape == 1:
            body = dumps(items)
        elif shape == 2:
            body = b"\n".join(dumps(item) for item in items)
        else:
            body = dumps({"requestId": "r-1", "timestamp": 1, "records": [
                {"data": base64.b64encode(dumps(item)).decode()} for item in items]})
        return damage(rnd, body)
    return build


def cdr_bodies(lines: list[str]) -> Callable[[random.Random], tuple[bytes, dict[str, str]]]:
    def build(rnd: random.Random) -> tuple[bytes, dict[str, str]]:
        rows = [csv_line(rnd, rnd.choice(lines)) for _ in range(rnd.randint(1, 4))]
        return damage(rnd, "\n".join(rows).encode("utf-8", "surrogatepass"))
    return build


def taskrouter_forms(forms: list[dict[str, str]]) -> Callable[[random.Random], list[tuple[str, str]]]:
    """A TaskRouter callback's fields (some changed, some repeated, TaskAttributes mutated)."""
    def build(rnd: random.Random) -> list[tuple[str, str]]:
        form = dict(rnd.choice(forms))
        names = sorted(form)
        for _ in range(rnd.randrange(4)):
            form[rnd.choice(names)] = rnd.choice(HOSTILE_TEXT) if rnd.random() < 0.7 else str(hostile(rnd))
        if form.get("TaskAttributes") and rnd.random() < 0.6:
            try:
                form["TaskAttributes"] = dumps(mutate(rnd, json.loads(form["TaskAttributes"]))).decode()
            except ValueError:
                pass
        fields = list(form.items()) + [(rnd.choice(names), rnd.choice(HOSTILE_TEXT)) for _ in range(rnd.randrange(3) // 2)]
        return [(k, v.encode("utf-8", "replace").decode()) for k, v in fields]  # a form is bytes on the wire
    return build


def counter_uploads(events: list[dict[str, Any]], terminal: str, branch: str) -> Callable[[random.Random], tuple[bytes, dict[str, str]]]:
    def build(rnd: random.Random) -> tuple[bytes, dict[str, str]]:
        upload = {"terminal_id": terminal, "branch_id": branch,
                  "events": [mutate(rnd, rnd.choice(events)) for _ in range(rnd.randint(1, 4))]}
        return damage(rnd, dumps(mutate(rnd, upload) if rnd.random() < 0.3 else upload))
    return build


def batch_files(header: str, lines: list[str], delimiter: str) -> Callable[[random.Random], bytes]:
    """A nightly export: its header, mutated lines, sometimes no final newline or an open quote."""
    def build(rnd: random.Random) -> bytes:
        rows = [csv_line(rnd, rnd.choice(lines), delimiter) for _ in range(rnd.randint(1, 5))]
        text = "\n".join([header, *rows]) + ("\n" if rnd.random() < 0.8 else "")
        if rnd.random() < 0.05:
            text += '"unterminated;' + delimiter
        return text.encode("utf-8", "surrogatepass")
    return build
