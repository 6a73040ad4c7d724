"""A slash command's answer in its ack when it is ready in time (``handlers.ack_answer``)."""

from __future__ import annotations

import asyncio

import pytest
from slack_bolt.async_app import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.ack_runner import PostAckRunner
from bot.container import Container
from handlers import ack_answer
from handlers.router import CommandRouter, Invocation
from tests.harness import Bot


class Probe:
    """A ``/probe`` command whose subcommands answer fast, late, twice, in place or not at all."""

    def __init__(self, bot: Bot) -> None:
        self.release = asyncio.Event()
        self.finished = asyncio.Event()
        router = CommandRouter("/probe", "a probe")

        @router.sub("fast", "fast", "answers at once")
        async def fast(
            _i: Invocation, _c: Container, respond: AsyncRespond, _: AsyncWebClient
        ) -> None:
            await respond(
                text="fast <answer> & co",
                blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": "*fast*"}}],
                response_type="in_channel",
            )

        @router.sub("late", "late", "answers once released")
        async def late(
            _i: Invocation, _c: Container, respond: AsyncRespond, _: AsyncWebClient
        ) -> None:
            await self.release.wait()
            await respond(text="late answer", response_type="ephemeral")
            self.finished.set()

        @router.sub("twice", "twice", "answers, then says more")
        async def twice(
            _i: Invocation, _c: Container, respond: AsyncRespond, _: AsyncWebClient
        ) -> None:
            await respond(text="first", response_type="ephemeral")
            await respond(text="second", response_type="ephemeral")

        @router.sub("edit", "edit", "replaces the original message")
        async def edit(
            _i: Invocation, _c: Container, respond: AsyncRespond, _: AsyncWebClient
        ) -> None:
            await respond(text="edited", replace_original=True)

        @router.sub("quiet", "quiet", "says nothing")
        async def quiet(_i: Invocation, _c: Container, _r: AsyncRespond, _: AsyncWebClient) -> None:
            self.finished.set()

        router.register(bot.bolt, bot.container)


def posts(bot: Bot) -> list[dict[str, object]]:
    """What the bot posted to response_url itself (not what Slack showed from an ack)."""
    return [c for c in bot.slack.calls_to("response_url") if not c.get("_in_ack")]


async def test_a_ready_answer_is_the_ack_body_and_nothing_is_posted(bot: Bot) -> None:
    """Text, blocks and response_type travel in the ack; the response_url is not used."""
    Probe(bot)
    response = await bot.command("/probe", "fast")
    assert response.status_code == 200
    body = response.json()
    assert body["text"] == "fast <answer> & co"
    assert body["response_type"] == "in_channel"
    assert body["blocks"][0]["text"]["text"] == "*fast*"
    await asyncio.sleep(0.2)
    assert posts(bot) == []
    [shown] = bot.slack.calls_to("response_url")
    assert shown["_in_ack"] is True and bot.slack.refusals() == []


async def test_an_answer_later_than_the_deadline_acks_empty_first(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past ``ANSWER_IN_ACK_SECONDS`` the ack leaves empty; the answer is posted when ready."""
    monkeypatch.setattr(ack_answer, "ANSWER_IN_ACK_SECONDS", 0.05)
    probe = Probe(bot)
    response = await asyncio.wait_for(bot.command("/probe", "late"), 5)
    assert (response.status_code, response.text) == (200, "")
    assert not probe.finished.is_set()  # the ack did not wait for the work
    probe.release.set()
    await bot.slack.wait_for(lambda s: bool(s.calls_to("response_url")))
    [posted] = posts(bot)
    assert posted["text"] == "late answer"


async def test_a_second_answer_is_posted_after_the_first_in_the_ack(bot: Bot) -> None:
    """Only the first answer can ride on the ack; the next one is a response_url post."""
    Probe(bot)
    response = await bot.command("/probe", "twice")
    assert response.json()["text"] == "first"
    await bot.slack.wait_for(lambda s: len(s.calls_to("response_url")) == 2)
    assert [p["text"] for p in posts(bot)] == ["second"]


async def test_an_edit_is_never_an_ack_body(bot: Bot) -> None:
    """``replace_original`` needs a response_url post: the ack is empty."""
    Probe(bot)
    response = await bot.command("/probe", "edit")
    assert (response.status_code, response.text) == (200, "")
    await bot.slack.wait_for(lambda s: bool(s.calls_to("response_url")))
    [posted] = posts(bot)
    assert posted["text"] == "edited" and posted["replace_original"] is True


async def test_a_command_that_says_nothing_is_acked_empty(bot: Bot) -> None:
    """No answer: an empty ack as soon as the subcommand ends."""
    probe = Probe(bot)
    response = await bot.command("/probe", "quiet")
    assert (response.status_code, response.text) == (200, "")
    assert probe.finished.is_set()
    assert bot.slack.calls_to("response_url") == []


async def test_help_is_answered_in_the_ack(bot: Bot) -> None:
    """``/streamops help`` needs no I/O: its usage list is the ack body."""
    response = await bot.command("/streamops", "help")
    body = response.json()
    assert body["response_type"] == "ephemeral" and "*/build*" in body["text"]
    await asyncio.sleep(0.1)
    assert posts(bot) == []


async def test_while_the_loop_runs_late_the_ack_leaves_before_the_work(bot: Bot) -> None:
    """With the lag-driven cap lowered (the loop ran late), the answer is posted after an
    empty ack: no request is held open for work the process is behind on."""
    runner = bot.bolt._async_listener_runner
    assert isinstance(runner, PostAckRunner)
    runner.limit.value = runner.limit.ceiling // 2
    Probe(bot)
    response = await bot.command("/probe", "fast")
    assert (response.status_code, response.text) == (200, "")
    await bot.slack.wait_for(lambda s: bool(s.calls_to("response_url")))
    [posted] = posts(bot)
    assert posted["text"] == "fast <answer> & co" and posted["response_type"] == "in_channel"
