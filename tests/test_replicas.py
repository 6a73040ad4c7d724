"""Two real ``streamops serve`` processes on one PostgreSQL: effects happen exactly once.

The test creates a throwaway database, migrates it once with ``streamops db
upgrade``, and starts two ``python -m bot serve --no-migrate`` replicas on it.
The fake Slack Web API and the Streampixel simulator run in the test process;
both replicas talk to them over loopback HTTP, as they would to the real ones.
The process test runs only when ``STREAMOPS_TEST_POSTGRES_URL`` is set; the
tests of the replica-safety fixes below it run on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import select

from bot.audit import AuditEvent, AuditFilters
from bot.jobs.live_poller import LivePoller
from bot.providers.streamapi import StreamAPIClient
from bot.sandbox.slack import FakeSlack
from bot.sandbox.slack import create_app as create_fake_slack
from bot.sandbox.streampixel import DEMO_API_KEY, DEMO_USER_ID, StreampixelSimulator
from bot.sandbox.streampixel import create_app as create_streampixel
from bot.serving import serve_in_background
from handlers import ids
from storage.audit import CHECKPOINTS, AuditLog
from storage.audit_keys import KeyRing, generate_key
from storage.coordination import RateSlots
from storage.db import Database
from storage.outbox import OutboxRow
from storage.webhooks import WebhookDelivery
from tests import slack_requests
from tests.conftest import POSTGRES_URL
from tests.handlers.build_env import buttons

needs_postgres = pytest.mark.skipif(
    not POSTGRES_URL,
    reason="STREAMOPS_TEST_POSTGRES_URL is not set: multi-replica PostgreSQL test skipped",
)

AUDIT_KEY = generate_key()
ROOT = Path(__file__).resolve().parents[1]
ADMIN = "UADMIN01"
WEBHOOK_TOKEN = "replica-webhook-token-0123456789"
CHANNEL = "C0REPLICAS"
PROJECT = "664f1a2b3c4d5e6f7a8b9c0d"  # "Showroom Demo" in the simulator's demo data
PIPELINE = (
    "build.uploaded",
    "build.downloading",
    "build.extracting",
    "build.saving",
    "build.approved",
)
CLICKS_PER_REPLICA = 3
READY_WITHIN = 30.0


# -- the throwaway database ------------------------------------------------------


def _asyncpg_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


def _with_database(url: str, name: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


@contextlib.asynccontextmanager
async def throwaway_database() -> AsyncIterator[str]:
    """CREATE DATABASE streamops_rep_<random>; yield its SQLAlchemy URL; DROP it afterwards."""
    assert POSTGRES_URL
    name = f"streamops_rep_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(_asyncpg_dsn(POSTGRES_URL))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield _with_database(POSTGRES_URL, name)
    finally:
        admin = await asyncpg.connect(_asyncpg_dsn(POSTGRES_URL))
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


# -- the simulator, counting the requests that reach it ---------------------------


@dataclass
class CountingASGI:
    """Wraps an ASGI app and counts requests per ``(method, path)``."""

    app: Any
    counts: dict[tuple[str, str], int] = field(default_factory=dict)

    async def __call__(
        self,
        scope: MutableMapping[str, Any],
        receive: Callable[[], Awaitable[Any]],
        send: Callable[[Any], Awaitable[None]],
    ) -> None:
        if scope["type"] == "http":
            key = (scope["method"], scope["path"])
            self.counts[key] = self.counts.get(key, 0) + 1
        await self.app(scope, receive, send)


# -- the replicas -------------------------------------------------------------------


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def replica_env(database_url: str, slack_url: str, streampixel_url: str) -> dict[str, str]:
    """The environment of a replica: every setting given, nothing read from a ``.env``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "STREAM"))}
    env.update(
        SLACK_BOT_TOKEN="xoxb-replica-test-not-a-real-token",
        SLACK_SIGNING_SECRET=slack_requests.SIGNING_SECRET,
        SLACK_API_URL=f"{slack_url}/api/",
        DATABASE_URL=database_url,
        STREAMOPS_ADMINS=ADMIN,
        STREAMOPS_WEBHOOK_TOKEN=WEBHOOK_TOKEN,
        STREAMOPS_DEFAULT_CHANNEL=CHANNEL,
        STREAMOPS_STREAMAPI_POLL_SECONDS="0",
        STREAMOPS_LOG_LEVEL="WARNING",
        STREAMOPS_AUDIT_KEY=AUDIT_KEY,  # both replicas sign the one chain with the same key
        STREAMPIXEL_BASE_URL=f"{streampixel_url}/pixelStripeApi",
        STREAMPIXEL_API_KEY=DEMO_API_KEY,
        STREAMPIXEL_USER_ID=DEMO_USER_ID,
        PYTHONUNBUFFERED="1",
    )
    return env


