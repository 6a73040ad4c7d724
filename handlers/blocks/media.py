"""Block Kit for ``/media``: video lists, details, statistics, uploads and embeds (pure)."""

from __future__ import annotations

from datetime import datetime

from bot.notifications.types import DeleteResult
from bot.providers.streamstack_models import (
    PERIODS,
    Embed,
    Media,
    MediaPage,
    PresignedUpload,
    VideoStats,
)
from bot.services.media import PendingDelete, Share, top_shares
from handlers.blocks.parts import (
    Block,
    actions,
    bar,
    button,
    code,
    code_block,
    confirm_dialog,
    context,
    divider,
    duration_text,
    esc,
    fields_section,
    header,
    link,
    number,
    plain,
    section,
    slack_date,
)
from handlers.ids import (
    MEDIA_DELETE,
    MEDIA_DETAILS,
    MEDIA_PAGE,
    MEDIA_STATS_CHART,
    MEDIA_STATS_PERIOD,
    MEDIA_UNDO_DELETE,
)

PAGE_PREVIOUS_ACTION = f"{MEDIA_PAGE}:previous"
PAGE_NEXT_ACTION = f"{MEDIA_PAGE}:next"

STATUS_EMOJI = {
    "uploading": ":arrow_up:",
    "processing": ":hourglass_flowing_sand:",
    "transcoded": ":film_frames:",
    "published": ":white_check_mark:",
    "failed": ":x:",
}

BREAKDOWNS = (("Quality", "quality"), ("Devices", "devices"), ("Browsers", "browsers"))


def status_text(status: str) -> str:
    """A status with its emoji, e.g. ``:x: failed``."""
    return f"{STATUS_EMOJI.get(status, ':grey_question:')} {esc(status)}"


def title_of(media: Media) -> str:
    """The video's title for mrkdwn (escaped), or a placeholder."""
    return esc(media.title) if media.title else "_untitled_"


def delete_confirm(media_uuid: str, title: str = "") -> Block:
    """The confirmation dialog in front of every Delete button."""
    name = f"“{title}”" if title else media_uuid
    return confirm_dialog(
        "Delete this video?",
        f"{name} ({media_uuid}) will be deleted permanently with all transcoded versions, "
        "HLS segments and thumbnails. This cannot be undone.",
        "Delete",
        style="danger",
    )


def delete_button(media: Media) -> Block:
    """A red Delete button (value: the uuid) behind a confirmation dialog."""
    return button(
        "Delete",
        MEDIA_DELETE,
        media.uuid,
        style="danger",
        confirm=delete_confirm(media.uuid, media.title),
    )


def media_list(page: MediaPage) -> list[Block]:
    """One page of videos with Previous/Next buttons (value: the page to show)."""
    blocks: list[Block] = [
        header("StreamStack videos"),
    ]
    if not page.items:
        blocks.append(section("No videos on this page." if page.total else "No videos yet."))
    for media in page.items:
        facts = [status_text(media.status), duration_text(media.duration)]
        if media.resolution:
            facts.append(esc(media.resolution))
        facts.append(f"added {slack_date(media.created_at, '{date_short_pretty}')}")
        blocks.append(
            section(
                f"*{title_of(media)}*\n{' · '.join(facts)}\n{code(media.uuid)}",
                accessory=button("Details", MEDIA_DETAILS, media.uuid),
            )
        )
    blocks.append(
        context(
            f"Page {page.current_page} of {max(page.last_page, 1)} · {number(page.total)} videos · "
            "`/media info &lt;uuid&gt;` for details"
        )
    )
    nav: list[Block] = []
    if page.current_page > 1:
        nav.append(button("◀ Previous", PAGE_PREVIOUS_ACTION, str(page.current_page - 1)))
    if page.has_next:
        nav.append(button("Next ▶", PAGE_NEXT_ACTION, str(page.current_page + 1)))
    if nav:
        blocks.append(actions(*nav))
    return blocks


