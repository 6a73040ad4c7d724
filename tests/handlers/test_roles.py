"""/streamops roles: admins grant, revoke and list; everyone else is refused and audited."""

from __future__ import annotations

from storage.roles import RoleStore
from tests.harness import ADMIN, Bot


def audit_rows(bot: Bot) -> list[tuple[str, str, str, str | None]]:
    """(action, outcome, actor, target) of every audited event."""
    return [
        (e.action, e.outcome, e.actor_id, e.target_id)
        for e in bot.container.audit.events  # type: ignore[attr-defined]
    ]


async def test_admin_grants_with_a_slack_mention_and_revokes_with_a_bare_id(bot: Bot) -> None:
    """An escaped mention and a bare id both name the user; the role is stored and removed."""
    store = RoleStore(bot.container.db)
    await bot.command("/streamops", "roles grant <@U0BOB123|bob> Releaser", user_id=ADMIN)
    await bot.slack.wait_for(lambda s: len(s.calls_to("response_url")) == 1)
    assert await store.roles_of("U0BOB123") == {"releaser"}
    assert await bot.container.authz.allowed("U0BOB123", "build.distribute")
    await bot.command("/streamops", "roles revoke U0BOB123 releaser", user_id=ADMIN)
    await bot.slack.wait_for(lambda s: len(s.calls_to("response_url")) == 2)
    assert await store.roles_of("U0BOB123") == set()
    replies = [c["text"] for c in bot.slack.calls_to("response_url")]
    assert replies == [
        ":white_check_mark: <@U0BOB123> now has the *releaser* role.",
        ":white_check_mark: <@U0BOB123> no longer has the *releaser* role.",
    ]
    assert audit_rows(bot) == [
        ("role.grant", "ok", ADMIN, "U0BOB123"),
        ("role.revoke", "ok", ADMIN, "U0BOB123"),
    ]


async def test_non_admin_cannot_grant_and_is_audited(bot: Bot) -> None:
    """A releaser trying to grant admin to themselves is refused; nothing is stored."""
    await RoleStore(bot.container.db).grant("U0REL", "releaser", ADMIN)
    await bot.command("/streamops", "roles grant <@U0REL> admin", user_id="U0REL")
    await bot.slack.wait_for(lambda s: bool(s.calls_to("response_url")))
    [reply] = bot.slack.calls_to("response_url")
    assert "you need the *admin* role" in reply["text"]
    assert await RoleStore(bot.container.db).roles_of("U0REL") == {"releaser"}
    assert audit_rows(bot) == [("role.grant", "denied", "U0REL", "U0REL")]


async def test_list_shows_configured_admins_and_grants(bot: Bot) -> None:
    """roles list names the STREAMOPS_ADMINS and every stored grant."""
    await RoleStore(bot.container.db).grant("U0MED", "media", ADMIN)
    await bot.command("/streamops", "roles list", user_id=ADMIN)
    await bot.slack.wait_for(lambda s: bool(s.calls_to("response_url")))
    text = bot.slack.calls_to("response_url")[0]["text"]
    assert f"<@{ADMIN}> — admin (STREAMOPS_ADMINS)" in text
    assert "<@U0MED> — media" in text


async def test_bad_user_role_or_verb_is_named(bot: Bot) -> None:
    """A non-user, an unknown role, an unknown verb and granting viewer each get a reason."""
    for text in (
        "roles grant bob releaser",
        "roles grant <@U0BOB> wizard",
        "roles promote <@U0BOB> admin",
        "roles grant <@U0BOB> viewer",
    ):
        await bot.command("/streamops", text, user_id=ADMIN)
    await bot.slack.wait_for(lambda s: len(s.calls_to("response_url")) == 4)
    replies = sorted(c["text"] for c in bot.slack.calls_to("response_url"))
    assert any("`bob` is not a user" in r for r in replies)
    assert any("unknown role `wizard`" in r for r in replies)
    assert any("unknown roles action `promote`" in r for r in replies)
    assert any("everyone is a viewer" in r for r in replies)
    assert audit_rows(bot) == []