async def run_cli(args: list[str], env: dict[str, str], log: Path) -> int:
    """Run ``python -m bot <args>`` to completion; its output goes to ``log``."""
    with log.open("wb") as out:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", *args, cwd=ROOT, env=env, stdout=out, stderr=out
        )
        return await proc.wait()


@dataclass
class Replica:
    """One ``streamops serve`` process."""

    proc: asyncio.subprocess.Process
    url: str
    log: Path


async def wait_ready(replica: Replica, http: httpx.AsyncClient) -> None:
    """Poll ``GET /readyz`` until it answers 200 (or the process dies)."""
    async with asyncio.timeout(READY_WITHIN):
        while True:
            if replica.proc.returncode is not None:
                raise AssertionError(f"replica exited early:\n{replica.log.read_text()[-3000:]}")
            with contextlib.suppress(httpx.TransportError):
                response = await http.get(f"{replica.url}/readyz")
                if response.status_code == 200:
                    return
            await asyncio.sleep(0.1)


async def stop(replica: Replica) -> None:
    """Terminate the process (kill it if it lingers) and reap it."""
    if replica.proc.returncode is None:
        replica.proc.terminate()
        try:
            async with asyncio.timeout(10):
                await replica.proc.wait()
        except TimeoutError:
            replica.proc.kill()
            await replica.proc.wait()


@contextlib.asynccontextmanager
async def replicas(
    count: int, env: dict[str, str], logs: Path, http: httpx.AsyncClient
) -> AsyncIterator[list[Replica]]:
    """Start ``count`` serve processes, wait until each is ready, stop them all at the end."""
    started: list[Replica] = []
    try:
        for n in range(count):
            port = free_port()
            log = logs / f"replica{n}.log"
            out = log.open("wb")
            try:
                proc = await asyncio.create_subprocess_exec(
                    sys.executable,
                    "-m",
                    "bot",
                    "serve",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "--no-migrate",
                    cwd=ROOT,
                    env=env,
                    stdout=out,
                    stderr=out,
                )
            finally:
                out.close()
            started.append(Replica(proc, f"http://127.0.0.1:{port}", log))
        await asyncio.gather(*(wait_ready(r, http) for r in started))
        yield started
    finally:
        await asyncio.gather(*(stop(r) for r in started))


# -- helpers on what Slack saw ----------------------------------------------------------


def top_level_posts(slack: FakeSlack, upload: str) -> list[dict[str, Any]]:
    """``chat.postMessage`` calls that started a message about ``upload`` (not thread replies)."""
    return [
        p
        for p in slack.calls_to("chat.postMessage")
        if not p.get("thread_ts") and upload in str(p.get("text"))
    ]


def thread_replies(slack: FakeSlack, thread_ts: str) -> list[dict[str, Any]]:
    """``chat.postMessage`` calls replying in ``thread_ts``."""
    return [p for p in slack.calls_to("chat.postMessage") if p.get("thread_ts") == thread_ts]


