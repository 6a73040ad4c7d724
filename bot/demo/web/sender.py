"""What a user does in the page, sent to the bot exactly as Slack would send it.

Slash commands, button clicks (in messages, modals and the App Home tab), modal
submissions and closes, and opening the Home tab go to the bot's ``/slack/events``
as signed requests (:class:`bot.demo.slack_payloads.SlackRequests`). The bot's HTTP
answer, its ``response_url`` posts and the modals it opens are matched back to the
user through the :class:`bot.demo.workspace.Workspace`.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from bot.demo.conversation import state_value
from bot.demo.render import modal_inputs
from bot.demo.slack_payloads import SignedRequest, SlackRequests
from bot.demo.workspace import Origin, Workspace
from bot.errors import InvalidInput


@dataclass
class Sender:
    """Sends one browser's actions to the bot.

    Args:
        http: the client requests go out on.
        bot_url: base URL of the running bot.
        slack_url: base URL of the fake Slack (``response_url``s point there).
        requests: signs the payloads.
        workspace: where answers are shown.
        trigger_ids: issues the ``trigger_id`` of each request (the fake Slack's, when it
            checks them).
    """

    http: httpx.AsyncClient
    bot_url: str
    slack_url: str
    requests: SlackRequests
    workspace: Workspace
    trigger_ids: Callable[[], str] | None = None
    _rids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    async def command(self, user: str, channel: str, line: str) -> None:
        """``/command text`` typed in ``channel``'s message box.

        Raises:
            InvalidInput: when the line is not a slash command.
        """
        command, _, text = line.strip().partition(" ")
        if not command.startswith("/") or len(command) < 2:
            raise InvalidInput("type a slash command, such as /streamops help")
        origin = Origin(user, channel)
        request = self.requests.slash_command(
            command, text.strip(), user_id=user, user_name=self._name(user), channel_id=channel,
            channel_name=self.workspace.channels.get(channel, channel),
            response_url=self._response_url(origin), trigger_id=self._trigger(user),
        )  # fmt: skip
        await self._send(request, origin, unknown=f"`{command}` is not a valid command.")

    async def click(
        self, user: str, channel: str, ts: str, block_id: str, action_id: str, selected: str = ""
    ) -> None:
        """A click on a button (or a choice in a select) of message ``ts``.

        Raises:
            InvalidInput: when that message or element is not on screen.
        """
        post = self.workspace.find(channel, ts)
        if post is None or post.visible_to not in (None, user):
            raise InvalidInput("that message is gone")
        element = _element(post.blocks, block_id, action_id)
        origin = Origin(user, channel, ts)
        message: dict[str, Any] = {"ts": ts, "text": post.text, "blocks": post.blocks}
        if post.thread_ts:
            message["thread_ts"] = post.thread_ts
        request = self.requests.block_actions(
            user_id=user, user_name=self._name(user), channel_id=channel, message=message,
            action=_action(element, block_id, selected), response_url=self._response_url(origin),
            is_ephemeral=post.visible_to is not None, trigger_id=self._trigger(user),
        )  # fmt: skip
        await self._send(request, origin, unknown="This button does nothing yet.")

    async def view_click(
        self, user: str, view_id: str, block_id: str, action_id: str, selected: str = ""
    ) -> None:
        """A click on a button in an open modal or in the user's App Home tab.

        Raises:
            InvalidInput: when that view or element is not on screen.
        """
        view = self._view(user, view_id)
        element = _element(view.get("blocks") or [], block_id, action_id)
        request = self.requests.view_block_actions(
            user_id=user, user_name=self._name(user), view={**view, "id": view_id},
            action=_action(element, block_id, selected), values={},
            trigger_id=self._trigger(user),
        )  # fmt: skip
        origin = Origin(user, self._dm(user))
        await self._send(request, origin, unknown="This button does nothing yet.")

    async def submit(self, user: str, view_id: str, answers: Mapping[str, Any]) -> None:
        """Submit modal ``view_id`` with ``answers``: ``{block_id: {action_id: "text"}}``.

        Raises:
            InvalidInput: when the modal is not open, or a choice is not one of its options.
        """
        open_view = self.workspace.view(user, view_id)
        if open_view is None:
            raise InvalidInput("that form is closed")
        values: dict[str, Any] = {}
        for item in modal_inputs(open_view.view):
            typed = answers.get(item.block_id, {})
            answer = str(typed.get(item.action_id, "")) if isinstance(typed, Mapping) else ""
            values.setdefault(item.block_id, {})[item.action_id] = state_value(
                item.kind, answer, item.options
            )
        request = self.requests.view_submission(
            user_id=user, user_name=self._name(user),
            view={**open_view.view, "id": view_id, "type": "modal"}, values=values,
        )  # fmt: skip
        await self._send(request, Origin(user, self._dm(user)), view_id=view_id)

    async def close(self, user: str, view_id: str) -> None:
        """Close (cancel) modal ``view_id``; the bot hears of it when the view asked to."""
        open_view = self.workspace.view(user, view_id)
        if open_view is None:
            return
        self.workspace.close_view(user, view_id)
        if open_view.view.get("notify_on_close"):
            request = self.requests.view_closed(
                user_id=user, user_name=self._name(user), view={**open_view.view, "id": view_id}
            )
            await self._post(request)

    async def open_home(self, user: str) -> None:
        """The user opened the app's Home tab (the bot publishes it on ``app_home_opened``)."""
        event = {"type": "app_home_opened", "user": user, "channel": self._dm(user), "tab": "home"}
        await self._post(self.requests.event(event))

    # -- plumbing -----------------------------------------------------------------

    async def _send(
        self, request: SignedRequest, origin: Origin, *, unknown: str = "", view_id: str = ""
    ) -> None:
        response = await self._post(request)
        if response.status_code == 404 and unknown:
            self.workspace.note(origin.user, origin.channel, unknown)
            return
        if response.status_code != 200:
            self.workspace.note(
                origin.user, origin.channel, f"The app answered HTTP {response.status_code}."
            )
            return
        body: Any = response.text
        if "json" in response.headers.get("content-type", ""):
            try:
                body = response.json()
            except ValueError:
                body = response.text
        if isinstance(body, dict | str):
            self.workspace.acked(origin, body, view_id=view_id)

    async def _post(self, request: SignedRequest) -> httpx.Response:
        return await self.http.post(
            f"{self.bot_url}/slack/events", content=request.body, headers=request.headers
        )

    def _response_url(self, origin: Origin) -> str:
        rid = f"web{next(self._rids)}"
        self.workspace.expect_response(rid, origin)
        return f"{self.slack_url}/response/{rid}"

    def _trigger(self, user: str) -> str:
        trigger_id = self.trigger_ids() if self.trigger_ids else self.requests.trigger_id()
        self.workspace.expect_trigger(trigger_id, user)
        return trigger_id

    def _view(self, user: str, view_id: str) -> dict[str, Any]:
        open_view = self.workspace.view(user, view_id)
        if open_view is not None:
            return open_view.view
        home = self.workspace.homes.get(user)
        if home is not None and home.get("id") == view_id:
            return home
        raise InvalidInput("that view is closed")

    def _name(self, user: str) -> str:
        return self.workspace.users.get(user, user.lower())

    @staticmethod
    def _dm(user: str) -> str:
        return "D" + user


