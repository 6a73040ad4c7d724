"""The web view's model: mrkdwn parsed to safe nodes, and the workspace each user sees."""

from __future__ import annotations

from typing import Any

from bot.demo.mrkdwn import parse, plain
from bot.demo.web.present import annotate, state
from bot.demo.workspace import Origin, Workspace

ADMIN, VIEWER = "UDEMOADMIN", "UDEMOVIEWER"
PEOPLE = [(ADMIN, "admin", "all"), (VIEWER, "viewer", "none")]


def _workspace() -> Workspace:
    return Workspace({"C1": "ops"}, {ADMIN: "admin", VIEWER: "viewer"})


def _post(ws: Workspace, ts: str, text: str, **extra: Any) -> None:
    ws.api_call(
        "chat.postMessage", {"channel": "C1", "text": text, **extra}, {"ok": True, "ts": ts}
    )


def test_bold_spans_code_and_links_keep_only_safe_targets() -> None:
    """Styles wrap code spans; javascript: links become text; entities are undone once."""
    assert parse("*Build `abc` done*") == [
        {"t": "b", "c": [{"t": "text", "v": "Build "}, {"t": "code", "v": "abc"},
                         {"t": "text", "v": " done"}]},
    ]  # fmt: skip
    nodes = parse("<javascript:alert(1)|click> <https://x.io/?a=1&amp;b=2|site> &amp;lt;")
    assert nodes == [
        {"t": "text", "v": "click"},
        {"t": "text", "v": " "},
        {"t": "link", "href": "https://x.io/?a=1&b=2", "c": [{"t": "text", "v": "site"}]},
        {"t": "text", "v": " &lt;"},
    ]


def test_tokens_inside_code_show_as_their_text() -> None:
    """Slack reads <…> even inside code; the code span shows the token's text, no stray atom."""
    assert parse("`/media info <uuid>` `<@U1> &lt;b&gt;`", {"U1": "admin"}) == [
        {"t": "code", "v": "/media info uuid"},
        {"t": "text", "v": " "},
        {"t": "code", "v": "@admin <b>"},
    ]


def test_mentions_dates_emoji_and_quotes() -> None:
    """Mentions take the workspace's names; dates keep their timestamp and format."""
    nodes = parse(
        ":white_check_mark: <@U1> at <!date^1764614400^{date_short} {time}|2026-12-01 18:40 UTC>"
        "\n&gt; quoted 12:30:00",
        {"U1": "admin"},
    )
    assert nodes == [
        {"t": "emoji", "name": "white_check_mark", "v": "✅"},
        {"t": "text", "v": " "},
        {"t": "user", "id": "U1", "v": "@admin"},
        {"t": "text", "v": " at "},
        {"t": "date", "ts": 1764614400, "fmt": "{date_short} {time}", "href": "",
         "v": "2026-12-01 18:40 UTC"},
        {"t": "quote", "c": [{"t": "text", "v": "quoted 12:30:00"}]},
    ]  # fmt: skip
    assert plain("a *b* :x:") == [
        {"t": "text", "v": "a *b* "},
        {"t": "emoji", "name": "x", "v": "❌"},
    ]
    assert plain(":x:", emoji=False) == [{"t": "text", "v": ":x:"}]


def test_annotate_adds_nodes_to_every_text_object_and_keeps_the_rest() -> None:
    """Unknown blocks pass through untouched; their text objects still get nodes."""
    block = {"type": "future_block", "title": {"type": "plain_text", "text": "Hi"}, "n": 1}
    assert annotate([block], {}) == [
        {"type": "future_block", "n": 1,
         "title": {"type": "plain_text", "text": "Hi", "nodes": [{"t": "text", "v": "Hi"}]}},
    ]  # fmt: skip


def test_threads_edits_and_ephemeral_messages() -> None:
    """Replies fold under their parent; edits change in place; ephemerals reach one user."""
    ws = _workspace()
    _post(ws, "1.1", "Build started")
    _post(ws, "1.2", "Downloading", thread_ts="1.1")
    ws.api_call("chat.update", {"channel": "C1", "ts": "1.1", "text": "Build done"}, {"ok": True})
    ws.api_call("chat.postEphemeral", {"channel": "C1", "user": VIEWER, "text": "psst"},
                {"ok": True, "message_ts": "1.3"})  # fmt: skip
    ws.api_call("chat.postMessage", {"channel": "C1", "text": "refused"}, {"ok": False})
    assert [p.text for p in ws.visible(ADMIN, "C1")] == ["Build done"]
    assert [p.text for p in ws.visible(VIEWER, "C1")] == ["Build done", "psst"]
    assert [p.text for p in ws.replies(ADMIN, "C1", "1.1")] == ["Downloading"]
    shown = state(ws, ADMIN, PEOPLE, home_channel="C1")
    (parent,) = shown["messages"]["C1"]
    assert parent["edited"] and parent["reply_count"] == 1
    assert parent["replies"][0]["text"] == [{"t": "text", "v": "Downloading"}]


