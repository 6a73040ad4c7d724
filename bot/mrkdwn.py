"""Slack mrkdwn escaping, shared by the renderers and by the services' messages to users.

Every user- or provider-supplied string shown in mrkdwn or in a message's fallback
``text`` goes through :func:`esc` (or :func:`code` inside a code span), so no
``<!channel>``, ``<@U…>`` or ``<https://…|link>`` typed by a user or sent by a
provider can reach Slack as markup, and no backtick can end a code span early.
:mod:`handlers.blocks.parts` re-exports these for the renderers.
"""

from __future__ import annotations

#: Shown instead of a backtick inside a code span (mrkdwn has no way to escape one).
_BACKTICK_STANDIN = "\u02cb"


def esc(text: object) -> str:
    """``text`` safe inside mrkdwn: ``&``, ``<`` and ``>`` escaped as Slack requires.

    The one escaping function for every user- or provider-supplied string shown in
    mrkdwn or in a message's fallback ``text``: with ``<`` escaped, no ``<!channel>``,
    ``<@U…>`` or ``<https://…|link>`` inside it can reach Slack as markup.
    """
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def code(text: object) -> str:
    """``text`` as a mrkdwn code span that it cannot break out of.

    Escaped like :func:`esc`; a backtick (which would end the span) is shown as U+02CB
    (a look-alike) and line breaks as spaces (a span cannot cross a line).
    """
    inner = esc(text).replace("`", _BACKTICK_STANDIN).replace("\r", " ").replace("\n", " ")
    return f"`{inner or ' '}`"


def code_block(text: object) -> str:
    """``text`` as a mrkdwn code block (escaped; backticks cannot close it)."""
    return f"```\n{esc(text).replace('`', _BACKTICK_STANDIN)}\n```"
