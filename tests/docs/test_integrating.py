"""docs/integrating.md's blocks as a new user copies them: step 4's literal exports load; step 8's commands date
their events from the moment they run, so the first case opens fresh on any day."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bus.config import load_settings
from processors.kpis.config import load_kpis_settings
from processors.offers import config as offers_config

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "integrating.md"


def literal_exports() -> dict[str, str]:
    """NAME -> value of each ``export NAME=value`` of step 4's block whose value names no shell variable."""
    block = GUIDE.read_text(encoding="utf-8").split("## 4. Your settings", 1)[1].split("```bash", 1)[1]
    exported: dict[str, str] = {}
    for line in block.split("```", 1)[0].splitlines():
        if not line.startswith("export ") or "$" in line:
            continue
        for word in shlex.split(line, comments=True)[1:]:
            name, _, value = word.partition("=")
            exported[name] = value
    return exported


def test_the_block_sets_the_time_zones_a_spanish_bank_needs(monkeypatch: pytest.MonkeyPatch) -> None:
    """The block left the offers' quiet hours in UTC with a start-up warning (Spain has two zones, so none is
    assumed) although the paragraph below it says to set the zone: a new user copies the block."""
    exported = literal_exports()
    assert re.fullmatch(r"[A-Z]{2}", exported["OMNIBUS_IDENTIFIERS__DEFAULT_REGION"])
    for name, value in exported.items():
        monkeypatch.setenv(name, value)
    warned: list[str] = []
    monkeypatch.setattr(offers_config, "log", _Recorder(warned))
    region = load_settings().identifiers.default_region
    offers = offers_config.load_offers_settings().in_region(region)
    assert warned == [] and offers.zone == "Europe/Madrid"
    assert load_kpis_settings().timezone == "Europe/Madrid"


class _Recorder:
    def __init__(self, lines: list[str]) -> None:
        self.lines = lines

    def warning(self, event: str, **_: object) -> None:
        self.lines.append(event)


def step_8() -> str:
    """Step 8's bash blocks, in order, as one script."""
    section = GUIDE.read_text(encoding="utf-8").split("## 8. Post your first events", 1)[1].split("\n## 9.", 1)[0]
    return "\n".join(part.split("```", 1)[0] for part in section.split("```bash\n")[1:])


# ``curl`` as step 8 calls it: prints the URL's path and the body it would post (``-d BODY``, or ``-d @-``: stdin)
CURL = """curl() {
  local data=
  while [ $# -gt 0 ]; do case $1 in -d) data=$2; shift;; http*) echo "${1#http://127.0.0.1:*/}";; esac; shift; done
  if [ "$data" = @- ]; then cat; else printf '%s' "$data"; fi; echo
}"""


def posted(script: str) -> list[tuple[str, dict]]:
    """(path, body) of each ``curl`` of ``script`` run by bash with the adapters' ports set."""
    env = {"PATH": "/usr/bin:/bin", "WEB": "8001", "BRANCH": "8002", "CC": "8003"}
    out = subprocess.run(["bash", "-euc", f"{CURL}\n{script}"], capture_output=True, text=True, check=True,
                         stdin=subprocess.DEVNULL, env=env).stdout
    lines = [line for line in out.splitlines() if line.strip()]
    sent, path, body = [], None, ""
    for line in lines:
        if path is None:
            path = line
            continue
        body += line
        try:
            sent.append((path, json.loads(body)))
        except json.JSONDecodeError:
            continue
        path, body = None, ""
    assert path is None, out
    return sent


def instant(text: str) -> datetime:
    at = datetime.fromisoformat(text)
    assert at.tzinfo is not None, text
    return at


def test_step_8_dates_its_events_minutes_before_it_runs_and_a_rerun_sends_the_same_records() -> None:
    """Reported: the counter event was dated 2026-12-03, so every reader's first case opened already breached and
    escalated while step 9 reads as if it were fresh."""
    before = datetime.now(UTC).replace(microsecond=0)
    script = step_8()
    # The step again, as written, in the same shell (reported: its first line set NOW anew, so the records came
    # again with other times under the same ids, refused as id conflicts)
    sent = posted(script + "\n" + script)
    after = datetime.now(UTC)
    assert [path for path, _ in sent] == ["v1/identify", "v1/counter/events", "v1/connect/ctr"] * 2, sent
    assert sent[:3] == sent[3:]
    (login, counter, call) = (body for _, body in sent[:3])
    (visit,) = counter["events"]
    assert before - timedelta(minutes=10) <= instant(visit["occurred_at"]) <= after
    times = [instant(login["timestamp"])] + [instant(call[name]) for name in (
        "InitiationTimestamp", "DisconnectTimestamp", "LastUpdateTimestamp")]
    times += [instant(call["Queue"][name]) for name in ("EnqueueTimestamp", "DequeueTimestamp")]
    assert all(before - timedelta(hours=1) <= at <= after for at in times), times
    queue, start = call["Queue"], instant(call["InitiationTimestamp"])
    assert start <= instant(queue["EnqueueTimestamp"]) <= instant(queue["DequeueTimestamp"]) <= instant(
        call["Agent"]["ConnectedToAgentTimestamp"]) <= instant(call["DisconnectTimestamp"]) <= instant(
        call["LastUpdateTimestamp"])
    assert not re.search(r"\b20\d\d-\d\d-\d\dT", script), "a fixed date left in step 8"


async def test_the_case_step_8_opens_is_not_breached_when_it_runs() -> None:
    """The counter visit of step 8, mapped by the branch adapter and tracked: no deadline missed, tier 0, now; the
    same visit a few days old (the fixed date it had) is breached at once."""
    from adapters.branch.mapper import CounterMapper
    from bus.clock import to_micros
    from bus.config import TopicSettings
    from processors.handoffs.commands import current_views
    from processors.handoffs.outputs import BREACHED, CREATED
    from tests.adapters.branch.support import branch_settings
    from tests.processors.handoffs.test_commands import Desk

    (_, upload) = posted(step_8())[1]
    (visit,) = upload["events"]
    now = datetime.now(UTC)
    for age, breached in ((timedelta(0), False), (timedelta(days=3), True)):
        occurred = (instant(visit["occurred_at"]) - age).isoformat()
        record = CounterMapper(branch_settings(), TopicSettings())(
            {**visit, "occurred_at": occurred}, terminal_id=upload["terminal_id"], branch_id=upload["branch_id"])
        (created,) = [o.event for o in record.events if o.event.schema == CREATED]
        desk = Desk()
        await desk.send(created)
        start = len(desk.publisher.published)
        await desk.tracker.tick(0, to_micros(now))
        fired = [o.event.schema for o in desk.publisher.published[start:]]
        desk.topic.extend(o.event for o in desk.publisher.published[start:] if o.topic == "events")
        view = current_views(desk.topic)[created.value["handoff_id"]]
        assert (BREACHED in fired, view.escalation_tier > 0) == (breached, breached), (age, fired, view.lines())
        assert view.handoff_id == "counter:T-0101-01:TX-0101-0001"
