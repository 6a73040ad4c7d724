"""Slash-command routing: parse, ack at once, authorize, run, answer in words.

Every slash command (``/build``, ``/media``, ``/live``, ``/audit``,
``/streamops``) is a :class:`CommandRouter` whose subcommands are plain
async functions. The router acks well within Slack's deadline: a malformed
command is answered in the ack itself (ephemeral usage); a valid one runs once
its delivery claim is won, and its first answer is the ack body when it is ready
within :data:`handlers.ack_answer.ANSWER_IN_ACK_SECONDS` (else the ack leaves
empty then, and the answer is posted through ``respond``). While the event loop
runs late (:func:`handlers.ack_answer.answers_in_ack`), it acks empty first.
User-facing errors become ephemeral messages; provider errors are shown in
the provider's words; anything unexpected is logged and answered politely.
"""

from __future__ import annotations

import logging
import shlex
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.ack_runner import claim_before_answer
from bot.container import Container
from bot.errors import InvalidInput, ProviderError, UserFacingError
from bot.services.governance import FrozenError
from handlers.ack_answer import AckAnswer, answers_in_ack, run_answering_in_ack
from handlers.blocks.approvals import frozen_refusal
from handlers.blocks.parts import code, esc
from handlers.intake import MAX_COMMAND_TEXT
from handlers.slack_errors import slack_error_code, slack_error_text

log = logging.getLogger("streamops.commands")

PROVIDER_NAMES = {
    "streampixel": "Streampixel",
    "streamstack": "StreamStack",
    "streamapi": "StreamAPI",
}


@dataclass(frozen=True)
class Invocation:
    """One parsed slash command."""

    command: str
    subcommand: str
    args: list[str]
    user_id: str
    user_name: str
    team_id: str
    channel_id: str
    trigger_id: str
    response_url: str
    correlation_id: str
    raw_text: str

    @classmethod
    def parse(cls, body: dict[str, Any]) -> Invocation:
        """Split the command text shell-style; raises :class:`InvalidInput` on bad quoting."""
        text = str(body.get("text") or "").strip()
        try:
            words = shlex.split(text)
        except ValueError as exc:
            raise InvalidInput(f"could not read the arguments ({exc})") from None
        return cls(
            command=str(body.get("command", "")),
            subcommand=words[0].lower() if words else "",
            args=words[1:],
            user_id=str(body.get("user_id", "")),
            user_name=str(body.get("user_name", "")),
            team_id=str(body.get("team_id", "")),
            channel_id=str(body.get("channel_id", "")),
            trigger_id=str(body.get("trigger_id", "")),
            response_url=str(body.get("response_url", "")),
            correlation_id=uuid.uuid4().hex,
            raw_text=text,
        )


SubcommandFn = Callable[[Invocation, Container, AsyncRespond, AsyncWebClient], Awaitable[None]]


@dataclass(frozen=True)
class Subcommand:
    """A subcommand: its usage line, a one-line summary and the function that runs it."""

    name: str
    usage: str
    summary: str
    run: SubcommandFn
    min_args: int = 0
    max_args: int | None = None


