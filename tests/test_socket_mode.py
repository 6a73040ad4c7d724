"""`streamops serve --socket-mode`, run as a user runs it, against a local Socket Mode server.

The real command runs in a child process (one for the module's conversation tests,
one per start-up test), pointed at the strict fake Slack, whose
``apps.connections.open`` answers a ``ws://`` URL of
:class:`~bot.sandbox.slack_socket.SocketModeServer`, and at the provider simulators.
Deliveries arrive as Slack's envelopes; replies come back as acks, ``response_url``
posts and Web API calls, all recorded by the fake.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, parse_qsl

import pytest
import pytest_asyncio
from sqlalchemy.engine import make_url

from bot.sandbox.runner import Sandbox, run_sandbox
from bot.sandbox.slack import FakeSlack, Message
from bot.sandbox.slack import create_app as create_fake_slack
from bot.sandbox.slack_socket import (
    EVENTS_API,
    INTERACTIVE,
    SLASH_COMMANDS,
    Ack,
    Envelope,
    SocketModeServer,
    socket_mode,
)
from bot.serving import serve_in_background
from storage import migrate
from storage.db import Database
from tests import slack_requests
from tests.conftest import POSTGRES_URL
from tests.harness import ADMIN, AUDIT_KEY, BOT_TOKEN

ROOT = Path(__file__).resolve().parents[1]
APP_TOKEN = "xapp-1-A0STREAMOPS-1-test-not-a-real-app-token"
SHOWROOM = "664f1a2b3c4d5e6f7a8b9c0d"
CHANNEL = "C0DEFAULT"
WEBHOOK_TOKEN = "webhook-token-0123456789"
#: How long anything may take on a loaded machine (the child process starts from cold).
PATIENCE = 60.0
#: What the bot logs when it drops a repeated delivery (before it acks it).
REPEATED_ENVELOPE = "acked a repeated Socket Mode envelope without running it"
REPEATED_EVENT = "dropped a repeated Slack delivery (slack-event)"


def buttons(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every button in ``blocks`` (actions elements and section accessories)."""
    found = [e for b in blocks if b["type"] == "actions" for e in b["elements"]]
    found += [b["accessory"] for b in blocks if "accessory" in b]
    return [e for e in found if e.get("type") == "button"]


@dataclass
class SocketBot:
    """The child process and everything it talks to."""

    slack: FakeSlack
    slack_url: str
    socket: SocketModeServer
    sandbox: Sandbox
    process: asyncio.subprocess.Process
    lines: list[str] = field(default_factory=list)
    _logged: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def read_log(self) -> None:
        """Collect the process's output, line by line (runs until it exits)."""
        assert self.process.stdout is not None
        async for raw in self.process.stdout:
            self.lines.append(raw.decode(errors="replace").rstrip("\n"))
            async with self._logged:
                self._logged.notify_all()

    async def logged(self, pattern: str) -> re.Match[str]:
        """The first log line matching ``pattern``, once it is written."""

        def found() -> re.Match[str] | None:
            return next(filter(None, (re.search(pattern, line) for line in self.lines)), None)

        async with self._logged:
            await asyncio.wait_for(self._logged.wait_for(lambda: found() is not None), PATIENCE)
        match = found()
        assert match is not None
        return match

    def stderr(self) -> str:
        """What the process logged so far."""
        return "\n".join(self.lines)

    def response_url(self, name: str) -> str:
        """A ``response_url`` landing in the fake Slack, told apart by ``name``."""
        return f"{self.slack_url}/response/{name}"

    def replies(self, name: str) -> list[dict[str, Any]]:
        """Posts to the ``response_url`` called ``name``."""
        return [p for p in self.slack.calls_to("response_url") if p.get("_response_id") == name]

    async def reply(self, name: str) -> dict[str, Any]:
        """The first post to the ``response_url`` called ``name``, once it arrives."""
        await self.slack.wait_for(lambda _: bool(self.replies(name)), within=PATIENCE)
        return self.replies(name)[0]

    async def command(self, text: str, *, name: str, command: str = "/streamops") -> Envelope:
        """Deliver a slash command as ``slash_commands``."""
        form = slack_requests.slash_command(
            command, text, user_id=ADMIN, channel_id="C0CHANNEL1",
            response_url=self.response_url(name), trigger_id=self.slack.issue_trigger_id(),
        )  # fmt: skip
        payload = dict(parse_qsl(form.decode(), keep_blank_values=True))
        return await self.socket.send(SLASH_COMMANDS, payload)

    async def acked(self, envelope_id: str) -> Ack:
        """The ack of ``envelope_id`` (how fast is a benchmark's question, not a test's)."""
        return await self.socket.wait_ack(envelope_id, within=PATIENCE)

    async def repeat_acked(self, envelope: Envelope) -> None:
        """Deliver ``envelope`` again (same id); wait for its second ack."""
        await self.socket.send(envelope.type, envelope.payload, envelope_id=envelope.envelope_id)

        def acked_again(server: SocketModeServer) -> bool:
            return any(a.get("envelope_id") == envelope.envelope_id for a in server.extra_acks)

        await self.socket.wait_for(acked_again, within=PATIENCE)


