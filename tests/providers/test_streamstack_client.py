"""StreamStackClient against the StreamStack simulator over real loopback HTTP."""

from __future__ import annotations

import httpx
import pytest

from bot.errors import (
    AuthFailed,
    Forbidden,
    InvalidRequest,
    ProviderNotFound,
    ProviderUnavailable,
    RateLimited,
)
from bot.providers import streamstack
from bot.providers.streamstack_models import PERIODS, Media
from bot.sandbox.streamstack import sign
from tests.providers.streamstack_fixtures import (
    KEY_A,
    KEY_B,
    FakeClock,
    Sleeps,
    client_for,
    make_sim,
    served,
    settings_for,
    webhook_sink,
)


async def test_list_media_returns_a_typed_page_with_meta() -> None:
    """The first page carries the tenant's videos only, newest first, with S2 meta."""
    clock = FakeClock()
    sim = make_sim(clock)
    for n in range(5):
        clock.advance(10)
        sim.seed_media("a", f"video {n}")
    sim.seed_media("b", "someone else's")
    async with served(sim) as url, client_for(url) as client:
        page = await client.list_media(page=1, per_page=2)
    assert [m.title for m in page.items] == ["video 4", "video 3"]
    assert (page.current_page, page.per_page, page.total, page.last_page) == (1, 2, 5, 3)
    assert page.has_next
    assert all(isinstance(m, Media) and m.status == "published" for m in page.items)


async def test_list_all_walks_every_page() -> None:
    """list_all follows the pagination meta to the last page without gaps or repeats."""
    clock = FakeClock()
    sim = make_sim(clock)
    for n in range(7):
        clock.advance(1)
        sim.seed_media("a", f"v{n}")
    async with served(sim) as url, client_for(url) as client:
        everything = await client.list_all(per_page=3)
    assert [m.title for m in everything] == [f"v{n}" for n in range(6, -1, -1)]


async def test_list_rejects_an_oversized_page_with_422() -> None:
    """A per_page above 100 is a validation error naming the field."""
    async with served(make_sim()) as url, client_for(url) as client:
        with pytest.raises(InvalidRequest) as info:
            await client.list_media(per_page=101)
    assert info.value.status == 422
    assert "per_page" in info.value.message


async def test_get_media_parses_the_media_object() -> None:
    """A published video comes back with duration, resolution, profiles and URLs."""
    sim = make_sim()
    seeded = sim.seed_media("a", "Keynote")
    async with served(sim) as url, client_for(url) as client:
        media = await client.get_media(seeded.uuid)
    assert media.uuid == seeded.uuid and media.title == "Keynote"
    assert media.status == "published"
    assert media.resolution == "1920x1080" and "1080p" in media.profiles
    assert media.duration is not None and media.duration > 0
    assert media.urls.player == f"{url}/player/{seeded.uuid}"
    assert media.urls.hls is not None and media.urls.hls.endswith("master.m3u8")
    assert media.created_at is not None


async def test_unknown_uuid_is_provider_not_found() -> None:
    """A uuid nobody owns raises ProviderNotFound with StreamStack's 404 message."""
    async with served(make_sim()) as url, client_for(url) as client:
        with pytest.raises(ProviderNotFound) as info:
            await client.get_media("00000000-0000-0000-0000-000000000000")
    assert info.value.status == 404
    assert info.value.message == "Resource not found"


async def test_another_tenants_video_is_forbidden() -> None:
    """Reading, deleting or reading stats of another tenant's uuid raises Forbidden (S14)."""
    sim = make_sim()
    theirs = sim.seed_media("b", "Not yours")
    async with served(sim) as url, client_for(url, KEY_A) as client:
        for call in (client.get_media, client.delete_media, client.stats):
            with pytest.raises(Forbidden) as info:
                await call(theirs.uuid)
            assert info.value.message == "Insufficient permissions (wrong tenant)"
    assert theirs.uuid in sim.media


async def test_delete_answers_204_then_404() -> None:
    """Deleting removes the video; a second delete and a get are both not found (S8)."""
    sim = make_sim()
    mine = sim.seed_media("a", "Old")
    async with served(sim) as url, client_for(url) as client:
        await client.delete_media(mine.uuid)
        assert mine.uuid not in sim.media
        with pytest.raises(ProviderNotFound):
            await client.delete_media(mine.uuid)
        with pytest.raises(ProviderNotFound):
            await client.get_media(mine.uuid)
    assert mine.uuid not in sim.media


async def test_a_wrong_key_is_auth_failed() -> None:
    """An unknown bearer token raises AuthFailed with the documented 401 message."""
    async with served(make_sim()) as url, client_for(url, "ss_not_a_key") as client:
        with pytest.raises(AuthFailed) as info:
            await client.list_media()
    assert info.value.status == 401
    assert info.value.message == "Invalid or missing API key"


