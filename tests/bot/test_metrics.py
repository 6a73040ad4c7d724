"""/metrics after known traffic: webhooks, deliveries, Slack errors, provider calls, queues."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from prometheus_client.parser import text_string_to_metric_families

from bot.metrics import Metrics
from bot.metrics_db import QueueGauges
from bot.notifications.types import Notice
from bot.sandbox.slack import FakeSlack
from storage.audit import AuditLog
from storage.audit_events import AuditEvent
from storage.db import Database
from storage.webhooks import Intake, WebhookStore
from tests.harness import Bot
from tests.providers.streamstack_fixtures import KEY_A, make_sim, served
from tests.webhook_helpers import (
    drained,
    post_webhook,
    quiet_bot,
    running_worker,
    streampixel,
    streamstack,
)

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(bot: Bot) -> Samples:
    """Every sample of ``GET /metrics`` by (name, labels)."""
    response = await bot.http.get(f"{bot.url}/metrics")
    assert response.status_code == 200
    samples: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def test_metrics_after_known_traffic(database: Database) -> None:
    """Each webhook outcome, the delivery delays, one Slack error, provider calls, audit rows."""
    slack = FakeSlack()
    sim = make_sim()
    sim.seed_media("a", "Trailer", status="published")
    async with (
        served(sim) as sim_url,
        quiet_bot(database, slack, STREAMSTACK_API_KEY=KEY_A, STREAMSTACK_BASE_URL=sim_url) as bot,
    ):
        uploaded = streampixel("build.uploaded", minute=1)
        assert (await post_webhook(bot, "streampixel", uploaded)).status_code == 200
        assert (await post_webhook(bot, "streampixel", uploaded)).status_code == 200  # replay
        assert (await post_webhook(bot, "streamstack", streamstack("media.uploaded"))).is_success
        assert (await post_webhook(bot, "streampixel", b"not json")).status_code == 400
        refused = await post_webhook(bot, "streampixel", uploaded, token="wrong-token-000000")
        assert refused.status_code == 404
        ignored = await post_webhook(bot, "streampixel", streampixel("build.renamed"))
        assert ignored.status_code == 202

        slack.failures = 1  # the first Slack call answers 503 fatal_error; the retry succeeds
        async with running_worker(bot, metrics=bot.container.metrics):
            await drained(bot.container.db)
        assert bot.container.streamstack is not None
        await bot.container.streamstack.list_media()
        await bot.container.streamstack.list_media()
        await AuditLog(bot.container.db).record(
            AuditEvent(
                action="distribute",
                outcome="ok",
                actor_id="U1",
                source="button",
                requested_at=datetime.now(UTC),
            )
        )

        samples = await scrape(bot)

    def webhooks(provider: str, outcome: str) -> float:
        return value(samples, "streamops_webhooks_total", provider=provider, outcome=outcome)

    assert webhooks("streampixel", "accepted") == 1
    assert webhooks("streampixel", "duplicate") == 1
    assert webhooks("streampixel", "invalid") == 1
    assert webhooks("streampixel", "unauthorized") == 1
    assert webhooks("streampixel", "ignored") == 1
    assert webhooks("streamstack", "accepted") == 1

    for provider in ("streampixel", "streamstack"):
        count = value(samples, "streamops_notification_delay_seconds_count", provider=provider)
        assert count == 1
        assert value(samples, "streamops_notification_delay_seconds_sum", provider=provider) > 0
    errors = value(
        samples, "streamops_slack_api_errors_total", method="chat.postMessage", error="fatal_error"
    )
    assert errors == 1

    listing = {"provider": "streamstack", "operation": "GET /api/v1/media"}
    assert value(samples, "streamops_provider_requests_total", **listing, outcome="ok") == 2
    assert value(samples, "streamops_provider_request_duration_seconds_count", **listing) == 2

    assert value(samples, "streamops_outbox_backlog") == 0
    assert value(samples, "streamops_outbox_oldest_age_seconds") == 0
    assert value(samples, "streamops_outbox_failed") == 0
    assert value(samples, "streamops_audit_rows") == 1
    last = value(
        samples, "streamops_webhook_last_received_timestamp_seconds", provider="streampixel"
    )
    assert abs(last - datetime.now(UTC).timestamp()) < 60


async def test_queue_gauges_read_the_shared_database_and_cache_briefly(database: Database) -> None:
    """Backlog and oldest age come from the database, re-read only after the cache expires."""
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    store = WebhookStore(database)
    for minutes, key in ((10, "a"), (3, "b")):
        await store.record(
            Intake(
                provider="streampixel",
                event="build.uploaded",
                subject=key,
                project="p",
                dedupe_key=key,
                raw_payload="{}",
                notification=Notice(provider="streampixel", event="build.uploaded"),
                subject_key=key,
            ),
            now - timedelta(minutes=minutes),
            default_channel=f"C{key}",
        )
    metrics = Metrics()
    tick = [0.0]
    gauges = QueueGauges(database, metrics, clock=lambda: now, ttl=5.0, monotonic=lambda: tick[0])
    await gauges.refresh()
    assert metrics.registry.get_sample_value("streamops_outbox_backlog") == 2
    assert metrics.registry.get_sample_value("streamops_outbox_oldest_age_seconds") == 600
    await store.record(
        Intake(
            "streampixel", "build.uploaded", "c", "p", "c", "{}", Notice("streampixel", "x"), "c"
        ),
        now,
        default_channel="Cc",
    )
    tick[0] = 4.0
    await gauges.refresh()
    assert metrics.registry.get_sample_value("streamops_outbox_backlog") == 2  # cached
    tick[0] = 5.5
    await gauges.refresh()
    assert metrics.registry.get_sample_value("streamops_outbox_backlog") == 3


async def test_failed_slack_calls_of_handlers_are_counted(database: Database) -> None:
    """A views.publish that Slack answers with an error is counted by method and error."""
    from tests import slack_requests

    slack = FakeSlack()
    async with quiet_bot(database, slack) as bot:
        for attempt in range(2):  # the first also lets Bolt cache its auth.test
            slack.failures = attempt  # the second views.publish answers 503 fatal_error
            body = slack_requests.event_callback(
                {"type": "app_home_opened", "user": "U1", "channel": "D1", "tab": "home"},
                event_id=f"Ev{attempt}",
            )
            response = await bot.post_signed(body, content_type="application/json")
            assert response.status_code == 200
            await slack.wait_for(lambda s, n=attempt: len(s.calls_to("views.publish")) > n)
        errors = 0.0
        for _ in range(50):  # the failed answer reaches the client after the ack
            samples = await scrape(bot)
            errors = value(
                samples,
                "streamops_slack_api_errors_total",
                method="views.publish",
                error="fatal_error",
            )
            if errors:
                break
            await asyncio.sleep(0.1)
    assert errors == 1


def test_slack_error_codes_come_from_the_body_or_the_status() -> None:
    """ok:false names Slack's error; a bare 5xx is http_<status>; a 200 ok is no error."""
    from slack_sdk.http_retry.response import HttpResponse

    from bot.slack_errors import error_of

    assert error_of(HttpResponse(status_code=200, headers={}, body={"ok": True}), None) is None
    failed = HttpResponse(
        status_code=200, headers={}, body={"ok": False, "error": "not_in_channel"}
    )
    assert error_of(failed, None) == "not_in_channel"
    assert error_of(HttpResponse(status_code=502, headers={}), None) == "http_502"
    assert error_of(None, TimeoutError()) == "timeout"
    assert error_of(None, ConnectionResetError()) == "connection_error"