async def outbox_settled(db: Database, expected_rows: int, within: float = 30.0) -> None:
    """Wait until ``expected_rows`` outbox rows exist and none is pending."""

    async def state() -> tuple[int, int]:
        async with db.session() as session:
            total = (await session.exec(select(func.count()).select_from(OutboxRow))).one()
            pending = (
                await session.exec(
                    select(func.count()).select_from(OutboxRow).where(OutboxRow.status == "pending")
                )
            ).one()
        return int(total), int(pending)

    async with asyncio.timeout(within):
        while await state() != (expected_rows, 0):  # noqa: ASYNC110 (polls the database)
            await asyncio.sleep(0.1)


# -- the test ---------------------------------------------------------------------------


@needs_postgres
async def test_two_replicas_post_once_distribute_once_and_keep_one_audit_chain(
    tmp_path: Path,
) -> None:
    """Same webhooks and same concurrent Distribute clicks on two replicas: every effect once."""
    slack = FakeSlack()
    sim = StreampixelSimulator.with_demo_data()
    upload = sim.add_upload(
        PROJECT, "https://builds.example.com/showroom/v2.0.0.zip", auto_release=False
    )
    project = sim.projects[PROJECT]
    counting_sim = CountingASGI(create_streampixel(sim))

    async with (
        throwaway_database() as database_url,
        serve_in_background(create_fake_slack(slack)) as slack_server,
        serve_in_background(counting_sim) as sim_server,
        httpx.AsyncClient(timeout=20) as http,
    ):
        env = replica_env(database_url, slack_server.url, sim_server.url)
        code = await run_cli(["db", "upgrade"], env, tmp_path / "upgrade.log")
        assert code == 0, (tmp_path / "upgrade.log").read_text()

        db = Database(database_url)
        try:
            async with replicas(2, env, tmp_path, http) as (one, two):
                # 1. The provider's pipeline, every webhook delivered to both replicas.
                for event in PIPELINE:
                    body = json.dumps(sim.payload(project, event, upload)).encode()
                    answers = await asyncio.gather(
                        *(
                            http.post(
                                f"{r.url}/webhooks/streampixel/{WEBHOOK_TOKEN}",
                                content=body,
                                headers={"Content-Type": "application/json"},
                            )
                            for r in (one, two)
                        )
                    )
                    assert [a.status_code for a in answers] == [200, 200]
                    assert sorted(a.json()["result"] for a in answers) == ["duplicate", "queued"]

                await outbox_settled(db, expected_rows=len(PIPELINE))
                async with db.session() as session:
                    stored = (
                        await session.exec(
                            select(WebhookDelivery.event).where(
                                WebhookDelivery.subject == upload.id
                            )
                        )
                    ).all()
                assert sorted(stored) == sorted(PIPELINE)

                posts = top_level_posts(slack, upload.id)
                assert len(posts) == 1, [p.get("text") for p in posts]
                parent = slack.channel_messages(CHANNEL)[0]
                assert upload.id in parent.text
                # Steps that waited together share one reply (outbox collapse): count lines.
                lines = [
                    line
                    for reply in thread_replies(slack, parent.ts)
                    for line in str(reply["text"]).splitlines()
                ]
                assert len(lines) == len(PIPELINE) - 1, lines
                assert "Approved" in lines[-1]

                # 2. Everyone clicks the notification's Distribute button, on both replicas.
                (distribute,) = [
                    b for b in buttons(parent.blocks) if b["action_id"] == ids.BUILD_DISTRIBUTE
                ]

                async def click(replica: Replica) -> int:
                    body = slack_requests.block_actions(
                        ids.BUILD_DISTRIBUTE,
                        distribute["value"],
                        user_id=ADMIN,
                        channel_id=CHANNEL,
                        message_ts=parent.ts,
                        response_url=f"{slack_server.url}/response/click",
                    )
                    response = await http.post(
                        f"{replica.url}/slack/events",
                        content=body,
                        headers=slack_requests.signed_headers(body),
                    )
                    return response.status_code

                statuses = await asyncio.gather(
                    *(click(r) for r in (one, two) for _ in range(CLICKS_PER_REPLICA))
                )
                assert statuses == [200] * (2 * CLICKS_PER_REPLICA)
                clicks = 2 * CLICKS_PER_REPLICA
                await slack.wait_for(lambda s: len(s.calls_to("response_url")) >= clicks, 20)

                distribute_path = ("POST", "/pixelStripeApi/projects/distribute-file")
                assert counting_sim.counts.get(distribute_path) == 1
                assert sum(e["event"] == "build.distributing" for e in sim.events) == 1
                # The winner's message is redrawn through the outbox (with its stamp); every
                # other click is told the button was already used: no reply claims a 2nd run.
                replies = slack.calls_to("response_url")
                others = [r for r in replies if "already used" not in str(r.get("text") or "")]
                assert len(others) <= 1, replies

            # 3. One audit chain, intact, with one row per click.
            log = AuditLog(db, keys=KeyRing.from_texts(AUDIT_KEY))
            report = await log.verify()
            assert report.ok, report.describe()
            records = [r async for r in log.iter_records(AuditFilters(action="distribute"))]
            assert sorted(r.outcome for r in records) == ["denied"] * (clicks - 1) + ["ok"]
            assert report.rows_checked == len(records)
        finally:
            await db.dispose()


