"""The StreamAPI client against the simulator, over real loopback HTTP."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.errors import AuthFailed, Forbidden, InvalidRequest, ProviderNotFound, ProviderUnavailable
from bot.providers.streamapi import RID_ATTEMPTS, StreamAPIClient
from bot.providers.streamapi_rid import ClockRidSource
from bot.sandbox.streamapi import StreamAPISimulator
from bot.sandbox.streamapi_state import DEMO_API_KEY, DEMO_SECRET, PARTNER_API_KEY
from storage.db import Database
from storage.streamapi_rid import DatabaseRidSource
from tests.providers.streamapi_fixtures import T0, FakeClock, client_for, served

ALICE = "1000016132"
BOB = "1000016133"
CAROL = "1000020001"  # owned by the partner account


@pytest.fixture
def clock() -> FakeClock:
    """The simulator's clock."""
    return FakeClock()


@pytest.fixture
def sim(clock: FakeClock) -> StreamAPISimulator:
    """The demo simulator on the fake clock."""
    return StreamAPISimulator.with_demo_data(clock=clock)


@pytest.fixture
async def base_url(sim: StreamAPISimulator) -> AsyncIterator[str]:
    """The served simulator's base URL."""
    async with served(sim) as url:
        yield url


@pytest.fixture
async def api(base_url: str) -> AsyncIterator[StreamAPIClient]:
    """A client with the demo credentials."""
    async with client_for(base_url) as client:
        yield client


async def test_create_session_without_options(api: StreamAPIClient) -> None:
    """A bare create returns a generated 10-digit public id and a private id, no encoder URL."""
    session = await api.create_session()
    assert re.fullmatch(r"1\d{9}", session.public_hostid)
    assert re.fullmatch(r"[A-Z0-9]{10,16}", session.private_hostid)
    assert session.encoder_url is None


async def test_create_session_with_every_option(
    api: StreamAPIClient, sim: StreamAPISimulator
) -> None:
    """site_user_id becomes the public id; fme_key yields the encoder URL (kept out of repr)."""
    session = await api.create_session(
        site_user_id=42, username="dave", fme_key="f1b8221d2b69", is_video_private=True
    )
    assert session.public_hostid == "42"
    assert session.encoder_url == "rtmp://fme.streamapi.com/hd_receiver/42-f1b8221d2b69"
    assert "f1b8221d2b69" not in repr(session)
    stored = sim.sessions["42"]
    assert (stored.username, stored.fme_key, stored.is_video_private) == (
        "dave",
        "f1b8221d2b69",
        True,
    )
    assert stored.private_hostid == session.private_hostid


async def test_create_session_for_another_keys_user_is_forbidden(api: StreamAPIClient) -> None:
    """Reusing a site_user_id created by another API key is refused with code 201."""
    with pytest.raises(Forbidden) as info:
        await api.create_session(site_user_id=CAROL)
    assert info.value.code == 201
    assert info.value.message == (
        "Cannot request this call for user that was not created by API caller"
    )


async def test_create_session_with_malformed_username_is_invalid(api: StreamAPIClient) -> None:
    """A username outside [a-zA-Z0-9] is refused with code 1."""
    with pytest.raises(InvalidRequest) as info:
        await api.create_session(username="not valid!")
    assert info.value.code == 1


async def test_live_session_of_a_live_host(api: StreamAPIClient) -> None:
    """A live host reports its ids, user, start time (ms epoch) and duration (s)."""
    live = await api.live_session(ALICE)
    assert live.is_live
    assert live.username == "alice"
    assert live.start_time == datetime.fromtimestamp(T0 - 1800, tz=UTC)
    assert live.duration == timedelta(seconds=1800)
    assert live.private_hostid is not None
    assert live.channel_id is not None


async def test_live_session_of_an_offline_host(api: StreamAPIClient) -> None:
    """An offline host reports is_live false and nothing else."""
    live = await api.live_session(BOB)
    assert not live.is_live
    assert live.public_hostid == BOB
    assert (live.private_hostid, live.username, live.start_time) == (None, None, None)


@pytest.mark.parametrize("host", ["1999999999", CAROL])
async def test_live_session_of_unknown_or_foreign_host_is_not_found(
    api: StreamAPIClient, host: str
) -> None:
    """An unknown host, or another key's, is code 8 "No user found"."""
    with pytest.raises(ProviderNotFound) as info:
        await api.live_session(host)
    assert (info.value.code, info.value.message) == (8, "No user found")


