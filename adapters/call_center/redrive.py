"""A call report refused at the call center's HTTP ingress, mapped again from its sealed body (``omnibus deadletters
redrive``): as the ingress maps each path's records, for the site its dead letter names.

- ``/v1/connect/ctr``: the body cut as ``mapper_ctr.split_body`` cuts it (one CTR, an array, JSON lines, a Firehose
  delivery), each CTR mapped; the version the adapter's state file knows is not consulted: the processors keep the
  latest ``LastUpdateTimestamp`` of a contact;
- ``/v1/asterisk/cdr``: each CDR line;
- ``/v1/twilio/taskrouter``: the terminal callback, with an empty timeline (the queue and answer times earlier
  callbacks gave are kept by the running adapter only: the call is published without them).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl

from adapters.base.http import PATH_HEADER
from adapters.base.redrive import NotRemappable, events_of
from adapters.call_center import mapper_asterisk, mapper_ctr, mapper_taskrouter
from adapters.call_center.config import CallCenterSettings
from adapters.call_center.ingress_http import SITE_HEADER
from adapters.call_center.mapper import MapContext, NativeItem, Topics
from bus.identifiers import IdentifierSettings
from bus.producer import Outgoing


def remapped(body: bytes, headers: Mapping[str, str], received_at: datetime, settings: CallCenterSettings,
             topics: Topics, identifiers: IdentifierSettings | None = None) -> tuple[Outgoing, ...]:
    """The events of ``body``; raises ``NotRemappable`` (no site, an unknown path) or ``RejectedInput`` (a record
    refused again: nothing of the body is published)."""
    site = headers.get(SITE_HEADER)
    if not site or site not in settings.sites:
        raise NotRemappable(f"the dead letter names no site of OMNIBUS_ADAPTER_CALL_CENTER__SITES ({site or 'none'}): "
                            "refused before its access key was read, or by an older version")
    ctx = MapContext(site, settings.sites[site], topics, settings, identifiers)
    path = headers.get(PATH_HEADER, "")
    if path.endswith("/connect/ctr"):
        items, _ = mapper_ctr.split_body(body)
        return events_of([mapper_ctr.call_events(mapper_ctr.ctr_call(_read(item), ctx), ctx) for item in items],
                         headers)
    if path.endswith("/asterisk/cdr"):
        items = mapper_asterisk.split_lines(body, ctx.settings.asterisk_columns)
        return events_of([mapper_asterisk.map_cdr(_read(item), ctx) for item in items], headers)
    if path.endswith("/twilio/taskrouter"):
        form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        return events_of([mapper_taskrouter.map_task(form, mapper_taskrouter.Timeline(), ctx)], headers)
    raise NotRemappable(f"no call-center path re-maps {path or 'a body without its path'}")


def _read(item: NativeItem) -> Any:
    if item.error is not None:
        raise item.error
    return item.record
