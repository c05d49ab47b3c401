"""Uploading the journal to the branch adapter: in order, in batches, marked sent only after a 2xx.

What each answer means to the agent (see ``adapters.branch.errors`` for the adapter's side):

- 200: every event of the batch is on Kafka (or was already): mark them sent.
- 400 with ``rejected``: the listed events were dead-lettered by the adapter, the others published:
  mark each accordingly, so one bad event never blocks the journal.
- 413: the batch is too big: halve it (a single event that is still too big is marked rejected).
- anything else (503, 5xx, 401/403, a refused upload, no connection, a timeout): nothing is marked;
  wait and try the same events again. The wait doubles from ``backoff_initial_s`` up to
  ``backoff_max_s``, with jitter so a branch's terminals do not retry in lock-step, and is never
  shorter than the adapter's Retry-After.
"""

from __future__ import annotations

import asyncio
import json
import random
from dataclasses import dataclass

import aiohttp

from adapters.branch.agent.config import AgentSettings
from adapters.branch.agent.journal import Entry, Journal
from bus.logging import get_logger

UPLOAD_PATH = "/v1/counter/events"
log = get_logger(__name__)


class Backoff:
    """Capped exponential back-off with "equal jitter": a wait in [d/2, d] for d = initial * 2**attempt."""

    def __init__(self, initial_s: float, max_s: float, rng: random.Random | None = None) -> None:
        self._initial_s, self._max_s = initial_s, max_s
        self._attempt = 0
        self._rng = rng or random.Random()

    def next_delay(self, at_least_s: float = 0.0) -> float:
        ceiling = min(self._max_s, self._initial_s * 2**self._attempt)
        self._attempt = min(self._attempt + 1, 62)
        return min(self._max_s, max(at_least_s, self._rng.uniform(ceiling / 2, ceiling)))

    def reset(self) -> None:
        self._attempt = 0


@dataclass(frozen=True, slots=True)
class Outcome:
    progressed: bool  # something was settled (sent or rejected)
    retry_after_s: float = 0.0  # minimum wait the adapter asked for
    shrink: bool = False  # the batch was too large


