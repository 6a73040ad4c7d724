"""Slack mrkdwn parsed into a small tree of nodes the browser view turns into DOM elements.

Pure functions, no I/O. Every piece of text stays text: the browser sets it with
``textContent``, so nothing a user or provider wrote can become markup. Links keep
only ``http(s)``/``mailto`` targets.

Nodes are dicts (they go to the browser as JSON)::

    {"t": "text", "v": "plain words"}         {"t": "br"}
    {"t": "b" | "i" | "s", "c": [nodes]}      {"t": "code", "v": "x"}   {"t": "pre", "v": "x"}
    {"t": "quote", "c": [nodes]}
    {"t": "link", "href": "https://…", "c": [nodes]}
    {"t": "user", "id": "U1", "v": "@admin"}  {"t": "channel", "id": "C1", "v": "#ops"}
    {"t": "special", "v": "@here"}
    {"t": "date", "ts": 1764614400, "fmt": "{date_short} {time}", "href": "", "v": "fallback"}
    {"t": "emoji", "name": "white_check_mark", "v": "✅"}
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

Node = dict[str, Any]

#: The emoji StreamOps and Slack's usual reactions use, by short name.
EMOJI: dict[str, str] = {
    "white_check_mark": "✅", "heavy_check_mark": "✔️", "x": "❌", "warning": "⚠️",
    "red_circle": "🔴", "large_green_circle": "🟢", "large_yellow_circle": "🟡",
    "large_blue_circle": "🔵", "black_circle": "⚫", "white_circle": "⚪",
    "inbox_tray": "📥", "outbox_tray": "📤", "hourglass": "⌛",
    "hourglass_flowing_sand": "⏳", "grey_question": "❔", "question": "❓", "lock": "🔒",
    "unlock": "🔓", "wastebasket": "🗑️", "rocket": "🚀", "no_entry": "⛔",
    "no_entry_sign": "🚫", "mag": "🔍", "information_source": "ℹ️", "gear": "⚙️",
    "floppy_disk": "💾", "film_frames": "🎞️", "calendar": "📆", "date": "📅",
    "busts_in_silhouette": "👥", "bust_in_silhouette": "👤",
    "black_square_for_stop": "⏹️", "arrow_up": "⬆️", "arrow_down": "⬇️",
    "arrow_right": "➡️", "arrows_counterclockwise": "🔄", "repeat": "🔁", "rewind": "⏪",
    "leftwards_arrow_with_hook": "↩️", "tada": "🎉", "fire": "🔥", "eyes": "👀",
    "thumbsup": "👍", "+1": "👍", "thumbsdown": "👎", "-1": "👎", "clock1": "🕐",
    "alarm_clock": "⏰", "stopwatch": "⏱️", "bell": "🔔", "no_bell": "🔕",
    "package": "📦", "link": "🔗", "memo": "📝", "pencil2": "✏️", "clipboard": "📋",
    "chart_with_upwards_trend": "📈", "bar_chart": "📊", "movie_camera": "🎥",
    "video_camera": "📹", "tv": "📺", "satellite": "📡", "broadcast": "📡",
    "key": "🔑", "shield": "🛡️", "ice_cube": "🧊", "snowflake": "❄️",
    "construction": "🚧", "stop_sign": "🛑", "pause_button": "⏸️",
    "arrow_forward": "▶️", "recycle": "♻️", "zap": "⚡", "sparkles": "✨",
    "white_circle_check": "✅", "heavy_plus_sign": "➕", "heavy_minus_sign": "➖",
    "scroll": "📜", "receipt": "🧾", "ledger": "📒", "page_facing_up": "📄",
    "file_folder": "📁", "open_file_folder": "📂", "envelope": "✉️", "email": "📧",
    "speech_balloon": "💬", "thought_balloon": "💭", "point_right": "👉",
    "raised_hand": "✋", "wave": "👋", "bulb": "💡", "star": "⭐", "boom": "💥",
    "skull": "💀", "bug": "🐛", "wrench": "🔧", "hammer_and_wrench": "🛠️",
    "house": "🏠", "globe_with_meridians": "🌐", "earth_africa": "🌍",
    "signal_strength": "📶", "green_heart": "💚", "heart": "❤️", "ok": "🆗",
    "new": "🆕", "up": "🆙", "sos": "🆘", "white_square_button": "🔳",
    "small_red_triangle_down": "🔻", "small_red_triangle": "🔺",
    "ballot_box_with_check": "☑️", "mag_right": "🔎", "rotating_light": "🚨", "sunny": "☀️",
    "exclamation": "❗", "heavy_exclamation_mark": "❗", "grey_exclamation": "❕",
    "large_orange_circle": "🟠", "large_purple_circle": "🟣", "checkered_flag": "🏁",
    "pushpin": "📌", "round_pushpin": "📍", "paperclip": "📎", "pencil": "📝",
    "closed_lock_with_key": "🔐", "hammer": "🔨", "test_tube": "🧪", "label": "🏷️",
    "bookmark": "🔖", "spiral_calendar_pad": "🗓️", "timer_clock": "⏲️", "crown": "👑",
    "heavy_check_mark_green": "✅", "stop_button": "⏹️", "twisted_rightwards_arrows": "🔀",
    "white_large_square": "⬜", "black_large_square": "⬛", "hourglass_done": "⌛",
    "inbox": "📥", "robot_face": "🤖", "busts": "👥", "money_with_wings": "💸",
}  # fmt: skip

_ANGLE = re.compile(r"<([^<>\n]+)>")
_FENCE = re.compile(r"```\n?(.*?)\n?```", re.DOTALL)
_CODE = re.compile(r"`([^`\n]+)`")
_EMOJI = re.compile(r":([a-z0-9_+'-]+):")
_STYLES = (
    ("b", re.compile(r"(?<![\w*])\*(?!\s)([^*\n]+?)(?<!\s)\*(?![\w*])")),
    ("i", re.compile(r"(?<![\w_])_(?!\s)([^_\n]+?)(?<!\s)_(?![\w_])")),
    ("s", re.compile(r"(?<![\w~])~(?!\s)([^~\n]+?)(?<!\s)~(?![\w~])")),
)
_SAFE_HREF = re.compile(r"^(https?://|mailto:)", re.IGNORECASE)
# Atoms (code, links, emoji) become one private-use character each while styles are found,
# so `*Build `abc` done*` is bold around its code span.
_ATOM_BASE = 0xE000
_ATOM = re.compile("[\ue000-\uf8ff]")


def unescape(text: str) -> str:
    """Undo Slack's three escapes (``&amp;``, ``&lt;``, ``&gt;``) and nothing else."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def parse(text: str, names: Mapping[str, str] | None = None) -> list[Node]:
    """The nodes of a mrkdwn string.

    Args:
        text: mrkdwn as Slack receives it (``&``, ``<``, ``>`` escaped by the sender).
        names: user and channel ids → names, for mentions without a label.
    """
    names = names or {}
    nodes: list[Node] = []
    position = 0
    for fence in _FENCE.finditer(text):
        nodes += _lines(text[position : fence.start()], names)
        nodes.append({"t": "pre", "v": unescape(fence.group(1))})
        position = fence.end()
    nodes += _lines(text[position:], names)
    return nodes


