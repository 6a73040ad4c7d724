"""The composition root's product: everything the app uses, built once, frozen.

:func:`build_container` is the only place that wires the application:
settings → database → repositories → provider clients → services → jobs.
Nothing is completed later from elsewhere; tests pass overrides (a database,
an auditor, a clock, outbox timings) as arguments. The Bolt and Starlette
apps are built on top of it by :func:`bot.app.create_app`.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import httpx
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.audit import Auditor
from bot.authz import Authorizer
from bot.errors import UserFacingError
from bot.jobs.audit_integrity import CheckpointWitness, ScheduledVerification
from bot.jobs.governance import GovernanceJob
from bot.jobs.live_poller import LivePoller
from bot.jobs.loop import Job
from bot.jobs.outbox_worker import (
    NotificationRenderer,
    OutboxOptions,
    OutboxWorker,
    delivery_client,
)
from bot.jobs.pending_deletes import PendingDeletes
from bot.jobs.queue_runner import QueueRunner
from bot.jobs.reconcile import Reconciler
from bot.jobs.retention import RetentionJob
from bot.jobs.schedule_runner import ScheduleRunner
from bot.jobs.tallies import TallyBuffer
from bot.metrics import Metrics
from bot.providers.metered import MeteredTransport
from bot.providers.streamapi import StreamAPIClient
from bot.providers.streamapi import from_settings as streamapi_from_settings
from bot.providers.streamapi import send_deadline as streamapi_send_deadline
from bot.providers.streampixel import StreampixelClient
from bot.providers.streampixel import from_settings as streampixel_from_settings
from bot.providers.streamstack import StreamStackClient
from bot.providers.streamstack import from_settings as streamstack_from_settings
from bot.response_url import ResponseSession
from bot.services.actor import Gate
from bot.services.audit_log import AuditService
from bot.services.audit_verify import AuditVerifier
from bot.services.builds import BuildService
from bot.services.governance import Governance
from bot.services.governance_actions import GovernanceActions
from bot.services.governance_notices import OutboxNotices
from bot.services.home import HomeService
from bot.services.intake import WebhookIntake
from bot.services.live import LiveService
from bot.services.media import MediaService, UndoWindow
from bot.services.media_transfer import MediaTransfer
from bot.services.oneshot import OneShot
from bot.services.release_timeline import ReleaseTimeline
from bot.services.releases import Releases
from bot.services.roles import RoleService
from bot.services.scheduled_release import scheduled_release
from bot.services.schedules import Schedules
from bot.services.subscriptions import SubscriptionService
from bot.settings import Settings
from bot.slack_errors import SlackErrorMeter
from bot.tls import tls_context
from storage.approvals import ApprovalStore
from storage.audit import AuditLog
from storage.builds import BuildStore
from storage.coordination import ClaimStore
from storage.db import Database
from storage.freezes import FreezeStore
from storage.governance_notices import GovernanceOutbox
from storage.outbox import OutboxStore
from storage.pending_deletes import PendingDeleteStore
from storage.release_notices import ReleaseNotices
from storage.roles import RoleStore
from storage.schedules import Schedule, ScheduleStore
from storage.streamapi_rid import DatabaseRidSource
from storage.subscriptions import SubscriptionStore
from storage.timeline import TimelineStore
from storage.webhooks import WebhookStore

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


def make_slack_client(settings: Settings, metrics: Metrics | None = None) -> AsyncWebClient:
    """The Web API client: base URL from settings, SDK retry handlers for 429s and resets.

    With ``metrics``, every failed call is counted by method and error (first handler).
    """
    meter = [SlackErrorMeter(metrics)] if metrics is not None else []
    return AsyncWebClient(
        token=settings.slack_bot_token.get_secret_value(),
        base_url=settings.slack_api_url,
        retry_handlers=[
            *meter,
            AsyncConnectionErrorRetryHandler(max_retry_count=2),
            AsyncRateLimitErrorRetryHandler(max_retry_count=2),
        ],
    )


@dataclass(frozen=True)
class Container:
    """Every long-lived object of one app instance.

    Attributes:
        jobs: the background jobs the app's lifespan runs (see :mod:`bot.jobs.loop`).
    """

    settings: Settings
    clock: Clock
    metrics: Metrics
    db: Database
    slack: AsyncWebClient
    audit: Auditor
    authz: Authorizer
    claims: ClaimStore
    tallies: TallyBuffer
    outbox: OutboxStore
    streampixel: StreampixelClient | None
    streamstack: StreamStackClient | None
    streamapi: StreamAPIClient | None
    releases: Releases
    timeline: ReleaseTimeline
    schedules: Schedules
    governance: Governance
    governance_actions: GovernanceActions
    media: MediaService
    transfer: MediaTransfer
    files_http: httpx.AsyncClient
    responses: ResponseSession
    live: LiveService
    home: HomeService
    roles: RoleService
    subscriptions: SubscriptionService
    audit_log: AuditService
    audit_verifier: AuditVerifier
    intake: WebhookIntake
    outbox_worker: OutboxWorker
    queue_runner: QueueRunner
    schedule_runner: ScheduleRunner
    governance_job: GovernanceJob
    live_poller: LivePoller | None
    retention: RetentionJob | None
    reconciler: Reconciler | None
    pending_deletes: PendingDeletes | None
    jobs: tuple[Job, ...]

    async def aclose(self) -> None:
        """Release every connection the container holds."""
        for client in (self.streamapi, self.streamstack, self.streampixel):
            if client is not None:
                await client.aclose()
        await self.files_http.aclose()
        await self.responses.aclose()
        await self.db.dispose()


def build_container(
    settings: Settings,
    *,
    renderer: NotificationRenderer,
    db: Database | None = None,
    audit: Auditor | None = None,
    clock: Clock = utcnow,
    outbox_options: OutboxOptions | None = None,
) -> Container:
    """Build everything from settings (no I/O happens here).

    Args:
        renderer: turns notifications into Slack messages for the delivery worker
            (the composition root hands in :data:`handlers.blocks.notifications.NOTIFICATIONS`).
        db: an already-open database (tests pass theirs); built from settings if omitted.
        audit: the auditor; the database-backed audit log if omitted.
        clock: the current time (tests share a fake clock with the simulators).
        outbox_options: the delivery worker's timings.
    """
    db = db or Database(settings.database_url)
    jobs: list[Job] = []
    # The keyed audit log: written after the ack by every service (a direct, durable
    # write never delays Slack; an in-memory queue would lose rows on a crash),
    # checkpointed, witnessed and verified by the audit jobs.
    keyed_log = AuditLog(db, keys=settings.audit_keys())
    audit = audit or keyed_log
    metrics = Metrics()
    tallies = TallyBuffer(db, clock=utcnow)
    jobs.append(Job("tallies", tallies.run))

    def metered(provider: str) -> MeteredTransport:
        return MeteredTransport(provider, metrics, max_connections=settings.http_max_connections)

    slack = make_slack_client(settings, metrics)
    authz = Authorizer(settings.admins, RoleStore(db))
    claims = ClaimStore(db)
    outbox = OutboxStore(db)
    streampixel = streampixel_from_settings(settings, transport=metered("streampixel"))
    streamstack = streamstack_from_settings(settings, transport=metered("streamstack"))
    # Replicas take turns sending per API key: a turn lasts one send (at most its
    # deadline); a replica waits for a few turns of others before it calls StreamAPI busy.
    deadline = streamapi_send_deadline(settings)
    rids = DatabaseRidSource(db, wait=3 * deadline, hold=deadline + 5)
    streamapi = streamapi_from_settings(settings, rids=rids, transport=metered("streamapi"))

    gate = Gate(authz, audit, clock)
    once = OneShot(claims)
    build_store = BuildStore(db)
    build_service = (
        BuildService(
            streampixel,
            build_store,
            clock,
            window=timedelta(seconds=settings.streampixel_rate_window_seconds),
        )
        if streampixel
        else None
    )

    def builds() -> BuildService:
        if build_service is None:
            raise UserFacingError(
                "Streampixel is not configured (set STREAMPIXEL_API_KEY and STREAMPIXEL_USER_ID)"
            )
        return build_service

    governance = Governance(
        ApprovalStore(db),
        FreezeStore(db),
        authz,
        audit,
        OutboxNotices(GovernanceOutbox(db), clock),
        clock,
        approval_hours=settings.approval_hours,
    )
    queue_due = asyncio.Event()
    timeline = ReleaseTimeline(
        build_store,
        TimelineStore(db),
        clock,
        streampixel.project_files if streampixel is not None else None,
    )
    release_notices = ReleaseNotices(db)
    releases = Releases(
        builds, gate, once, outbox, clock, queue_due, governance, timeline, release_notices
    )
    schedule_due = asyncio.Event()

    async def approvals_needed(project_id: str) -> int:
        return (await governance.policy(project_id)).approvals

    schedules = Schedules(
        ScheduleStore(db),
        gate,
        timeline,
        releases.project,
        once,
        clock,
        grace=timedelta(minutes=settings.schedule_grace_minutes),
        runner=f"replica-{uuid.uuid4().hex[:12]}",
        wake=schedule_due,
        approvals_needed=approvals_needed,
    )

    async def report_schedule(schedule: Schedule) -> None:
        await release_notices.schedule_report(schedule, clock())

    schedule_runner = ScheduleRunner(
        schedules,
        scheduled_release(releases),
        report_schedule,
        schedule_due,
        enabled=streampixel is not None,
    )
    governance_actions = GovernanceActions(
        governance, releases, lambda text: builds().resolve_project(text)
    )
    undo = None
    if settings.delete_undo_minutes > 0:
        window = timedelta(minutes=settings.delete_undo_minutes)
        undo = UndoWindow(PendingDeleteStore(db), outbox, window)
    media = MediaService(streamstack, gate, once, clock, governance, undo)
    # Reads files people share in Slack (url_private, bot token), streamed to StreamStack.
    files_http = httpx.AsyncClient(timeout=httpx.Timeout(60.0, connect=10.0), verify=tls_context())
    transfer = MediaTransfer(
        streamstack,
        gate,
        files_http,
        settings.slack_bot_token.get_secret_value(),
        api_url=settings.slack_api_url,
    )
    live = LiveService(streamapi, gate)
    home = HomeService(db, authz, audit, clock=clock, tallies=tallies)
    roles = RoleService(authz, gate)
    subscriptions = SubscriptionService(
        SubscriptionStore(db),
        WebhookStore(db),
        gate,
        clock,
        projects=streampixel.list_projects if streampixel else None,
    )
    audit_reads = AuditService(AuditLog(db), gate, clock)
    intake = WebhookIntake(db, clock, settings.default_channel)
    audit_verifier = AuditVerifier(keyed_log, settings.audit_witness, audit.record, clock, authz)
    jobs.extend(_audit_jobs(settings, audit, audit_verifier, outbox, claims, clock))

    if not settings.outbox_collapse:
        # Every notification on its own (the baseline the notification bench compares).
        outbox_options = replace(
            outbox_options or OutboxOptions(), collapse=False, digest_backlog=0
        )
    outbox_worker = OutboxWorker(
        db,
        delivery_client(slack),
        renderer,
        clock=clock,
        options=outbox_options,
        metrics=metrics,
    )
    if not settings.outbox_wakeup:
        outbox_worker.wakeup = None  # poll only (the baseline the notification bench compares)
    if settings.delivery_worker:
        jobs.append(Job("outbox", outbox_worker.run))
    queue_runner = QueueRunner(releases, queue_due, enabled=streampixel is not None)
    jobs.append(Job("queue", queue_runner.run))
    jobs.append(Job("schedule", schedule_runner.run))
    governance_job = GovernanceJob(governance)
    jobs.append(Job("governance", governance_job.run))
    live_poller = None
    if streamapi is not None and settings.streamapi_poll_seconds > 0:
        live_poller = LivePoller(
            db,
            streamapi,
            clock=clock,
            interval=settings.streamapi_poll_seconds,
            default_channel=settings.default_channel,
        )
        jobs.append(Job("live-poller", live_poller.run))
    retention = None
    if settings.retention_days > 0:
        retention = RetentionJob(db, clock=clock, retention=timedelta(days=settings.retention_days))
        jobs.append(Job("retention", retention.run))
    pending_deletes = None
    if streamstack is not None and undo is not None:
        pending_deletes = PendingDeletes(media)
        jobs.append(Job("pending-deletes", pending_deletes.run))
    reconciler = None
    if streamstack is not None and settings.reconcile_minutes > 0:
        reconciler = Reconciler(
            db,
            streamstack,
            clock=clock,
            interval=settings.reconcile_minutes * 60,
            default_channel=settings.default_channel,
        )
        jobs.append(Job("reconcile", reconciler.run))

    return Container(
        settings=settings,
        clock=clock,
        metrics=metrics,
        db=db,
        slack=slack,
        audit=audit,
        authz=authz,
        claims=claims,
        tallies=tallies,
        outbox=outbox,
        streampixel=streampixel,
        streamstack=streamstack,
        streamapi=streamapi,
        releases=releases,
        timeline=timeline,
        schedules=schedules,
        governance=governance,
        governance_actions=governance_actions,
        media=media,
        transfer=transfer,
        files_http=files_http,
        responses=ResponseSession(),  # every respond() to a response_url (bot.ack_runner)
        live=live,
        home=home,
        roles=roles,
        subscriptions=subscriptions,
        audit_log=audit_reads,
        audit_verifier=audit_verifier,
        intake=intake,
        outbox_worker=outbox_worker,
        queue_runner=queue_runner,
        schedule_runner=schedule_runner,
        governance_job=governance_job,
        live_poller=live_poller,
        retention=retention,
        reconciler=reconciler,
        pending_deletes=pending_deletes,
        jobs=tuple(jobs),
    )


def _audit_jobs(
    settings: Settings,
    audit: Auditor,
    verifier: AuditVerifier,
    outbox: OutboxStore,
    claims: ClaimStore,
    clock: Clock,
) -> list[Job]:
    """Witnessed checkpoints (when this process writes the audit log) and the scheduled check."""
    jobs: list[Job] = []
    if isinstance(audit, AuditLog):
        witness = CheckpointWitness(
            audit,
            outbox.enqueue,
            clock,
            witness_file=settings.audit_witness,
            channel=settings.audit_channel,
        )
        every = settings.audit_checkpoint_seconds
        jobs.append(Job("audit-checkpoint", lambda: witness.run(every)))
    if settings.audit_verify_hours > 0:
        scheduled = ScheduledVerification(
            verifier,
            outbox.enqueue,
            clock,
            admins=sorted(settings.admins),
            channel=settings.audit_channel,
            claims=claims,
            interval=settings.audit_verify_hours * 3600,
        )
        jobs.append(Job("audit-verify", scheduled.run))
    return jobs
