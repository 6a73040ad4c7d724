"""A running bot wired to a running Streampixel simulator, sharing one fake clock."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.jobs.queue_runner import QueueRunner
from bot.sandbox.slack import FakeSlack
from bot.sandbox.streampixel_state import DEMO_API_KEY, DEMO_USER_ID, StreampixelSimulator
from storage.db import Database
from tests.harness import Bot, running_bot
from tests.providers.streampixel_fixtures import FakeClock, demo_simulator, running_simulator

RELEASER = "URELEASE1"
VIEWER = "UVIEWER01"


@dataclass
class Env:
    """The bot, the simulator behind it and the clock both read."""

    bot: Bot
    sim: StreampixelSimulator
    clock: FakeClock

    def now(self) -> datetime:
        """The shared clock as a datetime."""
        return datetime.fromtimestamp(self.clock.now, UTC)

    @property
    def scheduler(self) -> QueueRunner:
        """The queue runner among the bot's background jobs."""
        return self.bot.container.queue_runner

    def distributions(self, upload_id: str) -> int:
        """How many distributions of ``upload_id`` reached the simulator."""
        return sum(
            1
            for e in self.sim.events
            if e["event"] == "build.distributing" and e["uploadId"] == upload_id
        )

    def replies(self) -> list[dict[str, Any]]:
        """Everything posted to response_urls so far."""
        return self.bot.slack.calls_to("response_url")

    async def reply_count(self, n: int) -> list[dict[str, Any]]:
        """Wait until ``n`` response_url posts arrived; return them."""
        await self.bot.slack.wait_for(lambda s: len(s.calls_to("response_url")) >= n)
        return self.replies()


def buttons(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every button in ``blocks`` (actions elements and section accessories)."""
    found: list[dict[str, Any]] = []
    for block in blocks:
        if block["type"] == "actions":
            found.extend(e for e in block["elements"] if e["type"] == "button")
        accessory = block.get("accessory")
        if accessory and accessory["type"] == "button":
            found.append(accessory)
    return found


def text_of(payload: dict[str, Any]) -> str:
    """The text and every section text of a posted message, joined."""
    parts = [str(payload.get("text") or "")]
    blocks = payload.get("blocks") or []
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    for block in blocks:
        if "text" in block and isinstance(block["text"], dict):
            parts.append(block["text"]["text"])
        for element in block.get("elements", []):
            if isinstance(element.get("text"), str):
                parts.append(element["text"])
    return "\n".join(parts)


@contextlib.asynccontextmanager
async def build_env(
    database: Database,
    sim: StreampixelSimulator | None = None,
    *,
    slack: FakeSlack | None = None,
    **overrides: Any,
) -> AsyncIterator[Env]:
    """The demo simulator and the bot pointed at it, with a releaser and a viewer.

    Args:
        slack: the fake Slack to use (e.g. one that is down); a fresh one if omitted.
        overrides: more settings for the bot.
    """
    async with running_simulator(sim=sim or demo_simulator()) as running:
        clock = running.clock
        async with running_bot(
            database,
            slack,
            clock=lambda: datetime.fromtimestamp(clock.now, UTC),
            **overrides,
            STREAMPIXEL_BASE_URL=running.base_url,
            STREAMPIXEL_API_KEY=DEMO_API_KEY,
            STREAMPIXEL_USER_ID=DEMO_USER_ID,
        ) as bot:
            await bot.container.authz.store.grant(RELEASER, "releaser", "test")
            yield Env(bot, running.sim, clock)
