"""Audit query results as Block Kit: a summary line, one line per entry, paging buttons."""

from __future__ import annotations

from bot.records import AuditPage, AuditRecord, AuditSummary
from handlers import ids
from handlers.blocks.parts import (
    SECTION_LIMIT,
    Block,
    actions,
    button,
    code,
    context,
    esc,
    mention,
    section,
)

_OUTCOME_ICON = {"ok": ":white_check_mark:", "denied": ":no_entry:", "failed": ":x:"}


def entry_line(record: AuditRecord) -> str:
    """One audit row in one line of mrkdwn."""
    when = record.requested_at.strftime("%Y-%m-%d %H:%M")
    icon = _OUTCOME_ICON.get(record.outcome, "")
    who = mention(record.actor_id)
    target = ""
    if record.target_id:
        target = " " + code(f"{record.target_type or 'target'}:{record.target_id}")
    provider = f" {esc(record.provider)}" if record.provider else ""
    message = f" — {esc(record.message)}" if record.message else ""
    action, outcome = esc(record.action), esc(record.outcome)
    line = f"{icon} `{when}` *{action}* {outcome} by {who}{provider}{target}{message}"
    return line if len(line) <= 500 else line[:497] + "…"


def summary_line(summary: AuditSummary) -> str:
    """Counts by action and actor, most frequent first."""
    if summary.total == 0:
        return "No audit entries match."
    actions = ", ".join(f"{esc(a)} {n}" for a, n in summary.by_action[:6])
    actors = ", ".join(f"{esc(name or actor)} {n}" for actor, name, n in summary.by_actor[:6])
    outcomes = ", ".join(f"{esc(o)} {n}" for o, n in summary.by_outcome)
    return f"*{summary.total}* entries · {outcomes}\nBy action: {actions}\nBy actor: {actors}"


def _chunk(lines: list[str]) -> list[str]:
    chunks: list[str] = []
    current = ""
    for line in lines:
        if current and len(current) + 1 + len(line) > SECTION_LIMIT:
            chunks.append(current)
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    if current:
        chunks.append(current)
    return chunks


def audit_page(
    page: AuditPage, summary: AuditSummary, filter_text: str, *, prev_value: str, next_value: str
) -> list[Block]:
    """The reply to ``/audit``: summary, entries (newest first), Previous/Next.

    Args:
        filter_text: the filters as typed (shown so the reader knows what was asked).
        prev_value / next_value: the button values (filter text with the page).
    """
    blocks: list[Block] = [
        section(summary_line(summary)),
        context(f"Filters: {code(filter_text or 'none')} · page {page.page}"),
    ]
    lines = [entry_line(r) for r in page.records]
    blocks.extend(section(chunk) for chunk in _chunk(lines))
    buttons: list[Block] = []
    if page.page > 1:
        buttons.append(_page_button("Previous", prev_value))
    if page.has_more:
        buttons.append(_page_button("Next", next_value))
    if buttons:
        blocks.append(actions(*buttons, block_id="audit_paging"))
    return blocks


def _page_button(label: str, value: str) -> Block:
    return button(label, f"{ids.AUDIT_PAGE}_{label.lower()}", value[:2000])