def _env(slack_url: str, database_url: str, sandbox: Sandbox, app_token: str) -> dict[str, str]:
    """The settings a user would export, for the fake Slack and the simulators."""
    inherited = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "STREAMOPS_")) and k != "DATABASE_URL"
    }
    return {
        **inherited,
        "PYTHONPATH": str(ROOT),
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": slack_requests.SIGNING_SECRET,
        "SLACK_APP_TOKEN": app_token,
        "SLACK_API_URL": f"{slack_url}/api/",
        "DATABASE_URL": database_url,
        "STREAMOPS_ADMINS": ADMIN,
        "STREAMOPS_AUDIT_KEY": AUDIT_KEY,
        "STREAMOPS_DEFAULT_CHANNEL": CHANNEL,
        "STREAMOPS_WEBHOOK_TOKEN": WEBHOOK_TOKEN,
        "STREAMOPS_STREAMAPI_POLL_SECONDS": "0",
        "STREAMOPS_RECONCILE_MINUTES": "0",
        "STREAMOPS_RETENTION_DAYS": "0",
        "STREAMOPS_PROVIDER_CACHE_SECONDS": "0",
        "STREAMOPS_LOG_LEVEL": "INFO",
        **sandbox.settings,
    }


@contextlib.asynccontextmanager
async def migrated_database(backend: str, tmp_path: Path) -> AsyncIterator[str]:
    """A migrated database of ``backend`` for the child process (so it starts without Alembic).

    On PostgreSQL a database of its own (the child cannot be given a private schema),
    dropped afterwards.
    """
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'streamops.db'}"
        await _migrate(url)
        yield url
        return
    import asyncpg  # the dev extra has it; only imported when PostgreSQL runs

    assert POSTGRES_URL
    name = f"t_socket_{uuid.uuid4().hex[:12]}"
    admin_url = make_url(POSTGRES_URL).set(drivername="postgresql")
    admin = await asyncpg.connect(admin_url.render_as_string(hide_password=False))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
            await _migrate(url)
            yield url
        finally:
            await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def _migrate(url: str) -> None:
    db = Database(url)
    try:
        await migrate.upgrade(db)
    finally:
        await db.dispose()


async def _stop(process: asyncio.subprocess.Process) -> None:
    """Ctrl-C, as a user stops it; killed if it does not stop in time."""
    if process.returncode is not None:
        return
    process.terminate()
    try:
        await asyncio.wait_for(process.wait(), PATIENCE)
    except TimeoutError:
        process.kill()
        await process.wait()


@contextlib.asynccontextmanager
async def serving(
    tmp_path: Path,
    *,
    app_token: str = APP_TOKEN,
    wait_connected: bool = True,
    backend: str = "sqlite",
) -> AsyncIterator[SocketBot]:
    """Fake Slack + Socket Mode server + simulators, then `streamops serve --socket-mode`."""
    slack = FakeSlack(token=BOT_TOKEN, app_token=APP_TOKEN)
    async with (
        serve_in_background(create_fake_slack(slack)) as slack_server,
        socket_mode(slack) as socket,
        run_sandbox() as sandbox,
        migrated_database(backend, tmp_path) as database_url,
    ):
        env = _env(slack_server.url, database_url, sandbox, app_token)
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "serve", "--socket-mode",
            "--host", "127.0.0.1", "--port", "0",
            env=env, cwd=tmp_path, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        bot = SocketBot(slack, slack_server.url, socket, sandbox, process)
        reader = asyncio.ensure_future(bot.read_log())
        try:
            if wait_connected:
                await _connected_or_exited(bot, reader)
            yield bot
        finally:
            await _stop(process)
            await reader


async def _connected_or_exited(bot: SocketBot, reader: asyncio.Future[None]) -> None:
    connected = asyncio.ensure_future(bot.socket.wait_connected(within=PATIENCE))
    exited = asyncio.ensure_future(bot.process.wait())
    done, _ = await asyncio.wait({connected, exited}, return_when=asyncio.FIRST_COMPLETED)
    if connected not in done:
        connected.cancel()
        await asyncio.wait_for(reader, PATIENCE)  # its last lines
        pytest.fail(f"serve --socket-mode exited ({bot.process.returncode}):\n{bot.stderr()}")
    exited.cancel()
    await connected


