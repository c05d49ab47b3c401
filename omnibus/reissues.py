"""The components whose refused input ``redrive --new-id`` maps again (``processors.deadletters.new_id.Reissue``).

Composed here, at the top (``omnibus.cli.Composition.reissues``), so the dead-letter plumbing never imports an
adapter; an adapter's own settings
(``OMNIBUS_ADAPTER_<NAME>__*``) are read as the adapter reads them, so a message maps as it would have been mapped.
"""

from __future__ import annotations

from bus.config import OmnibusSettings, load_component_settings
from processors.deadletters import DeadLetter
from processors.deadletters.new_id import REFUSED_AT_INGRESS, NotReissued, Reissue, Reissued


def web_reissue(settings: OmnibusSettings) -> Reissue:
    """The web hall's: ``adapters.web.reissue`` with ``OMNIBUS_ADAPTER_WEB__*``. Raises ``bus.errors.ConfigError``
    on a bad setting."""
    from adapters.base.errors import RejectedInput
    from adapters.web.config import ENV_PREFIX, WebSettings
    from adapters.web.mapper import SegmentMapper
    from adapters.web.reissue import REISSUED_CODES, NotReissuable, reissued

    mapper = SegmentMapper(load_component_settings(WebSettings, ENV_PREFIX), settings.topics, settings.identifiers)

    def reissue(letter: DeadLetter) -> Reissued:
        f = letter.fields
        headers = {h["key"]: bytes(h["value"]).decode("utf-8", "replace")
                   for h in f.get("headers") or () if h["value"] is not None}
        code = str(f["error_type"])[len(REFUSED_AT_INGRESS):]
        try:
            new_ids, record = reissued(code, bytes(f["value"]), headers, f["failed_at"], mapper)
        except NotReissuable as exc:
            raise NotReissued(str(exc)) from exc
        except RejectedInput as exc:
            raise NotReissued(f"the web hall refuses the message again ({exc.code}: {exc.reason})") from exc
        return Reissued(new_ids, record.events)

    return Reissue(REISSUED_CODES, reissue)


def reissues(settings: OmnibusSettings) -> dict[str, Reissue]:
    """Component name (a dead letter's ``source_component``) -> its ``Reissue``."""
    from adapters.base.runtime import adapter_component
    from adapters.web.ingress import NAME as WEB

    return {adapter_component(WEB): web_reissue(settings)}
