"""Scripted conversations: ``streamops demo --script FILE``.

One step per line; blank lines and ``#`` comments are skipped::

    as: viewer                  type as another user (admin, releaser, viewer or a Slack id)
    /build projects             send a slash command
    expect: Showroom Demo       the replies to the last command or click contain this
    click: Distribute           click the newest shown button with this label (or number)
    answer: v1.2.0              the next modal input or confirm dialog gets this answer
    wait: Approved              wait (longer) for a notification containing this

Confirm dialogs are accepted unless an ``answer: n`` precedes the click.
The run stops at the first expectation that is not met, naming it.
"""

from __future__ import annotations

import collections
from dataclasses import dataclass

from bot.demo.conversation import Conversation
from bot.demo.users import resolve_user
from bot.errors import InvalidInput, UserFacingError

DIRECTIVES = ("as", "expect", "click", "answer", "wait")


class ScriptFailed(UserFacingError):
    """A scripted conversation did not go as written (names the file, line and step)."""


@dataclass(frozen=True)
class Step:
    """One line of a script."""

    line_no: int
    kind: str
    arg: str

    @property
    def source(self) -> str:
        """The step as it was written."""
        return self.arg if self.kind == "command" else f"{self.kind}: {self.arg}"


def parse_script(text: str, name: str = "script") -> list[Step]:
    """The steps of a script.

    Raises:
        ScriptFailed: naming the first line that is not a step.
    """
    steps: list[Step] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("/"):
            steps.append(Step(number, "command", line))
            continue
        kind, sep, arg = line.partition(":")
        kind = kind.strip().lower()
        if not sep or kind not in DIRECTIVES or not arg.strip():
            raise ScriptFailed(
                f"{name}:{number}: cannot read `{line}`; a step is a /command or one of "
                + ", ".join(f"`{d}: …`" for d in DIRECTIVES)
            )
        steps.append(Step(number, kind, arg.strip()))
    return steps


class ScriptPrompter:
    """Answers confirm dialogs and modal inputs from the script's ``answer:`` lines."""

    def __init__(self) -> None:
        self.answers: collections.deque[str] = collections.deque()

    async def confirm(self, question: str) -> bool:
        """The next queued answer (``y`` when none is queued)."""
        answer = self.answers.popleft() if self.answers else "y"
        return answer.strip().lower() in ("y", "yes")

    async def answer(self, question: str, default: str) -> str:
        """The next queued answer, else the pre-filled value.

        Raises:
            ScriptFailed: when neither exists.
        """
        if self.answers:
            return self.answers.popleft()
        if default:
            return default
        raise ScriptFailed(
            f"a modal asks `{question.strip()}` and the script has no `answer:` for it"
        )


async def run_script(
    steps: list[Step],
    conversation: Conversation,
    prompter: ScriptPrompter,
    *,
    name: str = "script",
    reply_within: float = 5.0,
    wait_within: float = 30.0,
) -> None:
    """Play ``steps`` against the running bot.

    Args:
        steps: from :func:`parse_script`.
        conversation: the conversation to drive; its prompter must be ``prompter``.
        prompter: receives the ``answer:`` lines.
        name: the script's name, for messages.
        reply_within: seconds an ``expect:`` waits for its text.
        wait_within: seconds a ``wait:`` waits for its text.

    Raises:
        ScriptFailed: at the first step that fails, naming it.
    """
    last_action = "the start"
    for step in steps:
        where = f"{name}:{step.line_no}"
        try:
            if step.kind == "command":
                await conversation.command(step.arg)
                last_action = f"`{step.arg}`"
            elif step.kind == "click":
                await conversation.click(step.arg)
                last_action = f"clicking `{step.arg}`"
            elif step.kind == "as":
                conversation.user = resolve_user(step.arg)
                conversation.out(f"(now typing as {conversation.user.name})")
            elif step.kind == "answer":
                prompter.answers.append(step.arg)
            else:
                within = reply_within if step.kind == "expect" else wait_within
                if not await conversation.wait_for_text(step.arg, within):
                    raise ScriptFailed(
                        f"expected a reply containing “{step.arg}” after {last_action}, "
                        f"but it did not appear within {within:g} s"
                    )
        except ScriptFailed as exc:
            raise ScriptFailed(f"{where}: {exc}") from None
        except InvalidInput as exc:
            raise ScriptFailed(f"{where}: `{step.source}`: {exc}") from None