@needs_postgres
async def test_two_replicas_run_an_approved_distribution_once(tmp_path: Path) -> None:
    """Approvals clicked at once on two replicas complete the request once: one distribution."""
    from storage.roles import RoleStore

    slack = FakeSlack()
    sim = StreampixelSimulator.with_demo_data()
    upload = sim.add_upload(PROJECT, "https://builds.example.com/showroom/v3.zip")
    counting_sim = CountingASGI(create_streampixel(sim))
    requester, approvers = "UREQUESTER", ("UAPPROVER1", "UAPPROVER2", ADMIN)

    async with (
        throwaway_database() as database_url,
        serve_in_background(create_fake_slack(slack)) as slack_server,
        serve_in_background(counting_sim) as sim_server,
        httpx.AsyncClient(timeout=20) as http,
    ):
        env = replica_env(database_url, slack_server.url, sim_server.url)
        code = await run_cli(["db", "upgrade"], env, tmp_path / "upgrade.log")
        assert code == 0, (tmp_path / "upgrade.log").read_text()
        db = Database(database_url)
        roles = RoleStore(db)
        for user in (requester, *approvers[:2]):
            await roles.grant(user, "releaser", "test")
        try:
            async with replicas(2, env, tmp_path, http) as (one, two):

                async def post(replica: Replica, body: bytes, response_url: str = "") -> int:
                    headers = slack_requests.signed_headers(body)
                    response = await http.post(
                        f"{replica.url}/slack/events", content=body, headers=headers
                    )
                    if response_url and response.status_code == 200:  # Slack shows the ack
                        content_type = response.headers.get("content-type", "")
                        await slack.show_ack(response_url, response.content, content_type)
                    return response.status_code

                policy_url = f"{slack_server.url}/response/policy"
                policy = slack_requests.slash_command(
                    "/build",
                    "policy showroom approvals=2",
                    user_id=ADMIN,
                    channel_id=CHANNEL,
                    response_url=policy_url,
                )
                assert await post(one, policy, policy_url) == 200
                await slack.wait_for(lambda s: bool(s.calls_to("response_url")), 20)
                value = json.dumps({"project_id": PROJECT, "upload_id": upload.id})
                ask = slack_requests.block_actions(
                    ids.BUILD_DISTRIBUTE,
                    value,
                    user_id=requester,
                    channel_id=CHANNEL,
                    message_ts="1.1",
                    response_url=f"{slack_server.url}/response/ask",
                )
                assert await post(two, ask) == 200

                def request_message(s: FakeSlack) -> bool:
                    return any("Approval #" in m.text for m in s.channel_messages(CHANNEL))

                await slack.wait_for(request_message, 20)
                [message] = [m for m in slack.channel_messages(CHANNEL) if "Approval #" in m.text]
                approve = next(
                    b for b in buttons(message.blocks) if b["action_id"] == ids.APPROVAL_APPROVE
                )
                before = len(slack.calls_to("response_url"))
                clicks = [
                    slack_requests.block_actions(
                        ids.APPROVAL_APPROVE,
                        approve["value"],
                        user_id=user,
                        channel_id=CHANNEL,
                        message_ts=message.ts,
                        response_url=f"{slack_server.url}/response/vote",
                    )
                    for user in approvers
                ]
                statuses = await asyncio.gather(
                    *(post(replica, body) for body in clicks for replica in (one, two))
                )
                assert statuses == [200] * 6
                await slack.wait_for(lambda s: len(s.calls_to("response_url")) >= before + 6, 20)
                await slack.wait_for(
                    lambda s: any(
                        "ran it" in json.dumps(m.blocks) for m in s.channel_messages(CHANNEL)
                    ),
                    20,
                )
                distribute_path = ("POST", "/pixelStripeApi/projects/distribute-file")
                assert counting_sim.counts.get(distribute_path) == 1
                replies = slack.calls_to("response_url")[before:]
                assert sum("completed request" in str(r.get("text")) for r in replies) == 1

            records = [
                r
                async for r in AuditLog(db, keys=KeyRing.from_texts(AUDIT_KEY)).iter_records(
                    AuditFilters(action="approve")
                )
            ]
            steps = sorted(str(json.loads(r.params)["step"]) for r in records if r.outcome == "ok")
            assert steps.count("run") == 1 and steps.count("request") == 1
            assert 2 <= steps.count("vote") <= len(approvers)
        finally:
            await db.dispose()