def media_details(media: Media, *, with_delete: bool = True) -> list[Block]:
    """A video's details, its player link, and a Delete button."""
    facts = [
        f"*Status*\n{status_text(media.status)}",
        f"*Duration*\n{duration_text(media.duration)}",
        f"*Resolution*\n{esc(media.resolution or '—')}",
        f"*Profiles*\n{esc(', '.join(media.profiles) or '—')}",
        f"*Added*\n{slack_date(media.created_at)}",
        f"*Updated*\n{slack_date(media.updated_at)}",
    ]
    links = []
    if media.urls.player:
        links.append(link(media.urls.player, "Player"))
    if media.urls.hls:
        links.append(link(media.urls.hls, "HLS"))
    blocks: list[Block] = [
        section(f"*{title_of(media)}*\n{code(media.uuid)}"),
        fields_section(facts),
    ]
    if links:
        blocks.append(context(" · ".join(links)))
    blocks.append(
        context(f"{code(f'/media stats {media.uuid}')} · {code(f'/media embed {media.uuid}')}")
    )
    if with_delete:
        blocks.append(actions(delete_button(media)))
    return blocks


def delete_prompt(media: Media) -> list[Block]:
    """The reply to ``/media delete``: what will go, and a one-shot Delete button."""
    return [
        section(
            f":warning: Delete *{title_of(media)}* ({code(media.uuid)}, "
            f"{status_text(media.status)}, {duration_text(media.duration)})?\n"
            "The video, all transcoded versions, HLS segments and thumbnails are removed "
            "for good."
        ),
        actions(delete_button(media)),
    ]


def watch_time(seconds: float) -> str:
    """Average watch time as ``3m 25s`` / ``48s``."""
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes}m {secs:02d}s" if minutes else f"{secs}s"


def country(code: str) -> str:
    """A country code with its flag when it is a two-letter ISO code."""
    if len(code) == 2 and code.isascii() and code.isalpha():
        flag = "".join(chr(0x1F1E6 + ord(c) - ord("A")) for c in code.upper())
        return f"{flag} {code.upper()}"
    return esc(code)


def breakdown_lines(shares: list[Share], *, label_width: int = 10) -> str:
    """Aligned lines such as ``1080p      ██████░░░░░░  52.0%  1,234`` in a code block."""
    lines = []
    for share in shares:
        label = share.label[:label_width].ljust(label_width)
        lines.append(
            f"{label} {bar(share.fraction)} {share.fraction * 100:5.1f}%  {number(share.count)}"
        )
    return code_block("\n".join(lines))


def media_stats(stats: VideoStats, media: Media | None = None) -> list[Block]:
    """Statistics at a glance: headline numbers, then top entries of each breakdown."""
    name = title_of(media) if media else f"{code(stats.uuid)}"
    completion = max(0.0, min(100.0, stats.completion_rate))
    blocks: list[Block] = [
        header(f"Stats · {media.title if media and media.title else stats.uuid}"),
        section(f"{name} over *{esc(stats.period)}*"),
        fields_section(
            [
                f"*Views*\n{number(stats.views)}",
                f"*Watching now*\n{number(stats.watching_now)}",
                f"*Average watch time*\n{watch_time(stats.avg_watch_time)}",
                f"*Completion*\n`{bar(completion / 100, 10)}` {completion:.1f}%",
            ]
        ),
    ]
    if stats.views == 0 and not any((stats.quality, stats.devices, stats.browsers, stats.geo)):
        blocks.append(context("No views in this period yet."))
        return blocks
    for title, attribute in BREAKDOWNS:
        shares = top_shares(dict(getattr(stats, attribute)))
        if shares:
            blocks.append(section(f"*{title}*\n{breakdown_lines(shares)}"))
    geo = top_shares(dict(stats.geo))
    if geo:
        named = [Share(country(s.label), s.count, s.fraction) for s in geo]
        blocks.append(section(f"*Top countries*\n{breakdown_lines(named, label_width=12)}"))
    blocks.append(divider())
    blocks.append(stats_controls(stats.uuid, stats.period))
    return blocks


def stats_value(uuid: str, period: str) -> str:
    """The value a stats control carries: ``<uuid>|<period>``."""
    return f"{uuid}|{period}"


def stats_controls(uuid: str, period: str) -> Block:
    """A period menu that switches the message in place, and a Chart button."""
    options = [{"text": plain(name, 75), "value": stats_value(uuid, name)} for name in PERIODS]
    chosen = next((o for o in options if o["value"] == stats_value(uuid, period)), options[4])
    menu: Block = {
        "type": "static_select",
        "action_id": MEDIA_STATS_PERIOD,
        "placeholder": plain("Period", 75),
        "options": options,
        "initial_option": chosen,
    }
    chart = button("Chart", MEDIA_STATS_CHART, stats_value(uuid, period))
    return actions(menu, chart)


