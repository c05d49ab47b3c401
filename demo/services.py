"""Every Omnibus component the demo runs, in this one process, against the local broker."""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from pydantic import SecretStr

from adapters.base.runtime import adapter_runtime
from adapters.branch.config import BranchSettings
from adapters.branch.ingress import running_branch_adapter
from adapters.call_center.config import CallCenterSettings, SiteSettings
from adapters.call_center.ingress_http import running as running_call_center
from adapters.legacy.config import LegacySettings
from adapters.legacy.ingress_batch import BatchImporter
from adapters.legacy.mapper import COMPONENT as LEGACY
from adapters.legacy.mapper import LegacyContext
from adapters.web.config import WebSettings
from adapters.web.ingress import running_web_adapter
from bus.clock import SystemClock
from bus.config import OmnibusSettings
from bus.identifiers.masking import keyed
from bus.logging import logged_as
from bus.metrics import serve_metrics
from bus.topics import BUSINESS_EVENTS, IDENTIFIERS_OBSERVED
from demo import COMPONENT
from demo.traffic import VERIFIED_BY_THE_IVR
from processors.handoffs.agent import APP_NAME as HANDOFFS
from processors.handoffs.agent import build_worker
from processors.handoffs.config import HandoffsSettings, load_policy
from processors.identity.agent import COMPONENT as IDENTITY
from processors.identity.agent import IdentityProcessor
from processors.identity.config import IdentitySettings
from processors.kpis.agent import APP_NAME as KPIS
from processors.kpis.agent import build_worker as build_kpis_worker
from processors.kpis.config import KpisSettings
from processors.offers.agent import APP_NAME as OFFERS
from processors.offers.agent import build_worker as build_offers_worker
from processors.offers.caps import ContactPolicy
from processors.offers.config import OffersSettings, default_zone

WRITE_KEY = "demo-portal-write-key"
TERMINAL_ID, BRANCH_ID, TERMINAL_TOKEN = "CT-0001-01", "0001", "demo-terminal-token"
SITE, SITE_KEY = "paris", "demo-paris-firehose-key"
DEMO_HMAC_KEY = "demo-only-national-id-hmac-key"
POLICY = Path(__file__).resolve().parents[1] / "processors" / "handoffs" / "policy.example.yaml"
# No quiet hours in the demo: it must show the same thing whatever the time of day (the "Still running" banner
# says so). An offer's own quiet hours still apply.
OFFERS_POLICY = ContactPolicy(quiet_hours=None)


@dataclass(frozen=True)
class Endpoints:
    web: str
    branch: str
    call_center: str
    screen_pop: str
    batch: BatchImporter
    offers: str  # the offer query (GET /customers/{id}/offers?channel=WEB)
    kpis: str  # the KPI view (GET /kpis?granularity=DAY)
    metrics: str  # Prometheus /metrics of every component (all run in this process and share one registry)