# -- the fixes the replicas needed (both backends) ------------------------------------


def _audit_event(n: int) -> AuditEvent:
    now = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    return AuditEvent(
        action="distribute",
        outcome="ok",
        actor_id=f"U{n}",
        source="button",
        requested_at=now,
        completed_at=now,
        correlation_id=f"c{n}",
    )


async def test_two_replicas_write_each_audit_checkpoint_once(database: Database) -> None:
    """Replicas appending in turn write a checkpoint every N rows, not one per replica."""
    first, second = AuditLog(database, checkpoint_every=3), AuditLog(database, checkpoint_every=3)
    ids = [(await (first, second)[n % 2].append(_audit_event(n))).id for n in range(9)]
    async with database.engine.connect() as conn:
        rows = await conn.execute(sa_select(CHECKPOINTS.c.entry_id).order_by(CHECKPOINTS.c.id))
        checkpointed = [int(r[0]) for r in rows]
    assert checkpointed == [ids[2], ids[5], ids[8]]
    assert (await first.verify()).ok


async def test_concurrent_slot_blocks_keep_the_latest(database: Database) -> None:
    """Replicas blocking the same rate slot at once leave it at the latest time given."""
    store = RateSlots(database)
    window = timedelta(minutes=2)
    base = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    untils = [base + timedelta(seconds=s) for s in (30, 90, 10, 120, 60, 5, 100, 45)]
    await asyncio.gather(
        *(store.block_slot("acct", "distribute", until=u, window=window) for u in untils)
    )
    assert await store.next_slot("acct", "distribute", now=base, window=window) == max(untils)


def _poller(
    database: Database,
    clock: Callable[[], datetime],
    calls: list[str] | None = None,
    **kwargs: Any,
) -> LivePoller:
    """A poller whose StreamAPI transport records each request (and answers 500)."""

    def record(request: httpx.Request) -> httpx.Response:
        if calls is not None:
            calls.append(request.url.path)
        return httpx.Response(500)

    client = StreamAPIClient(
        httpx.AsyncClient(
            base_url="http://streamapi.invalid", transport=httpx.MockTransport(record)
        ),
        # Realistic values: every key is masked in every log line for the whole process.
        api_key="streamapi-test-key-0123",
        secret="streamapi-test-secret-0123",
    )
    return LivePoller(
        database, client, clock=clock, interval=60, default_channel="C0LIVE", **kwargs
    )


