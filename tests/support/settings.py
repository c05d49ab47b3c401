"""Settings for a broker test: the session's broker, and topics of its own under a unique prefix."""

from __future__ import annotations

import uuid
from typing import Any

from bus.config import OmnibusSettings, load_settings
from bus.topic_admin import apply_topics


def isolated_settings(bootstrap_servers: str, *, partitions: int = 3, **sections: Any) -> OmnibusSettings:
    """Settings on the test broker with a fresh topic prefix; ``sections`` are merged over the defaults."""
    values: dict[str, dict[str, Any]] = {
        "kafka": {"bootstrap_servers": bootstrap_servers},
        "topics": {"prefix": f"t{uuid.uuid4().hex[:10]}", "partitions": partitions},
        "metrics": {"enabled": False},
    }
    for name, section in sections.items():
        values[name] = {**values.get(name, {}), **section}
    return load_settings(**values)


async def settings_with_topics(bootstrap_servers: str, *, partitions: int = 3, **sections: Any) -> OmnibusSettings:
    """Unique-prefix settings whose topics exist on the broker."""
    settings = isolated_settings(bootstrap_servers, partitions=partitions, **sections)
    await apply_topics(settings)
    return settings
