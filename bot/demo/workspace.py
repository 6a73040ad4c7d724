"""The demo workspace as each of its users sees it, rebuilt from what the bot sends to Slack.

:class:`Workspace` is told about every Web API call the fake Slack answered
(``chat.postMessage``, ``chat.update``, ``chat.postEphemeral``, ``chat.delete``,
``views.*``), every ``response_url`` post and every answer the bot gave to a
request (:meth:`Workspace.acked`), and keeps what Slack's client would show:
channels, messages in order with their thread replies, edits in place, messages
visible to one user only, each user's stack of open modals and their App Home tab.
It does not interpret Block Kit: the browser view renders whatever blocks it holds,
so a new feature's messages and views show up without changes here.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

#: The bot's user id in the fake Slack (``auth.test``).
BOT_USER = "U0STREAMOPS"
BOT_NAME = "StreamOps"


@dataclass
class Post:
    """A message as a Slack client shows it.

    Attributes:
        channel: where it is.
        ts: its Slack timestamp (the key ``chat.update`` names).
        text: fallback text (shown when there are no blocks).
        blocks: Block Kit blocks.
        seq: arrival order (the fake Slack's timestamps are not wall-clock times).
        posted_at: when it arrived, seconds since the epoch.
        author: user id of the sender (the bot, or Slackbot for the client's own notes).
        thread_ts: the parent's ``ts`` for a thread reply.
        visible_to: the one user who sees it (ephemeral messages), else None.
        edited: True once changed in place.
        broadcast: a thread reply also sent to the channel.
        files: titles of files shared with it.
    """

    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]]
    seq: int
    posted_at: float
    author: str = BOT_USER
    thread_ts: str | None = None
    visible_to: str | None = None
    edited: bool = False
    broadcast: bool = False
    files: list[str] = field(default_factory=list)


@dataclass
class Origin:
    """Who a ``response_url`` answers, and the message it was given for (if any)."""

    user: str
    channel: str
    message_ts: str | None = None


@dataclass
class OpenView:
    """A modal on a user's screen, with the errors of its last submission."""

    id: str
    view: dict[str, Any]
    errors: dict[str, str] = field(default_factory=dict)


class Workspace:
    """What every demo user sees; :meth:`wait_after` wakes on each change.

    Args:
        channels: channel id → name of the channels that exist from the start.
        users: user id → name (mentions, the user switcher).
    """

    def __init__(self, channels: Mapping[str, str], users: Mapping[str, str]) -> None:
        self.channels: dict[str, str] = dict(channels)
        self.users: dict[str, str] = {BOT_USER: BOT_NAME, **users}
        self.posts: dict[tuple[str, str], Post] = {}
        self.modals: dict[str, list[OpenView]] = {}
        self.homes: dict[str, dict[str, Any]] = {}
        self.version = 0
        self._origins: dict[str, Origin] = {}
        self._triggers: dict[str, str] = {}
        self._seq = itertools.count(1)
        self._local_ts = itertools.count(1)
        self._view_ids = itertools.count(1)
        self._changed = asyncio.Event()
        self._closed = False

    # -- what the client side registers -------------------------------------

    def expect_response(self, rid: str, origin: Origin) -> None:
        """Posts to ``response_url`` id ``rid`` answer ``origin``."""
        self._origins[rid] = origin

    def expect_trigger(self, trigger_id: str, user: str) -> None:
        """A modal opened with ``trigger_id`` appears on ``user``'s screen."""
        self._triggers[trigger_id] = user

    def note(self, user: str, channel: str, text: str) -> Post:
        """A message only ``user`` sees, from Slack itself (e.g. an unknown command)."""
        post = self._add(channel, self._new_ts(), text, [], author="USLACKBOT", visible_to=user)
        self._touch()
        return post

    # -- what the bot did ----------------------------------------------------

    def api_call(self, method: str, payload: Mapping[str, Any], result: Mapping[str, Any]) -> None:
        """The fake Slack answered ``method``; ``result`` is its answer (ignored unless ok)."""
        if not result.get("ok"):
            return
        handler = getattr(self, "_m_" + method.replace(".", "_"), None)
        if handler is not None:
            handler(payload, result)
            self._touch()

    def response_url(self, rid: str, payload: Mapping[str, Any]) -> None:
        """The bot posted ``payload`` to ``response_url`` ``rid``."""
        origin = self._origins.get(rid)
        if origin is None:
            return
        self._respond(origin, payload)
        self._touch()

    def acked(self, origin: Origin, body: Mapping[str, Any] | str, *, view_id: str = "") -> None:
        """The bot's HTTP answer to a request: text, a message, or a ``response_action``."""
        if isinstance(body, str):
            body = {"text": body} if body.strip() else {}
        if body.get("response_action"):
            self._view_response(origin.user, view_id, body)
        elif view_id:  # any other answer to a submission closes the modal
            self._close_view(origin.user, view_id)
        elif body.get("text") or body.get("blocks"):
            self._respond(origin, body)
        else:
            return
        self._touch()

    def close_view(self, user: str, view_id: str) -> None:
        """The user closed (cancelled) a modal."""
        self._close_view(user, view_id)
        self._touch()

    # -- reading ------------------------------------------------------------

    def visible(self, user: str, channel: str) -> list[Post]:
        """Top-level messages of ``channel`` that ``user`` sees, oldest first."""
        return sorted(
            (
                p
                for p in self.posts.values()
                if p.channel == channel
                and (p.thread_ts is None or p.thread_ts == p.ts or p.broadcast)
                and p.visible_to in (None, user)
            ),
            key=lambda p: p.seq,
        )

    def replies(self, user: str, channel: str, ts: str) -> list[Post]:
        """Thread replies under ``ts`` that ``user`` sees, oldest first."""
        return sorted(
            (
                p
                for p in self.posts.values()
                if p.channel == channel
                and p.thread_ts == ts
                and p.ts != ts
                and p.visible_to in (None, user)
            ),
            key=lambda p: p.seq,
        )

    def find(self, channel: str, ts: str) -> Post | None:
        """The message ``ts`` of ``channel``."""
        return self.posts.get((channel, ts))

    def top_view(self, user: str) -> OpenView | None:
        """The modal on top of ``user``'s stack."""
        stack = self.modals.get(user) or []
        return stack[-1] if stack else None

    def view(self, user: str, view_id: str) -> OpenView | None:
        """``user``'s open modal ``view_id``."""
        return next((v for v in self.modals.get(user) or [] if v.id == view_id), None)

    async def wait_after(self, version: int, within: float) -> int:
        """The version once it is past ``version`` (or after ``within`` seconds, or at close)."""
        deadline = time.monotonic() + within
        while self.version <= version and not self._closed:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)
        return self.version

    def close(self) -> None:
        """Wake every waiter (the page's long polls end)."""
        self._closed = True
        self._changed.set()

    # -- Web API methods ----------------------------------------------------

    def _m_chat_postMessage(self, p: Mapping[str, Any], result: Mapping[str, Any]) -> None:
        channel = _conversation(str(result.get("channel") or p.get("channel") or ""))
        self._learn_channel(channel)
        thread_ts = p.get("thread_ts") or None
        self._add(
            channel, str(result.get("ts") or self._new_ts()), _text(p), _blocks(p),
            thread_ts=str(thread_ts) if thread_ts else None,
            broadcast=_truthy(p.get("reply_broadcast")),
        )  # fmt: skip

    def _m_chat_postEphemeral(self, p: Mapping[str, Any], result: Mapping[str, Any]) -> None:
        channel = str(p.get("channel") or "")
        self._learn_channel(channel)
        ts = str(result.get("message_ts") or self._new_ts())
        self._add(channel, ts, _text(p), _blocks(p), visible_to=str(p.get("user") or ""))

    def _m_chat_update(self, p: Mapping[str, Any], result: Mapping[str, Any]) -> None:
        post = self.posts.get((_conversation(str(p.get("channel"))), str(p.get("ts"))))
        if post is None:
            return
        if p.get("text") is not None:
            post.text = str(p.get("text") or "")
        if "blocks" in p:
            post.blocks = _blocks(p)
        post.edited = True

    def _m_chat_delete(self, p: Mapping[str, Any], result: Mapping[str, Any]) -> None:
        self.posts.pop((_conversation(str(p.get("channel"))), str(p.get("ts"))), None)

    def _m_views_open(self, p: Mapping[str, Any], result: Mapping[str, Any]) -> None:
        user = self._triggers.get(str(p.get("trigger_id") or ""))
        view = _view(p)
        if user is None or view is None:
            return
        stack = self.modals.setdefault(user, [])
        stack.append(OpenView(_view_id(result, view, self._view_ids), view))

    def _m_views_push(self, p: Mapping[str, Any], result: Mapping[str, Any]) -> None:
        self._m_views_open(p, result)

    def _m_views_update(self, p: Mapping[str, Any], result: Mapping[str, Any]) -> None:
        view = _view(p)
        if view is None:
            return
        wanted_id = str(p.get("view_id") or "")
        external = str(p.get("external_id") or "")
        for stack in self.modals.values():
            for open_view in stack:
                if (wanted_id and open_view.id == wanted_id) or (
                    external and open_view.view.get("external_id") == external
                ):
                    open_view.view = view
                    open_view.errors = {}
                    return
        for user, home in self.homes.items():
            if wanted_id and home.get("id") == wanted_id:
                self.homes[user] = {**view, "id": wanted_id}

    def _m_views_publish(self, p: Mapping[str, Any], result: Mapping[str, Any]) -> None:
        view = _view(p)
        user = str(p.get("user_id") or "")
        if view is not None and user:
            self.homes[user] = {**view, "id": _view_id(result, view, self._view_ids)}

    def _m_files_completeUploadExternal(
        self, p: Mapping[str, Any], result: Mapping[str, Any]
    ) -> None:
        files = p.get("files")
        if isinstance(files, str):
            try:
                files = json.loads(files)
            except ValueError:
                files = []
        titles = [str(f.get("title") or f.get("id")) for f in files or [] if isinstance(f, Mapping)]
        channel = str(p.get("channel_id") or p.get("channels") or "")
        if not channel or not titles:
            return
        self._learn_channel(channel)
        comment = str(p.get("initial_comment") or "")
        post = self._add(channel, self._new_ts(), comment, [])
        post.files = titles

    # -- helpers --------------------------------------------------------------

    def _respond(self, origin: Origin, p: Mapping[str, Any]) -> None:
        target = self.posts.get((origin.channel, origin.message_ts or ""))
        if _truthy(p.get("delete_original")):
            if target is not None:
                self.posts.pop((target.channel, target.ts), None)
            return
        if _truthy(p.get("replace_original")) and target is not None:
            target.text = _text(p)
            target.blocks = _blocks(p)
            target.edited = True
            return
        in_channel = p.get("response_type") == "in_channel"
        thread_ts = p.get("thread_ts") or None
        self._add(
            origin.channel, self._new_ts(), _text(p), _blocks(p),
            visible_to=None if in_channel else origin.user,
            thread_ts=str(thread_ts) if thread_ts else None,
        )  # fmt: skip

    def _view_response(self, user: str, view_id: str, body: Mapping[str, Any]) -> None:
        action = body.get("response_action")
        stack = self.modals.setdefault(user, [])
        current = self.view(user, view_id)
        view = body.get("view") if isinstance(body.get("view"), dict) else None
        if action == "errors" and current is not None:
            errors = body.get("errors") or {}
            current.errors = {str(k): str(v) for k, v in errors.items()}
        elif action == "update" and current is not None and view is not None:
            current.view, current.errors = view, {}
        elif action == "push" and view is not None:
            stack.append(OpenView(f"V{next(self._view_ids):08d}", view))
        elif action == "clear":
            stack.clear()

    def _close_view(self, user: str, view_id: str) -> None:
        stack = self.modals.get(user) or []
        self.modals[user] = [v for v in stack if v.id != view_id]

    def _add(
        self, channel: str, ts: str, text: str, blocks: list[dict[str, Any]], *,
        author: str = BOT_USER, thread_ts: str | None = None, visible_to: str | None = None,
        broadcast: bool = False,
    ) -> Post:  # fmt: skip
        post = Post(
            channel, ts, text, blocks, next(self._seq), time.time(), author=author,
            thread_ts=thread_ts, visible_to=visible_to, broadcast=broadcast,
        )  # fmt: skip
        self.posts[(channel, ts)] = post
        return post

    def _learn_channel(self, channel: str) -> None:
        if channel and channel not in self.channels:
            self.channels[channel] = channel

    def _new_ts(self) -> str:
        return f"{int(time.time())}.9{next(self._local_ts):05d}"

    def _touch(self) -> None:
        self.version += 1
        woken, self._changed = self._changed, asyncio.Event()
        woken.set()


def _conversation(channel: str) -> str:
    """The conversation a post lands in: a user id means the app's DM with that user."""
    return "D" + channel if channel[:1] in ("U", "W") else channel


def _text(p: Mapping[str, Any]) -> str:
    return str(p.get("text") or "")


def _blocks(p: Mapping[str, Any]) -> list[dict[str, Any]]:
    blocks = p.get("blocks")
    if isinstance(blocks, str):
        try:
            blocks = json.loads(blocks)
        except ValueError:
            return []
    return [b for b in blocks or [] if isinstance(b, dict)] if isinstance(blocks, list) else []


def _view(p: Mapping[str, Any]) -> dict[str, Any] | None:
    view = p.get("view")
    if isinstance(view, str):
        try:
            view = json.loads(view)
        except ValueError:
            return None
    return view if isinstance(view, dict) else None


def _view_id(result: Mapping[str, Any], view: Mapping[str, Any], ids: itertools.count[int]) -> str:
    answered = result.get("view")
    if isinstance(answered, Mapping) and answered.get("id"):
        return str(answered["id"])
    return str(view.get("id") or f"V{next(ids):08d}")


def _truthy(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")
