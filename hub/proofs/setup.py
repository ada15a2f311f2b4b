"""Wiring the archive's proofs from the settings: the Merkle log, the daily signed and
timestamped head, the timestamp check for `verify`."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from hub.proofs import tsa
from hub.proofs.follower import HeadSigner, MerkleFollower
from hub.proofs.log import HeadRow, MerkleLog
from hub.proofs.verify import TimestampCheck
from hub.settings import Settings
from hub.store import EventStore
from hub.store.leases import LeaseBusyError, Leases

log = logging.getLogger(__name__)

Stamp = Callable[[HeadRow], Awaitable[None]]


def merkle_log(settings: Settings, store: EventStore) -> MerkleLog:
    return MerkleLog(store, settings.data_dir / "archive")


def tsa_ca_file(settings: Settings) -> Path | None:
    path = settings.archive.tsa_ca_file
    if path is not None and not path.is_absolute() and settings.source is not None:
        path = settings.source.parent / path
    return path


def stamper(settings: Settings, merkle: MerkleLog) -> Stamp | None:
    """Timestamps a head at the configured TSA; None without one."""
    url, timeout = settings.archive.tsa_url, settings.archive.tsa_timeout_seconds
    if not url:
        return None

    async def stamp(head: HeadRow) -> None:
        token = await asyncio.to_thread(tsa.fetch, url, head.text.encode(), timeout)
        await merkle.add_timestamp(head.id, token, url, tsa.gen_time(token))

    return stamp


async def stamp_pending(settings: Settings, merkle: MerkleLog) -> list[int]:
    """Timestamps every signed head that has no token yet (an offline install catching
    up); the ids stamped. Raises TimestampError when the TSA cannot be reached."""
    stamp = stamper(settings, merkle)
    if stamp is None:
        raise tsa.TimestampError("no timestamp authority configured ([archive] tsa_url)")
    stamped = await merkle.timestamps()
    done = []
    for head in await merkle.heads():
        if head.id not in stamped:
            await stamp(head)
            done.append(head.id)
    return done


def timestamp_checker(settings: Settings) -> TimestampCheck | None:
    path = tsa_ca_file(settings)
    if path is None:
        return None
    roots = tsa.load_roots(path)
    return lambda token, text: tsa.check(token, text.encode(), roots)


async def sign_now(settings: Settings, store: EventStore) -> HeadRow:
    """Logs what the follower has not logged yet (unless a running Kartei holds it) and
    signs (and, with a TSA, stamps) the head: for a store that has no head yet, such as
    a freshly seeded demo, whose first daily head would otherwise come only at night."""
    merkle = merkle_log(settings, store)
    try:
        async with Leases(store.db).held(MerkleFollower.name):
            await merkle.catch_up()
    except LeaseBusyError:
        pass  # the running Kartei logs every event as it commits
    return await HeadSigner(merkle, settings.data_dir, stamper(settings, merkle)).sign()


def install(settings: Settings, kartei: Any) -> MerkleFollower:
    """The follower (a workers component) and the daily signing job on the scheduler."""
    from hub.schedule import daily

    merkle = merkle_log(settings, kartei.store)
    follower = MerkleFollower(merkle, kartei.leases, kartei.health.component(MerkleFollower.name))
    signer = HeadSigner(merkle, settings.data_dir, stamper(settings, merkle))

    health = kartei.health.component(MerkleFollower.name)

    async def sign_daily() -> None:
        try:
            head = await signer.sign()
        except Exception as err:  # seen in health; tomorrow's head covers today's events too
            log.exception("the daily tree head could not be signed")
            health.set("degraded", f"daily tree head not signed: {err}")
            return
        health.details.update(last_head=head.id, last_head_size=head.size)
        if settings.archive.tsa_url:
            try:  # heads signed while the TSA was unreachable, now stamped
                await stamp_pending(settings, merkle)
            except tsa.TimestampError as err:
                health.details["timestamps"] = f"pending: {err}"
            else:
                health.details["timestamps"] = "ok"

    daily(
        kartei.scheduler,
        sign_daily,
        settings.archive.sign_time,
        settings.kartei.timezone,
        "archive-sign",
    )
    return follower