async def test_live_list_applies_the_delay_then_shows_new_sessions(
    api: StreamAPIClient, sim: StreamAPISimulator, clock: FakeClock
) -> None:
    """A host that just went live appears in the list only after the configured delay."""
    sim.live_list_delay = 60
    sim.go_live(BOB, viewers=4)
    assert [s.public_hostid for s in await api.live_sessions()] == [ALICE]
    clock.advance(60)
    listed = {s.public_hostid: s for s in await api.live_sessions()}
    assert set(listed) == {ALICE, BOB}
    assert listed[BOB].current_viewers == 4
    assert listed[ALICE].max_viewers == 12
    assert all(s.is_live for s in listed.values())


async def test_live_list_is_empty_when_nothing_streams(
    api: StreamAPIClient, sim: StreamAPISimulator
) -> None:
    """With no live host the list is empty, not an error."""
    sim.end_live(ALICE, record=False)
    assert await api.live_sessions() == []


async def test_ending_a_stream_records_a_video(
    api: StreamAPIClient, sim: StreamAPISimulator, clock: FakeClock
) -> None:
    """After end_live the host is offline and its recording is listed."""
    clock.advance(600)
    video = sim.end_live(ALICE)
    assert video is not None
    assert not (await api.live_session(ALICE)).is_live
    listed = await api.videos(public_hostid=ALICE)
    assert listed[-1].id == video.id
    assert listed[-1].duration == timedelta(seconds=2400)


async def test_host_id_lookups_round_trip(api: StreamAPIClient) -> None:
    """public→private and private→public return the same pair of ids."""
    ids = await api.private_hostid(ALICE)
    assert ids.public_hostid == ALICE
    assert await api.public_hostid(ids.private_hostid) == ids


async def test_host_id_lookup_errors(api: StreamAPIClient, sim: StreamAPISimulator) -> None:
    """Unknown ids are 8/46 (not found); another key's host is 201 (forbidden)."""
    with pytest.raises(ProviderNotFound) as unknown_public:
        await api.private_hostid("1999999999")
    assert unknown_public.value.code == 8
    with pytest.raises(ProviderNotFound) as unknown_private:
        await api.public_hostid("ZZZZZZZZZZZZ")
    assert (unknown_private.value.code, unknown_private.value.message) == (46, "No session found")
    with pytest.raises(Forbidden) as foreign_public:
        await api.private_hostid(CAROL)
    assert foreign_public.value.code == 201
    with pytest.raises(Forbidden) as foreign_private:
        await api.public_hostid(sim.sessions[CAROL].private_hostid)
    assert foreign_private.value.code == 201


async def test_videos_filter_by_host_and_date(api: StreamAPIClient) -> None:
    """Recordings come back typed and filtered by host and creation date range."""
    everything = await api.videos()
    assert len(everything) == 4  # the partner's recording is not ours
    assert all(v.creation_date.tzinfo is UTC for v in everything)
    alice = await api.videos(public_hostid=ALICE)
    assert len(alice) == 3
    assert {v.public_hostid for v in alice} == {ALICE}
    start = datetime.fromtimestamp(T0 - 2.5 * 86_400, tz=UTC)
    end = datetime.fromtimestamp(T0 - 1.5 * 86_400, tz=UTC)
    ranged = await api.videos(start=start, end=end)
    assert [v.duration for v in ranged] == [timedelta(minutes=17)]
    assert ranged[0].size is not None and ranged[0].url is not None


async def test_videos_of_foreign_host_not_found(api: StreamAPIClient) -> None:
    """Listing another key's host recordings is code 8."""
    with pytest.raises(ProviderNotFound):
        await api.videos(public_hostid=CAROL)


async def test_videos_refuse_naive_datetimes(api: StreamAPIClient) -> None:
    """A date range must be timezone-aware (ms epoch is ambiguous otherwise)."""
    with pytest.raises(ValueError, match="timezone-aware"):
        await api.videos(start=datetime(2024, 1, 1))


async def test_themes(api: StreamAPIClient) -> None:
    """The seeded themes come back typed."""
    themes = await api.themes()
    assert [(t.id, t.name, t.width, t.height) for t in themes] == [
        ("7", "Classic", 640, 480),
        ("8", "Widescreen", 960, 540),
        ("9", "Compact", 320, 240),
    ]
    assert themes[0].layout_path == "/layouts/classic.xml"


async def test_unknown_api_key_is_auth_failed(base_url: str) -> None:
    """An unknown key is code 200 "Invalid API key"."""
    async with client_for(base_url, api_key="NOSUCHKEY") as client:
        with pytest.raises(AuthFailed) as info:
            await client.themes()
    assert (info.value.code, info.value.message) == (200, "Invalid API key")


async def test_wrong_secret_is_auth_failed_signature(base_url: str) -> None:
    """A signature made with the wrong secret is code 202."""
    async with client_for(base_url, secret="WRONGSECRET") as client:
        with pytest.raises(AuthFailed) as info:
            await client.themes()
    assert (info.value.code, info.value.message) == (202, "Invalid sig (or signature) value")


