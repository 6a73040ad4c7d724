"""StreampixelClient against the Streampixel simulator over real loopback HTTP."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest

from bot.errors import (
    AuthFailed,
    Forbidden,
    InvalidRequest,
    ProviderNotFound,
    ProviderUnavailable,
    RateLimited,
)
from bot.providers.streampixel import (
    DistributeResult,
    Project,
    StreampixelClient,
    UploadResult,
    UserStats,
    WebhookTestResult,
)
from bot.sandbox.streampixel import (
    DEMO_API_KEY,
    DEMO_OTHER_API_KEY,
    DEMO_OTHER_USER_ID,
    DEMO_READONLY_API_KEY,
    DEMO_READONLY_USER_ID,
    DEMO_USER_ID,
)
from tests.providers.streampixel_fixtures import (
    APPROVED_BUILD,
    BUILD_URL,
    CONFIGURATOR_DISABLED,
    PARTNER_OTHER_USER,
    REJECTED_BUILD,
    RETAIL,
    SHOWROOM,
    Running,
    running_simulator,
    webhook_receiver,
)

OBJECT_ID = re.compile(r"^[0-9a-f]{24}$")


@pytest.fixture
async def env() -> AsyncIterator[Running]:
    """A demo simulator on loopback, webhooks disabled."""
    async with running_simulator() as running:
        yield running


@pytest.fixture
async def client(env: Running) -> AsyncIterator[StreampixelClient]:
    """A client for the demo owner account."""
    client = env.client()
    yield client
    await client.aclose()


async def test_list_projects_returns_every_owned_project_with_its_state(
    client: StreampixelClient,
) -> None:
    """projects-status lists the owner's projects, disabled ones included, as typed results."""
    projects = await client.list_projects()
    assert projects == [
        Project(SHOWROOM, "Showroom Demo", True, "active"),
        Project(CONFIGURATOR_DISABLED, "Configurator EU", False, "active"),
        Project(RETAIL, "Retail Walkthrough", True, "active"),
    ]
    assert all(OBJECT_ID.match(p.id) for p in projects)


async def test_user_stats_reports_counts_the_simulator_is_told(
    env: Running, client: StreampixelClient
) -> None:
    """userStats returns the live and queued counts, and follows changes to them."""
    assert await client.user_stats(SHOWROOM) == UserStats(live_users=7, queued_users=2)
    env.sim.set_user_stats(SHOWROOM, live=12, queue=0)
    assert await client.user_stats(SHOWROOM) == UserStats(live_users=12, queued_users=0)


async def test_upload_queues_a_build_that_the_pipeline_approves(
    env: Running, client: StreampixelClient
) -> None:
    """upload-file returns a fresh 24-hex uploadId and the build ends approved and live."""
    result = await client.upload(RETAIL, BUILD_URL)
    assert isinstance(result, UploadResult)
    assert result.message == "Build queued for processing"
    assert OBJECT_ID.match(result.upload_id)
    upload = env.sim.uploads[result.upload_id]
    assert (upload.project_id, upload.file_url, upload.auto_release) == (RETAIL, BUILD_URL, True)
    await env.sim.drain()
    assert upload.status == "Approved"
    assert env.sim.projects[RETAIL].live_upload_id == result.upload_id


async def test_upload_sends_auto_release_false(env: Running, client: StreampixelClient) -> None:
    """auto_release=False reaches the provider, so the approved build is not released."""
    result = await client.upload(RETAIL, BUILD_URL, auto_release=False)
    await env.sim.drain()
    assert env.sim.uploads[result.upload_id].auto_release is False
    assert env.sim.uploads[result.upload_id].status == "Approved"
    assert env.sim.projects[RETAIL].live_upload_id is None


async def test_upload_accepts_a_signed_url_with_a_query_string(client: StreampixelClient) -> None:
    """A signed S3 URL ending in .zip plus a query string is a valid fileUrl."""
    signed = "https://bucket.s3.amazonaws.com/b/v2.zip?X-Amz-Signature=abc&X-Amz-Expires=600"
    assert (await client.upload(RETAIL, signed)).upload_id


