"""The composition root: builds Kartei from settings and runs it in one event loop.

This is the only module of the hub that knows the adapters, projections and policies.
Every part can be passed in, so tests build the real application with their own parts.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import socket
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from apscheduler.job import Job
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from fastapi import APIRouter

from adapters.fax.build import fax_adapters, fax_policies
from adapters.importers.run import import_file
from adapters.mail.build import mail_adapters
from adapters.telegram.setup import alert_channels
from adapters.telephony.setup import telephony_adapters, telephony_routers
from hub.backup import schedule_backup
from hub.capture import Adapter, Capture
from hub.health import ComponentHealth, HealthRegistry
from hub.job_runs import STALE_SECONDS, JobRuns
from hub.policy import Policy, PolicyRunner
from hub.projection import Projection, ProjectionRunner
from hub.proofs.follower import MerkleFollower
from hub.proofs.setup import install as install_archive_proofs
from hub.runtime import Component, Supervisor
from hub.schedule import record_runs, resume_interrupted
from hub.settings import Settings
from hub.sql import create_tables
from hub.store import Database, EventStore
from hub.store.leases import Leases
from hub.web.app import create_app
from hub.web.pages_import import ContactImport
from hub.web.server import WebServer
from policies.callbacks import CallbackPolicy
from policies.classifier.policy import message_of
from policies.classifier.setup import churn_rule, risk_policies
from policies.retention import schedule_retention
from policies.signature_numbers import SignatureNumbersPolicy
from projections.calls import CallLog
from projections.contacts import ContactDirectory
from projections.erasure import forgetting
from projections.event_stats import EventStats
from projections.identity import IdentityIndex
from projections.mail import MailIndex
from projections.review import ClassificationReview
from projections.risk import RiskList
from projections.tasks import TaskQueue
from projections.timeline import Timeline

log = logging.getLogger(__name__)


def default_projections(settings: Settings) -> list[Projection]:
    return [
        EventStats(),
        TaskQueue(),
        ContactDirectory(),
        identity_index(settings),
        CallLog(),
        RiskList(churn_rule(settings)),
        ClassificationReview(),
        MailIndex(),
        Timeline(identity_index(settings)),
    ]


def contact_importer(settings: Settings) -> ContactImport:
    """The web's contact import: `kartei import` with the configured region."""
    region = settings.contacts.default_region
    own = settings.contacts.own_area_code or None
    return functools.partial(import_file, region=region, own_area_code=own)  # type: ignore[return-value]


def identity_index(settings: Settings) -> IdentityIndex:
    section = settings.contacts
    return IdentityIndex(section.default_region, section.own_area_code or None)


def default_policies(settings: Settings, kartei: Kartei) -> list[Policy]:
    return [
        *callback_policy(settings, kartei),
        *risk_policies(settings, kartei, alert_channels(settings)),
        *fax_policies(settings),
        *signature_number_policy(kartei),
    ]


def callback_policy(settings: Settings, kartei: Kartei) -> list[Policy]:
    if "identity" not in kartei.projections or "tasks" not in kartei.projections:
        return []
    identity, tasks = kartei.projection("identity"), kartei.projection("tasks")
    lang, tz = settings.kartei.language, ZoneInfo(settings.kartei.timezone)
    return [CallbackPolicy(kartei.store.db, identity, tasks, lang, tz=tz)]  # type: ignore[arg-type,list-item]


def signature_number_policy(kartei: Kartei) -> list[Policy]:
    if "identity" not in kartei.projections:
        return []
    return [SignatureNumbersPolicy(kartei.store, kartei.projection("identity"))]  # type: ignore[arg-type]


def default_adapters(settings: Settings) -> list[Adapter]:
    mail = mail_adapters(settings)  # the fax may add its route to the mail SMTP listener
    return [*telephony_adapters(settings), *mail, *fax_adapters(settings, mail)]


def default_routers(settings: Settings, kartei: Kartei) -> list[APIRouter]:
    identity = kartei.projections.get("identity")
    index = identity.projection if identity is not None else None
    adapters = kartei.adapters  # the webhook intake is an adapter with an endpoint
    return [*telephony_routers(settings, kartei.store, kartei.health, index, adapters)]  # type: ignore[arg-type]


