"""Governance renderers as data: request messages, policies, freezes, refusals, the modal."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from handlers import ids
from handlers.blocks import approvals as render
from handlers.modals import input_error, metadata, submitted_text, text_modal
from storage.approvals import ApprovalRequest, Policy, Vote
from storage.freezes import ALL, Freeze
from tests.handlers.build_env import buttons, text_of

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)

REQUEST = ApprovalRequest(
    id=7,
    project_id="p1",
    project_name="Show <room> & co",
    upload_id="u1",
    action="distribute",
    requested_by="UALICE",
    channel_id="C1",
    reason="fixes <crash>",
    needed=2,
    approvers="releaser",
    status="pending",
    created_at=NOW,
    expires_at=NOW + timedelta(hours=24),
    decided_by=None,
    decided_at=None,
    note="",
    votes=(Vote("UBOB", NOW),),
)

FREEZE = Freeze(
    id=1,
    project_id="p1",
    project_name="Show <room>",
    reason="launch & <party>",
    frozen_by="UADMIN",
    channel_id="C1",
    starts_at=NOW,
    ends_at=NOW + timedelta(hours=2),
    created_at=NOW,
    ended_by=None,
    ended_at=None,
)


def test_pending_request_names_everything_and_offers_both_buttons() -> None:
    """Who, what (names, escaped), count with approvers, deadline, Approve and Reject."""
    text, blocks = render.approval_request(REQUEST)
    shown = text_of({"text": text, "blocks": blocks})
    assert "<@UALICE> asks to distribute build `u1` of *Show &lt;room&gt; &amp; co*" in shown
    assert "fixes &lt;crash&gt;" in shown and "<crash>" not in shown
    assert "1 of 2: <@UBOB>" in json.dumps(blocks)
    assert "<!date^" in json.dumps(blocks)
    approve, reject = buttons(blocks)
    assert (approve["action_id"], approve["value"]) == (ids.APPROVAL_APPROVE, "7")
    assert "confirm" in approve and reject["action_id"] == ids.APPROVAL_REJECT
    assert "<room>" not in text


def test_final_states_drop_the_buttons_and_say_who_and_how() -> None:
    """Done, rejected and expired requests say what happened, with no buttons left."""
    done = replace(
        REQUEST,
        status="done",
        decided_by="UCAROL",
        decided_at=NOW,
        note="Distributed <ok>",
        votes=(Vote("UBOB", NOW), Vote("UCAROL", NOW)),
    )
    _, blocks = render.approval_request(done)
    assert buttons(blocks) == []
    shown = json.dumps(blocks)
    assert "the last approval by <@UCAROL> ran it" in shown and "&lt;ok&gt;" in shown
    rejected = replace(REQUEST, status="rejected", decided_by="UBOB", decided_at=NOW, note="no")
    assert "Rejected by <@UBOB>" in json.dumps(render.approval_request(rejected)[1])
    expired = replace(REQUEST, status="expired")
    _, blocks = render.approval_request(expired)
    assert buttons(blocks) == [] and "Expired" in json.dumps(blocks)
    assert "1 of 2 approvals. Nothing was sent." in json.dumps(blocks)


def test_rollback_requests_read_as_a_rollback() -> None:
    """A rollback request says which build the project goes back to."""
    text, _ = render.approval_request(replace(REQUEST, action="rollback"))
    assert "roll *Show &lt;room&gt; &amp; co* back to build `u1`" in text


def test_policy_in_words() -> None:
    """No approvals, or how many from whom, and who set it."""
    assert "no approvals needed" in render.policy_text("A<b>", Policy("p1"))
    text = render.policy_text("A<b>", Policy("p1", 2, "admin", "UADMIN", NOW))
    assert "*2* approval(s) from admins" in text and "<@UADMIN>" in text and "A&lt;b&gt;" in text


def test_freezes_list_marks_active_and_upcoming() -> None:
    """Active freezes and upcoming ones are told apart; reasons are escaped."""
    later = replace(FREEZE, id=2, project_id=ALL, starts_at=NOW + timedelta(hours=1))
    text, blocks = render.freezes_list([FREEZE, later], NOW)
    shown = json.dumps(blocks)
    assert text == "2 freeze(s)"
    assert ":snowflake: active: *Show &lt;room&gt;*" in shown
    assert ":calendar: upcoming: *all projects* from" in shown
    assert "launch &amp; &lt;party&gt;" in shown
    assert render.freezes_list([], NOW)[0] == "No freezes: releases are open."


def test_refusal_offers_an_override_only_to_admins() -> None:
    """The Override button carries the action; non-admins only read the reason."""
    plain = render.frozen_refusal(
        "frozen", may_override=False, action="distribute", project_id="p1", subject="u1"
    )
    assert buttons(plain) == []
    admin = render.frozen_refusal(
        "frozen", may_override=True, action="distribute", project_id="p1", subject="u1"
    )
    [override] = buttons(admin)
    assert override["action_id"] == ids.FREEZE_OVERRIDE
    assert json.loads(override["value"]) == {
        "action": "distribute",
        "project_id": "p1",
        "subject": "u1",
    }


def test_freeze_end_and_override_messages() -> None:
    """The end notice and the override announcement name scope, who and reason."""
    text, _ = render.freeze_ended(FREEZE)
    assert "<@UADMIN>" in text and "Releases are open again" in text
    text, _ = render.override_announcement("UADMIN", "distribute", "u1", "hot <fix>", FREEZE)
    assert "overrode the freeze on *Show &lt;room&gt;*" in text and "hot &lt;fix&gt;" in text


def test_text_modal_round_trip() -> None:
    """The modal's metadata and typed text are read back from a submission."""
    view = text_modal(
        ids.VIEW_APPROVAL_REJECT,
        title="Reject release",
        intro="Why?",
        label="Reason",
        submit="Reject",
        private_metadata={"request_id": 7},
    )
    assert view["callback_id"] == ids.VIEW_APPROVAL_REJECT
    [_, field] = view["blocks"]
    body = {
        "view": {
            "private_metadata": view["private_metadata"],
            "state": {
                "values": {field["block_id"]: {field["element"]["action_id"]: {"value": "  bad  "}}}
            },
        }
    }
    assert metadata(body) == {"request_id": 7} and submitted_text(body) == "bad"
    assert metadata({"view": {"private_metadata": "nope"}}) == {}
    assert input_error("x")["response_action"] == "errors"


def test_outbox_payloads_render_as_their_messages() -> None:
    """What the outbox stores for each governance message renders back the same."""
    from storage.governance_notices import (
        FREEZE_ENDED,
        FREEZE_OVERRIDDEN,
        approval_payload,
        freeze_payload,
    )

    stored = json.loads(json.dumps(approval_payload(REQUEST)))
    assert render.governance_message(stored) == render.approval_request(REQUEST)
    ended = json.loads(json.dumps(freeze_payload(FREEZE_ENDED, FREEZE)))
    assert render.governance_message(ended) == render.freeze_ended(FREEZE)
    override = freeze_payload(
        FREEZE_OVERRIDDEN, FREEZE, actor_id="UA", action="rollback", subject="u1", reason="r"
    )
    assert render.governance_message(override) == render.override_announcement(
        "UA", "rollback", "u1", "r", FREEZE
    )
    assert render.governance_message({"event": "webhook.test"}) is None