async def test_presign_then_put_runs_the_pipeline_and_webhooks() -> None:
    """A presigned PUT marks the upload received and emits uploaded, transcoded, published."""
    async with webhook_sink() as sink:
        sim = make_sim(webhook_url=sink.url)
        async with served(sim) as url, client_for(url) as client:
            target = await client.presign_upload(
                title="Launch", filename="launch.mp4", content_type="video/mp4"
            )
            assert target.method == "PUT"
            assert target.headers == {"Content-Type": "video/mp4"}
            assert target.expires_in == 3600
            assert (await client.get_media(target.uuid)).status == "uploading"
            await client.upload_bytes(target, b"\x00" * 2048)
            await sim.wait_idle()
            media = await client.get_media(target.uuid)
    assert media.status == "published" and media.profiles
    assert sink.events() == ["media.uploaded", "media.transcoded", "media.published"]
    assert [d.event for d in sim.deliveries] == sink.events()
    assert all(d.status_code == 204 for d in sim.deliveries)
    first = sim.deliveries[0].payload()
    assert first["uuid"] == target.uuid and first["data"]["title"] == "Launch"
    assert first["timestamp"].endswith("Z")
    assert sim.media[target.uuid].size == 2048


async def test_a_failed_transcode_emits_media_failed() -> None:
    """When the simulator is told to fail, the pipeline ends uploaded → failed (S13)."""
    async with webhook_sink() as sink:
        sim = make_sim(webhook_url=sink.url)
        sim.fail_next_transcode()
        async with served(sim) as url, client_for(url) as client:
            media = await client.upload_from_url(title="Broken", url="https://example.com/x.mp4")
            await sim.wait_idle()
            final = await client.get_media(media.uuid)
    assert sink.events() == ["media.uploaded", "media.failed"]
    assert final.status == "failed"


async def test_webhooks_are_signed_only_when_a_secret_is_configured() -> None:
    """With a secret each body carries a matching X-StreamStack-Signature; without, none."""
    async with webhook_sink() as sink:
        signed = make_sim(webhook_url=sink.url, webhook_secret="whsec-test")
        async with served(signed) as url, client_for(url) as client:
            await client.upload_from_url(title="Signed", url="https://example.com/a.mp4")
            await signed.wait_idle()
        unsigned = make_sim(webhook_url=sink.url)
        async with served(unsigned) as url, client_for(url) as client:
            await client.upload_from_url(title="Plain", url="https://example.com/b.mp4")
            await unsigned.wait_idle()
    assert len(sink.received) == 6
    for body, headers in sink.received[:3]:
        assert headers["x-streamstack-signature"] == sign(body, "whsec-test")
    assert all("x-streamstack-signature" not in h for _, h in sink.received[3:])


async def test_presign_validation_errors_name_the_fields() -> None:
    """An empty title and a non-video content type give a 422 listing both fields (S9)."""
    async with served(make_sim()) as url, client_for(url) as client:
        with pytest.raises(InvalidRequest) as info:
            await client.presign_upload(title=" ", filename="a.txt", content_type="text/plain")
    assert info.value.status == 422
    assert info.value.message.startswith("The given data was invalid.")
    assert "title:" in info.value.message and "content_type:" in info.value.message


async def test_an_oversized_upload_is_413() -> None:
    """A file over the simulator's limit is refused with 413 File too large."""
    sim = make_sim(max_upload_bytes=1000)
    async with served(sim) as url, client_for(url) as client:
        target = await client.presign_upload(title="Big", filename="big.mp4")
        with pytest.raises(InvalidRequest) as info:
            await client.upload_bytes(target, b"x" * 1001)
    assert info.value.status == 413
    assert info.value.message == "File too large"
    assert sim.media[target.uuid].status == "uploading"


async def test_upload_from_url_creates_a_processing_video() -> None:
    """Import from URL answers 201 with a processing video that later publishes (S6)."""
    sim = make_sim()
    async with served(sim) as url, client_for(url) as client:
        media = await client.upload_from_url(title="Import", url="https://example.com/v.mp4")
        assert media.status == "processing"
        await sim.wait_idle()
        assert (await client.get_media(media.uuid)).status == "published"


async def test_upload_from_url_rejects_a_non_http_url() -> None:
    """A URL that is not http(s) is a 422 naming the url field."""
    async with served(make_sim()) as url, client_for(url) as client:
        with pytest.raises(InvalidRequest) as info:
            await client.upload_from_url(title="Bad", url="ftp://example.com/v.mp4")
    assert "url:" in info.value.message
    assert "ftp" not in info.value.message


