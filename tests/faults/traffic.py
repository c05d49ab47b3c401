"""Steady web-hall traffic for the broker fault tests: Segment ``track`` calls with their own messageIds,
each answer kept, and the calls answered 503 sent again afterwards (as Segment's SDKs retry)."""

from __future__ import annotations

import asyncio
import base64
import itertools
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

import aiohttp

from tests.faults.stack import WRITE_KEY

AUTH = {"Authorization": "Basic " + base64.b64encode(f"{WRITE_KEY}:".encode()).decode()}


@dataclass
class Answer:
    message_id: str
    status: int  # 0: no answer (connection refused or timed out)
    retry_after: str | None
    sent_at: float


@dataclass
class WebTraffic:
    """``concurrency`` clients posting tracks to the web adapter on ``port`` until ``stop()``."""

    port: int
    users: int = 50
    concurrency: int = 4
    pause_s: float = 0.02
    answers: list[Answer] = field(default_factory=list)
    _stopping: asyncio.Event = field(default_factory=asyncio.Event)
    _ids: itertools.count = field(default_factory=itertools.count)
    _run: str = field(default_factory=lambda: uuid.uuid4().hex[:8])

    def message(self, message_id: str) -> dict:
        number = int(message_id.rsplit("-", 1)[1])
        return {"type": "track", "event": "Page Read", "userId": f"user-{self._run}-{number % self.users}",
                "messageId": message_id, "properties": {"n": number}}

    async def post(self, session: aiohttp.ClientSession, message_id: str) -> Answer:
        began = time.monotonic()
        try:
            async with session.post(f"http://127.0.0.1:{self.port}/v1/track", json=self.message(message_id),
                                    headers=AUTH, timeout=aiohttp.ClientTimeout(total=60)) as response:
                await response.read()
                return Answer(message_id, response.status, response.headers.get("Retry-After"), began)
        except (aiohttp.ClientError, asyncio.TimeoutError):
            return Answer(message_id, 0, None, began)

    async def _client(self, session: aiohttp.ClientSession) -> None:
        while not self._stopping.is_set():
            self.answers.append(await self.post(session, f"m-{self._run}-{next(self._ids)}"))
            await asyncio.sleep(self.pause_s)

    async def run(self) -> None:
        async with aiohttp.ClientSession() as session:
            await asyncio.gather(*(self._client(session) for _ in range(self.concurrency)))

    def stop(self) -> None:
        self._stopping.set()

    async def resend_refused(self, rounds: int = 10) -> list[Answer]:
        """Send every message not yet answered 2xx again until it is (or ``rounds`` pass); the new answers."""
        resent: list[Answer] = []
        async with aiohttp.ClientSession() as session:
            for _ in range(rounds):
                pending = sorted(self.pending())
                if not pending:
                    break
                for message_id in pending:
                    answer = await self.post(session, message_id)
                    self.answers.append(answer)
                    resent.append(answer)
                await asyncio.sleep(1)
        return resent

    async def until_accepted(self, count: int, *, sent_after: float = 0.0, timeout_s: float = 120.0) -> None:
        """Until ``count`` calls sent at or after ``sent_after`` (``time.monotonic()``) were answered 2xx: traffic
        flows through the adapter to Kafka. AssertionError after ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        while sum(1 for a in self.answers if a.sent_at >= sent_after and 200 <= a.status < 300) < count:
            assert time.monotonic() < deadline, f"fewer than {count} calls answered 2xx within {timeout_s:.0f} s"
            await asyncio.sleep(0.2)

    def accepted(self) -> set[str]:
        return {a.message_id for a in self.answers if 200 <= a.status < 300}

    def pending(self) -> set[str]:
        return {a.message_id for a in self.answers} - self.accepted()

    def statuses(self) -> Counter[int]:
        return Counter(a.status for a in self.answers)