async def test_distribute_releases_an_approved_build(
    env: Running, client: StreampixelClient
) -> None:
    """distribute-file on an approved build triggers distribution and makes it live."""
    old = env.sim.add_upload(SHOWROOM, "https://builds.example.com/showroom/v1.0.0.zip")
    result = await client.distribute(SHOWROOM, old.id)
    assert result == DistributeResult(upload_id=old.id, message="Distribution triggered")
    await env.sim.drain()
    assert env.sim.projects[SHOWROOM].live_upload_id == old.id


async def test_test_webhook_reports_a_delivered_event() -> None:
    """test-webhook sends the documented webhook.test payload and reports the 200."""
    async with webhook_receiver() as (receiver, url), running_simulator(url) as env:
        client = env.client()
        result = await client.test_webhook(SHOWROOM)
        await client.aclose()
    assert result == WebhookTestResult(True, "Test webhook delivered", 200)
    [payload] = receiver.received
    timestamp = payload.pop("timestamp")
    assert payload == {
        "event": "webhook.test",
        "projectId": SHOWROOM,
        "uploadId": None,
        "fileUrl": None,
        "status": "test",
        "objection": None,
    }
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", timestamp)


async def test_test_webhook_reports_a_receiver_failure() -> None:
    """A receiver answering 500 gives success false with its status echoed."""
    async with webhook_receiver(status=500) as (_, url), running_simulator(url) as env:
        client = env.client()
        result = await client.test_webhook(SHOWROOM)
        await client.aclose()
    assert result == WebhookTestResult(False, "Webhook endpoint returned non-2xx status", 500)


async def test_test_webhook_reports_status_zero_when_unreachable(
    env: Running, client: StreampixelClient
) -> None:
    """An unreachable webhook URL gives statusCode 0, as documented."""
    env.sim.set_webhook_url(SHOWROOM, "http://127.0.0.1:9/hooks")
    result = await client.test_webhook(SHOWROOM)
    assert (result.delivered, result.status_code) == (False, 0)


async def test_test_webhook_without_a_url_is_not_found(client: StreampixelClient) -> None:
    """A project with no webhook URL gives 404 "No webhook URL configured"."""
    with pytest.raises(ProviderNotFound, match="No webhook URL configured") as caught:
        await client.test_webhook(SHOWROOM)
    assert caught.value.status == 404


async def test_unknown_user_is_refused(env: Running) -> None:
    """A userId matching no account gives AuthFailed "Invalid User"."""
    client = env.client(user_id="000000000000000000000000")
    with pytest.raises(AuthFailed) as caught:
        await client.list_projects()
    await client.aclose()
    assert (caught.value.message, caught.value.status) == ("Invalid User", 401)


async def test_wrong_and_rotated_keys_are_refused(env: Running) -> None:
    """A wrong key, and a key replaced by rotation, give "Unauthorized: Invalid API Key"."""
    wrong = env.client(api_key="not-the-key")
    with pytest.raises(AuthFailed, match="Unauthorized: Invalid API Key"):
        await wrong.user_stats(SHOWROOM)
    await wrong.aclose()
    env.sim.rotate_key(DEMO_USER_ID)
    old = env.client(api_key=DEMO_API_KEY)
    with pytest.raises(AuthFailed, match="Unauthorized: Invalid API Key"):
        await old.upload(RETAIL, BUILD_URL)
    await old.aclose()


async def test_unknown_project_is_not_found(client: StreampixelClient) -> None:
    """A project id that does not exist gives ProviderNotFound "Project not found"."""
    with pytest.raises(ProviderNotFound, match="Project not found"):
        await client.user_stats("ffffffffffffffffffffffff")


@pytest.mark.parametrize("project_id", [CONFIGURATOR_DISABLED, PARTNER_OTHER_USER])
async def test_disabled_or_foreign_project_is_access_denied(
    client: StreampixelClient, project_id: str
) -> None:
    """A disabled project, or another user's, gives Forbidden "Access denied" on read and write."""
    with pytest.raises(Forbidden, match="Access denied") as caught:
        await client.user_stats(project_id)
    assert caught.value.status == 403
    with pytest.raises(Forbidden, match="Access denied"):
        await client.upload(project_id, BUILD_URL)


