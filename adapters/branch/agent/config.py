"""Settings of the counter agent (env ``OMNIBUS_ADAPTER_COUNTER_AGENT__<FIELD>``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from bus.errors import ConfigError

ENV_PREFIX = "OMNIBUS_ADAPTER_COUNTER_AGENT__"


class AgentSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    journal_path: Path = Field(Path(".omnibus/counter-agent/journal.sqlite3"), description="The local SQLite journal.")
    adapter_url: str | None = Field(None, description="Base URL of the branch adapter, e.g. http://branch-adapter:8080.")
    terminal_id: str | None = Field(None, description="This terminal's id (the adapter checks it against the token).")
    branch_id: str | None = Field(None, description="Branch the terminal stands in.")
    token: SecretStr | None = Field(None, description="This terminal's bearer token.")
    batch_max_events: int = Field(200, gt=0, le=1000, description="Events per upload (the adapter takes 1000).")
    batch_max_bytes: int = Field(256 * 1024, gt=1024, le=512 * 1024, description="JSON bytes per upload.")
    backoff_initial_s: float = Field(0.5, gt=0, description="First wait after a failed upload.")
    backoff_max_s: float = Field(60.0, gt=0, description="Longest wait between attempts (also caps Retry-After).")
    request_timeout_s: float = Field(30.0, gt=0, description="Longer than the adapter's publish timeout.")
    poll_interval_s: float = Field(0.5, gt=0, description="How often to look for new events when idle.")
    sent_retention_s: int = Field(7 * 24 * 3600, gt=0, description="How long sent events stay in the journal.")

    def require_uploader(self) -> tuple[str, str, str, str]:
        """adapter_url, terminal_id, branch_id and token, or a ConfigError naming what is missing."""
        values = {"adapter_url": self.adapter_url, "terminal_id": self.terminal_id, "branch_id": self.branch_id,
                  "token": self.token.get_secret_value() if self.token else None}
        missing = [f"{ENV_PREFIX}{name.upper()}" for name, value in values.items() if not value]
        if missing:
            raise ConfigError(f"the counter agent cannot upload without: {', '.join(missing)}")
        return (values["adapter_url"].rstrip("/"), values["terminal_id"], values["branch_id"], values["token"])  # type: ignore[union-attr,return-value]
