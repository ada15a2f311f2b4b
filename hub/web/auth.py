"""Staff accounts: argon2 passwords, server-side sessions, CSRF tokens, lock-out, API tokens.

Accounts are configuration of the installation, not facts about customers, so they live in
their own tables beside the event store (created on first use) rather than in the log.
Only hashes of session and API tokens are stored.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from hub.sql import create_tables
from hub.store import Database

ROLES = ("admin", "staff", "auditor")  # auditor: read-only archive access, time-limited
LANGUAGES = ("de", "en")
MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
SESSION_LIFETIME = timedelta(hours=12)
USERNAME_MAX = 64
PASSWORD_MIN = 8

metadata = sa.MetaData()
users = sa.Table(
    "web_users",
    metadata,
    sa.Column("username", sa.Text, primary_key=True),
    sa.Column("password_hash", sa.Text, nullable=False),
    sa.Column("role", sa.Text, nullable=False),
    sa.Column("language", sa.Text, nullable=False),
    sa.Column("display_name", sa.Text, nullable=False),
    sa.Column("lines", sa.Text, nullable=False, server_default=""),  # screen pop filter
    sa.Column("failures", sa.Integer, nullable=False, server_default="0"),
    sa.Column("locked_until", sa.DateTime(timezone=True)),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
)
sessions = sa.Table(
    "web_sessions",
    metadata,
    sa.Column("token_hash", sa.Text, primary_key=True),
    sa.Column("username", sa.Text, nullable=False, index=True),
    sa.Column("csrf", sa.Text, nullable=False),
    sa.Column("expires", sa.DateTime(timezone=True), nullable=False),
)
# A tax auditor's access (GoBD Z1) ends on a day: the last day they may sign in.
auditors = sa.Table(
    "web_auditors",
    metadata,
    sa.Column("username", sa.Text, primary_key=True),
    sa.Column("until", sa.Date, nullable=False),
)
api_tokens = sa.Table(
    "web_api_tokens",
    metadata,
    sa.Column("token_hash", sa.Text, primary_key=True),
    sa.Column("username", sa.Text, nullable=False),
    sa.Column("label", sa.Text, nullable=False),
    sa.Column("created", sa.DateTime(timezone=True), nullable=False),
)


class UserError(ValueError):
    """A user cannot be added or changed as asked; the message says why."""


@dataclass(frozen=True, slots=True)
class User:
    """A signed-in staff member."""

    username: str
    role: str
    language: str
    display_name: str
    lines: tuple[str, ...] = ()
    csrf: str = ""  # the session's CSRF token ("" for API token requests)

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def is_auditor(self) -> bool:
        """A tax auditor (GoBD Z1): reads the archive, nothing else."""
        return self.role == "auditor"


@dataclass(frozen=True, slots=True)
class Session:
    token: str
    csrf: str


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def _valid_name(username: str) -> str:
    name = username.strip()
    if not name or len(name) > USERNAME_MAX or not all(c.isalnum() or c in "._@-" for c in name):
        raise UserError("user names are 1-64 letters, digits, '.', '_', '@' or '-'")
    return name


class Accounts:
    """Users, sessions and API tokens in the store's database."""

    def __init__(self, db: Database, hasher: PasswordHasher | None = None) -> None:
        self.db = db
        self.hasher = hasher or PasswordHasher()
        self._ready = False
        self._lock = asyncio.Lock()
        self._dummy = ""

    async def ensure(self) -> None:
        """Creates the tables on first use."""
        if self._ready:
            return
        async with self._lock:
            if not self._ready:
                async with self.db.write() as conn:
                    await create_tables(conn, metadata)
                self._dummy = await asyncio.to_thread(self.hasher.hash, secrets.token_hex(8))
                self._ready = True

    # -- users ----------------------------------------------------------------------------

    async def add(
        self,
        username: str,
        password: str,
        *,
        role: str = "staff",
        language: str = "de",
        display_name: str = "",
        until: date | None = None,
    ) -> User:
        """A new user; an auditor needs `until`, the last day of their access."""
        await self.ensure()
        name = _valid_name(username)
        _check(password, role, language)
        if (role == "auditor") != (until is not None):
            raise UserError("an auditor needs --until (the last day of access); only auditors")
        digest = await asyncio.to_thread(self.hasher.hash, password)
        async with self.db.write() as conn:
            exists = await conn.execute(sa.select(users.c.username).where(users.c.username == name))
            if exists.first() is not None:
                raise UserError(f"user {name!r} exists")
            await conn.execute(
                sa.insert(users).values(
                    username=name,
                    password_hash=digest,
                    role=role,
                    language=language,
                    display_name=display_name.strip()[:100] or name,
                    lines="",
                    failures=0,
                    active=True,
                )
            )
            if until is not None:
                await conn.execute(sa.insert(auditors).values(username=name, until=until))
        return User(name, role, language, display_name.strip()[:100] or name)

    async def set_password(self, username: str, password: str) -> None:
        await self.ensure()
        _check(password, "staff", "de")
        digest = await asyncio.to_thread(self.hasher.hash, password)
        async with self.db.write() as conn:
            done = await conn.execute(
                sa.update(users)
                .where(users.c.username == username)
                .values(password_hash=digest, failures=0, locked_until=None)
            )
            if done.rowcount == 0:
                raise UserError(f"no user {username!r}")
            await conn.execute(sa.delete(sessions).where(sessions.c.username == username))

    async def update(self, username: str, **values: object) -> None:
        """Changes role, language, display name, lines or active (validated)."""
        await self.ensure()
        allowed = {"role", "language", "display_name", "lines", "active"}
        if set(values) - allowed:
            raise UserError("unknown field")
        if values.get("role", "staff") not in ("admin", "staff"):
            raise UserError("role must be admin or staff (an auditor is added as one)")
        if values.get("language", "de") not in LANGUAGES:
            raise UserError("language must be de or en")
        async with self.db.write() as conn:
            await conn.execute(
                sa.update(users).where(users.c.username == username).values(**values)
            )
            if values.get("active") is False:
                await conn.execute(sa.delete(sessions).where(sessions.c.username == username))

    async def list(self) -> list[dict[str, object]]:
        await self.ensure()
        async with self.db.read() as conn:
            rows = await conn.execute(sa.select(users).order_by(users.c.username))
            fields = [str(c.name) for c in users.columns if c.name != "password_hash"]
            return [{name: getattr(row, name) for name in fields} for row in rows]

    async def count(self) -> int:
        await self.ensure()
        async with self.db.read() as conn:
            return int(
                (await conn.execute(sa.select(sa.func.count()).select_from(users))).scalar_one()
            )

    # -- sign-in --------------------------------------------------------------------------

    async def login(self, username: str, password: str) -> Session | None:
        """A new session when the password is right and the account not locked; else None."""
        await self.ensure()
        async with self.db.read() as conn:
            row = (await conn.execute(sa.select(users).where(users.c.username == username))).first()
        now = _now()
        if row is None or not row.active or not await self._in_time(row):
            await asyncio.to_thread(self._verify, self._dummy, password)  # same time either way
            return None
        locked = _aware(row.locked_until)
        if locked is not None and locked > now:
            return None
        if not await asyncio.to_thread(self._verify, row.password_hash, password):
            failures = row.failures + 1
            values: dict[str, object] = {"failures": failures}
            if failures >= MAX_FAILURES:
                values = {"failures": 0, "locked_until": now + LOCKOUT}
            async with self.db.write() as conn:
                await conn.execute(
                    sa.update(users).where(users.c.username == username).values(**values)
                )
            return None
        session = Session(secrets.token_urlsafe(32), secrets.token_urlsafe(32))
        async with self.db.write() as conn:
            await conn.execute(
                sa.update(users)
                .where(users.c.username == username)
                .values(failures=0, locked_until=None)
            )
            await conn.execute(sa.delete(sessions).where(sessions.c.expires < now))
            await conn.execute(
                sa.insert(sessions).values(
                    token_hash=_hash_token(session.token),
                    username=username,
                    csrf=session.csrf,
                    expires=now + SESSION_LIFETIME,
                )
            )
        return session

    def _verify(self, digest: str, password: str) -> bool:
        try:
            return bool(self.hasher.verify(digest, password))
        except (VerificationError, InvalidHashError):
            return False

    async def is_locked(self, username: str) -> bool:
        await self.ensure()
        async with self.db.read() as conn:
            row = (
                await conn.execute(
                    sa.select(users.c.locked_until).where(users.c.username == username)
                )
            ).first()
        locked = _aware(row.locked_until) if row is not None else None
        return locked is not None and locked > _now()

    async def session_user(self, token: str) -> User | None:
        await self.ensure()
        query = (
            sa.select(users, sessions.c.csrf, sessions.c.expires)
            .join(sessions, sessions.c.username == users.c.username)
            .where(sessions.c.token_hash == _hash_token(token), users.c.active.is_(True))
        )
        async with self.db.read() as conn:
            row = (await conn.execute(query)).first()
        if row is None or _aware(row.expires) < _now():  # type: ignore[operator]
            return None
        if not await self._in_time(row):
            return None
        return _user(row, row.csrf)

    async def _in_time(self, row: sa.Row) -> bool:  # type: ignore[type-arg]
        """False for an auditor after their last day (in UTC); True for everyone else."""
        if row.role != "auditor":
            return True
        async with self.db.read() as conn:
            until = await conn.scalar(
                sa.select(auditors.c.until).where(auditors.c.username == row.username)
            )
        return until is not None and _now().date() <= until

    async def auditor_until(self, username: str) -> date | None:
        await self.ensure()
        async with self.db.read() as conn:
            return await conn.scalar(  # type: ignore[no-any-return]
                sa.select(auditors.c.until).where(auditors.c.username == username)
            )

    async def logout(self, token: str) -> None:
        await self.ensure()
        async with self.db.write() as conn:
            await conn.execute(
                sa.delete(sessions).where(sessions.c.token_hash == _hash_token(token))
            )

    # -- API tokens -----------------------------------------------------------------------

    async def new_token(self, username: str, label: str) -> str:
        await self.ensure()
        token = "kt_" + secrets.token_urlsafe(32)
        async with self.db.write() as conn:
            await conn.execute(
                sa.insert(api_tokens).values(
                    token_hash=_hash_token(token),
                    username=username,
                    label=label[:100],
                    created=_now(),
                )
            )
        return token

    async def token_user(self, token: str) -> User | None:
        await self.ensure()
        query = (
            sa.select(users)
            .join(api_tokens, api_tokens.c.username == users.c.username)
            .where(api_tokens.c.token_hash == _hash_token(token), users.c.active.is_(True))
        )
        async with self.db.read() as conn:
            row = (await conn.execute(query)).first()
        if row is None or row.role == "auditor":  # auditors sign in; no API tokens
            return None
        return _user(row, "")


def _check(password: str, role: str, language: str) -> None:
    if len(password) < PASSWORD_MIN:
        raise UserError(f"passwords have at least {PASSWORD_MIN} characters")
    if len(password) > 1024:
        raise UserError("password too long")
    if role not in ROLES:
        raise UserError("role must be admin, staff or auditor")
    if language not in LANGUAGES:
        raise UserError("language must be de or en")


def _user(row: sa.Row, csrf: str) -> User:  # type: ignore[type-arg]
    lines = tuple(x for x in (row.lines or "").split(",") if x)
    return User(row.username, row.role, row.language, row.display_name, lines, csrf)