class Uploader:
    def __init__(self, journal: Journal, settings: AgentSettings) -> None:
        self._journal = journal
        self._settings = settings
        self._url, self._terminal_id, self._branch_id, token = settings.require_uploader()
        self._headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self._batch_max_events = settings.batch_max_events
        self._backoff = Backoff(settings.backoff_initial_s, settings.backoff_max_s)

    async def run(self, stop: asyncio.Event) -> None:
        """Upload until ``stop`` is set; an upload in progress is finished (and settled) first."""
        timeout = aiohttp.ClientTimeout(total=self._settings.request_timeout_s)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            while not stop.is_set():
                batch = self._journal.pending(
                    max_events=self._batch_max_events, max_bytes=self._settings.batch_max_bytes
                )
                if not batch:
                    self._journal.prune(self._settings.sent_retention_s)
                    await _sleep(stop, self._settings.poll_interval_s)
                    continue
                outcome = await self.upload(session, batch)
                if outcome.shrink:
                    self._batch_max_events = max(1, len(batch) // 2)
                elif outcome.progressed:
                    self._backoff.reset()
                    self._batch_max_events = self._settings.batch_max_events
                else:
                    delay = self._backoff.next_delay(outcome.retry_after_s)
                    log.info("upload will be retried", wait_s=round(delay, 3), pending=len(batch))
                    await _sleep(stop, delay)

    async def upload(self, session: aiohttp.ClientSession, batch: list[Entry]) -> Outcome:
        body = '{"terminal_id":%s,"branch_id":%s,"events":[%s]}' % (
            json.dumps(self._terminal_id), json.dumps(self._branch_id), ",".join(entry.body for entry in batch),
        )
        try:
            async with session.post(self._url + UPLOAD_PATH, data=body.encode(), headers=self._headers) as response:
                status, text = response.status, await response.text()
                retry_after = response.headers.get("Retry-After", "")
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning("adapter unreachable", error=type(exc).__name__)
            return Outcome(progressed=False)
        answer = _json(text)
        if 200 <= status < 300:
            self._journal.mark_sent(entry.event_id for entry in batch)
            self._journal.mark_left_off(left_off(answer))  # ``counter-agent status`` shows them
            if dropped := dropped_summary(answer):
                log.warning("the adapter left identifiers off accepted events (each entry's kind and code say which "
                            "and why); correct them at the terminal on the ticket's next status event of the visit, "
                            "next to an identifier the customer is known by, never by sending the transaction again "
                            "(counter-agent status lists them; adapters/branch/README.md, \"Correcting what the "
                            "adapter left off\")", dropped=dropped)
            for name, (said, keys) in PARTS_LEFT_OFF.items():
                if parts := dropped_summary(answer, name, keys):
                    log.warning(f"{said}; {PART_REMEDIES}", dropped=parts)
            if nobody := dropped_summary(answer, "handoffs_naming_nobody", ("event_id", "handoff_id")):
                log.warning("the adapter opened cases that name no phone, e-mail or account of the customer: nobody "
                            "will be told of them; record the customer's identifiers at the terminal while they are "
                            "at the counter (counter-agent status lists them)", cases=nobody)
            return Outcome(progressed=True)
        if status == 400 and isinstance(answer, dict) and isinstance(answer.get("rejected"), list):
            return self._settle_mixed(batch, answer)
        if status == 413:
            if len(batch) == 1:
                self._journal.mark_rejected({batch[0].event_id: "event too large for one upload"})
                return Outcome(progressed=True)
            return Outcome(progressed=False, shrink=True)
        log.warning("upload refused; will retry", status=status, reason=_reason(answer))
        return Outcome(progressed=False, retry_after_s=float(retry_after) if retry_after.isdigit() else 0.0)

    def _settle_mixed(self, batch: list[Entry], answer: dict) -> Outcome:
        rejected = [item for item in answer["rejected"] if isinstance(item, dict)]
        reasons = {str(item.get("event_id")): str(item.get("reason")) for item in rejected}
        event_ids = [entry.event_id for entry in batch]
        self._journal.mark_rejected({event_id: reasons[event_id] for event_id in event_ids if event_id in reasons})
        self._journal.mark_sent(event_id for event_id in event_ids if event_id not in reasons)
        codes = sorted({str(item.get("code")) for item in rejected})
        log.warning("the adapter rejected events", rejected=len(reasons), codes=codes)
        return Outcome(progressed=True)


def dropped_summary(answer: object, name: str = "dropped_identifiers",
                    keys: tuple[str, ...] = ("event_id", "kind", "code")) -> list[dict[str, object]]:
    """What the adapter left off accepted events, by ``keys`` of the answer's list ``name``: identifiers (a mistyped
    NIR) by event id, type and reason code, ``dropped_handoffs`` (a handoff without its kind),
    ``dropped_follow_ups`` (a follow-up without the case's ``handoff_id``) or ``dropped_offers`` (a malformed offer
    answer): the answer never holds the values, and the events themselves were accepted."""
    dropped = answer.get(name) if isinstance(answer, dict) else None
    items = dropped if isinstance(dropped, list) else []
    return [{key: item.get(key) for key in keys} for item in items if isinstance(item, dict)]


# Each list of the adapter's 2xx answer that names what it left off accepted events, as the part ``counter-agent
# status`` calls it, and the keys kept (ids, kinds and reason codes: the answer never holds a value); and the cases
# opened that name no identifier of the customer (``handoffs_naming_nobody``: the case was opened, its customer's
# identifiers are what is missing; the tracker marks it needs_contact).
LEFT_OFF_LISTS = {"dropped_identifiers": ("identifiers", ("event_id", "kind", "code")),
                  "dropped_handoffs": ("handoff", ("event_id", "code")),
                  "dropped_follow_ups": ("follow_up", ("event_id", "code")),
                  "dropped_offers": ("offer", ("event_id", "code")),
                  "handoffs_naming_nobody": ("handoff_naming_nobody", ("event_id", "handoff_id"))}


# The warning for each optional part the adapter left off accepted events, and the keys of its list kept in the log:
# the reason is the refusal of the part's validation (its field and what is wrong with it: missing, not text, too
# long, not one of the values), never the value (``adapters.branch.parts``). Its remedies are those of
# adapters/branch/README.md, "Correcting what the adapter left off".
PARTS_LEFT_OFF = {
    "dropped_handoffs": ("the adapter published transactions without the handoff they asked for",
                         ("event_id", "code", "reason")),
    "dropped_follow_ups": ("the adapter published transactions without the follow-up they recorded",
                           ("event_id", "code", "reason")),
    "dropped_offers": ("the adapter published events without the offer answer they recorded",
                       ("event_id", "code", "reason")),
}
PART_REMEDIES = ("each entry's reason says why; record the part again at the terminal as a new event, or an operator "
                 "corrects its dead letter (omnibus deadletters list) and re-drives it, which publishes the part alone "
                 "(counter-agent status lists them; adapters/branch/README.md, \"Correcting what the adapter left "
                 "off\")")


def left_off(answer: object) -> list[dict[str, object]]:
    """Every part the adapter left off accepted events, ``{"event_id", "part", ...}`` (``LEFT_OFF_LISTS``)."""
    return [{**item, "part": part} for name, (part, keys) in LEFT_OFF_LISTS.items()
            for item in dropped_summary(answer, name, keys)]


def _json(text: str) -> object:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _reason(answer: object) -> str | None:
    return str(answer.get("error")) if isinstance(answer, dict) else None


async def _sleep(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), seconds)
    except TimeoutError:
        pass
