"""One person talking to the running bot the way Slack would carry it.

:class:`Conversation` sends signed slash commands, button clicks and modal
submissions over HTTP to the bot's ``/slack/events`` and renders whatever
the bot sends back: the HTTP ack, ``response_url`` posts, ``chat.postMessage``,
``chat.update``, ``views.open`` (all seen through the fake Slack's listeners).
The interactive console and the script runner both drive it.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from bot.demo.render import (
    Button,
    confirm_prompt,
    modal_inputs,
    mrkdwn_to_text,
    render_message,
    render_modal,
)
from bot.demo.slack_payloads import SlackRequests
from bot.demo.users import DemoUser
from bot.errors import InvalidInput
from bot.sandbox.slack import FakeSlack, SlackCall

_VIEW_METHODS = ("views.open", "views.push", "views.update")


class Prompter(Protocol):
    """Asks the person at the console (or the script) a question."""

    async def confirm(self, question: str) -> bool:
        """A yes/no answer to a Slack ``confirm`` dialog."""
        ...

    async def answer(self, question: str, default: str) -> str:
        """The value for one modal input (``default`` when nothing is given)."""
        ...


@dataclass(frozen=True)
class Channel:
    """The channel the console types in."""

    id: str
    name: str


@dataclass(frozen=True)
class _MessageRef:
    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]]
    ephemeral: bool


class Conversation:
    """Sends what the user types to the bot and shows what the bot answers.

    Args:
        http: the client requests go out on.
        bot_url: base URL of the running bot.
        slack: the fake Slack the bot talks to (its listeners are used).
        slack_url: base URL of that fake Slack (``response_url``s point there).
        requests: builds the signed payloads.
        user: who is typing.
        channel: where they type.
        prompter: answers confirm dialogs and modal inputs.
        out: where rendered lines go (``print`` in the terminal).
        echo: also print what the user does (scripts; at the keyboard it was just typed).
        channel_names: channel id → name, for readable headings.
        quiet: seconds without new bot output after which a reply counts as complete.
        settle_limit: the longest :meth:`settle` waits.
    """

    def __init__(
        self, *, http: httpx.AsyncClient, bot_url: str, slack: FakeSlack, slack_url: str,
        requests: SlackRequests, user: DemoUser, channel: Channel, prompter: Prompter,
        out: Callable[[str], None] = print, echo: bool = True,
        channel_names: dict[str, str] | None = None, quiet: float = 0.4, settle_limit: float = 10.0,
    ) -> None:  # fmt: skip
        self.http = http
        self.bot_url = bot_url
        self.slack = slack
        self.slack_url = slack_url
        self.requests = requests
        self.user = user
        self.channel = channel
        self.prompter = prompter
        self.out = out
        self.echo = echo
        self.channel_names = {channel.id: channel.name, **(channel_names or {})}
        self.quiet = quiet
        self.settle_limit = settle_limit
        self.transcript: list[str] = []
        self.mark = 0
        self.buttons: dict[int, tuple[Button, _MessageRef]] = {}
        self._next_number = 1
        self._rids = itertools.count(1)
        self._inbox: list[SlackCall] = []
        self._arrived = asyncio.Event()
        self._origins: dict[str, _MessageRef] = {}
        self._seen_ts: set[tuple[str, str]] = set()
        self._views: list[dict[str, Any]] = []
        slack.listeners.append(self._on_call)

    def close(self) -> None:
        """Stop listening to the fake Slack."""
        with contextlib.suppress(ValueError):
            self.slack.listeners.remove(self._on_call)

    # -- what the user does -----------------------------------------------

    async def command(self, line: str) -> None:
        """Send ``/command text`` as a signed slash command and show the replies."""
        command, _, text = line.strip().partition(" ")
        self._begin(f"{self.user.name}> {line.strip()}")
        request = self.requests.slash_command(
            command, text.strip(), user_id=self.user.id, user_name=self.user.name,
            channel_id=self.channel.id, channel_name=self.channel.name,
            response_url=self._response_url(None),
        )  # fmt: skip
        unknown = f"{command} is not a valid command. (/streamops help lists StreamOps' commands.)"
        await self._post(request.body, request.headers, unknown=unknown)
        await self.settle()

    async def click(self, which: str) -> None:
        """Click a button by its number or its text (the newest match wins).

        Raises:
            InvalidInput: when no shown button matches.
        """
        button, message = self.find_button(which)
        self._begin(f"{self.user.name} clicks [{button.number}] {button.text}")
        if button.confirm and not await self.prompter.confirm(confirm_prompt(button.confirm)):
            self._show(["  (cancelled)"])
            return
        action = {
            "action_id": button.action_id,
            "block_id": button.block_id,
            "type": "button",
            "text": {"type": "plain_text", "text": button.text},
            "value": button.value,
        }
        if button.url:
            action["url"] = button.url
        message_json = {"ts": message.ts, "text": message.text, "blocks": message.blocks}
        request = self.requests.block_actions(
            user_id=self.user.id, user_name=self.user.name, channel_id=message.channel,
            message=message_json, action=action, response_url=self._response_url(message),
            is_ephemeral=message.ephemeral,
        )  # fmt: skip
        await self._post(request.body, request.headers)
        await self.settle()

    def find_button(self, which: str) -> tuple[Button, _MessageRef]:
        """The shown button numbered or labelled ``which``."""
        wanted = which.strip()
        if wanted.isdigit() and int(wanted) in self.buttons:
            return self.buttons[int(wanted)]
        newest_first = sorted(self.buttons.values(), key=lambda bm: -bm[0].number)
        for exact in (True, False):
            for button, message in newest_first:
                label = button.text.lower()
                if (label == wanted.lower()) if exact else (wanted.lower() in label):
                    return button, message
        raise InvalidInput(f"no button `{wanted}` on screen")

    # -- waiting for and showing the bot's output -------------------------

    def since_mark(self) -> str:
        """Everything shown since the user's last action."""
        return "\n".join(self.transcript[self.mark :])

    async def settle(self) -> None:
        """Show replies until the bot has been quiet for a moment; then fill opened modals."""
        deadline = time.monotonic() + self.settle_limit
        while time.monotonic() < deadline:
            if not await self.pump(min(self.quiet, max(0.0, deadline - time.monotonic()))):
                break
        while self._views:
            await self._fill_modal(self._views.pop(0))

    async def pump(self, within: float) -> bool:
        """Show whatever arrives within ``within`` seconds; False when nothing did."""
        if not self._inbox:
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), within)
        if not self._inbox:
            return False
        await asyncio.sleep(0)  # let the fake Slack finish storing the message first
        calls, self._inbox = self._inbox, []
        for call in calls:
            self._display(call)
        return True

    async def wait_for_text(self, needle: str, within: float) -> bool:
        """True once ``needle`` appears in the output since the last action."""
        deadline = time.monotonic() + within
        while needle.lower() not in self.since_mark().lower():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            await self.pump(min(remaining, 0.5))
        return True

    def _on_call(self, call: SlackCall) -> None:
        self._inbox.append(call)
        self._arrived.set()

    def _begin(self, heading: str) -> None:
        self.transcript.append(heading)
        self.mark = len(self.transcript)  # what the user typed never satisfies an expectation
        if self.echo:
            self.out(heading)

    def _show(self, lines: list[str]) -> None:
        self.transcript.extend(lines)
        for line in lines:
            self.out(line)

    def _render(
        self, heading: str, text: str, blocks: Any, ref: _MessageRef | None, indent: str = ""
    ) -> None:
        blocks = blocks if isinstance(blocks, list) else None
        rendered = render_message(text, blocks, self._next_number)
        self._next_number += len(rendered.buttons)
        for button in rendered.buttons:
            if ref is not None:
                self.buttons[button.number] = (button, ref)
        self._show([heading, *(indent + line for line in rendered.lines)])

    def _thread_heading(self, channel: str, where: str, thread_ts: str) -> str:
        """``  ↳ [#ops] StreamOps, in the thread of “Build … started”:``."""
        parent = self.slack.messages.get((channel, thread_ts))
        first = mrkdwn_to_text(parent.text).strip().split("\n")[0] if parent else ""
        summary = first if len(first) <= 60 else first[:59] + "…"
        of = f" of “{summary}”" if summary else ""
        return f"  ↳ [{where}] StreamOps, in the thread{of}:"

    def _display(self, call: SlackCall) -> None:
        p = call.payload
        channel = str(p.get("channel") or p.get("channel_id") or "")
        where = self._name(channel)
        if call.error is not None:
            self._show([f"  (Slack refused {call.method}: {call.error})"])
        elif call.method == "response_url":
            self._display_response(p)
        elif call.method == "chat.postMessage":
            ts = self._find_ts(channel, str(p.get("text") or ""))
            ref = _ref(p, channel, ts, ephemeral=False)
            thread_ts = str(p.get("thread_ts") or "")
            if thread_ts and thread_ts != ts:
                heading = self._thread_heading(channel, where, thread_ts)
                self._render(heading, ref.text, ref.blocks, ref if ts else None, indent="    ")
            else:
                self._render(f"[{where}] StreamOps:", ref.text, ref.blocks, ref if ts else None)
        elif call.method == "chat.update":
            ref = _ref(p, channel, str(p.get("ts", "")), ephemeral=False)
            self._forget(channel, ref.ts)
            self._render(f"[{where}] StreamOps (edited):", ref.text, ref.blocks, ref)
        elif call.method == "chat.postEphemeral":
            ref = _ref(p, channel, self._fake_ts(), ephemeral=True)
            self._render(f"[{where}] StreamOps (only you):", ref.text, ref.blocks, ref)
        elif call.method in _VIEW_METHODS:
            view = p.get("view")
            if isinstance(view, dict):
                self._views.append(view)
        elif call.method == "files.completeUploadExternal":
            titles = ", ".join(str(f.get("title") or f.get("id")) for f in p.get("files") or [])
            self._show([f"[{where}] StreamOps uploaded a file: {titles}"])

    def _display_response(self, p: dict[str, Any]) -> None:
        origin = self._origins.get(str(p.get("_response_id", "")))
        if p.get("delete_original") and origin is not None:
            self._forget(origin.channel, origin.ts)
            self._show(["  (message deleted)"])
            return
        in_channel = p.get("response_type") == "in_channel"
        replace = bool(p.get("replace_original")) and origin is not None
        if replace and origin is not None:
            self._forget(origin.channel, origin.ts)
            ts, ephemeral = origin.ts, origin.ephemeral
        else:
            ts, ephemeral = self._fake_ts(), not in_channel
        ref = _ref(p, self.channel.id, ts, ephemeral=ephemeral)
        who = "StreamOps (edited)" if replace else "StreamOps"
        where = "only you" if ephemeral else self._name(self.channel.id)
        self._render(f"[{where}] {who}:", ref.text, ref.blocks, ref)

    async def _post(
        self, body: bytes, headers: dict[str, str], unknown: str = ""
    ) -> httpx.Response:
        response = await self.http.post(
            f"{self.bot_url}/slack/events", content=body, headers=headers
        )
        if response.status_code == 404 and unknown:  # no listener: Slack itself would say so
            self._show([f"[only you] Slackbot: {unknown}"])
            return response
        if response.status_code != 200:
            self._show([f"  (the bot answered HTTP {response.status_code})"])
            return response
        if not response.content:
            return response
        if "json" not in response.headers.get("content-type", ""):
            # Bolt answers ack(text=...) as text/plain; Slack shows it to the user only.
            self._display_response({"text": response.text})
            return response
        with contextlib.suppress(ValueError):
            ack = response.json()
            if isinstance(ack, dict) and (ack.get("text") or ack.get("blocks")):
                self._display_response(ack)
            elif isinstance(ack, dict) and ack.get("response_action"):
                self._view_response(ack)
        return response

    def _view_response(self, ack: dict[str, Any]) -> None:
        if ack["response_action"] == "errors":
            for field_id, error in (ack.get("errors") or {}).items():
                self._show([f"  ✗ {field_id}: {error}"])
        elif ack["response_action"] in ("update", "push") and isinstance(ack.get("view"), dict):
            self._views.append(ack["view"])

    async def _fill_modal(self, view: dict[str, Any]) -> None:
        rendered = render_modal(view, self._next_number)
        self._next_number += len(rendered.buttons)
        self._show(rendered.lines)
        values: dict[str, Any] = {}
        for item in modal_inputs(view):
            choices = f" ({', '.join(t for t, _ in item.options)})" if item.options else ""
            answer = await self.prompter.answer(f"{item.label}{choices}: ", item.initial)
            values.setdefault(item.block_id, {})[item.action_id] = state_value(
                item.kind, answer, item.options
            )
        view_json = {**view, "id": view.get("id") or f"V{next(self._rids):08d}", "type": "modal"}
        request = self.requests.view_submission(
            user_id=self.user.id, user_name=self.user.name, view=view_json, values=values
        )
        self._show([f"  (submitted {self._title(view)})"])
        await self._post(request.body, request.headers)
        await self.settle()

    # -- bookkeeping -------------------------------------------------------

    def _response_url(self, origin: _MessageRef | None) -> str:
        rid = f"r{next(self._rids)}"
        if origin is not None:
            self._origins[rid] = origin
        return f"{self.slack_url}/response/{rid}"

    def _find_ts(self, channel: str, text: str) -> str:
        for message in self.slack.channel_messages(channel):
            key = (channel, message.ts)
            if key not in self._seen_ts and message.text == text:
                self._seen_ts.add(key)
                return message.ts
        return ""

    def _forget(self, channel: str, ts: str) -> None:
        for number, (_, message) in list(self.buttons.items()):
            if message.channel == channel and message.ts == ts:
                del self.buttons[number]

    def _fake_ts(self) -> str:
        return f"{int(time.time())}.{next(self._rids):06d}"

    def _name(self, channel: str) -> str:
        if channel.startswith("D") and channel not in self.channel_names:
            return "DM"
        return "#" + self.channel_names.get(channel, channel)

    @staticmethod
    def _title(view: dict[str, Any]) -> str:
        title = view.get("title")
        return str(title.get("text")) if isinstance(title, dict) else "modal"


