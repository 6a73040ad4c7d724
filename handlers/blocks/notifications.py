"""Channel notifications for builds, videos, live sessions and webhook tests (pure).

Each function takes data and returns ``(text, blocks)``: ``text`` is the
notification fallback, ``blocks`` the Block Kit layout.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bot.notifications.digest import DigestEntry
from bot.notifications.timeline import BROADCAST, Timeline
from bot.notifications.types import DELETE_RESULT, QUEUED_RESULT, DeleteResult, Notice, QueuedResult
from bot.records import SCHEDULE_REPORT, Stamp, schedule_from_payload
from handlers import ids
from handlers.blocks.approvals import governance_message
from handlers.blocks.audit_notices import audit_notice
from handlers.blocks.build_message import build_message
from handlers.blocks.builds import VERBS, queued_result
from handlers.blocks.digest import digest_message
from handlers.blocks.media import delete_confirm, delete_result_message
from handlers.blocks.parts import actions, button, code, context, esc, link, section
from handlers.blocks.releases import schedule_report

Blocks = list[dict[str, Any]]

_BUILD_STEPS = (
    ("build.uploaded", "uploaded"),
    ("build.downloading", "downloading"),
    ("build.extracting", "extracting"),
    ("build.saving", "saving"),
    ("build.distributing", "distributing"),
    ("build.approved", "approved"),
)
_MEDIA_STEPS = (
    ("media.uploaded", "uploaded"),
    ("media.transcoded", "transcoded"),
    ("media.published", "published"),
)
_STATUS = {
    "build.uploaded": ":inbox_tray: Uploaded",
    "build.downloading": ":arrow_down: Downloading files",
    "build.extracting": ":mag: Extracting & scanning",
    "build.saving": ":floppy_disk: Saving to repository",
    "build.distributing": ":rocket: Distributing to GPU workers",
    "build.approved": ":white_check_mark: Approved",
    "build.rejected": ":x: Rejected",
    "media.uploaded": ":inbox_tray: Uploaded",
    "media.transcoded": ":gear: Transcoded",
    "media.published": ":white_check_mark: Published",
    "media.failed": ":x: Transcoding failed",
    "live.started": ":red_circle: Live now",
    "live.ended": ":black_square_for_stop: Ended",
}
#: How a step no webhook reported (found by reconciliation) is marked.
RECONCILED = "found by reconciliation: no webhook arrived"
#: The longest thread reply, in characters.
_MAX_REPLY = 2900


def status_of(event: str) -> str:
    """The status line of a pipeline step."""
    return _STATUS.get(event, f":grey_question: {code(event)}")


def _progress(timeline: Timeline, steps: tuple[tuple[str, str], ...]) -> str:
    seen = set(timeline.events())
    return " → ".join(f"*{label}*" if event in seen else f"_{label}_" for event, label in steps)


def pipeline_message(
    timeline: Timeline, *, project_name: str | None = None, stamps: Sequence[Stamp] = ()
) -> tuple[str, Blocks]:
    """The one message of a build, video or live session, as it stands now."""
    if timeline.provider == "streampixel":
        return build_message(
            timeline,
            status_of=status_of,
            progress=_progress(timeline, _BUILD_STEPS),
            project_name=project_name,
            stamps=stamps,
        )
    if timeline.provider == "streamstack":
        return _media_message(timeline)
    return _live_message(timeline)


def _media_message(t: Timeline) -> tuple[str, Blocks]:
    current = t.current()
    name = esc(t.title) if t.title else "Video"
    status = status_of(current.event)
    lines = [f"*{name}* {code(t.subject)}", status]
    if current.event == "media.published" and t.player_url:
        lines.append(link(t.player_url, "Open the player"))
    blocks: Blocks = [section("\n".join(lines))]
    if current.event == "media.failed":
        blocks.append(section(f"*Error:*\n> {esc(current.detail or 'no details given')}"))
        blocks.append(
            actions(
                button(
                    "Delete",
                    ids.MEDIA_DELETE,
                    t.subject,
                    style="danger",
                    confirm=delete_confirm(t.subject, t.title or ""),
                ),
                button("Details", ids.MEDIA_DETAILS, t.subject),
            )
        )
    else:
        blocks.append(context(_progress(t, _MEDIA_STEPS)))
    fallback = f"{esc(t.title or 'Video')} ({esc(t.subject)}): {_fallback(status)}"
    if current.reconciled:
        blocks.append(context(f":mag_right: {RECONCILED.capitalize()}"))
        fallback += f" ({RECONCILED})"
    return fallback, blocks


def _live_message(t: Timeline) -> tuple[str, Blocks]:
    current = t.current()
    name = esc(t.title) if t.title else "Live session"
    status = status_of(current.event)
    # The subject is "<public host id>@<start epoch>"; people know the host id.
    host = t.subject.split("@", 1)[0]
    blocks: Blocks = [
        section(f"*{name}* · public host {code(host)}\n{status}"),
        context(f"{code(f'/live info {host}')} for viewers and duration"),
    ]
    return f"{esc(t.title or 'Live session')} (host {esc(host)}): {_fallback(status)}", blocks


def step_reply(notification: Notice) -> tuple[str, bool]:
    """The thread reply for one step, and whether to broadcast it to the channel."""
    event = notification.event
    text = status_of(event)
    detail = notification.objection or notification.error
    if detail:
        text += f": {esc(detail)}"
    if notification.reconciled:
        text += f" _({RECONCILED})_"
    return text[:_MAX_REPLY], event in BROADCAST


def steps_reply(notifications: Sequence[Notice]) -> str:
    """One thread reply for several steps that arrived together (one line each)."""
    lines = [step_reply(n)[0] for n in notifications]
    text = ""
    for i, line in enumerate(lines):
        candidate = f"{text}\n{line}" if text else line
        if len(candidate) > _MAX_REPLY:
            return f"{text}\n… and {len(lines) - i} more steps"
        text = candidate
    return text


def standalone_message(notification: Mapping[str, Any]) -> tuple[str, Blocks]:
    """A notification that is a message of its own (not a step of a pipeline)."""
    audit = audit_notice(notification)
    if audit is not None:
        return audit
    governed = governance_message(notification)
    if governed is not None:
        return governed
    if notification.get("event") == QUEUED_RESULT:
        return queued_result_message(QueuedResult.from_payload(notification))
    if notification.get("event") == SCHEDULE_REPORT:
        schedule, at = schedule_from_payload(notification)
        return schedule_report(schedule, at=at)
    if notification.get("event") == DELETE_RESULT:
        return delete_result_message(DeleteResult.from_payload(notification))
    return webhook_test_message(Notice.from_payload(notification))


def queued_result_message(result: QueuedResult) -> tuple[str, Blocks]:
    """The queue runner's report on a queued distribution, for the requester's channel."""
    verb = VERBS[result.action]
    text = (
        f"Queued {verb.lower()} of {esc(result.upload_id)}: {esc(result.outcome)} "
        f"({esc(result.message)})"
    )
    blocks = queued_result(
        result.action,
        result.project_id,
        result.upload_id,
        requested_by=result.requested_by,
        outcome=result.outcome,
        message=result.message,
        at=result.at,
    )
    return text, blocks


def webhook_test_message(notification: Notice) -> tuple[str, Blocks]:
    """The answer to ``webhook.test``: the webhook reaches us."""
    project = code(notification.project or "?")
    when = esc(notification.timestamp or "")
    text = f":white_check_mark: The Streampixel webhook works: test event for project {project}"
    if when:
        text += f" (sent {when})"
    return _fallback(text), [section(text)]


def _fallback(text: str) -> str:
    """``text`` without the leading emoji code, for notification fallbacks."""
    if text.startswith(":"):
        end = text.find(":", 1)
        if end != -1:
            return text[end + 1 :].strip()
    return text


class SlackNotifications:
    """The renderer the delivery worker is handed (see ``bot.jobs.outbox_worker``)."""

    def standalone(self, notification: Mapping[str, Any]) -> tuple[str, Blocks]:
        """A notification that is a message of its own."""
        return standalone_message(notification)

    def pipeline(
        self, timeline: Timeline, *, project_name: str | None = None, stamps: Sequence[Stamp] = ()
    ) -> tuple[str, Blocks]:
        """The one message of a build, video or live session."""
        return pipeline_message(timeline, project_name=project_name, stamps=stamps)

    def step_reply(self, notification: Notice) -> tuple[str, bool]:
        """The thread reply for one step."""
        return step_reply(notification)

    def steps_reply(self, notifications: Sequence[Notice]) -> str:
        """One thread reply for several steps."""
        return steps_reply(notifications)

    def digest(self, entries: Sequence[DigestEntry], channel: str) -> tuple[str, Blocks, int]:
        """A channel digest of ``entries``, and how many of them it shows."""
        return digest_message(entries, channel, status_of=status_of)


#: The renderer instance the composition root hands to the delivery worker.
NOTIFICATIONS = SlackNotifications()