async def test_readonly_key_reads_but_cannot_write(env: Running) -> None:
    """A READONLY team-member key reads the project's stats but gets 403 "Forbidden" on upload."""
    client = env.client(api_key=DEMO_READONLY_API_KEY, user_id=DEMO_READONLY_USER_ID)
    assert (await client.user_stats(SHOWROOM)).live_users == 7
    with pytest.raises(Forbidden) as caught:
        await client.upload(SHOWROOM, BUILD_URL)
    await client.aclose()
    assert caught.value.message == "Forbidden"


@pytest.mark.parametrize(
    ("file_url", "message"),
    [
        ("https://drive.google.com/file/d/abc123/view", "Invalid file URL"),
        ("ftp://builds.example.com/b.zip", "Invalid file URL"),
        ("", "Missing required field: fileUrl"),
    ],
)
async def test_bad_file_urls_are_invalid_requests(
    client: StreampixelClient, file_url: str, message: str
) -> None:
    """A missing or non-direct .zip fileUrl gives InvalidRequest with the provider's words."""
    with pytest.raises(InvalidRequest) as caught:
        await client.upload(RETAIL, file_url)
    assert (caught.value.message, caught.value.status) == (message, 400)


async def test_second_upload_within_two_minutes_is_rate_limited(
    env: Running, client: StreampixelClient
) -> None:
    """Upload is 1 per 120 s per user: the second gets RateLimited(120), and passes after 120 s."""
    await client.upload(RETAIL, BUILD_URL)
    env.clock.advance(119)
    with pytest.raises(RateLimited) as caught:
        await client.upload(SHOWROOM, BUILD_URL)
    assert caught.value.message == "Rate limit exceeded. Try again in 2 minutes."
    assert caught.value.retry_after == 120
    env.clock.advance(1)
    assert (await client.upload(SHOWROOM, BUILD_URL)).upload_id


async def test_upload_and_distribute_have_separate_limits(
    env: Running, client: StreampixelClient
) -> None:
    """An upload does not use the distribute slot, but a second distribute is limited."""
    await client.upload(RETAIL, BUILD_URL)
    await client.distribute(SHOWROOM, APPROVED_BUILD)
    with pytest.raises(RateLimited):
        await client.distribute(SHOWROOM, APPROVED_BUILD)


async def test_distribute_of_an_unknown_or_foreign_build_is_not_found(
    env: Running, client: StreampixelClient
) -> None:
    """An uploadId not belonging to the project gives "File not found in project"."""
    with pytest.raises(ProviderNotFound, match="File not found in project"):
        await client.distribute(RETAIL, APPROVED_BUILD)
    env.clock.advance(120)
    with pytest.raises(ProviderNotFound, match="File not found in project"):
        await client.distribute(SHOWROOM, "ffffffffffffffffffffffff")


async def test_distribute_of_an_unfinished_or_rejected_build_has_no_url(
    env: Running, client: StreampixelClient
) -> None:
    """A build still processing, or rejected, gives InvalidRequest "File has no URL"."""
    pending = env.sim.add_upload(SHOWROOM, BUILD_URL, status="Downloading Files")
    with pytest.raises(InvalidRequest, match="File has no URL"):
        await client.distribute(SHOWROOM, pending.id)
    env.clock.advance(120)
    with pytest.raises(InvalidRequest, match="File has no URL"):
        await client.distribute(SHOWROOM, REJECTED_BUILD)


async def test_server_errors_on_reads_are_retried_until_success(
    env: Running, client: StreampixelClient
) -> None:
    """Two 500s then a success: the read succeeds on its third attempt."""
    env.sim.fail_next_requests(2)
    assert len(await client.list_projects()) == 3


async def test_server_error_on_upload_is_not_retried(
    env: Running, client: StreampixelClient
) -> None:
    """A 500 on upload raises ProviderUnavailable at once and queues nothing."""
    env.sim.fail_next_requests(1)
    with pytest.raises(ProviderUnavailable, match="Internal server error"):
        await client.upload(RETAIL, BUILD_URL)
    assert not any(u.project_id == RETAIL for u in env.sim.uploads.values())


async def test_second_account_sees_only_its_own_projects(env: Running) -> None:
    """projects-status is scoped to the userId's own projects."""
    client = env.client(api_key=DEMO_OTHER_API_KEY, user_id=DEMO_OTHER_USER_ID)
    assert [p.id for p in await client.list_projects()] == [PARTNER_OTHER_USER]
    await client.aclose()
