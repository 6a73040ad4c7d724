"""Shared helpers for webhook and outbox tests: documented payloads, posting, a fast worker."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
from sqlalchemy import func
from sqlmodel import select

from bot.jobs.outbox_worker import OutboxOptions, OutboxWorker, delivery_client
from handlers.blocks.notifications import NOTIFICATIONS
from storage.db import Database
from storage.outbox import OutboxRow
from storage.webhooks import WebhookDelivery
from tests.harness import Bot, running_bot

TOKEN = "webhook-token-0123456789"
PROJECT = "664f1a2b3c4d5e6f7a8b9c0d"
UPLOAD = "665a2b3c4d5e6f7a8b9c0e20"
VIDEO = "9b2f6c1e-4d3a-4f5b-8c7d-1e2f3a4b5c6d"

STATUS = {
    "build.uploaded": "pending",
    "build.downloading": "Downloading Files",
    "build.extracting": "Extracting & Scanning",
    "build.saving": "Saving to Repository",
    "build.distributing": "Distribute",
    "build.approved": "Approved",
    "build.rejected": "Reject",
    "webhook.test": "test",
}

FAST = OutboxOptions(
    poll_interval=0.02, lease_seconds=5, backoff_base=0.02, backoff_cap=0.1, channel_interval=0.0
)


def streampixel(
    event: str,
    *,
    upload: str | None = UPLOAD,
    project: str = PROJECT,
    minute: int = 0,
    objection: str | None = None,
) -> dict[str, Any]:
    """A Streampixel webhook envelope exactly as providers.md §1.4 documents it."""
    return {
        "event": event,
        "projectId": project,
        "uploadId": upload,
        "fileUrl": "https://your-bucket.s3.amazonaws.com/builds/v1.1.9.zip" if upload else None,
        "status": STATUS.get(event, "unknown"),
        "objection": objection,
        "timestamp": f"2026-04-21T11:{minute:02d}:00.000Z",
    }


def streamstack(event: str, *, uuid: str = VIDEO, status: str = "processing") -> dict[str, Any]:
    """A StreamStack webhook as providers.md S11 proposes: ``{event, uuid, data, timestamp}``."""
    return {
        "event": event,
        "uuid": uuid,
        "data": {
            "uuid": uuid,
            "title": "Launch trailer",
            "status": status,
            "duration": 93.5,
            "resolution": "1920x1080",
            "profiles": ["1080p", "720p"],
            "urls": {
                "hls": f"https://cdn.streamstack.it/{uuid}/index.m3u8",
                "player": f"https://streamstack.it/player/{uuid}",
                "thumbnail": None,
            },
            "created_at": "2026-04-21T11:00:00Z",
            "updated_at": "2026-04-21T11:05:00Z",
        },
        "timestamp": f"2026-04-21T11:{len(event):02d}:00Z",
    }


def quiet_bot(database: Database, *args: Any, **overrides: Any) -> Any:
    """``running_bot`` without the app's own delivery worker (tests run a fast one)."""
    return running_bot(database, *args, STREAMOPS_DELIVERY_WORKER=False, **overrides)


async def post_webhook(
    bot: Bot,
    provider: str,
    payload: dict[str, Any] | bytes,
    *,
    token: str = TOKEN,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """POST a webhook body to the running bot."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return await bot.http.post(
        f"{bot.url}/webhooks/{provider}/{token}",
        content=body,
        headers={"Content-Type": "application/json", **(headers or {})},
    )


async def counts(db: Database) -> tuple[int, int]:
    """(webhook deliveries stored, outbox rows stored)."""
    async with db.session() as session:
        deliveries = (await session.exec(select(func.count()).select_from(WebhookDelivery))).one()
        rows = (await session.exec(select(func.count()).select_from(OutboxRow))).one()
    return int(deliveries), int(rows)


def make_worker(bot: Bot, **kwargs: Any) -> OutboxWorker:
    """A worker on the bot's database and fake Slack, with test timings."""
    kwargs.setdefault("options", FAST)
    kwargs.setdefault("clock", bot.container.clock)
    return OutboxWorker(
        bot.container.db, delivery_client(bot.container.slack), NOTIFICATIONS, **kwargs
    )


@contextlib.asynccontextmanager
async def running_worker(bot: Bot, **kwargs: Any) -> AsyncIterator[OutboxWorker]:
    """Run a delivery worker in the background for the duration of the block."""
    worker = make_worker(bot, **kwargs)
    task = asyncio.create_task(worker.run())
    try:
        yield worker
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def drained(db: Database, within: float = 5.0) -> None:
    """Wait until no outbox row is pending."""

    async def pending() -> int:
        async with db.session() as session:
            query = select(func.count()).select_from(OutboxRow).where(OutboxRow.status == "pending")
            return int((await session.exec(query)).one())

    async with asyncio.timeout(within):
        while await pending():  # noqa: ASYNC110 (polls the database; nothing to wait on)
            await asyncio.sleep(0.02)
