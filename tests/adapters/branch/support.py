"""Shared by the branch tests: samples, settings, and a client that uploads natives over HTTP."""

from __future__ import annotations

import json
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from adapters.branch.config import BranchSettings
from adapters.branch.ingress import UPLOAD_PATH, running_branch_adapter
from bus.config import OmnibusSettings
from tests.adapters.contract import Delivery

SAMPLES = Path(__file__).parent / "samples"
TOKENS = {"QM-0142-1": "tok-qm-0142-1-9c1e", "CT-0142-01": "tok-ct-0142-01-77ab", "CT-0142-03": "tok-ct-0142-03-5d20"}
BRANCHES = {"CT-0142-01": "0142", "CT-0142-03": "0142"}  # QM-0142-1 left unbound: it may name any branch


def sample(name: str) -> dict[str, Any]:
    return json.loads((SAMPLES / f"{name}.json").read_text())


def branch_settings(**overrides: Any) -> BranchSettings:
    return BranchSettings(**{"terminal_tokens": TOKENS, "terminal_branches": BRANCHES, "port": 0, "phone_region": "FR",
                             **overrides})


@dataclass(frozen=True)
class Raw:
    """A body uploaded exactly as given, as terminal ``terminal``."""

    body: bytes
    terminal: str = "CT-0142-03"


@dataclass(frozen=True)
class WithToken:
    token: str
    upload: dict[str, Any]


class BranchClient:
    def __init__(self, session: aiohttp.ClientSession) -> None:
        self.session = session

    async def post(self, body: bytes, token: str) -> Delivery:
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
        async with self.session.post(UPLOAD_PATH, data=body, headers=headers) as response:
            payload = await response.json(content_type=None)
            return Delivery(
                accepted=response.status == 200, status=response.status, reason=payload.get("error"),
                retry_after=response.headers.get("Retry-After"), extra={"body": payload},
            )

    async def deliver(self, native: Any) -> Delivery:
        if isinstance(native, Raw):
            return await self.post(native.body, TOKENS[native.terminal])
        if isinstance(native, WithToken):
            return await self.post(json.dumps(native.upload).encode(), native.token)
        return await self.post(json.dumps(native).encode(), TOKENS[native["terminal_id"]])


async def start_branch(stack: AsyncExitStack, settings: OmnibusSettings, **overrides: Any) -> BranchClient:
    server = await stack.enter_async_context(running_branch_adapter(settings, branch_settings(**overrides)))
    session = await stack.enter_async_context(aiohttp.ClientSession(f"http://127.0.0.1:{server.port}"))
    return BranchClient(session)