def plain(text: str, *, emoji: bool = True) -> list[Node]:
    """The nodes of a ``plain_text`` object: literal text, with ``:emoji:`` when allowed."""
    if not emoji:
        return _text(text)
    nodes: list[Node] = []
    position = 0
    for match in _EMOJI.finditer(text):
        if match.group(1) not in EMOJI:
            continue
        nodes += _text(text[position : match.start()])
        nodes.append(_emoji(match.group(1)))
        position = match.end()
    return nodes + _text(text[position:])


def _lines(text: str, names: Mapping[str, str]) -> list[Node]:
    """Block quotes (lines starting with ``>``) and ordinary lines."""
    nodes: list[Node] = []
    quoted: list[str] = []
    plain_lines: list[str] = []

    def flush_plain() -> None:
        if plain_lines:
            nodes.extend(_inline("\n".join(plain_lines), names))
            plain_lines.clear()

    def flush_quote() -> None:
        if quoted:
            nodes.append({"t": "quote", "c": _inline("\n".join(quoted), names)})
            quoted.clear()

    for line in text.split("\n"):
        if line.startswith(("&gt;", ">")):
            flush_plain()
            quoted.append(line.removeprefix("&gt;").removeprefix(">").removeprefix(" "))
        else:
            flush_quote()
            plain_lines.append(line)
    flush_plain()
    flush_quote()
    return nodes


