"""What one user's browser is sent: the workspace as plain data, mrkdwn already parsed.

Pure functions. Blocks and views are passed on as the bot wrote them, with one
addition: every text object (``{"type": "mrkdwn" | "plain_text", "text": …}``) gets
``"nodes"``, its text parsed by :mod:`bot.demo.mrkdwn`. The page renders any block
type it knows and names the ones it does not, so new Block Kit shows up as is.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.demo.mrkdwn import parse, plain
from bot.demo.workspace import BOT_USER, OpenView, Post, Workspace

#: A user the page can switch to: id, name, and what they may do.
Person = tuple[str, str, str]


def annotate(value: Any, names: Mapping[str, str]) -> Any:
    """A copy of ``value`` whose text objects carry their parsed ``nodes``."""
    if isinstance(value, list):
        return [annotate(item, names) for item in value]
    if not isinstance(value, dict):
        return value
    copy = {key: annotate(item, names) for key, item in value.items()}
    kind, text = value.get("type"), value.get("text")
    if isinstance(text, str) and kind == "mrkdwn":
        copy["nodes"] = parse(text, names)
    elif isinstance(text, str) and kind == "plain_text":
        copy["nodes"] = plain(text, emoji=value.get("emoji", True) is not False)
    return copy


def post_data(workspace: Workspace, user: str, post: Post, *, with_replies: bool) -> dict[str, Any]:
    """One message: author, time, flags, blocks (annotated), fallback text and its thread."""
    names = _names(workspace)
    replies = workspace.replies(user, post.channel, post.ts)
    data: dict[str, Any] = {
        "channel": post.channel,
        "ts": post.ts,
        "author": workspace.users.get(post.author, post.author),
        "bot": post.author == BOT_USER,
        "slackbot": post.author == "USLACKBOT",
        "time": post.posted_at,
        "edited": post.edited,
        "ephemeral": post.visible_to is not None,
        "text": parse(post.text, names) if not post.blocks else [],
        "blocks": annotate(post.blocks, names),
        "files": post.files,
        "thread_ts": post.thread_ts,
        "reply_count": len(replies),
        "last_reply": replies[-1].posted_at if replies else None,
    }
    if with_replies:
        data["replies"] = [post_data(workspace, user, r, with_replies=False) for r in replies]
    return data


def state(
    workspace: Workspace, user: str, people: list[Person], *, home_channel: str
) -> dict[str, Any]:
    """Everything ``user``'s page shows, as JSON-ready data."""
    names = _names(workspace)
    ids = [cid for cid in workspace.channels if not cid.startswith("D")] + ["D" + user]
    channels = [
        {"id": cid, "name": workspace.channels.get(cid, cid), "dm": cid.startswith("D")}
        for cid in ids
    ]
    channels[-1]["name"] = workspace.users[BOT_USER]
    messages = {
        cid: [post_data(workspace, user, post, with_replies=True) for post in shown]
        for cid in ids
        for shown in [workspace.visible(user, cid)]
    }
    top = workspace.top_view(user)
    home = workspace.homes.get(user)
    return {
        "version": workspace.version,
        "me": {"id": user, "name": workspace.users.get(user, user)},
        "people": [{"id": pid, "name": name, "can": can} for pid, name, can in people],
        "users": names,
        "home_channel": home_channel,
        "channels": channels,
        "messages": messages,
        "modal": _modal(top, names, len(workspace.modals.get(user) or [])),
        "home": annotate(home, names) if home else None,
    }


def _modal(open_view: OpenView | None, names: Mapping[str, str], depth: int) -> Any:
    if open_view is None:
        return None
    return {
        "id": open_view.id,
        "view": annotate(open_view.view, names),
        "errors": open_view.errors,
        "depth": depth,
    }


def _names(workspace: Workspace) -> dict[str, str]:
    return {**workspace.users, **workspace.channels}
