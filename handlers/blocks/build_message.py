"""The channel message of one Streampixel build: pipeline, decisions, Distribute button (pure).

Re-rendered from scratch by every webhook and every decision, so everything it
shows comes in as data: the pipeline :class:`~bot.notifications.timeline.Timeline`,
the project's name (when the bot knows it) and the decision stamps from the
release timeline. The stamps are read from the database at each render, which is
why they stay however many webhooks follow.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from bot.notifications.timeline import Timeline
from bot.records import Stamp
from handlers import ids
from handlers.blocks.parts import (
    actions,
    button,
    code,
    context,
    esc,
    mention,
    section,
)
from handlers.blocks.releases import project_words, run_confirm, stamps_block

Blocks = list[dict[str, Any]]

#: Stamps that mean the build was released through the bot.
_RELEASED = frozenset({"distributed", "rolled_back"})


def build_message(
    t: Timeline,
    *,
    status_of: Callable[[str], str],
    progress: str,
    project_name: str | None = None,
    stamps: Sequence[Stamp] = (),
) -> tuple[str, Blocks]:
    """``(fallback text, blocks)`` of the build's message as it stands now.

    Args:
        t: the pipeline so far.
        status_of: the status line of a pipeline event.
        progress: the rendered progress line (uploaded → … → approved).
        project_name: the project's name, if known (else its id is shown).
        stamps: the decisions taken on the build, oldest first.
    """
    current = t.current()
    project_id = t.project or "?"
    status = status_of(current.event)
    if "build.approved" in t.events() and "build.distributing" in t.events():
        status = ":white_check_mark: Approved and distributed"
    title = f"*Build* {code(t.subject)} of {project_words(project_name, project_id)}"
    blocks: Blocks = [section(f"{title}\n{status}")]
    if current.event == "build.rejected":
        objection = esc(current.detail or "no reason given")
        blocks.append(section(f"*Objection:*\n> {objection}"))
    else:
        blocks.append(context(progress))
    decided = stamps_block(stamps)
    if decided is not None:
        blocks.append(decided)
    released = any(s.kind in _RELEASED for s in stamps)
    if t.awaiting_distribution() and not released:
        value = json.dumps({"project_id": t.project, "upload_id": t.subject})
        blocks.append(context("Uploaded with autoRelease off: distribute it when ready."))
        blocks.append(
            actions(
                button(
                    "Distribute",
                    ids.BUILD_DISTRIBUTE,
                    value,
                    style="primary",
                    confirm=run_confirm("distribute", project_name, project_id, t.subject or ""),
                )
            )
        )
    name = project_name or project_id
    fallback = esc(f"Build {t.subject} of {name}: {_plain(status)}")
    if stamps:
        last = stamps[-1]
        fallback += f" ({esc(last.kind.replace('_', ' '))} by {mention(last.actor_id)})"
    return fallback, blocks


def _plain(text: str) -> str:
    """``text`` without a leading emoji code."""
    if text.startswith(":"):
        end = text.find(":", 1)
        if end != -1:
            return text[end + 1 :].strip()
    return text
