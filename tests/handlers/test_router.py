"""Slash-command routing: usage in the ack, work after it, errors in words."""

from __future__ import annotations

from slack_bolt.async_app import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.container import Container
from bot.errors import InvalidInput, RateLimited
from handlers.router import CommandRouter, Invocation
from tests.harness import Bot


def _probe_router(bot: Bot) -> list[Invocation]:
    seen: list[Invocation] = []
    router = CommandRouter("/probe", "a probe")

    @router.sub("echo", "echo <word> [more]", "say it back", min_args=1, max_args=2)
    async def echo(
        inv: Invocation, _c: Container, respond: AsyncRespond, _: AsyncWebClient
    ) -> None:
        seen.append(inv)
        await respond(text=" ".join(inv.args))

    @router.sub("bad", "bad", "refuses")
    async def bad(inv: Invocation, _c: Container, respond: AsyncRespond, _: AsyncWebClient) -> None:
        raise InvalidInput("that value is wrong")

    @router.sub("slow", "slow", "provider says wait")
    async def slow(
        inv: Invocation, _c: Container, respond: AsyncRespond, _: AsyncWebClient
    ) -> None:
        raise RateLimited(
            "streampixel", "Rate limit exceeded. Try again in 2 minutes.", retry_after=120
        )

    @router.sub("boom", "boom", "crashes")
    async def boom(
        inv: Invocation, _c: Container, respond: AsyncRespond, _: AsyncWebClient
    ) -> None:
        raise RuntimeError("internal detail that must not leak")

    router.register(bot.bolt, bot.container)
    return seen


async def test_subcommand_parses_quoted_words_and_answers(bot: Bot) -> None:
    """A valid subcommand runs with its words split shell-style; its answer reaches the user."""
    seen = _probe_router(bot)
    response = await bot.command("/probe", 'echo "hello there" again')
    assert response.status_code == 200
    await bot.slack.wait_for(lambda s: bool(s.calls_to("response_url")))
    assert seen[0].args == ["hello there", "again"]
    assert bot.slack.calls_to("response_url")[0]["text"] == "hello there again"


async def test_with_answers_after_the_ack_the_ack_is_empty_and_the_answer_posted(
    bot: Bot, answers_after_ack: None
) -> None:
    """``ANSWER_IN_ACK_SECONDS`` 0: the ack is empty and the answer is a response_url post."""
    _probe_router(bot)
    response = await bot.command("/probe", "echo hi")
    assert (response.status_code, response.text) == (200, "")
    await bot.slack.wait_for(lambda s: bool(s.calls_to("response_url")))
    [posted] = bot.slack.calls_to("response_url")
    assert posted["text"] == "hi" and "_in_ack" not in posted


async def test_unknown_subcommand_is_answered_in_the_ack_with_usage(bot: Bot) -> None:
    """An unknown subcommand gets an ephemeral usage message naming it, and runs nothing."""
    seen = _probe_router(bot)
    response = await bot.command("/probe", "ehco hi")
    assert response.status_code == 200
    assert "Unknown subcommand `ehco`" in response.text
    assert "/probe echo &lt;word&gt; [more]" in response.text  # Slack shows <word>
    assert seen == []


async def test_argument_count_is_checked(bot: Bot) -> None:
    """Too few or too many arguments name the problem and the right usage."""
    _probe_router(bot)
    few = await bot.command("/probe", "echo")
    assert "needs more arguments" in few.text and "Usage: `/probe echo" in few.text
    many = await bot.command("/probe", "echo a b c")
    assert "Unexpected argument `c`" in many.text


async def test_unbalanced_quote_is_a_usage_error(bot: Bot) -> None:
    """Text that cannot be split shell-style is refused with a reason."""
    _probe_router(bot)
    response = await bot.command("/probe", 'echo "open')
    assert "could not read the arguments" in response.text


async def test_errors_become_words_not_stack_traces(bot: Bot) -> None:
    """User errors, provider errors and crashes each answer ephemerally in words."""
    _probe_router(bot)
    for text in ("bad", "slow", "boom"):
        await bot.command("/probe", text)
    await bot.slack.wait_for(lambda s: len(s.calls_to("response_url")) == 3)
    replies = [c["text"] for c in bot.slack.calls_to("response_url")]
    assert ":warning: that value is wrong" in replies
    assert (
        ":x: Streampixel said: Rate limit exceeded. Try again in 2 minutes. (try again in 120 s)"
        in replies
    )
    crash = next(r for r in replies if "Something went wrong" in r)
    assert "internal detail" not in crash
    assert all(c["response_type"] == "ephemeral" for c in bot.slack.calls_to("response_url"))


async def test_streamops_help_lists_every_command(bot: Bot) -> None:
    """`/streamops help` answers with the usage of the registered commands."""
    await bot.command("/streamops", "help")
    await bot.slack.wait_for(lambda s: bool(s.calls_to("response_url")))
    text = bot.slack.calls_to("response_url")[0]["text"]
    assert "/streamops help" in text
