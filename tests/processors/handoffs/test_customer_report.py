"""The month report per customer (#15 item 4): handoffs and bounces per matter, repeats within 7 days."""

from datetime import timedelta

from typer.testing import CliRunner

from bus.serde import Event
from processors.handoffs.customer_report import compute_customer_report
from tests.processors.handoffs.factories import AGENT, T0, accepted, created, resolved, transferred
from tests.processors.handoffs.test_customers import EMAIL, World

H, DAY = timedelta(hours=1), timedelta(days=1)
BOB = {"type": "PHONE", "value": "+33699999999"}
NOBODY = {"type": "EMAIL", "value": "nobody@example.org"}


async def month_of_events() -> list[Event]:
    """cus_ana: two billing disputes 3 days apart (one matter, a repeat; the first bounced once) and a line
    repair; cus_bob: two billing disputes 9 days apart (two matters); one handoff of an unknown customer."""
    world = World()
    world.assign("cus_ana", EMAIL)
    world.assign("cus_bob", BOB)
    send = world.send
    await send(created("h1", identifiers=[EMAIL]))
    await send(accepted("h1", T0 + H))
    await send(transferred("h1", T0 + 2 * H, from_owner=AGENT, from_team="back-office", to_team="back-office"))
    await send(resolved("h1", T0 + 5 * H))
    await send(created("h2", T0 + 3 * DAY, identifiers=[EMAIL]))
    await send(created("h3", T0 + 4 * DAY, case_type="line-repair", identifiers=[EMAIL]))
    await send(created("h4", identifiers=[BOB]))
    await send(resolved("h4", T0 + H))
    await send(created("h5", T0 + 9 * DAY, identifiers=[BOB]))
    await send(created("h6", identifiers=[NOBODY]))
    return world.topic


async def test_repeats_and_bounces_per_customer() -> None:
    rows = {r.customer_id: r for r in compute_customer_report(await month_of_events(), "2026-11")}
    assert set(rows) == {"cus_ana", "cus_bob"}  # h6's customer never became known
    ana, bob = rows["cus_ana"], rows["cus_bob"]
    assert (ana.handoffs, ana.matters, ana.resolved, ana.bounces, ana.repeats) == (3, 2, 1, 1, 1)
    assert ana.flagged and ana.repeat_case_types == "billing-dispute"
    assert (bob.handoffs, bob.matters, bob.repeats, bob.flagged) == (2, 2, 0, False)
    assert compute_customer_report(await month_of_events(), "2026-12") == []


def test_the_cli_prints_the_customer_report(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import asyncio
    import json

    from omnibus.cli import app as omnibus
    from processors.handoffs import cli
    from bus.replay import Replay

    events = asyncio.run(month_of_events())

    async def replay(*_args, **_kwargs) -> Replay:  # type: ignore[no-untyped-def]
        return Replay(events)

    monkeypatch.setattr(cli, "replay_topic", replay)
    result = CliRunner().invoke(omnibus, ["report", "handoffs", "--month", "2026-11", "--by", "customer",
                                          "--format", "json"])
    assert result.exit_code == 0, result.output
    customers = [json.loads(line) for line in result.stdout.splitlines()]
    assert {c["month"] for c in customers} == {"2026-11"}
    assert [(c["customer_id"], c["repeats"], c["flagged"]) for c in customers] == [("cus_ana", 1, True),
                                                                                  ("cus_bob", 0, False)]
    result = CliRunner().invoke(omnibus, ["report", "handoffs", "--month", "2026-11", "--by", "customer",
                                          "--format", "csv"])
    assert result.stdout.splitlines()[0].startswith("customer_id,handoffs,matters")


async def test_a_stale_copy_of_an_older_version_never_takes_the_handoff_back() -> None:
    """tester25 F1: the tracker re-announces a resolved handoff on its new customer at the next version; a copy of an
    older HandoffStatusChanged read after it (a re-publication) names the old customer and is not the latest."""
    world = World()
    world.assign("cus_ana", EMAIL)
    await world.send(created("h1", identifiers=[EMAIL]))
    await world.send(resolved("h1", T0 + H))
    old = world.published("HandoffStatusChanged")[-1].event
    newer = Event(old.schema, {**old.value, "version": old.value["version"] + 1, "customer_id": "cus_bob",
                               "envelope": {**old.value["envelope"], "event_id": "re-announced"}})
    stale = Event(old.schema, {**old.value, "envelope": {**old.value["envelope"], "event_id": "stale-copy"}})
    rows = compute_customer_report([*world.topic, newer, stale], "2026-11")
    assert [r.customer_id for r in rows] == ["cus_bob"]
