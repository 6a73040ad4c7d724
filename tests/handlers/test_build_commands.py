"""/build subcommands through the signed Slack endpoint, against the Streampixel simulator."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from storage.builds import BuildStore
from storage.db import Database
from tests.handlers.build_env import RELEASER, VIEWER, Env, build_env, buttons, text_of
from tests.harness import ADMIN
from tests.providers.streampixel_fixtures import APPROVED_BUILD, BUILD_URL, SHOWROOM


@pytest.fixture
async def env(database: Database) -> AsyncIterator[Env]:
    """Bot + simulator on the migrated database."""
    async with build_env(database) as running:
        yield running


async def test_projects_lists_state_subscription_and_user_counts(env: Env) -> None:
    """/build projects shows every project with its live/queued users; disabled ones say why."""
    response = await env.bot.command("/build", "projects", user_id=VIEWER)
    assert response.status_code == 200
    [reply] = await env.reply_count(1)
    assert reply.get("_in_ack") and reply == {**response.json(), **reply}  # ready in time
    text = text_of(reply)
    assert reply["response_type"] == "ephemeral"
    assert "*Showroom Demo*  `664f1a2b3c4d5e6f7a8b9c0d`" in text
    assert "7 live · 2 queued" in text
    assert "Configurator EU" in text and "disabled" in text and "Access denied" in text
    assert "Retail Walkthrough" in text and "1 live · 0 queued" in text


async def test_users_accepts_a_case_insensitive_prefix_and_lists_ambiguous_candidates(
    env: Env,
) -> None:
    """A unique name prefix resolves; an ambiguous one lists the candidates instead."""
    await env.bot.command("/build", "users SHOWr", user_id=VIEWER)
    [first] = await env.reply_count(1)
    assert "Showroom Demo" in text_of(first) and "*7* live" in text_of(first)
    env.sim.add_project(env.sim.projects[SHOWROOM].owner, "Showcase Mobile")
    await env.bot.command("/build", "users show", user_id=VIEWER)
    second = (await env.reply_count(2))[1]
    assert second["text"].startswith(":warning: `show` matches several projects")
    assert "Showroom Demo" in second["text"] and "Showcase Mobile" in second["text"]


async def test_unknown_project_and_bad_option_are_named(env: Env) -> None:
    """An unknown project and an unknown upload option each get a reason in words."""
    await env.bot.command("/build", "users nowhere", user_id=VIEWER)
    await env.bot.command("/build", f"upload showroom {BUILD_URL} --later", user_id=RELEASER)
    replies = [r["text"] for r in await env.reply_count(2)]
    assert any("no Streampixel project is called or has the id `nowhere`" in r for r in replies)
    assert any("unknown option `--later`" in r for r in replies)


async def test_upload_reaches_the_simulator_and_is_remembered(env: Env) -> None:
    """A releaser's upload (Slack-wrapped URL, no auto-release) is sent once and remembered."""
    await env.bot.command(
        "/build", f"upload showroom <{BUILD_URL}> --no-auto-release", user_id=RELEASER
    )
    [reply] = await env.reply_count(1)
    [new] = [u for u in env.sim.uploads.values() if u.file_url == BUILD_URL]
    assert new.auto_release is False and new.project_id == SHOWROOM
    assert reply["response_type"] == "in_channel"
    assert new.id in text_of(reply) and f"<@{RELEASER}>" in text_of(reply)
    known = await BuildStore(env.bot.container.db).get_build(SHOWROOM, new.id)
    assert known is not None and known.requested_by == RELEASER and known.auto_release is False
    [event] = env.bot.container.audit.events  # type: ignore[attr-defined]
    assert (event.action, event.outcome, event.target_id, event.source) == (
        "upload",
        "ok",
        SHOWROOM,
        "slash_command",
    )


async def test_second_upload_within_the_window_is_not_sent(env: Env) -> None:
    """The bot keeps Streampixel's one-upload-per-2-minutes slot and says when it opens."""
    await env.bot.command("/build", f"upload showroom {BUILD_URL}", user_id=RELEASER)
    await env.reply_count(1)
    env.clock.advance(30)
    await env.bot.command("/build", f"upload showroom {BUILD_URL}", user_id=RELEASER)
    second = (await env.reply_count(2))[1]
    assert "upload slot for this account is in use" in second["text"]
    assert "Nothing was sent" in second["text"]
    assert sum(1 for u in env.sim.uploads.values() if u.file_url == BUILD_URL) == 1
    outcomes = [e.outcome for e in env.bot.container.audit.events]  # type: ignore[attr-defined]
    assert outcomes == ["ok", "denied"]


