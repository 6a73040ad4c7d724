"""`streamops sandbox`: the printed settings are all it takes to use the simulators."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from bot.container import build_container
from bot.sandbox.runner import run_sandbox
from handlers.blocks.notifications import NOTIFICATIONS
from storage.db import Database
from tests.fakes import RecordingAuditor
from tests.harness import make_settings

ROOT = Path(__file__).resolve().parents[2]


async def test_clients_built_from_sandbox_settings_reach_every_simulator(
    database: Database,
) -> None:
    """A container built from the sandbox's settings talk to all three simulators."""
    async with run_sandbox() as sandbox:
        settings = make_settings(database.url, "http://127.0.0.1:9/api/", **sandbox.settings)
        deps = build_container(
            settings, renderer=NOTIFICATIONS, db=database, audit=RecordingAuditor()
        )
        assert deps.streampixel and deps.streamstack and deps.streamapi
        projects = await deps.streampixel.list_projects()
        videos = await deps.streamstack.list_all()
        themes = await deps.streamapi.themes()
        await deps.aclose()
    assert {"Showroom Demo", "Configurator EU"} <= {p.name for p in projects}
    assert len(videos) >= 3
    assert themes


def test_sandbox_command_prints_exports_and_serves(tmp_path: Path) -> None:
    """`streamops sandbox` needs no Slack settings, prints exports, and the URLs answer."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "STREAMOPS_"))}
    env["PYTHONPATH"] = str(ROOT)
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "sandbox", "--streampixel-port", "0",
         "--streamstack-port", "0", "--streamapi-port", "0"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        exports: dict[str, str] = {}
        while "STREAMOPS_WEBHOOK_TOKEN" not in exports:
            line = proc.stdout.readline()
            assert line, proc.stderr.read() if proc.stderr else "sandbox exited"
            if line.startswith("export "):
                name, value = line[len("export ") :].strip().split("=", 1)
                exports[name] = value
        with httpx.Client() as client:
            response = client.get(
                f"{exports['STREAMPIXEL_BASE_URL']}/projects/projects-status",
                params={"userId": exports["STREAMPIXEL_USER_ID"],
                        "apikey": exports["STREAMPIXEL_API_KEY"]},
            )  # fmt: skip
        assert response.status_code == 200
        assert response.json()["totalProjects"] >= 3
        webhooks = proc.stdout.readline()  # by default, to where `streamops serve` listens
        assert webhooks.startswith("# Their webhooks go to http://127.0.0.1:3000/webhooks/")
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=10)


async def test_sandbox_posts_its_webhooks_to_the_bot_at_webhook_url(database: Database) -> None:
    """`--webhook-url` points the simulated pipelines at a running bot; the token is printed."""
    import asyncio

    from tests.harness import running_bot

    token = "webhook-token-0123456789"  # the harness bot's STREAMOPS_WEBHOOK_TOKEN
    async with running_bot(database) as bot:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "STREAMOPS_"))}
        env["PYTHONPATH"] = str(ROOT)
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "sandbox", "--streampixel-port", "0",
            "--streamstack-port", "0", "--streamapi-port", "0",
            "--webhook-url", bot.url, "--webhook-token", token,
            env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:
            assert proc.stdout is not None
            exports: dict[str, str] = {}
            printed: list[str] = []
            while "Ctrl-C" not in "".join(printed):
                line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
                assert line, "sandbox exited"
                printed.append(line)
                if line.startswith("export "):
                    name, value = line[len("export ") :].strip().split("=", 1)
                    exports[name] = value
            assert exports["STREAMOPS_WEBHOOK_TOKEN"] == token
            assert f"# Their webhooks go to {bot.url}/webhooks/" in "".join(printed)
            response = await bot.http.post(
                f"{exports['STREAMPIXEL_BASE_URL']}/projects/test-webhook",
                json={"apiKey": exports["STREAMPIXEL_API_KEY"],
                      "userId": exports["STREAMPIXEL_USER_ID"],
                      "projectId": "664f1a2b3c4d5e6f7a8b9c0d"},
            )  # fmt: skip
            assert response.json() == {
                "success": True, "message": "Test webhook delivered", "statusCode": 200,
            }  # fmt: skip
        finally:
            proc.send_signal(signal.SIGINT)
            await asyncio.wait_for(proc.wait(), 10)