def _click_payload(button: dict[str, Any], message: Message, *, name: str, bot: SocketBot
                   ) -> dict[str, Any]:  # fmt: skip
    """A click on ``button`` of ``message``, as Slack sends it in an ``interactive`` envelope."""
    form = slack_requests.block_actions(
        button["action_id"], button["value"], user_id=ADMIN, channel_id=message.channel,
        message_ts=message.ts, message_blocks=message.blocks,
        response_url=bot.response_url(name), trigger_id=bot.slack.issue_trigger_id(),
    )  # fmt: skip
    payload: dict[str, Any] = json.loads(parse_qs(form.decode())["payload"][0])
    return payload


def _home_opened(event_id: str) -> dict[str, Any]:
    """An ``event_callback`` carrying ``app_home_opened`` on the Home tab."""
    event = {"type": "app_home_opened", "user": ADMIN, "channel": "D0ADMIN01", "tab": "home",
             "event_ts": "1700000000.000200"}  # fmt: skip
    body: dict[str, Any] = json.loads(slack_requests.event_callback(event, event_id=event_id))
    return body


def _text(payload: dict[str, Any]) -> str:
    return json.dumps(payload)


# -- the tests --------------------------------------------------------------------------

#: One event loop for the module: the child process and its fakes serve every test.
pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(
    scope="module",
    loop_scope="module",
    params=[
        "sqlite",
        pytest.param(
            "postgresql",
            marks=pytest.mark.skipif(
                not POSTGRES_URL,
                reason="STREAMOPS_TEST_POSTGRES_URL is not set: PostgreSQL run skipped",
            ),
        ),
    ],
)
async def bot(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> AsyncIterator[SocketBot]:
    """`streamops serve --socket-mode`, connected, for the conversation tests."""
    folder = tmp_path_factory.mktemp("socket-mode")
    async with serving(folder, backend=str(request.param)) as running:
        yield running


async def test_slash_commands_answer_over_the_socket_and_run_once(bot: SocketBot) -> None:
    """Help, /build projects and a bad subcommand are answered (in the ack's payload when
    ready in time, else through response_url); the same envelope delivered again is acked
    and not run."""
    help_command = await bot.command("help", name="help")
    assert help_command.accepts_response_payload is True
    acked = await bot.acked(help_command.envelope_id)
    shown = await bot.reply("help")
    assert "/build" in _text(shown)
    if acked.payload is not None:  # answered in the ack: Slack shows that payload
        assert shown.get("_in_ack") and "/build" in acked.payload["text"]

    projects = await bot.command("projects", name="projects", command="/build")
    await bot.acked(projects.envelope_id)
    listed = _text(await bot.reply("projects"))
    assert "Showroom Demo" in listed and "Retail Walkthrough" in listed

    usage = await bot.acked((await bot.command("no-such-thing", name="usage")).envelope_id)
    assert usage.payload is not None and "no-such-thing" in usage.payload["text"]
    assert [r.get("_in_ack") for r in bot.replies("usage")] == [True]

    # Slack delivers the help envelope again (as when its ack was lost with a connection).
    await bot.repeat_acked(help_command)
    later = await bot.command("help", name="later")
    await bot.acked(later.envelope_id)
    await bot.reply("later")
    assert len(bot.replies("help")) == 1
    assert "Traceback" not in bot.stderr()


async def test_a_click_on_a_notification_runs_once_and_updates_the_message(
    bot: SocketBot,
) -> None:
    """Distribute on a build notification reaches Streampixel once and the message is redrawn
    through chat.update; the same envelope delivered again is acked and not run."""
    sim = bot.sandbox.streampixel
    upload = sim.add_upload(SHOWROOM, "https://builds.example.com/showroom/v2.0.0.zip")
    http_url = (await bot.logged(r"Uvicorn running on (http://\S+)")).group(1)
    await sim.deliver(
        f"{http_url}/webhooks/streampixel/{WEBHOOK_TOKEN}",
        sim.payload(sim.projects[SHOWROOM], "build.approved", upload),
    )

    def notification(slack: FakeSlack) -> Message | None:
        return next((m for m in slack.channel_messages(CHANNEL) if upload.id in m.text), None)

    await bot.slack.wait_for(lambda s: notification(s) is not None, within=PATIENCE)
    message = notification(bot.slack)
    assert message is not None
    [distribute] = [b for b in buttons(message.blocks) if b["action_id"] == "build_distribute"]

    click = _click_payload(distribute, message, name="click", bot=bot)
    envelope = await bot.socket.send(INTERACTIVE, click)
    assert envelope.accepts_response_payload is False
    await bot.acked(envelope.envelope_id)
    reply = await bot.reply("click")
    assert "distributed build" in _text(reply) and reply["replace_original"] is False
    stamp = f"Distributed by <@{ADMIN}>"
    await bot.slack.wait_for(lambda _: stamp in json.dumps(message.blocks), within=PATIENCE)
    assert message.edits >= 1 and buttons(message.blocks) == []
    assert any(u["ts"] == message.ts for u in bot.slack.calls_to("chat.update"))

    await bot.repeat_acked(envelope)
    await bot.logged(REPEATED_ENVELOPE)
    await sim.drain()
    distributions = [
        e for e in sim.events if e["event"] == "build.distributing" and e["uploadId"] == upload.id
    ]
    assert len(distributions) == 1
    assert len(bot.replies("click")) == 1
    assert sim.projects[SHOWROOM].live_upload_id == upload.id
    assert "Traceback" not in bot.stderr()


async def test_app_home_opened_publishes_the_home_view_once_despite_a_retry(
    bot: SocketBot,
) -> None:
    """app_home_opened → views.publish of the Home view; Slack's retry of the same event
    (retry_attempt 1, a new envelope) publishes nothing more."""
    before = len(bot.slack.calls_to("views.publish"))
    first = await bot.socket.send(EVENTS_API, _home_opened("Ev0HOME0001"))
    assert first.message()["retry_attempt"] == 0
    await bot.acked(first.envelope_id)
    await bot.slack.wait_for(lambda s: len(s.calls_to("views.publish")) > before, PATIENCE)
    published = bot.slack.calls_to("views.publish")[before]
    view = published["view"]
    view = view if isinstance(view, dict) else json.loads(view)
    assert published["user_id"] == ADMIN and view["type"] == "home"
    assert view["blocks"][0]["text"]["text"] == "StreamOps"

    retry = await bot.socket.send(
        EVENTS_API, _home_opened("Ev0HOME0001"), retry_attempt=1, retry_reason="timeout"
    )
    await bot.acked(retry.envelope_id)
    await bot.logged(re.escape(REPEATED_EVENT))
    later = await bot.socket.send(EVENTS_API, _home_opened("Ev0HOME0002"))
    await bot.acked(later.envelope_id)
    await bot.slack.wait_for(lambda s: len(s.calls_to("views.publish")) >= before + 2, PATIENCE)
    assert len(bot.slack.calls_to("views.publish")) == before + 2
    assert [c.method for c in bot.slack.refusals()] == []
    assert "Traceback" not in bot.stderr()


async def test_the_bot_reconnects_after_the_connection_drops(bot: SocketBot) -> None:
    """Slack closes the socket (and later asks for a refresh): the bot opens a new
    connection through apps.connections.open and answers on it."""
    connections = bot.socket.connections
    opened = len(bot.slack.calls_to("apps.connections.open"))
    await bot.socket.drop()
    await bot.socket.wait_connected(connections=connections + 1, within=PATIENCE)
    first = await bot.command("help", name="after-drop")
    await bot.acked(first.envelope_id)
    await bot.reply("after-drop")

    await bot.socket.ask_to_reconnect()
    await bot.socket.wait_connected(connections=connections + 2, within=PATIENCE)
    second = await bot.command("help", name="after-refresh")
    await bot.acked(second.envelope_id)
    await bot.reply("after-refresh")
    assert len(bot.slack.calls_to("apps.connections.open")) == opened + 2
    assert "Traceback" not in bot.stderr()


@pytest.mark.parametrize(
    ("app_token", "error"),
    [
        ("xapp-1-A0STREAMOPS-1-revoked-or-mistyped", "invalid_auth"),
        (BOT_TOKEN, "not_allowed_token_type"),
    ],
)
async def test_a_refused_app_token_stops_start_up_with_one_line(
    tmp_path: Path, app_token: str, error: str
) -> None:
    """A revoked app token, or the bot token pasted instead: exit 2 and one line, no retries."""
    async with serving(tmp_path, app_token=app_token, wait_connected=False) as bot:
        code = await asyncio.wait_for(bot.process.wait(), PATIENCE)
        assert code == 2
        assert bot.socket.connections == 0
        assert len(bot.slack.calls_to("apps.connections.open")) == 1
    lines = [line for line in bot.stderr().splitlines() if "streamops:" in line]
    assert lines == [lines[-1]] and error in lines[0] and "SLACK_APP_TOKEN" in lines[0]
    assert "xapp-" in lines[0]  # it says which kind of token to use
    assert "Traceback" not in bot.stderr() and app_token not in bot.stderr()
