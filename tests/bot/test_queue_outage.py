"""A queued distribution's result goes through the outbox, so a Slack outage only delays it."""

from __future__ import annotations

from dataclasses import replace

from bot.container import utcnow
from bot.sandbox.slack import FakeSlack
from storage.builds import DONE, BuildStore
from storage.db import Database
from storage.outbox import OutboxStore
from tests.handlers.build_env import RELEASER, build_env
from tests.providers.streampixel_fixtures import SHOWROOM
from tests.webhook_helpers import FAST, drained, running_worker

CHANNEL = "C0QUEUED1"


async def test_queued_result_survives_a_slack_outage_and_is_posted_once(
    database: Database,
) -> None:
    """Slack is down when the queued run finishes; the result waits and is posted once back up."""
    down = FakeSlack(failures=10_000)
    async with build_env(database, slack=down, STREAMOPS_DELIVERY_WORKER="false") as env:
        upload_id = env.sim.add_upload(SHOWROOM, "https://builds.example.com/outage.zip").id
        await BuildStore(database).enqueue(
            project_id=SHOWROOM,
            upload_id=upload_id,
            action="distribute",
            requested_by=RELEASER,
            channel_id=CHANNEL,
            run_at=env.now(),
            now=env.now(),
        )
        [run] = await env.scheduler.run_due()
        assert run.outcome == "ok"
        await env.sim.drain()
        assert env.distributions(upload_id) == 1
        [done] = await BuildStore(database).queued()
        assert done.state == DONE

        # The worker runs on real time (the bot's clock is the simulator's, which stands
        # still): its retries back off for real while Slack is down.
        fast = replace(FAST, backoff_cap=0.05)
        async with running_worker(env.bot, clock=utcnow, options=fast):
            await down.wait_for(lambda s: len(s.calls_to("chat.postMessage")) >= 3)
            [row] = await OutboxStore(database).rows(channel=CHANNEL)
            assert row.status == "pending" and row.attempts >= 3
            assert down.channel_messages(CHANNEL) == []

            down.failures = 0  # Slack is back
            await drained(database, within=10)

    [posted] = down.channel_messages(CHANNEL)
    assert upload_id in posted.text and "ok" in posted.text
    assert f"<@{RELEASER}>" in str(posted.blocks)
    [row] = await OutboxStore(database).rows(channel=CHANNEL)
    assert row.status == "sent"