def upload_started(media: Media, actor_id: str, source: str) -> list[Block]:
    """The in-channel note that an import from a URL has started."""
    return [
        section(
            f":inbox_tray: <@{actor_id}> started importing *{title_of(media)}* from "
            f"{code(source)}\n{status_text(media.status)} · {code(media.uuid)}"
        ),
        context("Transcoding starts on its own; `/media info &lt;uuid&gt;` shows progress."),
    ]


def presigned(upload: PresignedUpload, title: str, filename: str) -> list[Block]:
    """The requester-only reply to ``/media presign``: where and how to send the file."""
    header_lines = "".join(f' -H "{k}: {v}"' for k, v in upload.headers.items())
    command = (
        f'curl -X {upload.method}{header_lines} --upload-file "{filename}" "{upload.upload_url}"'
    )
    expiry = f"expires in {upload.expires_in // 60} min" if upload.expires_in else "expires soon"
    headers = "\n".join(f"{k}: {v}" for k, v in upload.headers.items()) or "(none)"
    return [
        section(
            f":lock: Upload target for *{esc(title)}* ({code(upload.uuid)}), only for you; "
            f"{expiry}. Anyone with this URL can upload, so do not share it."
        ),
        section(f"*Method* {code(upload.method)}\n*Headers*\n{code_block(headers)}"),
        section(f"*URL*\n{code_block(upload.upload_url)}"),
        section(f"*With curl*\n{code_block(command)}"),
    ]


def embed_snippet(media: Media, embed: Embed) -> list[Block]:
    """The iframe snippet of a video in a code block, with its player link."""
    return [
        section(f"Embed code for *{title_of(media)}* ({code(media.uuid)})"),
        section(code_block(embed.iframe)),
        context(f"{link(embed.url, 'Open the player')} · options: autoplay, loop, mute"),
    ]


def delete_scheduled(pending: PendingDelete, actor_id: str) -> tuple[str, list[Block]]:
    """The message of a confirmed delete waiting out its undo window, with Undo."""
    title = esc(pending.title or pending.media_uuid)
    when = slack_date(pending.due_at, "{time}")
    uuid = esc(pending.media_uuid)
    text = f":hourglass_flowing_sand: <@{actor_id}> is deleting *{title}* (`{uuid}`)"
    blocks = [
        section(
            f"{text}: it goes at {when} unless someone undoes it.",
            accessory=button("Undo", MEDIA_UNDO_DELETE, str(pending.id), style="primary"),
        )
    ]
    fallback = f"{esc(pending.title or pending.media_uuid)} will be deleted at {when}"
    return fallback, blocks


def delete_undone(pending: PendingDelete, actor_id: str, at: datetime) -> str:
    """What the message says once a scheduled delete was undone."""
    title = esc(pending.title or pending.media_uuid)
    return (
        f":leftwards_arrow_with_hook: Delete of *{title}* ({code(pending.media_uuid)}) undone "
        f"by <@{actor_id}> {slack_date(at)}; the video stays."
    )


def delete_too_late(pending: PendingDelete) -> str:
    """The answer to an Undo click after the delete ran or was already undone."""
    title = esc(pending.title or pending.media_uuid)
    if pending.state == "undone":
        who = f" by <@{pending.finished_by}>" if pending.finished_by else ""
        return f":information_source: The delete of *{title}* was already undone{who}."
    return f":information_source: Too late: *{title}* was already deleted ({esc(pending.state)})."


def delete_result_message(result: DeleteResult) -> tuple[str, list[Block]]:
    """The channel message when a scheduled delete ran (after its undo window)."""
    title = esc(result.title or result.uuid)
    uuid = esc(result.uuid)
    if result.outcome == "ok":
        text = (
            f":wastebasket: *{title}* (`{uuid}`) was deleted {slack_date(result.at)}, as "
            f"<@{result.requested_by}> asked {slack_date(result.requested_at)}."
        )
    else:
        text = (
            f":x: Deleting *{title}* (`{uuid}`) for <@{result.requested_by}> failed: "
            f"{esc(result.message)}. Run `/media delete {uuid}` to try again."
        )
    fallback = f"{esc(result.title or result.uuid)}: delete {esc(result.outcome)}"
    return fallback, [section(text)]