def state_value(kind: str, answer: str, options: list[tuple[str, str]]) -> dict[str, Any]:
    """``view.state.values`` entry for one element, as Slack reports it."""
    if kind in ("static_select", "radio_buttons", "external_select"):
        text, value = _pick(answer, options)
        return {
            "type": kind,
            "selected_option": {"text": {"type": "plain_text", "text": text}, "value": value},
        }
    if kind == "checkboxes":
        picks = [_pick(part, options) for part in answer.split(",") if part.strip()]
        return {"type": kind, "selected_options": [_option(t, v) for t, v in picks]}
    if kind == "datepicker":
        return {"type": kind, "selected_date": answer or None}
    if kind == "timepicker":
        return {"type": kind, "selected_time": answer or None}
    if kind in ("users_select", "conversations_select", "channels_select"):
        key = {"users_select": "selected_user", "conversations_select": "selected_conversation"}
        return {"type": kind, key.get(kind, "selected_channel"): answer or None}
    return {"type": kind, "value": answer or None}


def _ref(p: dict[str, Any], channel: str, ts: str, *, ephemeral: bool) -> _MessageRef:
    blocks = p.get("blocks")
    return _MessageRef(
        channel, ts, str(p.get("text") or ""), blocks if isinstance(blocks, list) else [], ephemeral
    )


def _option(text: str, value: str) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": text}, "value": value}


def _pick(answer: str, options: list[tuple[str, str]]) -> tuple[str, str]:
    wanted = answer.strip()
    if wanted.isdigit() and 1 <= int(wanted) <= len(options):
        return options[int(wanted) - 1]
    for text, value in options:
        if wanted.lower() in (text.lower(), value.lower()):
            return text, value
    if options:
        names = ", ".join(t for t, _ in options)
        raise InvalidInput(f"`{wanted}` is not one of: {names}")
    return wanted, wanted