def _element(blocks: list[Any], block_id: str, action_id: str) -> dict[str, Any]:
    """The interactive element ``action_id`` of block ``block_id``."""
    for block in blocks:
        if not isinstance(block, dict) or str(block.get("block_id", "")) != block_id:
            continue
        candidates = [*(block.get("elements") or []), block.get("accessory"), block.get("element")]
        for element in candidates:
            if isinstance(element, dict) and str(element.get("action_id", "")) == action_id:
                return element
    raise InvalidInput("that button is gone")


def _action(element: dict[str, Any], block_id: str, selected: str) -> dict[str, Any]:
    """The ``actions[0]`` Slack reports for a click on ``element``."""
    kind = str(element.get("type", "button"))
    action: dict[str, Any] = {
        "action_id": element.get("action_id", ""), "block_id": block_id, "type": kind,
    }  # fmt: skip
    if kind == "button":
        action["text"] = element.get("text") or {"type": "plain_text", "text": ""}
        if "value" in element:
            action["value"] = element["value"]
        if element.get("url"):
            action["url"] = element["url"]
        if element.get("style"):
            action["style"] = element["style"]
        return action
    options = [o for o in element.get("options") or [] if isinstance(o, dict)]
    for group in element.get("option_groups") or []:
        options += [o for o in group.get("options") or [] if isinstance(o, dict)]
    chosen = next((o for o in options if str(o.get("value")) == selected), None)
    if kind in ("static_select", "overflow", "radio_buttons", "external_select"):
        if chosen is None:
            raise InvalidInput("choose one of the options")
        action["selected_option"] = chosen
    elif kind == "datepicker":
        action["selected_date"] = selected
    elif kind == "timepicker":
        action["selected_time"] = selected
    elif kind == "users_select":
        action["selected_user"] = selected
    elif kind in ("conversations_select", "channels_select"):
        key = "selected_conversation" if kind == "conversations_select" else "selected_channel"
        action[key] = selected
    else:
        action["value"] = selected
    return action
