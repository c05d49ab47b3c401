"""Settings every adapter has; an adapter's own settings subclass ``AdapterSettings``."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import ConfigDict, Field, field_validator, model_validator

from bus import references
from bus.settings_defaults import ExtensibleDefaults


def state_home() -> Path:
    """Where adapters keep local state (dedupe files, checkpoints) unless told otherwise: ``$XDG_STATE_HOME/omnibus``,
    else ``~/.local/state/omnibus`` (the XDG Base Directory spec's place for state that outlives a restart). It does
    not depend on the working directory: an import run twice from two directories still finds what it published."""
    configured = os.environ.get("XDG_STATE_HOME", "")
    base = Path(configured) if os.path.isabs(configured) else Path("~/.local/state").expanduser()
    return base / "omnibus"


def default_state_dir(adapter: str, former: Path) -> Path:
    """``<state_home>/<adapter>`` (``~/.local/state/omnibus/legacy``), whatever the working directory. A deployment
    that kept its state in ``former`` (a default relative to the working directory, as it was before) keeps using
    it while the new place does not exist, so an upgrade neither re-reads from the start nor republishes a file."""
    current = state_home() / adapter
    if not current.exists() and former.is_dir():
        return former.resolve()
    return current


class AdapterSettings(ExtensibleDefaults):
    """List and mapping settings add to their defaults when written with a leading ``+`` (``bus.settings_defaults``);
    without it they replace them, and the adapter logs at start-up what that left out."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    host: str = Field("127.0.0.1", description="Address the ingress listens on (0.0.0.0 in a container).")
    port: int = Field(8080, ge=0, le=65535, description="HTTP port of the ingress; 0 picks a free one.")
    retry_after_s: int = Field(5, gt=0, description="Retry-After sent with a 503 when Kafka did not ack.")
    publish_timeout_s: float = Field(
        10.0, gt=0, description="Answer 503 if Kafka has not acknowledged within this time."
    )
    dedupe_path: Path | None = Field(
        None, description="SQLite file remembering the source ids already published, so a redelivery after a restart "
        "publishes nothing again; unset: $XDG_STATE_HOME/omnibus/<adapter>/dedupe-<port>.sqlite (dedupe_file)."
    )
    dedupe_in_memory: bool = Field(
        False, description="Opt-out of the dedupe file: source ids are remembered in memory only, so after a restart "
        "a redelivery is published again (subscribers still drop it by event id). For throwaway runs."
    )
    dedupe_window_s: int = Field(7 * 24 * 3600, gt=0, description="How long a source id is remembered.")
    site: str | None = Field(None, description="Site or branch this adapter instance serves, if any.")
    future_tolerance_s: float = Field(
        300.0, ge=0,
        description="A source time later than the receive time by more than this is moved back to it "
        "(adapters.base.clock); the original is kept beside it.",
    )

    reference_fields: tuple[str, ...] = Field(
        (), description="Property names whose values are business references kept whole, never scrubbed to [digits] "
        "(a utility's meter_point_id, meter_serial, reading_index: bus.references), but one written as an identifier "
        "or holding the record's own phone (counted in omnibus_references_masked_total); a name that says it "
        "holds an identifier or a person's trait (phone, email, iban, card, birth_date...) is refused at start-up.",
    )

    @field_validator("reference_fields")
    @classmethod
    def _references_hold_no_identifier(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return references.check_names(value)

    @model_validator(mode="after")
    def _one_dedupe_choice(self) -> AdapterSettings:
        if self.dedupe_in_memory and self.dedupe_path is not None:
            raise ValueError("dedupe_path and dedupe_in_memory exclude each other: set one")
        return self


def dedupe_file(adapter: str, settings: AdapterSettings) -> Path | None:
    """Where ``adapter`` (``web``) remembers published source ids: ``settings.dedupe_path``, else
    ``<state_home>/<adapter>/dedupe-<port>.sqlite`` (one file per port: two instances on one host never share
    it; the workers of one instance do). ``None`` (in memory) only when opted out (``dedupe_in_memory``) or on
    port 0, which picks a new port at every start, so no earlier instance's sender can be redelivering to it.

    the default was memory for a single process, so a restarted adapter published again the
    redeliveries of everything it had acknowledged before.
    """
    if settings.dedupe_in_memory:
        return None
    if settings.dedupe_path is not None:
        return settings.dedupe_path
    if settings.port == 0:
        return None
    return state_home() / adapter / f"dedupe-{settings.port}.sqlite"
