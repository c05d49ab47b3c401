"""Asterisk ``Master.csv`` CDR lines (``cdr_csv``) → ``Call``.

Column order is cdr_csv's: accountcode, src, dst, dcontext, clid, channel, dstchannel, lastapp,
lastdata, start, answer, end, duration, billsec, disposition, amaflags, then the optional columns
cdr.conf enables (``loguniqueid``, ``loguserfield``, ``newcdrcolumns``: peeraccount, linkedid, sequence),
declared in ``asterisk_optional_columns``. Text is double-quoted with quotes doubled; numbers are bare;
an unset time is an empty bare field. Times are ``YYYY-MM-DD HH:MM:SS`` in the server's local zone
(``usegmtime=no``, the default) or UTC: the site's ``timezone`` says which.

A CDR has no queue timestamps of its own, so for a call whose last application was ``Queue`` the
queue is entered at ``start`` and left at ``answer`` (the bridge to the agent) or at ``end`` if nobody
answered: that includes any IVR time before the queue, which a Master.csv cannot tell apart.
The contact id is ``<site>/<uniqueid>`` (uniqueids are only unique per server), with ``/<sequence>``
when newcdrcolumns is on (one channel then yields a CDR per bridge); without a uniqueid column the
line's SHA-256 stands in. The dedupe (version) id adds the line's own digest: the attempts of one call
share a uniqueid but are separate lines, while re-sending the same line is still a duplicate.
"""

from __future__ import annotations

import csv
import hashlib
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from adapters.base import clock, csv_lines
from adapters.base.mapper import MappedRecord
from adapters.base.whole_ids import id_text
from adapters.call_center.attributes import caller_number
from adapters.call_center.config import ASTERISK_BASE_COLUMNS
from adapters.call_center.errors import RejectedInput, malformed
from adapters.call_center.mapper import Call, MapContext, NativeItem, call_events
from adapters.call_center.outcome import asterisk_ended
from bus.dead_letter_lines import LineShape
from bus.identifiers.kinds import PHONE

SOURCE_SYSTEM = "asterisk"
SOURCE = "Master.csv"
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
TRANSFER_APPS = frozenset({"Transfer", "BlindTransfer", "AttendedTransfer"})
MAX_CALL_S = 31 * 24 * 3600  # no call lasts a month; larger durations are corrupt lines
# A refused CDR line (a Master.csv file's, a POSTed body's), as its dead letter's clear copy reads it
# (``bus.dead_letter_lines``): the calling and called numbers (``src``, ``dst``: the customer's, by direction) masked
# as phones, the rest free text.
CDR_LINE = LineShape(delimiter=",", identifiers={ASTERISK_BASE_COLUMNS.index(name): PHONE for name in ("src", "dst")})


