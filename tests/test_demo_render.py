"""bot.demo.render: Block Kit as terminal text, buttons numbered for clicking."""

from __future__ import annotations

from bot.demo.render import (
    confirm_prompt,
    modal_inputs,
    mrkdwn_to_text,
    render_message,
    render_modal,
)

CONFIRM = {
    "title": {"type": "plain_text", "text": "Distribute?"},
    "text": {"type": "mrkdwn", "text": "Make *v1.2* live for everyone"},
    "confirm": {"type": "plain_text", "text": "Distribute"},
    "deny": {"type": "plain_text", "text": "Cancel"},
}

BUILD_MESSAGE = [
    {"type": "header", "text": {"type": "plain_text", "text": "Build approved"}},
    {
        "type": "section",
        "block_id": "summary",
        "text": {"type": "mrkdwn", "text": "*Showroom Demo* by <@U123>"},
        "fields": [
            {"type": "mrkdwn", "text": "*Status*\nApproved"},
            {"type": "mrkdwn", "text": "*Upload*\n`665a2b`"},
        ],
    },
    {"type": "divider"},
    {
        "type": "actions",
        "block_id": "acts",
        "elements": [
            {
                "type": "button",
                "action_id": "build_distribute",
                "text": {"type": "plain_text", "text": "Distribute"},
                "value": "p1:u1",
                "style": "primary",
                "confirm": CONFIRM,
            },
            {
                "type": "button",
                "action_id": "build_rollback",
                "text": {"type": "plain_text", "text": "Rollback"},
                "value": "p1:u0",
            },
        ],
    },
    {
        "type": "context",
        "elements": [
            {"type": "mrkdwn", "text": "Streampixel"},
            {"type": "plain_text", "text": "2 min ago"},
        ],
    },
]


def test_message_renders_header_sections_fields_divider_context() -> None:
    """Every common block becomes a readable line, in order."""
    rendered = render_message("fallback", BUILD_MESSAGE)
    assert rendered.lines == [
        "== Build approved ==",
        "*Showroom Demo* by @U123",
        "  *Status*: Approved",
        "  *Upload*: `665a2b`",
        "-" * 40,
        "  [1] Distribute  [2] Rollback",
        "  ~ Streampixel · 2 min ago",
    ]


def test_buttons_are_numbered_from_the_given_number_and_keep_their_payload() -> None:
    """Button numbers continue from ``first_number``; ids, values and confirm travel along."""
    rendered = render_message("", BUILD_MESSAGE, first_number=7)
    first, second = rendered.buttons
    assert (first.number, first.text, first.action_id, first.value) == (
        7,
        "Distribute",
        "build_distribute",
        "p1:u1",
    )
    assert first.block_id == "acts" and first.style == "primary" and first.confirm == CONFIRM
    assert (second.number, second.confirm) == (8, None)
    assert "[7] Distribute  [8] Rollback" in rendered.text


def test_section_accessory_button_and_link_button() -> None:
    """An accessory button is numbered too; a link button shows where it goes."""
    blocks = [
        {
            "type": "section",
            "block_id": "row",
            "text": {"type": "mrkdwn", "text": "Keynote"},
            "accessory": {
                "type": "button",
                "action_id": "media_delete",
                "text": {"type": "plain_text", "text": "Delete"},
                "value": "uuid-1",
                "style": "danger",
            },
        },
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "action_id": "open",
                    "text": {"type": "plain_text", "text": "Open"},
                    "url": "https://example.com/v/1",
                }
            ],
        },
    ]
    rendered = render_message("", blocks)
    assert rendered.lines == ["Keynote", "  [1] Delete", "  [2] Open (https://example.com/v/1)"]
    assert rendered.buttons[0].block_id == "row"
    assert rendered.buttons[1].url == "https://example.com/v/1"


def test_text_is_shown_only_when_there_are_no_blocks() -> None:
    """Like Slack, the fallback text is the message only when blocks are absent."""
    assert render_message(":warning: no *role*", None).lines == [":warning: no *role*"]
    assert render_message("fallback", [{"type": "divider"}]).lines == ["-" * 40]
    assert render_message("", None).lines == []


