"""faust's table manager without its one-second wait at start: an Omnibus worker declares every table before it starts.

faust's ``TableManager.on_start`` (``faust/tables/manager.py``, 0.15) sleeps 1.0 s, then finalizes the tables
(``_update_channels``: a table added later raises ``RuntimeError("Too late to add tables at this point")``), tells the
conductor they are registered (the consumer subscribes only then) and starts the recovery. The sleep came in with
the first ``on_start`` (robinhood/faust 5b2a1dbb, June 2017, no reason given). It is the same kind as the
conductor's 2.0 s sleep of that time, whose comment said why: "to give agents a chance to start up and register
their streams". faust replaced that one by events (robinhood/faust #501, b82bb46d: the conductor waits for
``wait_until_agents_started`` and ``wait_until_tables_registered``) but kept this one, which now only leaves one
second for code that would create a table once the worker is starting (inside an agent's body, say).

No Omnibus worker does: every table is made by its processor's builder right after ``bus.app.create_app``, before
``start()`` (``processors/*/agent.py``, through ``bus.fenced_table``). A table added late would still fail loudly
(faust's ``RuntimeError``), never silently. So the wait is a second added to every worker start, every restart of
a processor, and every worker the tests start (hundreds per CI run), and nothing else.

``TableManager`` is faust's, with ``on_start`` doing the same steps without the wait; ``bus.app.create_app`` sets it
as faust's ``TableManager`` setting.
"""

from __future__ import annotations

from faust.tables.manager import TableManager as FaustTableManager


class TableManager(FaustTableManager):
    """faust's ``TableManager`` that registers the tables as soon as it starts (see the module)."""

    async def on_start(self) -> None:
        """faust's ``TableManager.on_start`` without ``await self.sleep(1.0)``."""
        if not self.should_stop:
            await self._update_channels()
            await self.recovery.start()