async def test_stale_rid_read_is_resent_with_fresh_rids_then_refused(
    api: StreamAPIClient, sim: StreamAPISimulator
) -> None:
    """A read refused with 203 is re-sent with fresh, larger rids; the third 203 is raised."""
    sim.set_rid_mark(DEMO_API_KEY, 10**15)
    with pytest.raises(InvalidRequest) as info:
        await api.themes()
    assert info.value.code == 203
    assert [c.code for c in sim.calls] == [203] * RID_ATTEMPTS
    rids = [int(c.rid or 0) for c in sim.calls]
    assert rids == sorted(set(rids))


async def test_create_refused_as_out_of_order_is_resent_and_creates_one_session(
    base_url: str, sim: StreamAPISimulator
) -> None:
    """create_session answered 203 (nothing happened) is re-sent with a fresh rid: one session."""
    clock = FakeClock(T0)
    sim.set_rid_mark(DEMO_API_KEY, int(T0 * 1000) + 1)  # another sender is 2 ids ahead
    before = set(sim.sessions)
    async with client_for(base_url, rids=ClockRidSource(clock)) as api:
        session = await api.create_session(username="eve")
    assert [(c.path, c.code) for c in sim.calls] == [("/session/create", 203)] * 2 + [
        ("/session/create", 0)
    ]
    assert set(sim.sessions) - before == {session.public_hostid}


async def test_create_refused_as_out_of_order_every_time_gives_up(
    api: StreamAPIClient, sim: StreamAPISimulator
) -> None:
    """A create that StreamAPI keeps refusing with 203 is sent a bounded number of times."""
    sim.set_rid_mark(DEMO_API_KEY, 10**15)
    before = len(sim.sessions)
    with pytest.raises(InvalidRequest) as info:
        await api.create_session(username="eve")
    assert info.value.code == 203
    assert [(c.path, c.code) for c in sim.calls] == [("/session/create", 203)] * RID_ATTEMPTS
    assert len(sim.sessions) == before


async def test_unknown_error_on_read_is_retried(
    api: StreamAPIClient, sim: StreamAPISimulator
) -> None:
    """Code 100 on a read is retried with a fresh rid and then succeeds."""
    sim.fail_next(100)
    assert len(await api.themes()) == 3
    assert [c.code for c in sim.calls] == [100, 0]


async def test_unknown_error_on_create_is_not_retried(
    api: StreamAPIClient, sim: StreamAPISimulator
) -> None:
    """Code 100 on create_session is raised after a single request."""
    sim.fail_next(100)
    with pytest.raises(ProviderUnavailable) as info:
        await api.create_session(username="eve")
    assert (info.value.code, info.value.message) == (100, "Unknown Error")
    assert len(sim.calls) == 1


async def test_concurrent_calls_all_succeed_with_increasing_rids(
    api: StreamAPIClient, sim: StreamAPISimulator
) -> None:
    """Many concurrent calls on one client are all accepted, rids strictly increasing."""
    results = await asyncio.gather(*(api.live_session(ALICE) for _ in range(20)))
    assert all(r.is_live for r in results)
    rids = [int(c.rid or 0) for c in sim.calls]
    assert [c.code for c in sim.calls] == [0] * 20
    assert rids == sorted(rids) and len(set(rids)) == 20


async def test_database_rids_survive_a_restart(base_url: str, database: Database) -> None:
    """A restarted client on the same database is accepted even if its clock is behind."""
    clock = FakeClock(T0 + 3600)
    async with client_for(base_url, rids=DatabaseRidSource(database, clock)) as before:
        await before.themes()
    clock.now = T0  # the new process's clock is an hour behind the stored mark
    async with client_for(base_url, rids=DatabaseRidSource(database, clock)) as after:
        assert len(await after.themes()) == 3
    # Without the shared mark the same restart is refused.
    async with client_for(base_url, rids=ClockRidSource(clock)) as forgetful:
        with pytest.raises(InvalidRequest) as info:
            await forgetful.themes()
    assert info.value.code == 203


async def test_keys_have_separate_rid_marks(base_url: str, sim: StreamAPISimulator) -> None:
    """Two accounts on one simulator each keep their own rid mark and see their own hosts."""
    sim.add_account("SECONDKEY", "SECONDSECRET")
    async with client_for(base_url, api_key="SECONDKEY", secret="SECONDSECRET") as other:
        created = await other.create_session(username="zoe")
        with pytest.raises(ProviderNotFound):
            await other.live_session(ALICE)
    async with client_for(base_url, api_key=DEMO_API_KEY, secret=DEMO_SECRET) as demo:
        with pytest.raises(ProviderNotFound):
            await demo.live_session(created.public_hostid)
    assert sim.rid_mark("SECONDKEY") is not None
    assert sim.rid_mark(PARTNER_API_KEY) is None