def test_mrkdwn_links_mentions_entities_and_code_fences() -> None:
    """Slack's angle-bracket syntax, HTML entities and fenced code become plain text."""
    text = "See <https://x.io/a|the build> in <#C1|ops>, <@U9>, <!here> &amp; <https://y.io>"
    assert (
        mrkdwn_to_text(text) == "See the build (https://x.io/a) in #ops, @U9, @here & https://y.io"
    )
    assert mrkdwn_to_text("log:\n```line 1\nline 2```") == "log:\n    line 1\n    line 2"


def test_unknown_blocks_and_elements_are_named_not_dropped() -> None:
    """A block the renderer does not know still shows up, by type."""
    rendered = render_message(
        "", [{"type": "video"}, {"type": "context", "elements": [{"type": "x"}]}]
    )
    assert rendered.lines == ["<video block>", "  ~ <x>"]


def test_modal_inputs_and_modal_rendering() -> None:
    """A modal shows its title and blanks; inputs carry ids, kind, options and defaults."""
    view = {
        "type": "modal",
        "callback_id": "confirm_action",
        "title": {"type": "plain_text", "text": "Delete video"},
        "submit": {"type": "plain_text", "text": "Delete"},
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": "Type the title to confirm."}},
            {
                "type": "input",
                "block_id": "title",
                "label": {"type": "plain_text", "text": "Title"},
                "element": {"type": "plain_text_input", "action_id": "value"},
            },
            {
                "type": "input",
                "block_id": "period",
                "optional": True,
                "label": {"type": "plain_text", "text": "Period"},
                "element": {
                    "type": "static_select",
                    "action_id": "pick",
                    "options": [
                        {"text": {"type": "plain_text", "text": "Last day"}, "value": "24h"},
                        {"text": {"type": "plain_text", "text": "Last week"}, "value": "7d"},
                    ],
                    "initial_option": {
                        "text": {"type": "plain_text", "text": "Last week"},
                        "value": "7d",
                    },
                },
            },
        ],
    }
    assert render_modal(view).lines == [
        "┌ Delete video",
        "Type the title to confirm.",
        "  Title: ___",
        "  Period: ___",
        "└ (Delete / Cancel)",
    ]
    title, period = modal_inputs(view)
    assert (title.block_id, title.action_id, title.kind, title.optional) == (
        "title",
        "value",
        "plain_text_input",
        False,
    )
    assert period.options == [("Last day", "24h"), ("Last week", "7d")]
    assert (period.initial, period.optional) == ("7d", True)


def test_confirm_prompt_reads_like_the_dialog() -> None:
    """A confirm object becomes one y/N question with its title, text and button."""
    assert (
        confirm_prompt(CONFIRM) == "Distribute?: Make *v1.2* live for everyone [Distribute? y/N] "
    )
    assert confirm_prompt({}) == "Are you sure? [Yes? y/N] "


def test_slack_date_tokens_in_a_given_zone() -> None:
    """Each documented token, the pretty forms near today, and unknown tokens left alone."""
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from bot.demo.dates import format_date

    tokyo = ZoneInfo("Asia/Tokyo")
    ts = int(datetime(2026, 12, 1, 18, 40, 5, tzinfo=UTC).timestamp())  # 03:40 on the 2nd there
    later = datetime(2026, 12, 2, 9, 0, tzinfo=tokyo)
    fmt = "{date_num}|{date}|{date_short}|{date_long}|{time}|{time_secs}|{nope}"
    assert format_date(ts, fmt, zone=tokyo, now=later) == (
        "2026-12-02|December 2nd, 2026|Dec 2, 2026|Wednesday, December 2nd, 2026|03:40|03:40:05"
        "|{nope}"
    )
    assert format_date(ts, "{date_pretty} {time}", zone=tokyo, now=later) == "today 03:40"
    next_day = datetime(2026, 12, 3, 9, 0, tzinfo=tokyo)
    assert format_date(ts, "{date_short_pretty}", zone=tokyo, now=next_day) == "yesterday"
    assert format_date(ts, "{ago}", zone=tokyo, now=later) == "5 hours ago"
    far = datetime(2026, 12, 5, tzinfo=UTC)
    assert format_date(ts, "{date_short_pretty}", zone=UTC, now=far) == "Dec 1, 2026"
