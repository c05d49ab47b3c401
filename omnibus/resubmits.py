"""The adapters whose refusals ``deadletters redrive`` re-submits from their sealed bodies
(``processors.deadletters.sealed.Resubmit``): the web hall, the call center (CTR, Asterisk, TaskRouter)
and the branch counter at their HTTP ingress, and the legacy adapter's outbox relay and table pollers (a row, not a
body: ``adapters.legacy.redrive``), one mechanism for all.

Composed here, at the top (``omnibus.cli.Composition.resubmits``), so the dead-letter plumbing never imports an
adapter; each adapter's settings (``OMNIBUS_ADAPTER_<NAME>__*``) are read as the adapter reads them, at the first
body re-submitted to it, so a body maps as it would have been mapped and a bad setting of another adapter stops
nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from functools import cache

from bus.config import OmnibusSettings, load_component_settings
from bus.producer import Outgoing
from bus.redact import scrub_text
from processors.deadletters.redrive import OPEN_CASE_HINT
from processors.deadletters.sealed import NotResubmitted, Resubmit

# a legacy row is corrected by the adapter's settings (a poller's columns) or in the row itself
LEGACY_CORRECTION = ("correct the adapter's settings (OMNIBUS_ADAPTER_LEGACY__*) or the row with --set FIELD=VALUE "
                     "(an outbox row's payload.FIELD)")
# refusals of a body that is no JSON or form at all (cut short, another encoding: adapters.base.errors.UNPARSED_CODES):
# --set, which corrects a field of one, cannot help; the case it asked for is opened by hand
UNREADABLE_BODY = f"--set cannot correct a body that does not parse; {OPEN_CASE_HINT}"
# a field the adapter does not declare there (code UNKNOWN_FIELD): no value of it is accepted, so --set cannot mend it
UNDECLARED_FIELD = "remove it with --unset FIELD (or --set its value under the field the adapter declares)"
Remap = Callable[[bytes, Mapping[str, str], datetime, bytes | None], tuple[Outgoing, ...]]


def _resubmit(build: Callable[[], Remap], adapter: str, correct: str = "correct it with --set FIELD=VALUE") -> Resubmit:
    """``build``'s re-mapping (built once, at its first use), its refusals as ``NotResubmitted`` naming ``adapter``
    and how to ``correct`` it, the reason scrubbed of identifier values as logs are (it is printed)."""
    from adapters.base.errors import UNKNOWN_FIELD, UNPARSED_CODES, RejectedInput
    from adapters.base.redrive import NotRemappable

    remap = cache(build)

    def resubmit(body: bytes, headers: Mapping[str, str], received_at: datetime,
                 published: bytes | None) -> tuple[Outgoing, ...]:
        try:
            return remap()(body, headers, received_at, published)
        except NotRemappable as exc:
            raise NotResubmitted(str(exc)) from exc
        except RejectedInput as exc:
            how = (UNREADABLE_BODY if exc.code in UNPARSED_CODES else UNDECLARED_FIELD if exc.code == UNKNOWN_FIELD
                   else correct)
            raise NotResubmitted(f"{adapter} refuses it again ({exc.code}: {scrub_text(exc.reason)}); {how}",
                                 ) from exc

    return Resubmit(resubmit)


def resubmits(settings: OmnibusSettings) -> dict[str, Resubmit]:
    """Component name (a dead letter's ``source_component``) -> its ``Resubmit``."""
    from adapters.base.runtime import adapter_component
    from adapters.branch.ingress import NAME as BRANCH
    from adapters.call_center.ingress_http import NAME as CALL_CENTER
    from adapters.legacy.mapper import COMPONENT as LEGACY
    from adapters.web.ingress import NAME as WEB

    def web() -> Remap:
        from adapters.web import redrive
        from adapters.web.config import ENV_PREFIX, WebSettings
        from adapters.web.mapper import SegmentMapper

        mapper = SegmentMapper(load_component_settings(WebSettings, ENV_PREFIX), settings.topics, settings.identifiers)
        return lambda body, headers, at, _published: redrive.remapped(body, headers, at, mapper)

    def call_center() -> Remap:
        from adapters.call_center import redrive
        from adapters.call_center.config import ENV_PREFIX, CallCenterSettings
        from adapters.call_center.mapper import Topics

        adapter = load_component_settings(CallCenterSettings, ENV_PREFIX)
        topics = Topics.of(settings.topics)
        return lambda body, headers, at, _published: redrive.remapped(body, headers, at, adapter, topics,
                                                                    settings.identifiers)

    def branch() -> Remap:
        from adapters.branch import redrive
        from adapters.branch.config import ENV_PREFIX, BranchSettings
        from adapters.branch.mapper import CounterMapper

        adapter = load_component_settings(BranchSettings, ENV_PREFIX)
        mapper = CounterMapper(adapter, settings.topics, settings.identifiers)
        return lambda body, headers, at, published: redrive.remapped(body, headers, at, mapper, adapter, published)

    def legacy() -> Remap:
        from adapters.legacy import redrive
        from adapters.legacy.config import ENV_PREFIX, LegacySettings

        adapter = load_component_settings(LegacySettings, ENV_PREFIX)
        return lambda body, headers, at, _published: redrive.remapped(body, headers, at, settings, adapter)

    return {adapter_component(WEB): _resubmit(web, "the web hall"),
            adapter_component(CALL_CENTER): _resubmit(call_center, "the call center"),
            adapter_component(BRANCH): _resubmit(branch, "the branch adapter"),
            adapter_component(LEGACY): _resubmit(legacy, "the legacy adapter", LEGACY_CORRECTION)}
