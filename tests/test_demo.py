"""`streamops demo`: the shipped walkthrough, failing scripts, the console's Slack round trips."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from slack_bolt.async_app import AsyncAck, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot import cli
from bot.demo.console import Screen
from bot.demo.conversation import Channel, Conversation
from bot.demo.script import ScriptFailed, ScriptPrompter, parse_script, run_script
from bot.demo.slack_payloads import SlackRequests
from bot.demo.users import ADMIN, RELEASER, VIEWER, DemoUser, resolve_user
from bot.errors import InvalidInput
from storage.db import Database
from tests import slack_requests
from tests.harness import Bot, running_bot

WALKTHROUGH = Path(__file__).resolve().parents[1] / "bot" / "demo" / "walkthrough.txt"
CHANNEL = Channel("C0DEMOOPS", "streamops-demo")


def _demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    """Run ``streamops demo`` in-process in an empty directory without any Slack settings."""
    monkeypatch.chdir(tmp_path)
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    return cli.main(["demo", "--pace", "0.02", *args])


def test_walkthrough_passes_again_and_again_after_a_session_that_granted_a_role(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each run starts clean: a role granted before, or a rate slot just used, changes nothing."""
    from bot.demo.console import run_demo

    lines = iter([f"/streamops roles grant <@{VIEWER.id}> releaser", "quit"])

    async def read(prompt: str) -> str:
        return next(lines)

    monkeypatch.chdir(tmp_path)
    assert asyncio.run(run_demo(read=read, pace=0.02)) == 0
    assert "now has the *releaser* role" in capsys.readouterr().out
    for _ in range(2):  # the second run is within Streampixel's 2-minute upload slot
        code = _demo(tmp_path, monkeypatch, "--script", str(WALKTHROUGH))
        out, err = capsys.readouterr()
        assert code == 0, out + err
        assert "script walkthrough.txt passed" in out
    assert list(tmp_path.iterdir()) == []  # the database lived in a temporary folder