@asynccontextmanager
async def running_middleware(settings: OmnibusSettings, workdir: Path) -> AsyncIterator[Endpoints]:
    """Adapters (web, branch, call center, legacy batch files) and processors (identity, handoffs, offers, KPIs)."""
    if settings.identifiers.hmac_key is None:  # adapters tokenise national IDs with the key identity uses
        settings = settings.model_copy(update={
            "identifiers": settings.identifiers.model_copy(update={"hmac_key": SecretStr(DEMO_HMAC_KEY)})})
    # Every component runs in this process and writes to prometheus_client's one registry: one /metrics serves
    # them all (each adapter's runtime would otherwise start its own, on a port printed nowhere).
    metrics = serve_metrics(settings.metrics, component=COMPONENT)  # None when the caller disabled metrics (tests)
    settings = settings.model_copy(update={"metrics": settings.metrics.model_copy(update={"enabled": False})})
    async with AsyncExitStack() as stack:
        if metrics is not None:
            stack.callback(metrics.stop)
        # The keys are in these settings, not in the environment masks read theirs from: the pop's masks carry the tags
        # the commands of another shell print with the exported key (``keep_running``).
        stack.enter_context(keyed(settings.identifiers.tag_key()))
        web = await stack.enter_async_context(running_web_adapter(
            settings, WebSettings(port=0, write_keys={"portal": SecretStr(WRITE_KEY)})))
        branch = await stack.enter_async_context(running_branch_adapter(
            settings, BranchSettings(port=0, terminal_tokens={TERMINAL_ID: SecretStr(TERMINAL_TOKEN)},
                                     terminal_branches={TERMINAL_ID: BRANCH_ID})))
        call_center = await stack.enter_async_context(running_call_center(
            settings, CallCenterSettings(port=0, sites={SITE: SiteSettings(access_keys=(SecretStr(SITE_KEY),))},
                                         verified_record_attributes=VERIFIED_BY_THE_IVR)))
        legacy_settings = LegacySettings(state_dir=workdir / "legacy")
        legacy = await stack.enter_async_context(adapter_runtime(LEGACY, settings, legacy_settings))
        batch = BatchImporter(
            LegacyContext(legacy_settings.source_system, BUSINESS_EVENTS.name(settings.topics),
                          identity_topic=IDENTIFIERS_OBSERVED.name(settings.topics), identifiers=settings.identifiers),
            legacy.publisher, legacy_settings.state_dir,
        )

        # Port 0: each worker's web server binds a free port when it is built and serves on that socket
        # (bus.web_socket); a number read from a probe socket could be taken before the worker started (CI s39b).
        identity = IdentityProcessor(
            settings, IdentitySettings(hmac_key=SecretStr(DEMO_HMAC_KEY), web_port=0),
            web_port=0, datadir=str(workdir / "identity"),
        )
        handoffs = build_worker(
            settings, HandoffsSettings(policy_file=POLICY, tick_interval_s=1.0), load_policy(POLICY), SystemClock(),
            datadir=str(workdir / "handoffs"),
        )
        offers = build_offers_worker(
            settings, OffersSettings(web_port=0, policy=OFFERS_POLICY,
                                    default_timezone=demo_timezone(settings)),
            datadir=str(workdir / "offers"),
        )
        kpis = build_kpis_worker(settings, KpisSettings(web_port=0, tick_interval_s=1.0), SystemClock(),
                                 datadir=str(workdir / "kpis"))
        for component, app in ((IDENTITY, identity.app), (HANDOFFS, handoffs.app), (OFFERS, offers.app),
                               (KPIS, kpis.app)):
            await started_as(component, app)
            stack.push_async_callback(stopped_as, component, app)
        yield Endpoints(
            web=f"http://127.0.0.1:{web.port}",
            branch=f"http://127.0.0.1:{branch.port}",
            call_center=f"http://127.0.0.1:{call_center.port}",
            screen_pop=f"http://127.0.0.1:{identity.app.conf.web_port}",
            batch=batch,
            offers=f"http://127.0.0.1:{offers.app.conf.web_port}",
            kpis=f"http://127.0.0.1:{kpis.app.conf.web_port}",
            metrics=f"http://{settings.metrics.host}:{metrics.port}/metrics" if metrics is not None else "",
        )


class Startable(Protocol):
    """A processor's faust app, as the demo starts and stops it."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


async def started_as(component: str, app: Startable) -> None:
    """Start ``app``, a processor called ``component`` (``identity``): its lines and those of the tasks it starts
    (its agents, its timers, its web server) name it, as its own process's do (``bus.bootstrap.start_process``); the
    demo runs every processor in one process, whose own component is the demo's."""
    with logged_as(component):
        await app.start()


async def stopped_as(component: str, app: Startable) -> None:
    """Stop ``app`` (``started_as``), its stop's lines naming ``component``."""
    with logged_as(component):
        await app.stop()


def demo_timezone(settings: OmnibusSettings) -> str:
    """The offers' zone for customers of unknown country: ``OMNIBUS_PROCESSOR_OFFERS__DEFAULT_TIMEZONE`` if set, else
    the zone of the demo's phone region (FR → Europe/Paris: the demo said region FR and used UTC)."""
    configured = os.environ.get("OMNIBUS_PROCESSOR_OFFERS__DEFAULT_TIMEZONE")
    return default_zone(configured, settings.identifiers.default_region)


def scratch_dir() -> tempfile.TemporaryDirectory[str]:
    return tempfile.TemporaryDirectory(prefix="omnibus-demo-")