async def test_replica_pollers_take_one_turn_per_interval(database: Database) -> None:
    """Of two replicas' pollers, one gets each interval's turn; the other takes over later."""
    now = [datetime(2026, 5, 1, 12, 0, tzinfo=UTC)]
    one, two = _poller(database, lambda: now[0]), _poller(database, lambda: now[0])
    assert [await one.my_turn(), await two.my_turn()] == [True, False]
    now[0] += timedelta(seconds=30)
    assert [await two.my_turn(), await one.my_turn()] == [False, False]
    now[0] += timedelta(seconds=30)
    assert [await two.my_turn(), await one.my_turn()] == [True, False]


async def test_a_poller_without_the_turn_does_not_call_streamapi(database: Database) -> None:
    """run() skips the StreamAPI call while another replica holds the turn."""
    now = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    holder = _poller(database, lambda: now)
    assert await holder.my_turn()
    sleeps: list[float] = []

    async def one_round(seconds: float) -> None:
        sleeps.append(seconds)
        raise asyncio.CancelledError

    calls: list[str] = []
    waiting = _poller(database, lambda: now, calls, sleep=one_round)
    with pytest.raises(asyncio.CancelledError):
        await waiting.run()
    assert (calls, sleeps) == ([], [60])
    now += timedelta(seconds=60)
    with pytest.raises(asyncio.CancelledError):
        await waiting.run()  # the turn is free again: this time it polls
    assert calls and sleeps == [60, 60]


@needs_postgres
async def test_a_scheduled_run_fires_once_on_two_replicas(tmp_path: Path) -> None:
    """A run due when two replicas start: one distribution, one report, one audit row."""
    from storage.schedules import ScheduleStore

    slack = FakeSlack()
    sim = StreampixelSimulator.with_demo_data()
    upload = sim.add_upload(PROJECT, "https://builds.example.com/showroom/v3.0.0.zip")
    counting_sim = CountingASGI(create_streampixel(sim))
    async with (
        throwaway_database() as database_url,
        serve_in_background(create_fake_slack(slack)) as slack_server,
        serve_in_background(counting_sim) as sim_server,
        httpx.AsyncClient(timeout=20) as http,
    ):
        env = replica_env(database_url, slack_server.url, sim_server.url)
        code = await run_cli(["db", "upgrade"], env, tmp_path / "upgrade.log")
        assert code == 0, (tmp_path / "upgrade.log").read_text()
        db = Database(database_url)
        try:
            now = datetime.now(UTC)
            scheduled = await ScheduleStore(db).create(
                project_id=PROJECT,
                project_name="Showroom Demo",
                upload_id=upload.id,
                action="distribute",
                requested_by=ADMIN,
                channel_id=CHANNEL,
                due_at=now + timedelta(seconds=2),
                now=now,
            )
            async with replicas(2, env, tmp_path, http):
                await slack.wait_for(
                    lambda s: any("Scheduled run" in m.text for m in s.channel_messages(CHANNEL)),
                    within=60,
                )
                await asyncio.sleep(6)  # both runners poll again (5 s): nothing more happens
            distributes = counting_sim.counts.get(
                ("POST", "/pixelStripeApi/projects/distribute-file"), 0
            )
            assert distributes == 1
            reports = [m for m in slack.channel_messages(CHANNEL) if "Scheduled run" in m.text]
            assert len(reports) == 1 and "done" in reports[0].text
            final = await ScheduleStore(db).get(scheduled.id)
            assert final is not None and final.state == "done" and final.attempts == 1
        finally:
            await db.dispose()