def test_db_option_keeps_the_data_in_the_named_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--db FILE` keeps the bot's data: a role granted in one run is still there in the next."""
    script = tmp_path / "grant.txt"
    script.write_text(
        f"/streamops roles grant <@{VIEWER.id}> media\nexpect: now has the *media* role\n"
    )
    check = tmp_path / "check.txt"
    check.write_text("/streamops roles list\nexpect: media\n")
    db = tmp_path / "kept.db"
    assert _demo(tmp_path, monkeypatch, "--db", str(db), "--script", str(script)) == 0
    assert db.exists()
    assert _demo(tmp_path, monkeypatch, "--db", str(db), "--script", str(check)) == 0
    capsys.readouterr()


def test_the_releaser_is_granted_its_role_when_the_demo_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`as: releaser` may upload a build at once; the viewer still may not."""
    script = tmp_path / "releaser.txt"
    script.write_text(
        "as: releaser\n/build upload showroom https://builds.example.com/r.zip\n"
        "expect: Build queued for processing\n"
        "as: viewer\n/build upload showroom https://builds.example.com/v.zip\nexpect: releaser\n"
    )
    code = _demo(tmp_path, monkeypatch, "--script", str(script))
    out, err = capsys.readouterr()
    assert code == 0, out + err
    assert resolve_user("releaser") == RELEASER


def test_wrong_expectation_fails_naming_the_line_and_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A reply that never comes makes the run exit 1 with the file, line and expected text."""
    script = tmp_path / "wrong.txt"
    script.write_text("/streamops help\nexpect: usage of every\nexpect: Distribution complete\n")
    code = _demo(tmp_path, monkeypatch, "--script", str(script), "--expect-timeout", "3")
    err = capsys.readouterr().err
    assert code == 1
    assert "wrong.txt:3: expected a reply containing “Distribution complete”" in err
    assert "after `/streamops help`, but it did not appear within 3 s" in err


def test_unreadable_script_and_unknown_user_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A line that is not a step, or an unknown --as user, exits 2 before anything starts."""
    script = tmp_path / "bad.txt"
    script.write_text("/streamops help\nplease distribute\n")
    assert _demo(tmp_path, monkeypatch, "--script", str(script)) == 2
    assert "bad.txt:2: cannot read `please distribute`" in capsys.readouterr().err
    assert _demo(tmp_path, monkeypatch, "--as", "somebody") == 2
    assert "unknown user `somebody`" in capsys.readouterr().err


def test_interactive_console_reads_lines_until_quit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Typed commands, `as`, unknown input and `quit` behave as the help text says."""
    from bot.demo.console import run_demo

    lines = iter(["/streamops help", "as viewer", "hello", "7", "quit"])
    prompts: list[str] = []

    async def read(prompt: str) -> str:
        prompts.append(prompt)
        return next(lines)

    monkeypatch.chdir(tmp_path)
    assert asyncio.run(run_demo(read=read, pace=0.02)) == 0
    out = capsys.readouterr().out
    assert "usage of every StreamOps command" in out
    assert "(now typing as viewer = UDEMOVIEWER)" in out
    assert "(not a command; type help)" in out
    assert "(no button `7` on screen)" in out
    assert prompts[0].endswith("admin> ") and prompts[-1].endswith("viewer> ")


def test_parse_script_steps_and_users() -> None:
    """Comments and blanks are skipped; steps keep their line numbers; users resolve."""
    steps = parse_script("# intro\n\n/build projects\nexpect: Showroom\nclick: 2\n", "s")
    assert [(s.line_no, s.kind, s.arg) for s in steps] == [
        (3, "command", "/build projects"),
        (4, "expect", "Showroom"),
        (5, "click", "2"),
    ]
    assert resolve_user("Admin") == ADMIN and resolve_user("viewer") == VIEWER
    assert resolve_user("U0123ABC") == DemoUser("U0123ABC", "u0123abc")
    with pytest.raises(InvalidInput):
        resolve_user("bob")


# -- the console against the real bot, with listeners added for the test --------------------

SEEN: list[dict[str, Any]] = []


def _add_listeners(bot: Bot) -> None:
    """A /t command that posts buttons (one with a confirm) and opens a modal on a click."""
    confirm = {
        "title": {"type": "plain_text", "text": "Delete?"},
        "text": {"type": "plain_text", "text": "It cannot be undone"},
        "confirm": {"type": "plain_text", "text": "Delete"},
        "deny": {"type": "plain_text", "text": "Keep"},
    }
    blocks = [
        {"type": "section", "text": {"type": "mrkdwn", "text": "*Keynote*"}},
        {
            "type": "actions",
            "block_id": "row",
            "elements": [
                {"type": "button", "action_id": "t_delete", "value": "v1", "confirm": confirm,
                 "text": {"type": "plain_text", "text": "Delete"}},
                {"type": "button", "action_id": "t_rename", "value": "v1",
                 "text": {"type": "plain_text", "text": "Rename"}},
            ],
        },
    ]  # fmt: skip

    async def command(ack: AsyncAck, respond: AsyncRespond, client: AsyncWebClient) -> None:
        await ack()
        await respond(text="videos", blocks=blocks)
        posted = await client.chat_postMessage(
            channel="C0NOTIFY", text="Transcode *done*", blocks=blocks
        )
        await client.chat_postMessage(
            channel="C0NOTIFY", thread_ts=posted["ts"],
            text="Published at <!date^1764612000^{date_num} {time}|2025-12-01 18:00 UTC>",
        )  # fmt: skip

    async def delete(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        SEEN.append(body)
        await respond(replace_original=True, text=f"Deleted {body['actions'][0]['value']}")

    async def rename(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        SEEN.append(body)
        title_input = {"type": "plain_text_input", "action_id": "value"}
        await client.views_open(
            trigger_id=body["trigger_id"],
            view={
                "type": "modal", "callback_id": "t_rename_view", "private_metadata": "v1",
                "title": {"type": "plain_text", "text": "Rename"},
                "submit": {"type": "plain_text", "text": "Save"},
                "blocks": [{"type": "input", "block_id": "title", "element": title_input,
                            "label": {"type": "plain_text", "text": "New title"}}],
            },
        )  # fmt: skip

    async def submitted(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        SEEN.append(body)
        value = body["view"]["state"]["values"]["title"]["value"]["value"]
        await client.chat_postMessage(channel="C0NOTIFY", text=f"Renamed to {value}")

    bolt = bot.bolt
    bolt.command("/t")(command)
    bolt.action("t_delete")(delete)
    bolt.action("t_rename")(rename)
    bolt.view("t_rename_view")(submitted)


@pytest.fixture
async def console(database: Database) -> AsyncIterator[tuple[Conversation, ScriptPrompter]]:
    """A scripted conversation with the harness bot, as the admin."""
    SEEN.clear()
    async with running_bot(database) as bot:
        _add_listeners(bot)
        prompter = ScriptPrompter()
        lines: list[str] = []
        conversation = Conversation(
            http=bot.http, bot_url=bot.url, slack=bot.slack, slack_url=bot.slack_server.url,
            requests=SlackRequests(
                slack_requests.SIGNING_SECRET, issue_trigger_id=bot.slack.issue_trigger_id
            ), user=ADMIN, channel=CHANNEL,
            prompter=prompter, out=lines.append, channel_names={"C0NOTIFY": "builds"}, quiet=0.2,
        )  # fmt: skip
        yield conversation, prompter
        conversation.close()


async def test_command_replies_and_channel_posts_are_rendered_with_numbered_buttons(
    console: tuple[Conversation, ScriptPrompter],
) -> None:
    """The response_url reply and the channel post both appear, with distinct button numbers."""
    conversation, _ = console
    await conversation.command("/t")
    assert await conversation.wait_for_text("[#builds] StreamOps:", 5)
    shown = conversation.since_mark()
    assert "[only you] StreamOps:\n*Keynote*\n  [1] Delete  [2] Rename" in shown
    assert "[#builds] StreamOps:\n*Keynote*\n  [3] Delete  [4] Rename" in shown
    assert sorted(conversation.buttons) == [1, 2, 3, 4]


async def test_click_with_confirm_sends_signed_block_actions_and_replaces_the_message(
    console: tuple[Conversation, ScriptPrompter],
) -> None:
    """Declining the confirm sends nothing; accepting sends the click and the reply replaces it."""
    conversation, prompter = console
    await conversation.command("/t")
    prompter.answers.append("n")
    await conversation.click("1")
    assert conversation.since_mark().endswith("(cancelled)") and SEEN == []
    await conversation.click("1")
    assert await conversation.wait_for_text("Deleted v1", 5)
    body = SEEN[0]
    assert body["user"]["id"] == ADMIN.id and body["actions"][0]["value"] == "v1"
    assert body["container"]["is_ephemeral"] is True
    assert "[only you] StreamOps (edited):" in conversation.since_mark()
    assert (
        1 not in conversation.buttons and 2 not in conversation.buttons
    )  # the old message is gone


async def test_modal_becomes_prompts_then_a_view_submission(
    console: tuple[Conversation, ScriptPrompter],
) -> None:
    """A click that opens a modal asks for each input and submits the answers as Slack would."""
    conversation, prompter = console
    await conversation.command("/t")
    await conversation.wait_for_text("[#builds]", 5)
    prompter.answers.append("Keynote 2026")
    await conversation.click("Rename")  # the newest one: the channel message's
    assert await conversation.wait_for_text("Renamed to Keynote 2026", 5)
    click, submission = SEEN
    assert click["channel"]["id"] == "C0NOTIFY" and click["container"]["is_ephemeral"] is False
    assert submission["view"]["private_metadata"] == "v1"
    assert "┌ Rename" in conversation.since_mark()


async def test_script_runner_reports_missing_modal_answer_and_bad_click(
    console: tuple[Conversation, ScriptPrompter],
) -> None:
    """A modal without an `answer:` and a click on no such button both fail naming the line."""
    conversation, prompter = console
    steps = parse_script("/t\nclick: Rename\n", "m.txt")
    with pytest.raises(
        ScriptFailed, match=r"m.txt:2: a modal asks `New title:` and the script has no `answer:`"
    ):
        await run_script(steps, conversation, prompter, name="m.txt")
    with pytest.raises(ScriptFailed, match=r"x.txt:1: `click: Publish`: no button `Publish`"):
        await run_script(parse_script("click: Publish"), conversation, prompter, name="x.txt")


async def test_thread_replies_are_indented_under_their_parent_with_local_dates(
    console: tuple[Conversation, ScriptPrompter], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reply names its thread and is indented; its date token is in this machine's zone."""
    import time

    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    try:
        conversation, _ = console
        await conversation.command("/t")
        assert await conversation.wait_for_text("Published at", 15)
    finally:
        monkeypatch.undo()
        time.tzset()
    shown = conversation.since_mark()
    assert (
        "  ↳ [#builds] StreamOps, in the thread of “Transcode *done*”:\n"
        "    Published at 2025-12-02 03:00"
    ) in shown


def test_unknown_command_is_answered_like_slack_without_bolt_advice(tmp_path: Path) -> None:
    """An unknown slash command gets Slack's one line; Bolt's code snippet never shows."""
    import os
    import subprocess
    import sys

    script = tmp_path / "unknown.txt"
    script.write_text("/nonsense foo\nexpect: /nonsense is not a valid command\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "STREAMOPS_"))}
    env["PYTHONPATH"] = str(WALKTHROUGH.parents[2])
    result = subprocess.run(
        [sys.executable, "-m", "bot", "demo", "--script", str(script)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "[only you] Slackbot: /nonsense is not a valid command." in result.stdout
    for advice in ("Unhandled request", "@app.command", "Suggestion"):
        assert advice not in result.stdout + result.stderr


def test_screen_redraws_the_prompt_below_a_notification() -> None:
    """Output arriving at a waiting prompt clears its line; redraw puts prompt and typing back."""
    import io

    terminal = io.StringIO()
    screen = Screen(terminal, tty=True, typed=lambda: "/build pro")
    screen.write("before")
    screen.redraw()  # nothing is waiting: nothing to draw
    screen.waiting("\nadmin> ")
    screen.write("[#ops] StreamOps:")
    screen.write("  Build approved")
    screen.redraw()
    screen.redraw()  # already on screen
    assert terminal.getvalue() == (
        "before\n\r\x1b[K[#ops] StreamOps:\n  Build approved\nadmin> /build pro"
    )
    piped = io.StringIO()
    screen = Screen(piped, tty=False, typed=lambda: "")
    screen.waiting("\nviewer> ")
    screen.write("notice")
    screen.redraw()
    screen.waiting(None)
    screen.write("after")
    assert piped.getvalue() == "\nnotice\nviewer> after\n"


def test_interactive_console_redraws_the_prompt_after_a_notification(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While the console waits for a line, a pipeline notification prints and the prompt returns."""
    import io

    from bot.demo.console import run_demo

    out = io.StringIO()
    lines = iter(["/build upload showroom https://builds.example.com/v3.zip"])

    async def read(prompt: str) -> str:
        line = next(lines, None)
        if line is not None:
            return line
        for _ in range(600):  # the next line comes after the notifications (30 s at most)
            if "Downloading files" in out.getvalue():
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(1.5)
        return "quit"

    monkeypatch.chdir(tmp_path)
    assert asyncio.run(run_demo(read=read, pace=0.02, stream=out)) == 0
    text = out.getvalue()
    assert "Downloading files" in text
    after = text[text.index("Downloading files") :]
    assert "\nadmin> " in after  # the prompt came back below the notification
