"""Reconciliation: a StreamStack status change whose webhook was lost is found and posted once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from bot.jobs.reconcile import Reconciler
from storage.db import Database
from storage.operations import OperationsStore
from tests.providers.streamstack_fixtures import KEY_A, FakeClock, client_for, make_sim, served
from tests.webhook_helpers import TOKEN, drained, quiet_bot, running_worker


class LosingTransport(httpx.AsyncBaseTransport):
    """Delivers the simulator's webhooks, except ``media.failed`` ones: lost on the way."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.lost: list[bytes] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if b'"event":"media.failed"' in request.content:
            self.lost.append(request.content)
            raise httpx.ConnectError("connection reset", request=request)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


async def test_a_missed_media_failed_is_found_and_posted_once(database: Database) -> None:
    """The lost failure is posted, marked, in the video's message; nothing else is re-posted."""
    clock = FakeClock()
    transport = LosingTransport()
    sim = make_sim(clock, webhook_transport=transport)
    async with (
        served(sim) as sim_url,
        quiet_bot(database, STREAMSTACK_API_KEY=KEY_A, STREAMSTACK_BASE_URL=sim_url) as bot,
    ):
        sim.webhook_url = f"{bot.url}/webhooks/streamstack/{TOKEN}"
        async with client_for(sim_url) as client:
            sim.fail_next_transcode()
            broken = await client.upload_from_url(title="Broken cut", url="https://e.com/a.mp4")
            await sim.wait_idle()
            fine = await client.upload_from_url(title="Fine cut", url="https://e.com/b.mp4")
            await sim.wait_idle()
        sim.seed_media("a", "Ancient failure", status="failed", at=clock.now - 3 * 86400)
        assert len(transport.lost) == 1

        now = datetime.fromtimestamp(clock.now, UTC) + timedelta(minutes=10)
        assert bot.container.streamstack is not None
        reconciler = Reconciler(
            bot.container.db,
            bot.container.streamstack,
            clock=lambda: now,
            interval=900,
            default_channel="C0DEFAULT",
        )
        assert await reconciler.run_once() == [("media.failed", broken.uuid)]
        async with running_worker(bot):
            await drained(bot.container.db)
        assert await reconciler.reconcile() == []  # found once, never again
        # Webhook health counts the 4 webhooks that arrived, not the reconciled delivery.
        [health] = await OperationsStore(bot.deps.db).webhook_health(
            ("streamstack",), datetime.now(UTC), timedelta(days=3650)
        )
        assert health.accepted == 4

        messages = bot.slack.channel_messages("C0DEFAULT")
        [parent] = [m for m in messages if m.thread_ts is None and broken.uuid in m.text]
        assert "Transcoding failed" in parent.text
        assert "found by reconciliation" in parent.text
        [reply] = [m for m in messages if m.thread_ts == parent.ts]
        assert "Transcoding failed" in reply.text and "found by reconciliation" in reply.text
        [fine_parent] = [m for m in messages if m.thread_ts is None and fine.uuid in m.text]
        assert "found by reconciliation" not in str(fine_parent.blocks) + fine_parent.text
        assert not any("Ancient" in m.text for m in messages)
    await transport.aclose()


async def test_a_change_still_within_the_grace_period_is_left_to_its_webhook(
    database: Database,
) -> None:
    """A video that changed a moment ago is not reconciled yet (its webhook may be on its way)."""
    clock = FakeClock()
    sim = make_sim(clock)
    async with (
        served(sim) as sim_url,
        quiet_bot(database, STREAMSTACK_API_KEY=KEY_A, STREAMSTACK_BASE_URL=sim_url) as bot,
    ):
        sim.seed_media("a", "Just failed", status="failed", at=clock.now - 30)
        assert bot.container.streamstack is not None
        reconciler = Reconciler(
            bot.container.db,
            bot.container.streamstack,
            clock=lambda: datetime.fromtimestamp(clock.now, UTC),
            interval=900,
            default_channel="C0DEFAULT",
        )
        assert await reconciler.reconcile() == []
        clock.advance(300)
        [(event, _)] = await reconciler.reconcile()
        assert event == "media.failed"


async def test_a_failed_listing_reconciles_nothing(database: Database) -> None:
    """When StreamStack does not answer, nothing is posted and the job keeps running."""
    sim = make_sim()
    async with (
        served(sim) as sim_url,
        quiet_bot(database, STREAMSTACK_API_KEY=KEY_A, STREAMSTACK_BASE_URL=sim_url) as bot,
    ):
        sim.seed_media("a", "Failed", status="failed", at=sim.clock() - 600)
        sim.fail_next_requests(10, status=503)
        assert bot.container.streamstack is not None
        reconciler = Reconciler(
            bot.container.db,
            bot.container.streamstack,
            clock=lambda: datetime.fromtimestamp(sim.clock(), UTC),
            interval=900,
            default_channel="C0DEFAULT",
        )
        assert await reconciler.reconcile() == []


async def test_reconciliation_is_off_at_zero_minutes(database: Database) -> None:
    """STREAMOPS_RECONCILE_MINUTES=0 builds no job; a positive value builds one."""
    async with quiet_bot(
        database, STREAMSTACK_API_KEY=KEY_A, STREAMOPS_RECONCILE_MINUTES="0"
    ) as bot:
        assert bot.container.reconciler is None
        assert "reconcile" not in [job.name for job in bot.container.jobs]
    async with quiet_bot(
        database, STREAMSTACK_API_KEY=KEY_A, STREAMOPS_RECONCILE_MINUTES="15"
    ) as bot:
        job = bot.container.reconciler
        assert job is not None and job.interval == 15 * 60
        assert "reconcile" in [job.name for job in bot.container.jobs]