@dataclass
class CommandRouter:
    """The subcommands of one slash command.

    Attributes:
        command: e.g. ``"/build"``.
        summary: one line for ``/streamops help``.
        default: the subcommand run when the text is empty (``help`` if None).
    """

    command: str
    summary: str
    default: str | None = None
    subcommands: dict[str, Subcommand] = field(default_factory=dict)

    def sub(
        self, name: str, usage: str, summary: str, *, min_args: int = 0, max_args: int | None = None
    ) -> Callable[[SubcommandFn], SubcommandFn]:
        """Decorator adding a subcommand. ``usage`` is the text after the command name."""

        def decorate(fn: SubcommandFn) -> SubcommandFn:
            self.add(Subcommand(name, usage, summary, fn, min_args, max_args))
            return fn

        return decorate

    def add(self, *subcommands: Subcommand) -> None:
        """Add subcommands (their listener functions live at module level)."""
        for sub in subcommands:
            self.subcommands[sub.name] = sub

    def usage(self) -> str:
        """Usage of every subcommand, one per line (mrkdwn)."""
        lines = [f"*{self.command}* — {self.summary}"]
        for sub in self.subcommands.values():
            lines.append(f"• {code(f'{self.command} {sub.usage}')} — {sub.summary}")
        if "help" not in self.subcommands:
            lines.append(f"• `{self.command} help` — this list")
        return "\n".join(lines)

    def usage_of(self, name: str) -> str:
        """The usage line of one subcommand."""
        return f"Usage: {code(f'{self.command} {self.subcommands[name].usage}')}"

    def check(self, inv: Invocation) -> Subcommand | str:
        """The subcommand to run, or the ephemeral text that answers a bad invocation."""
        name = inv.subcommand or self.default or "help"
        if name == "help" and "help" not in self.subcommands:
            return self.usage()
        sub = self.subcommands.get(name)
        if sub is None and self.default and "=" in name:
            # `/audit user=U1 since=7d`: the text is the default subcommand's arguments
            return self.subcommands[self.default]
        if sub is None:
            return f"Unknown subcommand {code(name)}.\n{self.usage()}"
        if inv.args and inv.args[0].lower() == "help":
            return f"{self.usage_of(name)}\n{sub.summary}"
        if len(inv.args) < sub.min_args:
            return f"{code(f'{self.command} {name}')} needs more arguments. {self.usage_of(name)}"
        if sub.max_args is not None and len(inv.args) > sub.max_args:
            extra = " ".join(inv.args[sub.max_args :])
            return f"Unexpected argument {code(extra)}. {self.usage_of(name)}"
        return sub

    def register(self, app: AsyncApp, container: Container) -> None:
        """Attach the router to ``app`` as the listener of :attr:`command`."""

        async def listener(
            ack: AsyncAck,
            body: dict[str, Any],
            respond: AsyncRespond,
            client: AsyncWebClient,
            context: AsyncBoltContext,
        ) -> None:
            if len(str(body.get("text") or "")) > MAX_COMMAND_TEXT:
                # Before any parsing: shlex on megabytes of text would stall the event loop.
                await ack(text=f"That is more than {MAX_COMMAND_TEXT} characters.\n{self.usage()}")
                return
            try:
                inv = Invocation.parse(body)
            except InvalidInput as exc:
                await ack(text=f"{exc}.\n{self.usage()}")
                return
            target = self.check(inv)
            if isinstance(target, str):
                await ack(text=target)
                return
            if not answers_in_ack(context.get("listener_runner")):
                await ack()  # at once (the claim is settled after it); the answer is a post
                await run_safely(target.run(inv, container, respond, client), respond, context=inv)
                return
            await claim_before_answer(ack)
            answer = AckAnswer(ack, respond)
            work = run_safely(target.run(inv, container, answer, client), answer, context=inv)
            await run_answering_in_ack(work, answer)

        app.command(self.command)(listener)


async def run_safely(
    work: Awaitable[None], respond: AsyncRespond, *, context: Invocation | None = None
) -> None:
    """Await ``work``; turn any failure into an ephemeral message instead of a stack trace.

    The message never replaces the one a button was clicked on (the buttons stay usable).
    """
    try:
        await work
    except FrozenError as exc:
        blocks = frozen_refusal(
            str(exc),
            may_override=exc.may_override,
            action=exc.action,
            project_id=exc.project_id,
            subject=exc.subject,
        )
        await respond(
            text=str(exc), blocks=blocks, response_type="ephemeral", replace_original=False
        )
    except UserFacingError as exc:
        await respond(text=f":warning: {exc}", response_type="ephemeral", replace_original=False)
    except ProviderError as exc:
        await respond(
            text=f":x: {provider_error_text(exc)}",
            response_type="ephemeral",
            replace_original=False,
        )
    except SlackApiError as exc:
        log.warning("Slack refused a call: %s", slack_error_code(exc))
        await respond(
            text=f":x: {slack_error_text(exc)}",
            response_type="ephemeral",
            replace_original=False,
        )
    except Exception:
        ref = context.correlation_id[:8] if context else uuid.uuid4().hex[:8]
        log.exception("command failed (ref %s)", ref)
        await respond(
            text=f":x: Something went wrong on our side (ref `{ref}`). It has been logged.",
            response_type="ephemeral",
            replace_original=False,
        )


def provider_error_text(exc: ProviderError) -> str:
    """A provider error in words: who said what, and when to retry if known."""
    name = PROVIDER_NAMES.get(exc.provider, exc.provider)
    text = f"{name} said: {esc(exc.message)}"
    retry_after = getattr(exc, "retry_after", None)
    if retry_after:
        text += f" (try again in {int(retry_after)} s)"
    return text


@dataclass(frozen=True)
class Routers:
    """The five slash commands; feature modules add their subcommands to them."""

    build: CommandRouter
    media: CommandRouter
    live: CommandRouter
    audit: CommandRouter
    streamops: CommandRouter

    def all(self) -> tuple[CommandRouter, ...]:
        """Every router, in the order help lists them."""
        return (self.build, self.media, self.live, self.audit, self.streamops)


def make_routers() -> Routers:
    """Empty routers for the five commands."""
    return Routers(
        build=CommandRouter("/build", "Streampixel builds"),
        media=CommandRouter("/media", "StreamStack videos"),
        live=CommandRouter("/live", "StreamAPI live sessions"),
        audit=CommandRouter("/audit", "who did what (admins)", default="query"),
        streamops=CommandRouter("/streamops", "help, roles, subscriptions"),
    )
