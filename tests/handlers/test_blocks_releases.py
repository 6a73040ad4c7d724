"""The release renderers and the build judgements behind them, as data (no I/O)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from bot.notifications.types import Notice
from bot.services.release_view import Readiness, known_to_fail, readiness, rollback_choices
from handlers import ids
from handlers.blocks import releases
from storage.builds import Build
from storage.schedules import DONE, MISSED, PENDING, Schedule
from storage.timeline import VIA_DISTRIBUTE, VIA_PROVIDER, LiveBuild, LiveState, Stamp
from tests.handlers.build_env import buttons, text_of

T0 = datetime(2026, 12, 1, 18, 0, tzinfo=UTC)
P = "664f1a2b3c4d5e6f7a8b9c0d"


def build(
    upload_id: str,
    status: str | None,
    *,
    url: str | None = "https://x/b.zip",
    minutes: int = 0,
    objection: str | None = None,
) -> Build:
    """A known build of project P."""
    return Build(
        project_id=P,
        upload_id=upload_id,
        file_url=url,
        auto_release=False,
        requested_by="U1",
        created_at=T0 + timedelta(minutes=minutes),
        last_status=status,
        last_status_at=T0 + timedelta(minutes=minutes),
        objection=objection,
    )


def live(upload_id: str, by: str | None = "U1", via: str = VIA_DISTRIBUTE) -> LiveBuild:
    """A stay on air of ``upload_id``."""
    return LiveBuild(P, upload_id, T0, by, via, "button" if by else "webhook")


# newest first, as the store lists them
BUILDS = [
    build("proc", "Extracting & Scanning", minutes=50),
    build("live", "Distribute", minutes=40),
    build("rej", "Reject", minutes=30, objection="bad <files>"),
    build("prev", "Approved", minutes=20),
    build("nourl", "Approved", url=None, minutes=15),
    build("old", "Approved", minutes=10),
]
STATE = LiveState(P, live("live"), live("prev", by=None, via=VIA_PROVIDER))


def test_readiness_from_the_last_status() -> None:
    """Approved or distributing is approved; Reject is rejected; the rest is processing."""
    assert [readiness(b) for b in BUILDS] == [
        Readiness.PROCESSING,
        Readiness.APPROVED,
        Readiness.REJECTED,
        Readiness.APPROVED,
        Readiness.APPROVED,
        Readiness.APPROVED,
    ]
    assert readiness(build("x", None)) is Readiness.PROCESSING


def test_rollback_offers_the_previous_live_first_then_approved_builds_with_a_file() -> None:
    """Never the live, rejected, processing or URL-less builds."""
    choices = rollback_choices(BUILDS, STATE, limit=10)
    assert choices.live is not None and choices.live.upload_id == "live"
    assert choices.last_good is not None and choices.last_good.upload_id == "prev"
    assert [v.upload_id for v in choices.others] == ["old"]
    blocks = releases.rollback_picker("Showroom <Demo>", P, choices)
    offered = buttons(blocks)
    assert [json.loads(b["value"])["upload_id"] for b in offered] == ["prev", "old"]
    assert offered[0]["text"]["text"] == "Roll back to prev"
    assert all(b["action_id"] == ids.BUILD_ROLLBACK for b in offered)
    assert "replacing the live build live" in offered[0]["confirm"]["text"]["text"]
    text = text_of({"blocks": blocks})
    assert "Showroom &lt;Demo&gt;" in text and "previous live build" in text
    assert "Live now: `live`" in text


def test_rollback_without_a_known_previous_live_offers_newest_approved() -> None:
    """No live state: every approved build with a file, newest first, within the limit."""
    choices = rollback_choices(BUILDS, None, limit=2)
    assert choices.last_good is None and choices.live is None
    assert [v.upload_id for v in choices.others] == ["live", "prev"]
    empty = releases.rollback_picker("Showroom", P, rollback_choices([BUILDS[2]], None, limit=5))
    assert buttons(empty) == [] and "never offered" in text_of({"blocks": empty})


def test_known_failures_are_refused_with_the_reason() -> None:
    """Rejected, still processing and other-project builds are refused; unknown ones are not."""
    rejected = known_to_fail(P, "rej", BUILDS[2], [])
    assert rejected is not None and rejected.reason == "Streampixel rejected build rej: bad <files>"
    processing = known_to_fail(P, "proc", BUILDS[0], [])
    assert processing is not None and "still being processed" in processing.reason
    other = Build(**{**BUILDS[1].__dict__, "project_id": "other"})
    elsewhere = known_to_fail(P, "live", None, [other])
    assert elsewhere is not None and "another project (other)" in elsewhere.reason
    assert known_to_fail(P, "new", None, []) is None
    assert known_to_fail(P, "prev", BUILDS[3], []) is None
    shown = releases.refused("distribute", "Showroom", P, "rej", rejected.reason)
    assert "bad &lt;files&gt;" in shown and "slot was not used" in shown


def test_an_unknown_build_is_offered_with_a_warning_in_the_message_and_the_dialog() -> None:
    """The confirm dialog and the message say the bot never saw the build."""
    blocks = releases.run_offer("distribute", "Showroom", P, "abc", known=False)
    [run] = buttons(blocks)
    assert "never seen this build" in run["confirm"]["text"]["text"]
    assert "never seen this build" in text_of({"blocks": blocks})
    known = releases.run_offer("distribute", "Showroom", P, "abc", known=True)
    assert "never seen" not in json.dumps(known)
    assert "*Showroom* (`" in text_of({"blocks": known}) and "build `abc`" in text_of(
        {"blocks": known}
    )


def test_builds_are_marked_live_and_previous_live() -> None:
    """The live line says since when and who; the previous live one is marked too."""
    from bot.services.release_view import views

    lines = [releases.build_line(v) for v in views(BUILDS, STATE)]
    assert "*LIVE* since <!date^" in lines[1] and "distributed by <@U1>" in lines[1]
    assert "*previous live*" in lines[3] and "released by Streampixel" in lines[3]
    assert ":x: rejected" in lines[2] and "bad &lt;files&gt;" in lines[2]
    assert "processing" in lines[0]


def test_stamps_read_as_decisions_with_date_tokens() -> None:
    """Distributed, rolled back and approved by, with Slack dates; scheduled runs say so."""
    block = releases.stamps_block(
        [
            Stamp("approved", "U2", T0, "button"),
            Stamp("distributed", "U1", T0, "schedule"),
            Stamp("rolled_back", "U3", T0, "slash"),
        ]
    )
    assert block is not None
    texts = [e["text"] for e in block["elements"]]
    assert texts[0].startswith(":ballot_box_with_check: Approved by <@U2> <!date^")
    assert "Distributed by <@U1> (scheduled) <!date^" in texts[1]
    assert "Rolled back to by <@U3> <!date^" in texts[2]
    assert releases.stamps_block([]) is None


def schedule(state: str = PENDING, **changes: object) -> Schedule:
    """A scheduled distribution as stored."""
    values: dict[str, object] = {
        "id": 7,
        "project_id": P,
        "project_name": "Showroom & Co",
        "upload_id": "abc",
        "action": "distribute",
        "requested_by": "U1",
        "channel_id": "C1",
        "due_at": T0,
        "run_at": T0,
        "created_at": T0 - timedelta(hours=1),
        "state": state,
        "attempts": 0,
        "runner": None,
        "claimed_at": None,
        "finished_at": None,
        "finished_by": None,
        "message": "",
    }
    values.update(changes)
    return Schedule(**values)  # type: ignore[arg-type]


def test_schedule_offer_carries_the_time_and_confirms_it() -> None:
    """The Schedule button's value has the run time; its dialog names the UTC time."""
    blocks = releases.schedule_offer("rollback", "Showroom", P, "abc", T0, known=True)
    [offer] = buttons(blocks)
    assert offer["action_id"] == ids.BUILD_SCHEDULE
    assert json.loads(offer["value"]) == {
        "a": "rollback",
        "p": P,
        "t": int(T0.timestamp()),
        "u": "abc",
    }
    assert offer["confirm"]["text"]["text"].startswith("At 2026-12-01 18:00 UTC: ")
    assert f"<!date^{int(T0.timestamp())}^" in text_of({"blocks": blocks})


