"""A small reusable modal: one multi-line text input, opened from a click, read back on submit.

:func:`text_modal` builds the view (pure); :func:`open_modal` opens it with the
click's ``trigger_id``; :func:`submitted_text` and :func:`metadata` read the
``view_submission`` back; :func:`input_error` is the ``ack`` that keeps the
modal open with a message under the input.
"""

from __future__ import annotations

import json
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from handlers.blocks.parts import plain

#: The block and element ids of the one input of :func:`text_modal`.
INPUT_BLOCK = "text_block"
INPUT_ACTION = "text_input"


def text_modal(
    callback_id: str,
    *,
    title: str,
    intro: str,
    label: str,
    submit: str,
    private_metadata: dict[str, Any],
    placeholder: str = "",
    max_length: int = 500,
) -> dict[str, Any]:
    """A modal with an explanation and one required multi-line text input.

    Args:
        callback_id: routes the submission to its ``app.view`` listener.
        title: the modal title (24 characters at most).
        intro: mrkdwn shown above the input (escape user text before passing it).
        label: the input's label.
        submit: the submit button's label.
        private_metadata: what the submission needs back (JSON, 3,000 characters at most).
    """
    element: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": INPUT_ACTION,
        "multiline": True,
        "min_length": 1,
        "max_length": max_length,
    }
    if placeholder:
        element["placeholder"] = plain(placeholder, 150)
    return {
        "type": "modal",
        "callback_id": callback_id,
        "title": plain(title, 24),
        "submit": plain(submit, 24),
        "close": plain("Cancel", 24),
        "private_metadata": json.dumps(private_metadata, sort_keys=True)[:3000],
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": intro[:3000]}},
            {
                "type": "input",
                "block_id": INPUT_BLOCK,
                "label": plain(label, 2000),
                "element": element,
            },
        ],
    }


async def open_modal(client: AsyncWebClient, body: dict[str, Any], view: dict[str, Any]) -> None:
    """Open ``view`` for the user who clicked (``body``: the ``block_actions`` payload)."""
    await client.views_open(trigger_id=str(body.get("trigger_id") or ""), view=view)


def submitted_text(body: dict[str, Any]) -> str:
    """The text typed into the modal's input, stripped ("" when missing)."""
    values = ((body.get("view") or {}).get("state") or {}).get("values") or {}
    field = (values.get(INPUT_BLOCK) or {}).get(INPUT_ACTION) or {}
    return str(field.get("value") or "").strip()


def metadata(body: dict[str, Any]) -> dict[str, Any]:
    """The modal's ``private_metadata`` as a dict ({} when missing or not JSON)."""
    raw = (body.get("view") or {}).get("private_metadata") or ""
    try:
        value = json.loads(raw)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def input_error(message: str) -> dict[str, Any]:
    """``ack`` arguments that keep the modal open and show ``message`` under the input."""
    return {"response_action": "errors", "errors": {INPUT_BLOCK: message[:150]}}
