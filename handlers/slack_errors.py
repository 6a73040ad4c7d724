"""Slack's own refusals in words a user or admin can act on (never a silent drop).

A Web API call the bot makes can be refused by Slack: a scope the app was not
installed with, a channel it cannot post to, a message over Block Kit's
limits, a revoked token, a rate limit. :func:`slack_error_text` turns a
:class:`~slack_sdk.errors.SlackApiError` into one sentence naming the method,
Slack's error code and what to do about it.
"""

from __future__ import annotations

from slack_sdk.errors import SlackApiError

_ADVICE: dict[str, str] = {
    "missing_scope": (
        "the app lacks the scope `{needed}`: reinstall it from the current manifest.yml "
        "(ask a workspace admin)"
    ),
    "not_in_channel": "invite the bot to that channel (`/invite @streamops`) and try again",
    "channel_not_found": "the channel does not exist or the bot cannot see it",
    "is_archived": "the channel is archived",
    "invalid_auth": "the bot token is not valid: an admin must check SLACK_BOT_TOKEN",
    "not_authed": "no bot token was sent: an admin must check SLACK_BOT_TOKEN",
    "token_revoked": "the bot token was revoked: an admin must reinstall the app",
    "account_inactive": "the bot token was revoked: an admin must reinstall the app",
    "invalid_blocks": "the message was too large for Slack; this is a bug, please report it",
    "msg_too_long": "the message was too long for Slack; try a narrower request",
    "ratelimited": "Slack is rate-limiting the bot; try again in {retry_after} s",
    "expired_trigger_id": "the request took too long; please run the command again",
    "exchanged_trigger_id": "that dialog was already opened; please run the command again",
}


def slack_error_code(exc: SlackApiError) -> str:
    """Slack's error code (``missing_scope``...), or ``http_<status>`` when there is none."""
    response = exc.response
    code = response.get("error") if hasattr(response, "get") else None
    return str(code or f"http_{getattr(response, 'status_code', 0)}")


def _method_of(exc: SlackApiError) -> str:
    url = str(getattr(exc.response, "api_url", "") or "")
    return url.rstrip("/").rsplit("/", 1)[-1] or "a Slack call"


def _retry_after(exc: SlackApiError) -> str:
    headers = getattr(exc.response, "headers", None) or {}
    for name, value in headers.items():
        if name.lower() == "retry-after":
            raw = value[0] if isinstance(value, list) and value else value
            return str(raw)
    return "a few"


def slack_error_text(exc: SlackApiError) -> str:
    """One sentence: which call Slack refused, its error code, and what to do."""
    code = slack_error_code(exc)
    advice = _ADVICE.get(code, "please try again later")
    needed = exc.response.get("needed") if hasattr(exc.response, "get") else None
    advice = advice.format(needed=needed or "?", retry_after=_retry_after(exc))
    return f"Slack refused `{_method_of(exc)}` ({code}): {advice}."
