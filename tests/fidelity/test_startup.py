"""Start-up and readiness: a bad token or DATABASE_URL stops `serve` in one line."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from bot.cli import main
from bot.errors import ConfigError
from bot.sandbox.slack import FakeSlack
from bot.sandbox.slack import create_app as create_fake_slack
from bot.serving import serve_in_background
from bot.slack_check import SlackProbe, probe_client, verify_bot_token
from storage import migrate as migrate_
from storage.db import Database
from tests.harness import running_bot

GOOD = "xoxb-the-token-slack-issued"


def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, **values: str) -> None:
    for name in list(os.environ):
        if name.startswith(("SLACK_", "STREAMOPS_", "DATABASE_URL", "STREAM")):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no .env file here
    for name, value in values.items():
        monkeypatch.setenv(name, value)


@pytest.mark.parametrize(
    ("url", "advice"),
    [
        ("postgresql://bot:pw@db.example/streamops", "postgresql+asyncpg://bot:***@db.example"),
        ("postgres://db.example/streamops", "postgresql+asyncpg://db.example/streamops"),
        ("sqlite:///./streamops.db", "sqlite+aiosqlite:///./streamops.db"),
        ("mysql://db.example/x", "sqlite+aiosqlite:///./streamops.db or postgresql+asyncpg://"),
    ],
)
def test_a_bad_database_url_is_one_line_saying_what_to_write(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    url: str,
    advice: str,
) -> None:
    _clean_env(monkeypatch, tmp_path, DATABASE_URL=url)
    assert main(["db", "current"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("streamops: invalid setting DATABASE_URL")
    assert advice in err
    assert "pw" not in err


def test_db_commands_need_no_slack_settings(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db_url = f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}"
    _clean_env(monkeypatch, tmp_path, DATABASE_URL=db_url)
    assert main(["db", "upgrade"]) == 0
    assert main(["db", "current"]) == 0
    assert "code expects" in capsys.readouterr().out
    assert main(["serve", "--port", "0"]) == 2
    assert "SLACK_BOT_TOKEN" in capsys.readouterr().err


async def test_verify_bot_token_refuses_a_token_slack_does_not_know() -> None:
    slack = FakeSlack(token=GOOD)
    async with serve_in_background(create_fake_slack(slack)) as server:
        from slack_sdk.web.async_client import AsyncWebClient

        good = AsyncWebClient(token=GOOD, base_url=f"{server.url}/api/")
        await verify_bot_token(good)
        bad = AsyncWebClient(token="xoxb-mistyped", base_url=f"{server.url}/api/")
        with pytest.raises(ConfigError, match=r"Slack refused SLACK_BOT_TOKEN \(invalid_auth\)"):
            await verify_bot_token(bad)
    unreachable = AsyncWebClient(token=GOOD, base_url="http://127.0.0.1:9/api/")
    await verify_bot_token(unreachable)  # starts anyway; /readyz reports it


@pytest.mark.parametrize("migrate", [False, True], ids=["no-migrate", "fresh-database"])
async def test_serve_with_an_invalid_token_exits_with_one_line(
    tmp_path: Path, migrate: bool
) -> None:
    """The real console script, as a process: exit 2 and one line, before taking requests.

    On a fresh database the migrations run in a child process meanwhile: the refusal
    waits for them, so the database is left at the current schema, not half-migrated.
    """
    slack = FakeSlack(token=GOOD)
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}"
    async with serve_in_background(create_fake_slack(slack)) as server:
        env = {
            "PATH": os.environ.get("PATH", ""),
            "SLACK_BOT_TOKEN": "xoxb-revoked-long-ago",
            "SLACK_SIGNING_SECRET": "secret",
            "SLACK_API_URL": f"{server.url}/api/",
            "DATABASE_URL": database_url,
            "STREAMOPS_LOG_LEVEL": "WARNING",
            "STREAMOPS_ENV": "development",
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            *([] if migrate else ["--no-migrate"]),
            env=env,
            cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        _, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 2
    lines = err.decode().strip().splitlines()
    assert lines == [
        "streamops: Slack refused SLACK_BOT_TOKEN (invalid_auth): copy the Bot User OAuth "
        "Token (xoxb-…) from the app's OAuth & Permissions page"
    ]
    assert slack.calls_to("auth.test")
    db = Database(database_url)
    try:
        assert await migrate_.current_heads(db) == (migrate_.script_heads() if migrate else set())
    finally:
        await db.dispose()


async def test_readyz_reports_a_refused_token_from_a_cached_check(database: Database) -> None:
    slack = FakeSlack()
    async with running_bot(database, slack) as bot:
        ok = await bot.http.get(f"{bot.url}/readyz")
        assert ok.status_code == 200 and ok.json()["slack"] == "ok"
        slack.token = "xoxb-rotated"  # the bot's token is no longer valid
        before = len(slack.calls_to("auth.test"))
        for _ in range(5):
            still = await bot.http.get(f"{bot.url}/readyz")
            assert still.status_code == 200  # cached: no Slack call per probe
        assert len(slack.calls_to("auth.test")) == before


async def test_readyz_is_503_when_slack_is_unreachable_or_refuses(database: Database) -> None:
    async with running_bot(database, SLACK_API_URL="http://127.0.0.1:9/api/") as bot:
        response = await bot.http.get(f"{bot.url}/readyz")
        assert response.status_code == 503
        assert response.json()["slack"].startswith("unreachable")
    slack = FakeSlack(token="xoxb-something-else")
    async with serve_in_background(create_fake_slack(slack)) as server:
        from slack_sdk.web.async_client import AsyncWebClient

        probe = SlackProbe(
            probe_client(AsyncWebClient(token="xoxb-wrong", base_url=f"{server.url}/api/"))
        )
        assert await probe.status() == "invalid_auth"


async def test_the_probe_rechecks_after_its_ttl() -> None:
    slack = FakeSlack(token=GOOD)
    now = [0.0]
    async with serve_in_background(create_fake_slack(slack)) as server:
        from slack_sdk.web.async_client import AsyncWebClient

        client = AsyncWebClient(token=GOOD, base_url=f"{server.url}/api/")
        probe = SlackProbe(client, ttl=30, clock=lambda: now[0])
        assert await probe.status() == "ok"
        slack.token = "xoxb-new"
        assert await probe.status() == "ok"
        now[0] = 31
        assert await probe.status() == "invalid_auth"
    assert len(slack.calls_to("auth.test")) == 2
