"""In-process runs with operators' corrections (``omnibus identity merge | move-contact | split``) for the verifier:
the running processor (``Harness``) fed the inputs with the commands between them, its outputs as ``Announcer``
publishes them, and the recomputation from the same inputs (which replays none of the commands)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

from bus.serde import Event
from processors.identity.announcements import Announcer
from processors.identity.config import IdentitySettings
from processors.identity.graph.messages.commands import MoveContact, SplitCustomer
from processors.identity.graph.messages.steps import Visit
from processors.identity.graph.outputs import Send
from processors.identity.graph.saga import merge_saga
from processors.identity.graph.state import encode_state
from processors.identity.intake import ref_loader
from processors.replay import Replayed
from processors.replay.identity import Recomputed, recompute
from processors.verify.identity import IdentityOutputs, check_identity
from processors.verify.placement import (
    check_handoffs_with_their_contact,
    check_one_customer_per_contact,
    read_placements,
)
from processors.verify.report import Report
from tests.processors.identity.graph.test_split_contacts import contact_ids
from tests.processors.identity.support import DESERIALIZER, Harness, settings
from tests.processors.verify.support import CONTACTS, CONTACTS_IN, EVENTS, INPUT, SETTINGS, record, row

REKEYED = "identity: each contact is keyed by its identifiers' customer or a housemate"


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

    def __post_init__(self) -> None:
        self.harness = Harness(self.config, partitions=self.partitions, seed=self.seed, duplicates=self.duplicates)

    def feed(self, event: Event, topic: str = INPUT, *, settle: bool = True) -> str:
        """Feed one input event, run to rest unless not ``settle``; its event id."""
        self.harness.feed(event, topic, settle=settle)
        self.inputs.append(record(topic, "k", event, len(self.inputs)))
        return str(event.value["envelope"]["event_id"])

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
        self._command(self.customer(*identifiers[0]), SplitCustomer(keys, "wrong merge", f"split-{self.commands}",
                                                                    10**15 + self.commands))

    def outputs(self) -> IdentityOutputs:
        """What the running processor wrote: every decision as ``Announcer`` publishes it, in decision order; the
        current rows; its node table."""
        announcer = Announcer(SETTINGS.topics, ref_loader(DESERIALIZER))
        events: list[Replayed] = []
        contacts: list[Replayed] = []
        for decision in self.harness.local.decisions:
            for item in announcer.outgoing(decision):
                if getattr(item, "event", None) is None:
                    continue
                if item.topic == EVENTS:
                    events.append(record(EVENTS, item.key, item.event, len(events)))
                elif item.topic == CONTACTS:
                    contacts.append(replace(record(CONTACTS, item.key, item.event, len(contacts)),
                                            headers=tuple(item.headers)))
        store = self.harness.local.store
        keys = sorted(key for key in store.nodes if not key.startswith("cus_"))
        rows = [row(key, owner, 1, offset) for offset, key in enumerate(keys)
                if (owner := self.harness.local.customer_of(key))]
        changelog = [Replayed("v.identity-identity-nodes-changelog", 0, i, key.encode(), None, encode_state(state))
                     for i, (key, state) in enumerate(store.nodes.items())]
        return IdentityOutputs(assignments=rows, customer_events=events, contacts=contacts, changelog=changelog)

    def recomputed(self) -> Recomputed:
        return recompute(self.inputs, SETTINGS, self.config, self.harness.book)

    def verified(self) -> Report:
        """``omnibus verify``'s identity checks and its placement checks on this run."""
        return self.check(self.outputs())

    def check(self, outputs: IdentityOutputs) -> Report:
        """``omnibus verify``'s identity checks and its placement checks on ``outputs`` (this run's, perhaps
        altered)."""
        report = Report()
        check_identity(self.recomputed(), outputs, CONTACTS_IN, report)
        placements = read_placements(outputs.contacts)
        check_one_customer_per_contact(placements, report)
        check_handoffs_with_their_contact(placements, report)
        return report


Command = Callable[[Run], None]