def split_lines(body: bytes, columns: tuple[str, ...]) -> list[NativeItem]:
    """Cut CSV text into CDR records, one per line, but a record whose quoted field holds a line break (cdr_csv writes
    a ``userfield`` or caller name set with one as it is, inside the quotes): its lines up to the closing quote are
    one record when together they are a CDR (``whole_cdr``; ``columns``: the site's, ``asterisk_columns``, the most
    cdr.conf may write). A line left inside a quoted field otherwise was cut mid-write: refused alone
    (``adapters.base.csv_lines``), the lines after it records of their own; at the body's first or last line the
    reason also names a CDR split between two bodies. Bytes kept per record; a last line needs no line end."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        text = body.decode("latin-1")  # cdr_csv writes bytes as the channel drivers gave them
    lines = [f"{line}\n".encode() for line in text.split("\n")]
    last = max((at for at, line in enumerate(lines) if line.strip()), default=0)  # the body's last non-blank line
    items: list[NativeItem] = []
    at = 0
    while at < len(lines):
        line, at = lines[at], at + 1
        error = None
        if csv_lines.quote_open(line):
            following = (lines[after] for after in range(at, len(lines)))  # no copy of the rest per such line
            closing = csv_lines.closing_lines(line, following, lambda raw: whole_cdr(raw, columns),
                                              is_shaped=lambda raw: cdr_shaped(raw, columns), starts_record=starts_cdr)
            if closing.raw is None:
                error = _unclosed(closing.closed, first=not items and not starts_cdr(line), last=at - 1 == last)
            else:
                line, at = closing.raw, at + closing.lines - 1
        record = line.decode().removesuffix("\n").removesuffix("\r")
        if record.strip():
            items.append(NativeItem(record.encode(), record=record, line=CDR_LINE, error=error))
    if not items:
        raise RejectedInput("body holds no CDR line", code="empty")
    return items


def _unclosed(closed: bool, *, first: bool, last: bool) -> RejectedInput:
    """The refusal of a body's line left inside a quoted field (``adapters.base.csv_lines.unclosed_quote``, code
    ``truncated``); at the body's last line, or at its first when that line does not start a CDR (``starts_cdr``),
    it may be a CDR whose field holds a line break, split between two bodies by its sender: the reason says which
    half, as a body holds whole CDRs (a body of one such line is the second half when it starts no CDR)."""
    if closed or not (first or last):
        return csv_lines.unclosed_quote(closed)
    edge = "starts with a line left inside a quoted field: a CDR cut mid-write, or the last lines of a CDR whose " \
        "field holds a line break, its first lines sent in another body" if first else \
        "ends inside a quoted field: a CDR cut mid-write, or the first lines of a CDR whose field holds a line " \
        "break, its last lines left for another body"
    return RejectedInput(f"unclosed quote: the body {edge}; send each CDR whole in one body",
                         code=csv_lines.UNCLOSED_QUOTE_CODE)


_FIRST_FIELD = re.compile(rb'"(?:[^"]|"")*(?:",|\Z)')  # a quoted first field closed by ``",``, or open to the end


def starts_cdr(line: bytes) -> bool:
    """Whether ``line`` may be a CDR's first line: cdr_csv quotes every text field, ``accountcode`` (first) too, so a
    CDR starts with a quoted field, ended by ``",`` (or open at the line's end); the rest of a field cut at its line
    break starts with the field's text, or with the quote closing it (``",``, ``"`` at the line's end), or with an
    escaped quote (``""`` then more of the field)."""
    if line.startswith((b'",', b'"\n', b'"\r')) or line == b'"':
        return False
    return _FIRST_FIELD.match(line.rstrip(b"\r\n")) is not None


def whole_cdr(raw: bytes, columns: tuple[str, ...]) -> bool:
    """Whether ``raw`` (a line, or the lines of one record, with its line end) is on its own a whole CDR: its quotes
    closed, as many columns as a CDR has (``ASTERISK_BASE_COLUMNS``, up to the site's ``columns``), and the times and
    seconds where cdr_csv writes them (``start`` a time, ``answer`` and ``end`` a time or empty, ``duration`` and
    ``billsec`` whole seconds): what ``adapters.base.csv_lines.closing_lines`` joins a record's lines by. A cut line
    joined to the first line of a CDR whose field holds a line break closes its quote there, but its columns are
    shifted: it is no CDR, and that CDR is read whole after it."""
    row = _shaped_row(raw, columns)
    if row is None:
        return False
    return _is_time(row["start"]) and all(not row[name] or _is_time(row[name]) for name in ("answer", "end")) \
        and all(not row[name] or (row[name].isascii() and row[name].isdigit()) for name in ("duration", "billsec"))


def cdr_shaped(raw: bytes, columns: tuple[str, ...]) -> bool:
    """Whether ``raw`` (the lines of one record, with its line end) has a CDR's shape: its quotes closed and as many
    columns as a CDR has (``whole_cdr`` without its look at the times and seconds). Lines over which a CDR whose field
    holds a line break spans, one of its fields malformed, are one CDR so (refused by ``map_cdr`` naming the field),
    not lines of no CDR (``adapters.base.csv_lines.closing_lines``, ``is_shaped``)."""
    return _shaped_row(raw, columns) is not None


def _shaped_row(raw: bytes, columns: tuple[str, ...]) -> dict[str, str] | None:
    """``raw``'s base columns by name when it has a CDR's shape (``cdr_shaped``), else None."""
    if csv_lines.quote_open(raw):
        return None
    text = raw.decode("utf-8", "replace").removesuffix("\n").removesuffix("\r")
    try:
        rows = list(csv.reader([text], strict=False))
    except (csv.Error, ValueError):
        return None
    if len(rows) != 1 or not len(ASTERISK_BASE_COLUMNS) <= len(rows[0]) <= len(columns):
        return None
    return dict(zip(ASTERISK_BASE_COLUMNS, rows[0], strict=False))


def _is_time(value: str) -> bool:
    """Whether ``value`` is a time as cdr_csv writes it (``TIME_FORMAT``)."""
    try:
        datetime.strptime(value, TIME_FORMAT)
    except ValueError:
        return False
    return True


def parse_line(line: str, columns: tuple[str, ...]) -> dict[str, str]:
    try:
        (row,) = list(csv.reader([line], strict=False)) or [[]]
    except (csv.Error, ValueError) as exc:  # a NUL byte, a record of several lines...
        raise RejectedInput(f"{SOURCE}: line is not CSV ({exc})", code="bad_columns") from exc
    least = len(ASTERISK_BASE_COLUMNS)
    if len(row) < least:
        raise RejectedInput(f"{SOURCE}: line has {len(row)} columns, a CDR has at least {least}", code="bad_columns")
    if len(row) > len(columns):
        raise RejectedInput(
            f"{SOURCE}: line has {len(row)} columns, more than the {len(columns)} configured "
            f"({', '.join(columns[least:]) or 'no optional columns'} after amaflags)", code="bad_columns")
    return dict(zip(columns, row, strict=False))


def cdr_call(line: str, ctx: MapContext) -> Call:
    row = parse_line(line, ctx.settings.asterisk_columns)
    site = ctx.site
    zone = ZoneInfo(site.timezone)
    start = _required_time(row, "start", zone)
    answer = _time(row, "answer", zone)
    duration = _seconds(row, "duration")
    end = _time(row, "end", zone) or clock.in_range(start + timedelta(seconds=duration), "start + duration", SOURCE)
    if end < start:  # the call would be dated by an end before it began (there on a Connect CTR)
        raise malformed("end", SOURCE, "before start: a call ends after it starts")
    answered = row["disposition"] == "ANSWERED" and answer is not None
    queued = row["lastapp"] == "Queue"
    outbound = row["dcontext"] in site.asterisk_outbound_contexts
    connected_at = answer if answered and (row["dstchannel"] or not queued) else None

    sequence = id_text(row.get("sequence") or "")  # trimmed, as the uniqueid (``_contact_id``)
    contact_id = _contact_id(line, row, ctx.site_name)
    customer_number = row["dst"] if outbound else row["src"]
    properties = {"linkedid": row.get("linkedid", ""), "cdr_disposition": row["disposition"],
                  "billsec": str(_seconds(row, "billsec"))}
    return Call(
        source_system=SOURCE_SYSTEM,
        contact_id=contact_id,
        version_id=contact_id if sequence else _version_id(line, contact_id),
        site=ctx.site_name,
        initiation_method="OUTBOUND" if outbound else "INBOUND",
        initiated_at=start,
        disconnected_at=end,
        queue=(row["lastdata"].split(",", 1)[0] or None) if queued else None,
        enqueued_at=start if queued else None,
        connected_at=connected_at,
        agent_id=_peer(row["channel"] if outbound else row["dstchannel"]) if connected_at or outbound else None,
        disposition=row.get("userfield") or row["disposition"] or None,
        transferred_by_source=row["lastapp"] in TRANSFER_APPS,
        ended=asterisk_ended(row["disposition"]),
        **Call.customer(ctx.normaliser.collect([("PHONE", caller_number(customer_number))])),
        properties={k: v for k, v in properties.items() if v},
    )


def map_cdr(line: str, ctx: MapContext) -> MappedRecord:
    return call_events(cdr_call(line, ctx), ctx)


def _contact_id(line: str, row: dict[str, str], site: str) -> str:
    """``<site>/<uniqueid>[/<sequence>]``, each read with the white space around it off (``whole_ids.id_text``, as
    every id the adapters read); without a uniqueid, a digest of the line."""
    uniqueid, sequence = (id_text(row.get(name) or "") for name in ("uniqueid", "sequence"))
    if not uniqueid:
        return f"{site}/cdr-{hashlib.sha256(line.encode()).hexdigest()[:24]}"
    return f"{site}/{uniqueid}/{sequence}" if sequence else f"{site}/{uniqueid}"


def _version_id(line: str, contact_id: str) -> str:
    """This CDR line: without ``sequence`` a uniqueid is shared by every attempt of one call (a FAILED, a
    NO ANSWER and a BUSY Dial of one channel are three lines), so the line itself names the record; the
    same line re-sent is still the same record."""
    return f"{contact_id}@{hashlib.sha256(line.encode('utf-8', 'surrogateescape')).hexdigest()[:16]}"


def _required_time(row: dict[str, str], name: str, zone: ZoneInfo) -> datetime:
    found = _time(row, name, zone)
    if found is None:
        raise RejectedInput(f"{SOURCE}: required field {name} is empty", code="missing_field")
    return found


def _time(row: dict[str, str], name: str, zone: ZoneInfo) -> datetime | None:
    value = row.get(name, "")
    if not value:
        return None
    try:
        parsed = datetime.strptime(value, TIME_FORMAT).replace(tzinfo=zone)
    except ValueError as exc:
        raise malformed(name, SOURCE, f"expected {TIME_FORMAT}, got {value[:30]!r}") from exc
    return clock.in_range(parsed, name, SOURCE)


def _seconds(row: dict[str, str], name: str) -> int:
    """Whole seconds from 0 to ``MAX_CALL_S`` (cdr_csv writes them bare)."""
    raw = row[name] or "0"
    if not raw.isascii() or not raw.isdigit() or len(raw) > 12 or int(raw) > MAX_CALL_S:
        raise malformed(name, SOURCE, f"expected whole seconds from 0 to {MAX_CALL_S}, got {raw[:20]!r}")
    return int(raw)


def _peer(channel: str) -> str | None:
    """``SIP/agent1001-0000002a`` → ``SIP/agent1001``: the device, without the per-call suffix."""
    if not channel:
        return None
    head, _, suffix = channel.rpartition("-")
    return head if head and suffix and all(c in "0123456789abcdef" for c in suffix.lower()) else channel
