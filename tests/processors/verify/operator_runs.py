"""In-process runs with operators' corrections (``omnibus identity merge | move-contact | split | unmerge |
release``) for the verifier: the running processor (``Harness``) fed the inputs with the commands between them, its
outputs as ``Announcer`` publishes them, and the recomputation from the same inputs, which replays the merges, splits
and releases the outputs announce (``processors.replay.operators``).

Time is a clock of the run (``Run.now_ms``): an input reaches Kafka at its ``occurred_at`` or just after the last
thing that happened, a command one millisecond after; each record and announcement carries the Kafka timestamp of
the moment it was written, so the recomputation places the commands among the inputs as the run did."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from bus.serde import Event
from processors.identity.announcements import Announcer
from processors.identity.config import IdentitySettings
from processors.identity.graph.messages.commands import MoveContact, ReleaseIdentifier, SplitCustomer
from processors.identity.graph.messages.steps import Visit
from processors.identity.graph.outputs import Send
from processors.identity.graph.saga import merge_saga
from processors.identity.graph.state import encode_state
from processors.identity.intake import ref_loader
from processors.identity.unmerge import UnmergeRefused, merge_records, unmerge_plan
from processors.replay import Replayed
from processors.replay.identity import Recomputed, recompute
from processors.replay.operators import announced_commands
from processors.verify.identity import check_identity
from processors.verify.identity_outputs import IdentityOutputs
from processors.verify.placement import (
    check_handoffs_with_their_contact,
    check_one_customer_per_contact,
    read_placements,
)
from processors.verify.report import Report
from tests.processors.identity.graph.test_split_contacts import contact_ids
from tests.processors.identity.support import DESERIALIZER, T0, Harness, settings
from tests.processors.verify.support import CONTACTS, CONTACTS_IN, EVENTS, INPUT, SETTINGS, record, row


@dataclass
class Run:
    """The running processor and the input records it took, in the order it took them."""

    config: IdentitySettings = field(default_factory=settings)
    partitions: int = 1  # the graph's delivery (``LocalGraph``): partitions, shuffled by ``seed``, ``duplicates``
    seed: int | None = None
    duplicates: float = 0.0
    harness: Harness = field(init=False)
    inputs: list[Replayed] = field(default_factory=list)
    commands: int = 0
    now_ms: int = int(T0.timestamp() * 1000)  # the run's clock: when the last input or command reached Kafka
    marks: list[tuple[int, int]] = field(default_factory=list)  # (decisions made by then, now_ms) after each step

    def __post_init__(self) -> None:
        self.harness = Harness(self.config, partitions=self.partitions, seed=self.seed, duplicates=self.duplicates)

    def feed(self, event: Event, topic: str = INPUT, *, settle: bool = True) -> str:
        """Feed one input event, run to rest unless not ``settle``; its event id."""
        occurred = event.value["envelope"].get("occurred_at")
        self.now_ms = max(self.now_ms + 1, int(occurred.timestamp() * 1000) if isinstance(occurred, datetime) else 0)
        self.harness.feed(event, topic, settle=settle)
        self.inputs.append(replace(record(topic, "k", event, len(self.inputs)), timestamp_ms=self.now_ms))
        self._mark()
        return str(event.value["envelope"]["event_id"])

    def _mark(self) -> None:
        self.marks.append((len(self.harness.local.decisions), self.now_ms))

    def customer(self, kind: str, value: str) -> str:
        found = self.harness.customer(kind, value)
        assert found is not None, (kind, value)
        return found

    def showing(self, contact: str) -> str:
        """The customer whose screen pop lists ``contact`` (exactly one)."""
        (found,) = [key for key in self.harness.local.store.nodes
                    if key.startswith("cus_") and contact in contact_ids(self.harness, key)]
        return found

    def _command(self, to: str, message: object) -> None:
        self.commands += 1
        self.harness.local.submit([Send(to, message)])  # type: ignore[arg-type]
        self.harness.local.run()
        self._mark()

    def _at(self) -> int:
        """The next command's instant (epoch µs), one millisecond after the last thing that happened."""
        self.now_ms += 1
        return self.now_ms * 1000

    def merge(self, *identifiers: tuple[str, str]) -> None:
        """``omnibus identity merge`` of the customers of ``identifiers``."""
        keys = sorted(self.harness.key(*identifier) for identifier in identifiers)
        saga = merge_saga(f"merge-{self.commands}", keys, "ops-3", "one person")
        self._command(saga.ids[0], Visit(saga))

    def move(self, contact: str, to: tuple[str, str], source: str | None = None) -> None:
        """``omnibus identity move-contact`` of ``contact`` from ``source`` (default: the one screen pop that shows
        it) to the customer of ``to``."""
        self._command(source or self.showing(contact), MoveContact(contact, self.customer(*to), "ops-3",
                                                                   "the caller was another", f"move-{self.commands}"))

    def split(self, *identifiers: tuple[str, str]) -> None:
        """``omnibus identity split`` of ``identifiers`` off their customer (the first one's)."""
        keys = [self.harness.key(*identifier) for identifier in identifiers]
        self.split_keys(self.customer(*identifiers[0]), keys)

    def split_keys(self, customer: str, keys: list[str], reason: str = "wrong merge") -> None:
        """``omnibus identity split`` of the identifier keys ``keys`` off ``customer``."""
        self._command(customer, SplitCustomer(keys, reason, f"split-{self.commands}", self._at(), operator="ops-3"))

    def unmerge(self, merged: str) -> bool:
        """``omnibus identity unmerge`` of the customer a merge ended; False when the command refuses it."""
        outputs = self.outputs()
        owners = {_row_key(r): str(r.event.value["customer_id"]) for r in outputs.assignments if r.event is not None}
        merges = merge_records(r.event for r in outputs.customer_events if r.event is not None)
        try:
            plan = unmerge_plan(merged, merges, owners)
        except UnmergeRefused:
            return False
        self.split_keys(plan.source, list(plan.moving), "undoes a merge")
        return True

    def release(self, kind: str, value: str) -> None:
        """``omnibus identity release`` of an identifier from its customer."""
        key = self.harness.key(kind, value)
        release = ReleaseIdentifier(key, "ops-3", "recycled", f"release-{self.commands}", self._at())
        self._command(self.customer(kind, value), release)

    def outputs(self) -> IdentityOutputs:
        """What the running processor wrote: every decision as ``Announcer`` publishes it, in decision order; the
        current rows; its node table."""
        written_ms = self.now_ms  # when the decision being announced was written (``marks``)
        announcer = Announcer(SETTINGS.topics, ref_loader(DESERIALIZER),
                              clock=lambda: datetime.fromtimestamp(written_ms / 1000, UTC))
        events: list[Replayed] = []
        contacts: list[Replayed] = []
        marks = iter(self.marks)
        made, written_ms = next(marks, (0, self.now_ms))
        for position, decision in enumerate(self.harness.local.decisions):
            while position >= made:
                made, written_ms = next(marks, (len(self.harness.local.decisions), self.now_ms))
            for item in announcer.outgoing(decision):
                if getattr(item, "event", None) is None:
                    continue
                if item.topic == EVENTS:
                    events.append(replace(record(EVENTS, item.key, item.event, len(events)), timestamp_ms=written_ms))
                elif item.topic == CONTACTS:
                    contacts.append(replace(record(CONTACTS, item.key, item.event, len(contacts)),
                                            headers=tuple(item.headers), timestamp_ms=written_ms))
        store = self.harness.local.store
        keys = sorted(key for key in store.nodes if not key.startswith("cus_"))
        rows = [row(key, owner, 1, offset) for offset, key in enumerate(keys)
                if (owner := self.harness.local.customer_of(key))]
        changelog = [Replayed("v.identity-identity-nodes-changelog", 0, i, key.encode(), None, encode_state(state))
                     for i, (key, state) in enumerate(store.nodes.items())]
        return IdentityOutputs(assignments=rows, customer_events=events, contacts=contacts, changelog=changelog)

    def recomputed(self, outputs: IdentityOutputs | None = None) -> Recomputed:
        """The recomputation from the inputs, replaying the operators' commands ``outputs`` announce."""
        commands = announced_commands(outputs.customer_events) if outputs is not None else []
        return recompute(self.inputs, SETTINGS, self.config, self.harness.book, commands)

    def verified(self) -> Report:
        """``omnibus verify``'s identity checks and its placement checks on this run."""
        return self.check(self.outputs())

    def check(self, outputs: IdentityOutputs) -> Report:
        """``omnibus verify``'s identity checks and its placement checks on ``outputs`` (this run's, perhaps
        altered)."""
        report = Report()
        check_identity(self.recomputed(outputs), outputs, CONTACTS_IN, report)
        placements = read_placements(outputs.contacts)
        check_one_customer_per_contact(placements, report)
        check_handoffs_with_their_contact(placements, report)
        return report


def _row_key(row: Replayed) -> str:
    return row.key.decode() if row.key is not None else ""


Command = Callable[[Run], None]