async def test_stats_for_each_of_the_ten_periods() -> None:
    """Every documented period returns typed stats whose breakdowns add up to the views."""
    sim = make_sim()
    video = sim.seed_media("a", "Stats")
    async with served(sim) as url, client_for(url) as client:
        results = [await client.stats(video.uuid, period) for period in PERIODS]
    assert [s.period for s in results] == list(PERIODS)
    for stats in results:
        assert stats.uuid == video.uuid and stats.views > 0
        assert 0 <= stats.watching_now <= stats.views
        assert stats.avg_watch_time > 0 and 0 < stats.completion_rate <= 100
        for breakdown in (stats.quality, stats.devices, stats.browsers, stats.geo):
            assert sum(breakdown.values()) == stats.views
        assert set(stats.quality) == set(video.profiles)


async def test_stats_with_an_invalid_period_is_422() -> None:
    """A period outside the ten is refused by StreamStack with a 422 on `period`."""
    sim = make_sim()
    video = sim.seed_media("a", "Stats")
    async with served(sim) as url, client_for(url) as client:
        with pytest.raises(InvalidRequest) as info:
            await client.stats(video.uuid, "2w")
    assert info.value.status == 422 and "period:" in info.value.message


async def test_reads_wait_out_the_rate_limit() -> None:
    """Past 30 requests in one second a read waits Retry-After (1 s) and then succeeds."""
    clock = FakeClock()
    sleeps = Sleeps(clock)
    sim = make_sim(clock)
    async with served(sim) as url, client_for(url, sleep=sleeps) as client:
        for _ in range(31):
            await client.list_media()
    assert sleeps.calls == [1.0]


async def test_a_write_is_not_retried_when_rate_limited() -> None:
    """A delete hitting the limit raises RateLimited with retry_after and leaves the video."""
    clock = FakeClock()
    sleeps = Sleeps(clock)
    sim = make_sim(clock, rate_per_second=2)
    video = sim.seed_media("a", "Keep")
    async with served(sim) as url, client_for(url, sleep=sleeps) as client:
        await client.list_media()
        await client.list_media()
        with pytest.raises(RateLimited) as info:
            await client.delete_media(video.uuid)
    assert info.value.retry_after == 1.0
    assert sleeps.calls == []
    assert video.uuid in sim.media


async def test_reads_retry_a_server_error_but_deletes_do_not() -> None:
    """An injected 500 is retried for a get and surfaces at once for a delete."""
    sim = make_sim()
    video = sim.seed_media("a", "Flaky")
    sleeps = Sleeps()
    async with served(sim) as url, client_for(url, sleep=sleeps) as client:
        sim.fail_next_requests(1)
        assert (await client.get_media(video.uuid)).uuid == video.uuid
        assert len(sleeps.calls) == 1
        sim.fail_next_requests(1)
        with pytest.raises(ProviderUnavailable) as info:
            await client.delete_media(video.uuid)
        assert info.value.message == "Internal server error"
        assert len(sleeps.calls) == 1
    assert video.uuid in sim.media


async def test_embed_gives_the_player_url_served_by_the_simulator() -> None:
    """The embed URL carries autoplay/loop/mute and opens the simulator's player page."""
    sim = make_sim()
    video = sim.seed_media("a", "Embed <me>")
    async with served(sim) as url, client_for(url) as client:
        embed = client.embed(video.uuid, autoplay=True, mute=True)
        async with httpx.AsyncClient() as browser:
            page = await browser.get(embed.url)
    assert embed.url == f"{url}/player/{video.uuid}?autoplay=1&mute=1"
    assert f'src="{url}/player/{video.uuid}?autoplay=1&amp;mute=1"' in embed.iframe
    assert page.status_code == 200 and "Embed &lt;me&gt;" in page.text


def test_embed_on_the_real_host_follows_the_documented_form() -> None:
    """With the default base URL the player is https://streamstack.it/player/{uuid}."""
    client = streamstack.from_settings(
        settings_for("https://streamstack.it", "ss-test-key-0123456789")
    )
    assert client is not None
    embed = client.embed("abc", loop=True, width=640, height=360)
    assert embed.url == "https://streamstack.it/player/abc?loop=1"
    assert embed.iframe == (
        '<iframe src="https://streamstack.it/player/abc?loop=1" width="640" height="360" '
        'frameborder="0" allowfullscreen allow="encrypted-media; autoplay"></iframe>'
    )


def test_from_settings_without_a_key_is_none() -> None:
    """No STREAMSTACK_API_KEY means no client."""
    assert streamstack.from_settings(settings_for("https://streamstack.it", None)) is None


async def test_each_key_sees_only_its_tenant() -> None:
    """Two keys of two tenants list disjoint videos."""
    sim = make_sim()
    sim.seed_media("a", "A1")
    sim.seed_media("b", "B1")
    async with served(sim) as url:
        async with client_for(url, KEY_A) as a:
            titles_a = [m.title for m in await a.list_all()]
        async with client_for(url, KEY_B) as b:
            titles_b = [m.title for m in await b.list_all()]
    assert (titles_a, titles_b) == (["A1"], ["B1"])
