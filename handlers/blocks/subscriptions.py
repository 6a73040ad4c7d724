"""Text of ``/streamops subscriptions`` and ``/streamops events`` (pure)."""

from __future__ import annotations

from collections.abc import Sequence

from bot.records import Subscription, WebhookDelivery
from handlers.blocks.parts import channel_ref, code, esc

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
