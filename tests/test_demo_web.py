"""`streamops demo --web` in a real headless Chromium (Debian's, driven by Playwright).

The page is used as a person would: type a slash command, click a button, confirm,
open the thread, switch users, fill a modal, open the App Home tab. A screenshot of
the walkthrough is saved to ``test-artifacts/demo-web.png``.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from slack_bolt.async_app import AsyncAck, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.demo.slack_payloads import SlackRequests
from bot.demo.users import ADMIN, PREDEFINED
from bot.demo.web.app import create_web_app
from bot.demo.web.feed import ObservedSlack
from bot.demo.web.run import PEOPLE, run_web_demo
from bot.demo.web.sender import Sender
from bot.demo.workspace import Workspace
from bot.serving import serve_in_background
from storage.db import Database
from tests import slack_requests
from tests.harness import running_bot

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

playwright_api = pytest.importorskip("playwright.async_api")


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    """Debian's Chromium, headless (CI installs it; elsewhere the test is skipped without it)."""
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed: .ci/run installs it with apt-get")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    async with playwright_api.async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            yield launched
        finally:
            await launched.close()


async def _page(browser: Any, url: str) -> tuple[Any, list[str]]:
    page = await browser.new_page(viewport={"width": 1280, "height": 820})
    page.set_default_timeout(45_000)  # notifications are paced (one a second per channel)
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    await page.goto(url)
    await page.wait_for_selector("#channel-list button.active")
    return page, problems


async def _type(page: Any, command: str) -> None:
    await page.fill("#composer-input", command)
    await page.press("#composer-input", "Enter")


async def test_a_build_from_command_to_distributed_in_the_browser(browser: Any) -> None:
    """Type a command, watch the pipeline thread, click Distribute, confirm, see the edit."""
    ARTIFACTS.mkdir(exist_ok=True)
    async with run_web_demo(pace=0.05, long_poll=2.0) as demo:
        page, problems = await _page(browser, demo.url)
        await _type(page, "/build projects")
        reply = page.locator(".message.ephemeral", has_text="Streampixel projects")
        await reply.wait_for()
        assert "Only visible to you" in await reply.inner_text()

        await _type(
            page, "/build upload showroom https://builds.example.com/v2.zip --no-auto-release"
        )
        build = page.locator(".message", has=page.locator(".btn.primary", has_text="Distribute"))
        await build.wait_for(timeout=90_000)
        assert "(edited)" in await build.inner_text()  # the notification was updated in place
        summary = build.locator(".thread-summary")
        # the pipeline's steps are in the thread: one reply when a burst collapsed them into
        # one (storage.outbox_groups), more when they were delivered one by one
        assert re.search(r"\b\d+ repl(y|ies)\b", await summary.inner_text())

        await build.locator(".btn", has_text="Distribute").click()
        dialog = page.locator("#confirm-layer .dialog")
        await dialog.wait_for()
        assert "Distribute" in await dialog.locator(".dialog-title").inner_text()
        assert "Streampixel will release build" in await dialog.inner_text()
        await dialog.locator(".confirm-yes").click()
        await page.locator(".message", has_text="distributed build").wait_for()

        await page.locator(".thread-summary").first.click()
        thread = page.locator("#thread")
        await thread.locator(".message", has_text="Downloading files").wait_for()
        assert await thread.locator(".thread-divider").inner_text() != ""
        await page.screenshot(path=str(ARTIFACTS / "demo-web.png"))

        await page.select_option("#user-switcher", label="viewer")
        await page.locator("#user-note", has_text="You are viewer").wait_for()
        assert await page.locator(".message", has_text="Streampixel projects").count() == 0
        await _type(page, "/build distribute showroom 665a2b3c4d5e6f7a8b9c0e1f")
        await page.locator(".message.ephemeral", has_text="releaser").wait_for()
        await _type(page, "/nonsense")
        await page.locator(".message", has_text="/nonsense is not a valid command").wait_for()
        await page.close()
        assert problems == []
    assert (ARTIFACTS / "demo-web.png").stat().st_size > 10_000


# -- modals, the App Home tab and escaping, against listeners added for the test ---------------

_HOSTILE = '<img src=x onerror="window.pwned=1"> & <script>window.pwned=2</script>'


