"""The StreamAPI poller against the real simulator: went-live and ended posted once each."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.jobs.live_poller import LivePoller
from bot.jobs.outbox_worker import OutboxOptions, OutboxWorker
from bot.sandbox.slack import FakeSlack
from bot.sandbox.slack import create_app as create_fake_slack
from bot.sandbox.streamapi_state import StreamAPISimulator
from bot.serving import serve_in_background
from handlers.blocks.notifications import NOTIFICATIONS
from storage.outbox import OutboxStore
from tests.harness import BOT_TOKEN
from tests.providers.streamapi_fixtures import FakeClock, client_for, served

ALICE = "1000016132"
BOB = "1000016133"
NOW = datetime(2026, 4, 21, 12, 0, tzinfo=UTC)


@pytest.fixture
async def sim_url() -> AsyncIterator[tuple[StreamAPISimulator, str, FakeClock]]:
    clock = FakeClock()
    sim = StreamAPISimulator.with_demo_data(clock=clock)
    async with served(sim) as url:
        yield sim, url, clock


def _poller(db, client) -> LivePoller:
    return LivePoller(db, client, clock=lambda: NOW, interval=60, default_channel="C0LIVE")


async def _events(db) -> list[str]:
    return [r.payload for r in await OutboxStore(db).rows()]


async def test_went_live_and_ended_are_queued_once_across_polls_and_replicas(
    database, sim_url
) -> None:
    """Two pollers (replicas) polling repeatedly queue one went-live and one ended per session."""
    sim, url, clock = sim_url
    async with client_for(url) as one, client_for(url) as two:
        first, second = _poller(database, one), _poller(database, two)
        assert await first.poll_once() == [("live.started", f"{ALICE}@{int(clock() - 1800)}")]
        assert await second.poll_once() == []
        assert await first.poll_once() == []
        sim.go_live(BOB, viewers=2)
        [(event, bob_session)] = await second.poll_once()
        assert event == "live.started" and bob_session.startswith(BOB)
        sim.end_live(ALICE)
        ended = await second.poll_once()
        assert [e for e, _ in ended] == ["live.ended"]
        assert await first.poll_once() == []
    rows = await OutboxStore(database).rows()
    assert len(rows) == 3
    assert all(r.channel == "C0LIVE" for r in rows)


async def test_a_failed_poll_ends_nothing(database, sim_url) -> None:
    """When the live list call fails, sessions already announced are not declared ended."""
    sim, url, _ = sim_url
    async with client_for(url) as client:
        poller = _poller(database, client)
        assert len(await poller.poll_once()) == 1
        sim.end_live(ALICE)
        for _ in range(5):
            sim.fail_next(100)
        assert await poller.poll_once() == []
        assert any(call.code == 100 for call in sim.calls)
        assert len(await OutboxStore(database).rows()) == 1
        later = [e for _ in range(5) for e in await poller.poll_once()]
    assert [event for event, _ in later] == ["live.ended"]


async def test_a_session_is_one_message_updated_when_it_ends(database, sim_url) -> None:
    """Delivered: the went-live message is updated to ended, with the end as a thread reply."""
    sim, url, _ = sim_url
    slack = FakeSlack()
    async with (
        serve_in_background(create_fake_slack(slack)) as slack_server,
        client_for(url) as client,
    ):
        web = AsyncWebClient(
            token=BOT_TOKEN, base_url=f"{slack_server.url}/api/", retry_handlers=[]
        )
        worker = OutboxWorker(
            database,
            web,
            NOTIFICATIONS,
            clock=lambda: NOW,
            options=OutboxOptions(channel_interval=0),
        )
        poller = _poller(database, client)
        await poller.poll_once()
        while await worker.run_once():  # the went-live message is out before it ends
            pass
        sim.end_live(ALICE)
        await poller.poll_once()
        while await worker.run_once():
            pass
    [parent] = [m for m in slack.channel_messages("C0LIVE") if m.thread_ts is None]
    assert "alice" in parent.text and "Ended" in parent.text
    assert parent.edits == 1
    [reply] = [m for m in slack.channel_messages("C0LIVE") if m.thread_ts == parent.ts]
    assert "Ended" in reply.text