def test_a_post_to_a_user_id_lands_in_the_apps_dm_with_them() -> None:
    """chat.postMessage to U… is the app's direct message with that user (Slack's D…)."""
    ws = _workspace()
    ws.api_call("chat.postMessage", {"channel": VIEWER, "text": "hi"}, {"ok": True, "ts": "4.1"})
    assert [p.text for p in ws.visible(VIEWER, "D" + VIEWER)] == ["hi"]
    assert "D" + ADMIN not in [
        c["id"] for c in state(ws, VIEWER, PEOPLE, home_channel="C1")["channels"]
    ]


def test_response_url_replies_replace_and_delete() -> None:
    """A response_url post is ephemeral to its user, replaces or deletes its origin."""
    ws = _workspace()
    _post(ws, "2.1", "Distribute?")
    ws.expect_response("r1", Origin(ADMIN, "C1"))
    ws.response_url("r1", {"text": "only you"})
    ws.expect_response("r2", Origin(ADMIN, "C1", "2.1"))
    ws.response_url("r2", {"replace_original": True, "text": "Distributed by admin"})
    ws.response_url("unknown", {"text": "ignored"})
    assert [p.text for p in ws.visible(ADMIN, "C1")] == ["Distributed by admin", "only you"]
    assert [p.text for p in ws.visible(VIEWER, "C1")] == ["Distributed by admin"]
    ws.response_url("r2", {"delete_original": "true"})
    assert [p.text for p in ws.visible(ADMIN, "C1")] == ["only you"]


def test_modals_follow_their_trigger_and_the_bots_answers() -> None:
    """views.open lands on the user whose trigger it was; errors, push, update and close."""
    ws = _workspace()
    ws.expect_trigger("t1", VIEWER)
    view = {"type": "modal", "title": {"type": "plain_text", "text": "Rename"}, "blocks": []}
    ws.api_call(
        "views.open", {"trigger_id": "t1", "view": view}, {"ok": True, "view": {"id": "V1"}}
    )
    assert ws.top_view(ADMIN) is None
    top = ws.top_view(VIEWER)
    assert top is not None and top.id == "V1"
    ws.acked(Origin(VIEWER, "DUDEMOVIEWER"), {"response_action": "errors",
             "errors": {"title": "too short"}}, view_id="V1")  # fmt: skip
    assert top.errors == {"title": "too short"}
    updated = {**view, "blocks": [{"type": "divider"}]}
    ws.api_call("views.update", {"view_id": "V1", "view": updated}, {"ok": True})
    assert top.view["blocks"] == [{"type": "divider"}] and top.errors == {}
    ws.acked(Origin(VIEWER, "DUDEMOVIEWER"), "", view_id="V1")
    assert ws.top_view(VIEWER) is None


def test_home_tab_per_user() -> None:
    """views.publish sets one user's Home tab."""
    ws = _workspace()
    home = {
        "type": "home",
        "blocks": [{"type": "header", "text": {"type": "plain_text", "text": "Hi"}}],
    }
    ws.api_call(
        "views.publish", {"user_id": ADMIN, "view": home}, {"ok": True, "view": {"id": "V9"}}
    )
    assert state(ws, ADMIN, PEOPLE, home_channel="C1")["home"]["id"] == "V9"
    assert state(ws, VIEWER, PEOPLE, home_channel="C1")["home"] is None


async def test_waiters_wake_on_a_change_and_at_close() -> None:
    """The page's long poll returns as soon as something changes."""
    import asyncio

    ws = _workspace()
    waiting = asyncio.ensure_future(ws.wait_after(ws.version, 5.0))
    await asyncio.sleep(0.01)
    _post(ws, "3.1", "hello")
    assert await asyncio.wait_for(waiting, 1.0) == 1
    later = asyncio.ensure_future(ws.wait_after(ws.version, 5.0))
    await asyncio.sleep(0.01)
    ws.close()
    assert await asyncio.wait_for(later, 1.0) == 1


def test_the_page_script_never_parses_text_as_html() -> None:
    """app.js builds the DOM with textContent only: no HTML-parsing sink appears in it."""
    from bot.demo.web.app import STATIC

    script = (STATIC / "app.js").read_text()
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(",
                 "new Function", "srcdoc"):  # fmt: skip
        assert sink not in script
    assert "textContent" in script