def _add_listeners(bolt: Any) -> None:
    """/t posts hostile text and a Rename button; Rename opens a modal; the modal checks input."""
    from handlers.blocks.parts import esc

    async def command(ack: AsyncAck, respond: AsyncRespond, client: AsyncWebClient) -> None:
        await ack()
        blocks = [
            {"type": "section", "text": {"type": "mrkdwn", "text": f"*{esc(_HOSTILE)}*"}},
            {"type": "section", "text": {"type": "plain_text", "text": _HOSTILE}},
            {"type": "actions", "block_id": "row", "elements": [
                {"type": "button", "action_id": "t_rename", "value": "v1",
                 "text": {"type": "plain_text", "text": "Rename"}}]},
        ]  # fmt: skip
        await client.chat_postMessage(channel="C0DEMOOPS", text="video", blocks=blocks)

    async def rename(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        await client.views_open(
            trigger_id=body["trigger_id"],
            view={
                "type": "modal", "callback_id": "t_rename_view", "private_metadata": "v1",
                "title": {"type": "plain_text", "text": "Rename video"},
                "submit": {"type": "plain_text", "text": "Save"},
                "close": {"type": "plain_text", "text": "Cancel"},
                "blocks": [{"type": "input", "block_id": "title",
                            "label": {"type": "plain_text", "text": "New title"},
                            "element": {"type": "plain_text_input", "action_id": "value"}}],
            },
        )  # fmt: skip

    async def submitted(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        value = body["view"]["state"]["values"]["title"]["value"]["value"] or ""
        if len(value) < 3:
            await ack(response_action="errors", errors={"title": "At least 3 characters"})
            return
        await ack()
        await client.chat_postMessage(channel="C0DEMOOPS", text=f"Renamed to {esc(value)}")

    bolt.command("/t")(command)
    bolt.action("t_rename")(rename)
    bolt.view("t_rename_view")(submitted)


async def test_modal_home_tab_and_escaping(browser: Any, database: Database) -> None:
    """A modal opens, shows its validation error, submits; Home renders; markup stays text."""
    users = {u.id: u.name for u in PREDEFINED.values()}
    workspace = Workspace({"C0DEMOOPS": "streamops-demo"}, users)
    slack = ObservedSlack(workspace=workspace, users=dict(users))
    async with running_bot(database, slack, STREAMOPS_ADMINS=ADMIN.id) as bot:
        _add_listeners(bot.bolt)
        # A strict fake Slack accepts only the trigger ids it issued.
        issued = getattr(slack, "issue_trigger_id", None)
        sender = Sender(
            bot.http, bot.url, bot.slack_server.url,
            SlackRequests(slack_requests.SIGNING_SECRET), workspace, trigger_ids=issued,
        )  # fmt: skip
        app = create_web_app(
            workspace, sender, people=PEOPLE, home_channel="C0DEMOOPS", long_poll=2.0
        )
        async with serve_in_background(app) as server:
            page, problems = await _page(browser, server.url)
            await _type(page, "/t")
            message = page.locator(".message", has_text="onerror")
            await message.wait_for()
            text = await message.inner_text()
            assert _HOSTILE in text  # shown literally, twice (mrkdwn and plain_text)
            assert await message.locator("img, script").count() == 0
            assert await page.evaluate("window.pwned === undefined")

            await message.locator(".btn", has_text="Rename").click()
            modal = page.locator("#modal-layer .dialog")
            await modal.wait_for()
            assert "Rename video" in await modal.inner_text()
            await modal.locator("input").fill("ab")
            await modal.locator(".modal-submit").click()
            await modal.locator(".input-error", has_text="At least 3 characters").wait_for()
            ARTIFACTS.mkdir(exist_ok=True)
            await page.screenshot(path=str(ARTIFACTS / "demo-web-modal.png"))
            await modal.locator("input").fill("Launch <keynote>")
            await modal.locator(".modal-submit").click()
            await page.locator(".message", has_text="Renamed to Launch <keynote>").wait_for()
            await page.locator("#modal-layer").wait_for(state="hidden")

            await page.locator("#app-list button").click()
            await page.locator("#home .blocks").wait_for()
            assert (await page.locator("#home").inner_text()).strip()
            await page.close()
            assert problems == []


async def test_demo_web_command_serves_the_page_until_interrupted(tmp_path: Path) -> None:
    """`streamops demo --web --port 0` prints its address; the page and its state answer."""
    import asyncio
    import signal
    import sys

    import httpx

    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "STREAMOPS_"))}
    env["PYTHONPATH"] = str(ARTIFACTS.parent)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "demo", "--web", "--port", "0", cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        line = (await asyncio.wait_for(proc.stdout.readline(), 60)).decode()
        assert line.startswith("StreamOps demo: open http://127.0.0.1:"), line
        url = line.split("open ", 1)[1].split(" ", 1)[0]
        async with httpx.AsyncClient(timeout=30.0) as http:  # a loaded machine is slow
            page = await http.get(url)
            assert page.status_code == 200 and "<title>StreamOps demo</title>" in page.text
            assert "script-src 'self'" in page.headers["content-security-policy"]
            shown = (await http.get(f"{url}/api/state", params={"user": "UDEMOVIEWER"})).json()
            assert shown["me"] == {"id": "UDEMOVIEWER", "name": "viewer"}
            assert [p["name"] for p in shown["people"]] == ["admin", "releaser", "viewer"]
            refused = await http.get(f"{url}/api/state", params={"user": "U0NOBODY"})
            assert refused.status_code == 400
            forged = await http.post(  # what another web page could send without a preflight
                f"{url}/api/command", content='{"user": "UDEMOADMIN", "text": "/audit"}',
                headers={"Content-Type": "text/plain"},
            )  # fmt: skip
            assert forged.status_code == 415
    finally:
        proc.send_signal(signal.SIGINT)  # Ctrl-C
        await asyncio.wait_for(proc.wait(), 20)
    assert proc.stderr is not None
    assert "Traceback" not in (await proc.stderr.read()).decode()  # a quiet, orderly stop
    assert proc.returncode == 130
    assert not any(tmp_path.iterdir())  # noqa: ASYNC240 (nothing left in the working directory)
