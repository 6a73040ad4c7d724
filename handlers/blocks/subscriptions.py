"""Text of ``/streamops subscriptions`` and ``/streamops events`` (pure)."""

from __future__ import annotations

from collections.abc import Sequence

from bot.providers.streampixel import Project
from bot.records import Subscription, WebhookDelivery
from bot.services.subscriptions import Subscribed, Unsubscribed
from handlers.blocks.parts import channel_ref, code, esc

#: Projects listed in an answer to an unknown ``project=`` (the rest are counted).
PROJECTS_SHOWN = 20

_OUTCOME = {
    "queued": ":hourglass: queued",
    "posted": ":white_check_mark: posted",
    "failed": ":x: failed",
    "ignored": ":grey_question: ignored (unknown event)",
    "unrouted": ":warning: no channel",
}


def subscriptions_text(subs: Sequence[Subscription], default_channel: str | None) -> str:
    """One line per subscription, then where everything else goes."""
    fallback = channel_ref(default_channel) if default_channel else "nowhere (no default channel)"
    if not subs:
        return f"No subscriptions. Every notification goes to {fallback}."
    lines = ["*Subscriptions*"]
    for sub in subs:
        line = f"• {channel_ref(sub.channel)} ← {esc(sub.provider)}"
        if sub.project:
            line += f" project {code(sub.project)}"
        line += f" events: {esc(sub.events) if sub.events else 'all'}"
        lines.append(line)
    lines.append(f"Notifications no subscription matches go to {fallback}.")
    return "\n".join(lines)


def deliveries_text(rows: Sequence[WebhookDelivery], provider: str | None) -> str:
    """Recent webhook deliveries with their outcome, newest first."""
    scope = f" from {esc(provider)}" if provider else ""
    if not rows:
        return f"No webhook deliveries{scope} yet."
    lines = [f"*Recent webhook deliveries{scope}*"]
    for row in rows:
        when = row.received_at.strftime("%Y-%m-%d %H:%M:%S")
        about = f" {code(row.subject)}" if row.subject else ""
        outcome = _OUTCOME.get(row.outcome, esc(row.outcome))
        lines.append(f"• {when} {esc(row.provider)} {code(row.event)}{about} — {outcome}")
    return "\n".join(lines)


def subscribed_text(done: Subscribed) -> str:
    """The confirmation of ``/streamops subscribe``."""
    args = done.args
    verb = "Subscribed" if done.new else "Updated the subscription of"
    scope = ""
    if done.project is not None:
        scope = f" project *{esc(done.project.name)}* ({code(done.project.id)})"
    elif args.project:
        scope = f" project {code(args.project)}"
    events = ", ".join(code(e) for e in args.events) if args.events else "all events"
    text = f":white_check_mark: {verb} {channel_ref(args.channel)} to {esc(args.provider)}{scope}: "
    text += f"{events}."
    if done.unchecked:
        text += " (The project id was not checked: Streampixel's API is not configured.)"
    return text


def unsubscribed_text(done: Unsubscribed) -> str:
    """The answer to ``/streamops unsubscribe``."""
    args = done.args
    channel, provider = channel_ref(args.channel), esc(args.provider)
    if not done.removed:
        return f"{channel} had no {provider} subscription to remove."
    return f":white_check_mark: Removed {done.removed} subscription(s) of {channel} to {provider}."


def bad_arguments_text(reason: str, usage: str) -> str:
    """A refused subscribe/unsubscribe: the reason and the usage line.

    ``reason`` is an :class:`~bot.errors.InvalidInput` message: mrkdwn whose quoted user
    words were escaped where it was raised (:mod:`bot.mrkdwn`), so it is not escaped again.
    """
    return f":warning: {reason}.\nUsage: {code(usage)}"


def unknown_events_text(
    provider: str, unknown: Sequence[str], valid: Sequence[str], usage: str
) -> str:
    """Event names ``provider`` never sends, the ones it does, and the ``usage`` line."""
    names = ", ".join(code(e) for e in unknown)
    noun = "event" if len(unknown) == 1 else "events"
    text = f":warning: {esc(provider)} sends no {names} {noun}, so that subscription could never "
    text += f"match. Its events: {', '.join(code(e) for e in valid)}"
    if valid:
        text += f" (or just the part after the dot, e.g. {code(valid[0].rpartition('.')[2])})"
    return f"{text}.\nUsage: {code(usage)}"


def unknown_project_text(
    wanted: str, projects: Sequence[Project], ambiguous: bool, usage: str
) -> str:
    """No single Streampixel project matched ``wanted``: the ones that could be meant, and usage."""
    asked = code(wanted)
    if ambiguous:
        head = f":warning: {asked} matches several Streampixel projects; use the full name or id:"
    elif projects:
        head = f":warning: No Streampixel project is called or has the id {asked}. Projects:"
    else:
        head = f":warning: No Streampixel project is called or has the id {asked}: the account "
        head += "has no projects."
    lines = [head]
    lines += [f"• *{esc(p.name)}* {code(p.id)}" for p in projects[:PROJECTS_SHOWN]]
    if len(projects) > PROJECTS_SHOWN:
        lines.append(f"… and {len(projects) - PROJECTS_SHOWN} more")
    lines.append(f"Usage: {code(usage)}")
    return "\n".join(lines)
