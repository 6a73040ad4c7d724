"""The demo's terminal: type slash commands as a Slack user, click buttons by number.

:func:`run_demo` starts everything (:mod:`bot.demo.stack`) and then either
plays a script (:mod:`bot.demo.script`) or reads the keyboard. Bot messages,
``response_url`` replies and webhook notifications are printed as they arrive.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import sys
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TextIO

import httpx

from bot.demo.conversation import Conversation, Prompter
from bot.demo.script import ScriptFailed, ScriptPrompter, parse_script, run_script
from bot.demo.stack import CHANNEL, DemoStack, run_demo_stack
from bot.demo.users import DemoUser, resolve_user
from bot.errors import UserFacingError

Reader = Callable[[str], Awaitable[str]]

HELP = """\
Type a slash command as you would in Slack, e.g. /streamops help, /build projects, /media list.
  <number>            click the button shown as [number]
  click <label>       click the newest button with that label
  as admin|releaser|viewer|U…
                      type as another user (admin may do everything, releaser may release
                      builds, viewer holds no role)
  help                this text
  quit                stop the demo (Ctrl-D works too)
Notifications from the simulated providers appear here as they arrive."""


class TerminalPrompter:
    """Asks confirm dialogs and modal inputs at the keyboard."""

    def __init__(self, read: Reader) -> None:
        self.read = read

    async def confirm(self, question: str) -> bool:
        """True only for an explicit yes."""
        return (await self.read(question)).strip().lower() in ("y", "yes")

    async def answer(self, question: str, default: str) -> str:
        """The typed value, or ``default`` for an empty line."""
        shown = f"{question.rstrip(': ')} [{default}]: " if default else question
        return (await self.read(shown)).strip() or default


class Screen:
    """The chat as printed lines, with the prompt kept at the bottom.

    While a prompt waits for a line, output that arrives (a notification) first clears
    the prompt line (on a terminal; elsewhere it starts a new line), and :meth:`redraw`
    prints the prompt again afterwards, with whatever was typed so far.

    Args:
        stream: where to print.
        tty: whether ``stream`` is a terminal (asked when not given).
        typed: what has been typed at the prompt so far.
    """

    def __init__(
        self,
        stream: TextIO | None = None,
        *,
        tty: bool | None = None,
        typed: Callable[[], str] | None = None,
    ) -> None:
        self.stream = stream or sys.stdout
        self.tty = self.stream.isatty() if tty is None else tty
        self.typed = typed or _typed_so_far
        self.prompt: str | None = None
        self._prompt_shown = False

    def waiting(self, prompt: str | None) -> None:
        """``prompt`` is on screen and waits for a line (None: it was answered)."""
        self.prompt = prompt
        self._prompt_shown = prompt is not None

    def write(self, line: str) -> None:
        """Print one line of chat above the prompt."""
        if self._prompt_shown:
            self.stream.write("\r\x1b[K" if self.tty else "\n")
            self._prompt_shown = False
        self.stream.write(line + "\n")
        self.stream.flush()

    def redraw(self) -> None:
        """Print the waiting prompt again below new output."""
        if self.prompt is None or self._prompt_shown:
            return
        self.stream.write(self.prompt.lstrip("\n") + self.typed())
        self.stream.flush()
        self._prompt_shown = True


def _typed_so_far() -> str:
    readline = sys.modules.get("readline")
    if readline is None:
        return ""
    try:
        return str(readline.get_line_buffer())
    except (AttributeError, OSError):
        return ""


class KeyboardReader:
    """``input()`` on a daemon thread, so waiting for a line never blocks the event loop.

    A daemon thread also lets Ctrl-C end the program while a prompt is open.
    """

    def __init__(self) -> None:
        self._prompts: queue.Queue[str] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._waiting: asyncio.Future[str] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def __call__(self, prompt: str) -> str:
        """Show ``prompt`` and return the next line; raises ``EOFError`` at end of input."""
        self._loop = asyncio.get_running_loop()
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="demo-keyboard", daemon=True)
            self._thread.start()
        self._waiting = self._loop.create_future()
        self._prompts.put(prompt)
        return await self._waiting

    def _run(self) -> None:
        with contextlib.suppress(ImportError):
            import readline  # noqa: F401 (line editing and history for input())
        while True:
            prompt = self._prompts.get()
            try:
                line = input(prompt)
            except EOFError as exc:
                self._deliver(exc)
                return
            self._deliver(line)

    def _deliver(self, result: str | EOFError) -> None:
        loop, waiting = self._loop, self._waiting
        if loop is None or waiting is None:
            return

        def settle() -> None:
            if waiting.done():
                return
            if isinstance(result, EOFError):
                waiting.set_exception(result)
            else:
                waiting.set_result(result)

        loop.call_soon_threadsafe(settle)


async def _watch(conversation: Conversation, screen: Screen | None) -> None:
    while True:
        if await conversation.pump(1.0) and screen is not None:
            screen.redraw()


async def interactive(
    conversation: Conversation, read: Reader, screen: Screen | None = None
) -> int:
    """Read commands until ``quit`` or end of input; print what the bot does.

    Notifications that arrive while waiting for a line are printed above the prompt,
    which ``screen`` (when given) then redraws.
    """
    out = conversation.out
    out(HELP)
    while True:
        watcher = asyncio.create_task(_watch(conversation, screen))
        prompt = f"\n{conversation.user.name}> "
        if screen is not None:
            screen.waiting(prompt)
        try:
            line = (await read(prompt)).strip()
        except EOFError:
            return 0
        finally:
            if screen is not None:
                screen.waiting(None)
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
        try:
            if not line:
                continue
            if line in ("quit", "exit"):
                return 0
            if line == "help":
                out(HELP)
            elif line.startswith("/"):
                await conversation.command(line)
            elif line.isdigit():
                await conversation.click(line)
            elif line.startswith("click "):
                await conversation.click(line.removeprefix("click "))
            elif line.startswith("as "):
                conversation.user = resolve_user(line.removeprefix("as "))
                out(f"(now typing as {conversation.user.name} = {conversation.user.id})")
            else:
                out("(not a command; type help)")
        except UserFacingError as exc:
            out(f"({exc})")


def _conversation(
    stack: DemoStack, http: httpx.AsyncClient, user: DemoUser, prompter: Prompter, *, echo: bool,
    out: Callable[[str], None] = print,
) -> Conversation:  # fmt: skip
    return Conversation(
        out=out,
        http=http,
        bot_url=stack.bot_url,
        slack=stack.slack,
        slack_url=stack.slack_url,
        requests=stack.requests,
        user=user,
        channel=CHANNEL,
        prompter=prompter,
        echo=echo,
    )


async def run_demo(
    *,
    script: Path | None = None,
    user: str = "admin",
    database_url: str | None = None,
    pace: float = 1.0,
    reply_within: float = 5.0,
    read: Reader | None = None,
    stream: TextIO | None = None,
) -> int:
    """``streamops demo``: start everything, then play ``script`` or read the keyboard.

    Args:
        script: a scripted conversation to play instead of reading the keyboard.
        user: who types first (``admin``, ``viewer`` or a Slack user id).
        database_url: the bot's database (a fresh temporary SQLite file by default).
        pace: multiplies the simulated pipelines' stage durations.
        reply_within: seconds a script's ``expect:`` waits for its reply.
        read: reads one line after showing a prompt (the keyboard by default).
        stream: where the interactive console prints (standard output by default).

    Returns:
        0 on success; 1 when a script expectation fails; 2 for a bad argument or script.
    """
    try:
        first = resolve_user(user)
        text = await asyncio.to_thread(script.read_text) if script else None
        steps = parse_script(text, script.name) if script and text is not None else None
    except (UserFacingError, OSError) as exc:
        print(f"streamops demo: {exc}", file=sys.stderr)
        return 2
    async with (
        run_demo_stack(database_url, pace=pace) as stack,
        httpx.AsyncClient(timeout=30.0) as http,
    ):
        if steps is None:
            print(f"StreamOps demo: bot at {stack.bot_url}, fake Slack at {stack.slack_url}.")
            print("(`streamops demo --web` shows the same demo in a browser, looking like Slack.)")
            reader = read or KeyboardReader()
            screen = Screen(stream)
            conversation = _conversation(
                stack, http, first, TerminalPrompter(reader), echo=False, out=screen.write
            )
            try:
                return await interactive(conversation, reader, screen)
            finally:
                conversation.close()
        prompter = ScriptPrompter()
        conversation = _conversation(stack, http, first, prompter, echo=True)
        try:
            name = script.name if script else ""
            await run_script(steps, conversation, prompter, name=name, reply_within=reply_within)
        except ScriptFailed as exc:
            print(f"streamops demo: {exc}", file=sys.stderr)
            return 1
        finally:
            conversation.close()
        print(f"\nscript {script.name if script else ''} passed ({len(steps)} steps)")
        return 0