async def test_viewer_upload_is_refused_and_audited(env: Env) -> None:
    """A viewer cannot upload: nothing reaches Streampixel and the refusal is audited."""
    before = len(env.sim.uploads)
    await env.bot.command("/build", f"upload showroom {BUILD_URL}", user_id=VIEWER)
    [reply] = await env.reply_count(1)
    assert "you need the *releaser* role" in reply["text"]
    assert len(env.sim.uploads) == before
    [event] = env.bot.container.audit.events  # type: ignore[attr-defined]
    assert (event.action, event.outcome, event.actor_id) == ("upload", "denied", VIEWER)


async def test_distribute_answers_with_a_confirmed_button_naming_the_build(env: Env) -> None:
    """/build distribute sends nothing yet: it offers a button whose confirm names the build."""
    await env.bot.command("/build", f"distribute showroom {APPROVED_BUILD}", user_id=RELEASER)
    [reply] = await env.reply_count(1)
    [button] = buttons(reply["blocks"])
    assert button["action_id"] == "build_distribute"
    assert button["confirm"]["text"]["text"].startswith(
        f"Streampixel will release build {APPROVED_BUILD} of Showroom Demo"
    )
    assert env.distributions(APPROVED_BUILD) == 0


async def test_rollback_offers_approved_builds_newest_first(env: Env) -> None:
    """/build rollback without an id offers approved builds with a file, newest first.

    Still-processing uploads and the rejected build (learnt from Streampixel's
    project data) are not offered.
    """
    store = BuildStore(env.bot.container.db)
    for i, upload_id in enumerate(["aaa111", "bbb222", "ccc333", "ddd444"]):
        await store.remember_upload(
            SHOWROOM,
            upload_id,
            file_url=f"https://b.example.com/{i}.zip",
            auto_release=True,
            requested_by=RELEASER,
            at=env.now() + timedelta(minutes=i),
        )
        if upload_id != "ddd444":  # ddd444 is still being processed
            await store.note_pipeline_event(
                SHOWROOM,
                upload_id,
                "Approved",
                None,
                None,
                env.now() + timedelta(minutes=i, seconds=30),
            )
    await env.bot.command("/build", "rollback showroom", user_id=ADMIN)
    [reply] = await env.reply_count(1)
    offered = buttons(reply["blocks"])
    assert [b["value"] for b in offered] == [
        f'{{"project_id":"{SHOWROOM}","upload_id":"{u}"}}'
        for u in ("ccc333", "bbb222", "aaa111", APPROVED_BUILD)
    ]
    assert all(b["action_id"] == "build_rollback" for b in offered)
    assert all(b["confirm"]["style"] == "danger" for b in offered)


async def test_builds_lists_known_uploads_with_status_and_pages(env: Env) -> None:
    """/build builds shows the last pipeline status of each known build, with a Next button."""
    store = BuildStore(env.bot.container.db)
    for i in range(12):
        await store.note_pipeline_event(
            SHOWROOM, f"up{i:02d}", "Approved", None, None, env.now() + timedelta(minutes=i)
        )
    await store.note_pipeline_event(
        SHOWROOM, "up11", "Reject", None, "Bad files", env.now() + timedelta(hours=1)
    )
    await env.bot.command("/build", "builds showroom", user_id=VIEWER)
    [reply] = await env.reply_count(1)
    text = text_of(reply)
    assert "`up11` · :x: rejected\nlast status *Reject*" in text
    assert "Bad files" in text and "Page 1 of 2 · 14 builds" in text  # 2 from the project data
    [next_button] = buttons(reply["blocks"])
    await env.bot.click(next_button["action_id"], next_button["value"], user_id=VIEWER)
    page_two = (await env.reply_count(2))[1]
    assert page_two["replace_original"] is True
    assert "`up01`" in text_of(page_two) and "Page 2 of 2" in text_of(page_two)