def _inline(text: str, names: Mapping[str, str]) -> list[Node]:
    atoms: list[Node] = []

    def keep(node: Node) -> str:
        atoms.append(node)
        return chr(_ATOM_BASE + len(atoms) - 1)

    def code(match: re.Match[str]) -> str:
        # Inside code, Slack still reads <…> tokens; they show as their plain text.
        inner = _ANGLE.sub(lambda m: _angle_text(_angle(m.group(1), names)), match.group(1))
        return keep({"t": "code", "v": unescape(inner)})

    text = _ATOM.sub("", text)  # nobody's private-use characters may pose as atoms
    text = _CODE.sub(code, text)
    text = _ANGLE.sub(lambda m: keep(_angle(m.group(1), names)), text)
    text = _EMOJI.sub(
        lambda m: keep(_emoji(m.group(1))) if m.group(1) in EMOJI else m.group(0), text
    )
    return _styled(text, atoms)


def _styled(text: str, atoms: list[Node]) -> list[Node]:
    best: tuple[int, str, re.Match[str]] | None = None
    for kind, pattern in _STYLES:
        match = pattern.search(text)
        if match and (best is None or match.start() < best[0]):
            best = (match.start(), kind, match)
    if best is None:
        return _expand(text, atoms)
    _, kind, match = best
    return [
        *_expand(text[: match.start()], atoms),
        {"t": kind, "c": _styled(match.group(1), atoms)},
        *_styled(text[match.end() :], atoms),
    ]


def _expand(text: str, atoms: list[Node]) -> list[Node]:
    nodes: list[Node] = []
    position = 0
    for match in _ATOM.finditer(text):
        nodes += _text(unescape(text[position : match.start()]))
        nodes.append(atoms[ord(match.group(0)) - _ATOM_BASE])
        position = match.end()
    return nodes + _text(unescape(text[position:]))


def _text(text: str) -> list[Node]:
    nodes: list[Node] = []
    for number, line in enumerate(text.split("\n")):
        if number:
            nodes.append({"t": "br"})
        if line:
            nodes.append({"t": "text", "v": line})
    return nodes


def _angle_text(node: Node) -> str:
    """A token's text, escaped again (the code span is unescaped as a whole)."""
    if node["t"] == "link":
        text = "".join(str(child.get("v", "")) for child in node["c"])
    else:
        text = str(node.get("v", ""))
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _emoji(name: str) -> Node:
    return {"t": "emoji", "name": name, "v": EMOJI.get(name, f":{name}:")}


def _angle(inner: str, names: Mapping[str, str]) -> Node:
    target, _, label = inner.partition("|")
    label = unescape(label)
    if target.startswith("@"):
        user = target[1:]
        return {"t": "user", "id": user, "v": "@" + (names.get(user) or label or user)}
    if target.startswith("#"):
        channel = target[1:]
        return {"t": "channel", "id": channel, "v": "#" + (names.get(channel) or label or channel)}
    if target.startswith("!date^"):
        return _date(target, label)
    if target.startswith("!subteam^"):
        return {"t": "special", "v": label or "@group"}
    if target.startswith("!"):
        return {"t": "special", "v": "@" + (label or target[1:])}
    href = unescape(target)
    if not _SAFE_HREF.match(href):
        return {"t": "text", "v": label or href}
    return {"t": "link", "href": href, "c": _text(label or href)}


def _date(target: str, fallback: str) -> Node:
    parts = target.split("^")
    try:
        ts = int(parts[1])
    except (IndexError, ValueError):
        return {"t": "text", "v": fallback}
    fmt = unescape(parts[2]) if len(parts) > 2 else "{date_num} {time}"
    href = unescape(parts[3]) if len(parts) > 3 and _SAFE_HREF.match(unescape(parts[3])) else ""
    return {"t": "date", "ts": ts, "fmt": fmt, "href": href, "v": fallback}
