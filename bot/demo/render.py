"""Block Kit as terminal text: pure functions, no I/O.

:func:`render_message` turns a message's ``text`` and ``blocks`` into readable
lines (headers, sections, fields, context, code, dividers) and numbers every
button from ``first_number`` on, so the console can let the user click
``[1] Distribute`` by typing ``1``. :func:`render_modal` does the same for a
modal's title and input blocks.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any

from bot.demo.dates import date_token

_LINK = re.compile(r"<([^<>|]+)(?:\|([^<>]*))?>")
_CODE_FENCE = re.compile(r"```\n?(.*?)\n?```", re.DOTALL)
_INDENT = "  "


@dataclass(frozen=True)
class Button:
    """A clickable button as the console shows it.

    Attributes:
        number: what the user types to click it.
        text: the button's label.
        action_id: sent back in ``block_actions``.
        block_id: the block holding it.
        value: sent back in ``block_actions``.
        url: the address a link button opens (empty for ordinary buttons).
        style: ``"primary"``, ``"danger"`` or ``""``.
        confirm: Slack's ``confirm`` dialog object, when the click must be confirmed.
    """

    number: int
    text: str
    action_id: str
    block_id: str
    value: str = ""
    url: str = ""
    style: str = ""
    confirm: dict[str, Any] | None = None


@dataclass(frozen=True)
class Rendered:
    """A message as text plus the buttons it numbered."""

    lines: list[str]
    buttons: list[Button] = field(default_factory=list)

    @property
    def text(self) -> str:
        """The lines joined with newlines."""
        return "\n".join(self.lines)


@dataclass(frozen=True)
class ModalInput:
    """One input of a modal, as the console prompts for it.

    Attributes:
        block_id: the input block's id (key of ``view.state.values``).
        action_id: the element's id (key inside that block).
        label: shown as the prompt.
        kind: the element type, e.g. ``"plain_text_input"`` or ``"static_select"``.
        optional: True when an empty answer is allowed.
        options: ``(text, value)`` pairs for selects and radio buttons.
        initial: the pre-filled value, if any.
    """

    block_id: str
    action_id: str
    label: str
    kind: str
    optional: bool = False
    options: list[tuple[str, str]] = field(default_factory=list)
    initial: str = ""


def mrkdwn_to_text(text: str) -> str:
    """Slack mrkdwn made readable: links, mentions, entities, code fences.

    ``<https://x|label>`` becomes ``label (https://x)``, ``<@U1>`` becomes
    ``@U1``, ``<#C1|ops>`` becomes ``#ops``, ``<!here>`` becomes ``@here``, a date
    token becomes this machine's local time (as Slack shows each reader theirs),
    fenced code is indented, and ``&lt;`` and friends are unescaped.
    *bold*, _italic_ and `code` markers are kept: they read fine as they are.
    """

    def link(match: re.Match[str]) -> str:
        target, label = match.group(1), match.group(2)
        if target.startswith("@"):
            return "@" + (label or target[1:])
        if target.startswith("#"):
            return "#" + (label or target[1:])
        if target.startswith("!date^"):
            return date_token(target, label or target)
        if target.startswith("!"):
            name = target[1:].split("^")[0]
            return "@" + (label or name)
        if label and label != target:
            return f"{label} ({target})"
        return target

    def fence(match: re.Match[str]) -> str:
        body = match.group(1).rstrip("\n")
        return "\n".join("    " + line for line in body.split("\n"))

    text = _CODE_FENCE.sub(fence, text)
    text = _LINK.sub(link, text)
    return html.unescape(text)


def text_of(obj: Any) -> str:
    """The readable text of a Block Kit text object (or a plain string)."""
    if isinstance(obj, str):
        return obj
    if not isinstance(obj, dict):
        return ""
    raw = str(obj.get("text", ""))
    return mrkdwn_to_text(raw) if obj.get("type") == "mrkdwn" else html.unescape(raw)


def _field_text(obj: Any) -> str:
    lines = [line for line in text_of(obj).split("\n") if line.strip()]
    return (
        ": ".join(lines) if len(lines) == 2 else " ".join(lines)
    )  # "*Status*\nok" → "*Status*: ok"


def _indent(text: str, prefix: str = "") -> list[str]:
    return [prefix + line for line in text.split("\n")]


class _Numberer:
    def __init__(self, first: int) -> None:
        self.next = first
        self.buttons: list[Button] = []

    def button(self, element: dict[str, Any], block_id: str) -> str:
        number = self.next
        self.next += 1
        button = Button(
            number=number,
            text=text_of(element.get("text")),
            action_id=str(element.get("action_id", "")),
            block_id=block_id,
            value=str(element.get("value", "")),
            url=str(element.get("url", "")),
            style=str(element.get("style", "")),
            confirm=element.get("confirm"),
        )
        self.buttons.append(button)
        label = f"[{number}] {button.text}"
        if button.url:
            label += f" ({button.url})"
        return label


def _element(element: dict[str, Any], block_id: str, numberer: _Numberer) -> str:
    kind = element.get("type")
    if kind == "button":
        return numberer.button(element, block_id)
    if kind == "image":
        return f"[image: {element.get('alt_text', '')}]"
    if kind in ("mrkdwn", "plain_text"):
        return text_of(element)
    if kind in ("static_select", "overflow", "radio_buttons"):
        options = ", ".join(text_of(o.get("text")) for o in element.get("options") or [])
        placeholder = text_of(element.get("placeholder")) or "choose"
        return f"<{placeholder}: {options}>"
    return f"<{kind}>"


def _rich_text(block: dict[str, Any]) -> str:
    parts: list[str] = []
    for section in block.get("elements") or []:
        for item in section.get("elements") or []:
            if item.get("type") == "text":
                parts.append(str(item.get("text", "")))
            elif item.get("type") == "link":
                parts.append(str(item.get("text") or item.get("url", "")))
            elif item.get("type") == "user":
                parts.append("@" + str(item.get("user_id", "")))
            elif item.get("type") == "emoji":
                parts.append(f":{item.get('name', '')}:")
        parts.append("\n")
    return "".join(parts).strip("\n")


def _block(block: dict[str, Any], numberer: _Numberer) -> list[str]:
    kind = block.get("type")
    block_id = str(block.get("block_id", ""))
    if kind == "header":
        return [f"== {text_of(block.get('text'))} =="]
    if kind == "divider":
        return ["-" * 40]
    if kind == "section":
        lines: list[str] = []
        if block.get("text"):
            lines += _indent(text_of(block.get("text")))
        lines += [_INDENT + _field_text(f) for f in block.get("fields") or []]
        accessory = block.get("accessory")
        if isinstance(accessory, dict):
            lines.append(_INDENT + _element(accessory, block_id, numberer))
        return lines
    if kind == "context":
        parts = [_element(e, block_id, numberer) for e in block.get("elements") or []]
        return _indent(" · ".join(p for p in parts if p), _INDENT + "~ ")
    if kind == "actions":
        elements = block.get("elements") or []
        return [_INDENT + "  ".join(_element(e, block_id, numberer) for e in elements)]
    if kind == "image":
        return [f"[image: {block.get('alt_text', '')}]"]
    if kind == "rich_text":
        return _indent(_rich_text(block))
    if kind == "input":
        return [f"{_INDENT}{text_of(block.get('label'))}: ___"]
    return [f"<{kind} block>"]


def render_message(
    text: str, blocks: list[dict[str, Any]] | None, first_number: int = 1
) -> Rendered:
    """Render a message; ``text`` is shown only when there are no blocks (as Slack does).

    Args:
        text: the message's fallback text (mrkdwn).
        blocks: its Block Kit blocks, if any.
        first_number: the number the first button gets.
    """
    numberer = _Numberer(first_number)
    if not blocks:
        return Rendered(_indent(mrkdwn_to_text(text)) if text else [])
    lines: list[str] = []
    for block in blocks:
        if isinstance(block, dict):
            lines += _block(block, numberer)
    return Rendered(lines, numberer.buttons)


def modal_inputs(view: dict[str, Any]) -> list[ModalInput]:
    """The input blocks of a modal view, in order."""
    inputs: list[ModalInput] = []
    for block in view.get("blocks") or []:
        if not isinstance(block, dict) or block.get("type") != "input":
            continue
        element = block.get("element") or {}
        options = [
            (text_of(o.get("text")), str(o.get("value", ""))) for o in element.get("options") or []
        ]
        initial: Any = element.get("initial_value") or element.get("initial_option") or ""
        if isinstance(initial, dict):
            initial = initial.get("value", "")
        inputs.append(
            ModalInput(
                block_id=str(block.get("block_id", "")),
                action_id=str(element.get("action_id", "")),
                label=text_of(block.get("label")),
                kind=str(element.get("type", "plain_text_input")),
                optional=bool(block.get("optional", False)),
                options=options,
                initial=str(initial),
            )
        )
    return inputs


def render_modal(view: dict[str, Any], first_number: int = 1) -> Rendered:
    """A modal as text: its title, its non-input blocks, then its inputs as blanks."""
    title = text_of(view.get("title")) or "Modal"
    body = render_message("", list(view.get("blocks") or []), first_number)
    submit = text_of(view.get("submit")) or "Submit"
    return Rendered([f"┌ {title}", *body.lines, f"└ ({submit} / Cancel)"], body.buttons)


def confirm_prompt(confirm: dict[str, Any]) -> str:
    """The y/N question for a button's ``confirm`` dialog."""
    title = text_of(confirm.get("title"))
    body = text_of(confirm.get("text"))
    yes = text_of(confirm.get("confirm")) or "Yes"
    head = f"{title}: {body}" if title and body else title or body or "Are you sure?"
    return f"{head} [{yes}? y/N] "