@dataclass
class Kartei:
    """The object graph of one running Kartei."""

    settings: Settings
    store: EventStore
    health: HealthRegistry
    projections: dict[str, ProjectionRunner] = field(default_factory=dict)
    policies: dict[str, PolicyRunner] = field(default_factory=dict)
    adapters: list[Adapter] = field(default_factory=list)
    scheduler: AsyncIOScheduler = field(default_factory=AsyncIOScheduler)
    web: WebServer | None = None
    merkle: MerkleFollower | None = None  # the archive's Merkle log (hub/proofs)
    leases: Leases = field(init=False)  # this process's name in the lease table

    def __post_init__(self) -> None:
        ttl = self.settings.cluster.takeover_seconds * 0.75  # + a look every ttl/3
        self.leases = Leases(self.store.db, ttl=ttl)

    def projection(self, name: str) -> Projection:
        return self.projections[name].projection


def bootstrap(
    settings: Settings,
    *,
    store: EventStore | None = None,
    projections: Sequence[Projection] | None = None,
    policies: Sequence[Policy] | None = None,
    adapters: Sequence[Adapter] | None = None,
) -> Kartei:
    """Builds every part of Kartei from the settings; nothing starts yet."""
    health = HealthRegistry()
    if store is None:
        db = Database(settings.database_url, pool_size=settings.database.pool_size)
        store = EventStore(db, max_event_bytes=settings.store.max_event_bytes)
    kartei = Kartei(settings=settings, store=store, health=health)
    for projection in default_projections(settings) if projections is None else projections:
        name = f"projection:{projection.name}"
        kartei.projections[projection.name] = ProjectionRunner(
            store, projection, health=health.component(name), leases=kartei.leases
        )
    for policy in default_policies(settings, kartei) if policies is None else policies:
        runner = PolicyRunner(
            store, policy, health=health.component(f"policy:{policy.name}"), leases=kartei.leases
        )
        kartei.policies[policy.name] = runner
    kartei.adapters = list(default_adapters(settings) if adapters is None else adapters)
    schedule_backup(settings, kartei)
    schedule_retention(
        settings, kartei, lambda: forgetting(kartei.projection(n) for n in kartei.projections)
    )
    kartei.merkle = install_archive_proofs(settings, kartei)
    kartei.web = WebServer(
        create_app(
            kartei,
            routers=default_routers(settings, kartei),
            importer=contact_importer(settings),
            message_words=message_of,
        ),
        settings.web.host,
        settings.web.port,
        health.component("web"),
    )
    return kartei


ROLES = ("web", "capture", "workers")


class _AdapterComponent:
    """Runs an adapter while this process holds its lease (see Adapter.lease_scope)."""

    def __init__(self, adapter: Adapter, capture: Capture, leases: Leases) -> None:
        self.name = f"adapter:{adapter.name}"
        self._adapter = adapter
        self._capture = capture
        self._leases = leases
        scope = getattr(adapter, "lease_scope", "deployment")
        host = f"@{socket.gethostname()}" if scope == "host" else ""
        self.lease = f"{self.name}{host}" if scope is not None else None

    async def run(self) -> None:
        if self.lease is None:
            await self._adapter.run(self._capture)
            return
        await self._leases.run_held(self.lease, self._run_owned, self._standby)

    async def _run_owned(self) -> None:
        self._capture.health.details.pop("holder", None)
        self._capture.health.details["owner"] = self._leases.owner
        await self._adapter.run(self._capture)

    def _standby(self, holder: str | None) -> None:
        self._capture.health.set("standby", holder=holder)