def test_the_scheduled_list_has_a_cancel_button_per_pending_run() -> None:
    """Pending runs get Cancel; a running one says so; waiting for the slot is shown."""
    waiting = schedule(run_at=T0 + timedelta(seconds=90))
    running = schedule("running", id=8)
    blocks = releases.scheduled_list([waiting, running])
    [cancel] = buttons(blocks)
    assert (cancel["action_id"], cancel["value"]) == (ids.BUILD_SCHEDULE_CANCEL, "7")
    text = text_of({"blocks": blocks})
    assert "waiting for the distribute slot" in text and "running now" in text
    assert "Showroom &amp; Co" in text
    assert buttons(releases.scheduled_list([])) == []


def test_reports_say_what_happened() -> None:
    """Done reports Streampixel's words; missed says nothing was sent."""
    text, blocks = releases.schedule_report(schedule(DONE, message="Distribution triggered"), at=T0)
    assert "done" in text and "Showroom &amp; Co" in text
    assert "Streampixel: Distribution triggered" in text_of({"blocks": blocks})
    text, blocks = releases.schedule_report(schedule(MISSED), at=T0 + timedelta(hours=1))
    assert "missed" in text and "Nothing was sent" in text_of({"blocks": blocks})


def test_the_build_message_names_the_project_and_keeps_its_stamps() -> None:
    """Project name in words, upload id in code; stamps shown; no Distribute once released."""
    from bot.notifications.timeline import Timeline
    from handlers.blocks.build_message import build_message
    from handlers.blocks.notifications import status_of

    t = Timeline(provider="streampixel", subject="abc", project=P)
    for event in ("build.uploaded", "build.saving", "build.approved"):
        t.apply(Notice(provider="streampixel", event=event, timestamp=event))
    text, blocks = build_message(t, status_of=status_of, progress="p", project_name="Show <1>")
    assert "*Build* `abc` of *Show &lt;1&gt;* (`" in text_of({"blocks": blocks})
    assert [b["text"]["text"] for b in buttons(blocks)] == ["Distribute"]
    assert "Show &lt;1&gt;" in text
    stamped = [Stamp("distributed", "U1", T0, "button")]
    text, blocks = build_message(
        t, status_of=status_of, progress="p", project_name="Show", stamps=stamped
    )
    assert buttons(blocks) == [] and "Distributed by <@U1>" in text_of({"blocks": blocks})
    assert text.endswith("(distributed by <@U1>)")
