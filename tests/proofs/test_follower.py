"""The follower logs events as they commit; the running Kartei has it among its workers
and signs a head every day."""

from __future__ import annotations

import asyncio
from pathlib import Path

from hub.archive import Archive
from hub.bootstrap import bootstrap, components
from hub.health import ComponentHealth
from hub.proofs.follower import MerkleFollower
from hub.proofs.log import MerkleLog
from hub.settings import settings_from_dict
from hub.store import EventStore
from hub.store.leases import Leases
from tests.proofs.conftest import capture_mail


async def test_the_follower_logs_events_as_they_commit(store: EventStore, archive: Archive) -> None:
    await capture_mail(store, archive, 2)
    merkle = MerkleLog(store, archive.root)
    follower = MerkleFollower(merkle, Leases(store.db), ComponentHealth("archive:merkle"))
    task = asyncio.create_task(follower.run())
    try:
        await capture_mail(store, archive, 3, start=2)
        async with asyncio.timeout(10):
            while (await merkle.state())[0].size < 5:  # noqa: ASYNC110 - a poll under a timeout
                await asyncio.sleep(0.05)
        assert follower.health.state == "ok"
        assert [(await merkle.leaf_of(p)) is not None for p in range(1, 6)] == [True] * 5
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def test_a_running_kartei_follows_the_log_and_signs_daily(tmp_path: Path) -> None:
    settings = settings_from_dict({"kartei": {"data_dir": str(tmp_path)}})
    kartei = bootstrap(settings, adapters=[], policies=[], projections=[])
    assert "archive:merkle" in {c.name for c in components(kartei, roles=["workers"])}
    assert "archive:merkle" not in {c.name for c in components(kartei, roles=["web"])}
    job = kartei.scheduler.get_job("archive-sign")
    assert job is not None and "hour='23', minute='50'" in str(job.trigger)


async def test_the_daily_job_signs_and_stamps_what_the_tsa_missed(
    database_url: str, tmp_path: Path
) -> None:
    from datetime import UTC, datetime, timedelta

    from tests.proofs.tsa_server import LocalTSA, make_ca, serve

    now = datetime.now(UTC)
    ca = make_ca(now - timedelta(days=1), now + timedelta(days=1))
    with serve(LocalTSA(ca, available=False)) as tsa:
        settings = settings_from_dict(
            {
                "kartei": {"data_dir": str(tmp_path)},
                "database": {"url": database_url},
                "archive": {"tsa_url": tsa.url},
            }
        )
        kartei = bootstrap(settings, adapters=[], policies=[], projections=[])
        await kartei.store.start()
        try:
            job = kartei.scheduler.get_job("archive-sign")
            await job.func()  # the TSA is down: the head is signed, not stamped
            health = kartei.health.component("archive:merkle")
            assert health.details["last_head"] == 1
            assert health.details["timestamps"].startswith("pending: TSA")
            tsa.available = True
            await job.func()
            assert health.details == {**health.details, "last_head": 2, "timestamps": "ok"}
            assert kartei.merkle is not None
            assert sorted(await kartei.merkle.merkle.timestamps()) == [1, 2]
        finally:
            await kartei.store.close()