class _SchedulerComponent:
    """The timed jobs (backup, tree heads, retention, the digest): in one process of the
    deployment at a time, each day's run once across processes and restarts (each run is
    claimed in the database's record, hub/job_runs.py)."""

    name = "scheduler"

    def __init__(
        self, scheduler: AsyncIOScheduler, leases: Leases, health: ComponentHealth
    ) -> None:
        self._scheduler = scheduler
        self._leases = leases
        self._health = health
        # Stopping a scheduler empties its job store: a process that holds the lease again
        # (after losing it, or a restart of the component) adds the jobs anew from here.
        self._jobs: list[Job] | None = None

    async def run(self) -> None:
        await self._leases.run_held(self.name, self._run_owned, self._standby)

    def _standby(self, holder: str | None) -> None:
        self._health.set("standby", holder=holder)

    async def _run_owned(self) -> None:
        # A run is judged dead no sooner than the lease itself would change hands.
        stale = max(self._leases.ttl, STALE_SECONDS)
        runs = JobRuns(self._leases.db, self._leases.owner, stale_seconds=stale)
        record_runs(self._scheduler, runs)
        for job in self._jobs or ():
            self._scheduler.add_job(
                job.func,
                job.trigger,
                id=job.id,
                name=job.name,
                coalesce=job.coalesce,
                misfire_grace_time=job.misfire_grace_time,
                max_instances=job.max_instances,
                replace_existing=True,
            )
        self._scheduler.start()
        if self._jobs is None:
            self._jobs = self._scheduler.get_jobs()
        try:
            resumed = await resume_interrupted(self._scheduler, runs)
            self._health.details.pop("holder", None)
            jobs = len(self._scheduler.get_jobs())
            self._health.set("ok", owner=self._leases.owner, jobs=jobs, resumed=resumed)
            await asyncio.Event().wait()  # until cancelled, or the lease is lost
        finally:
            self._scheduler.shutdown(wait=False)
            record_runs(self._scheduler, None)


def components(
    kartei: Kartei, *, web: bool = True, roles: Collection[str] = ROLES
) -> list[Component]:
    """What this process runs: "web" (pages, API, webhooks), "capture" (mailboxes, phone
    systems, SMTP and fax intake) and "workers" (projections, policies, timed jobs).
    `web=False` leaves the web out of `roles`."""
    leases = kartei.leases
    parts: list[Component] = []
    if "workers" in roles:
        parts += [*kartei.projections.values(), *kartei.policies.values()]
        if kartei.merkle is not None:
            parts.append(kartei.merkle)
        if kartei.scheduler.get_jobs():
            health = kartei.health.component(_SchedulerComponent.name)
            parts.append(_SchedulerComponent(kartei.scheduler, leases, health))
    for adapter in kartei.adapters:
        role = "web" if getattr(adapter, "lease_scope", "deployment") is None else "capture"
        if role in roles and (web or role != "web"):
            name = f"adapter:{adapter.name}"
            capture = Capture(kartei.store, adapter.name, kartei.health.component(name))
            parts.append(_AdapterComponent(adapter, capture, leases))
    if web and "web" in roles and kartei.web is not None:
        parts.append(kartei.web)
    return parts


async def create_read_models(kartei: Kartei) -> None:
    """Creates the read models' missing tables before any component starts.

    Components start side by side, and some read another's tables (the call-back policy
    and the timeline look a caller up in the identity index): on a brand-new database
    they found them missing until that projection had prepared, failed and restarted.
    A projection's first prepare still drops and makes its tables, empty ones here.
    """
    async with kartei.store.db.write() as conn:
        for runner in kartei.projections.values():
            await create_tables(conn, runner.projection.tables)


async def run(
    kartei: Kartei, stop: asyncio.Event, *, web: bool = True, roles: Collection[str] = ROLES
) -> None:
    """Starts the store and this process's components; returns after `stop` is set, all
    stopped."""
    await kartei.store.start()
    await create_read_models(kartei)
    kartei.health.component("store").set("ok", database=kartei.store.db.dialect)
    supervisor = Supervisor(kartei.health)
    parts = components(kartei, web=web, roles=roles)
    task = asyncio.create_task(supervisor.run(parts), name="supervisor")
    try:
        stopping = asyncio.create_task(stop.wait())
        await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await kartei.store.close()
        log.info("Kartei stopped")
