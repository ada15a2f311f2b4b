"""Kartei built from a config with a FRITZ!Box: the whole app records its calls."""

from __future__ import annotations

import asyncio
import contextlib

from hub.bootstrap import bootstrap, run
from hub.settings import settings_from_dict
from tests.telephony.conftest import of_type, wait_for_calls
from tests.telephony.peers import FritzBoxPeer


async def test_configured_fritzbox_calls_reach_the_log_and_the_call_log(
    database_url: str,
) -> None:
    peer = FritzBoxPeer()
    await peer.start()
    settings = settings_from_dict(
        {
            "database": {"url": database_url},
            "contacts": {"own_area_code": "30"},
            "telephony": {"fritzbox": [{"name": "office", "host": "127.0.0.1", "port": peer.port}]},
        }
    )
    kartei = bootstrap(settings)
    stop = asyncio.Event()
    running = asyncio.create_task(run(kartei, stop, web=False))
    try:
        await peer.wait_connections(1)
        await peer.send(
            ["02.03.26 09:00:00;RING;0;555111;3012345;SIP0;", "02.03.26 09:00:09;DISCONNECT;0;0;"]
        )
        events = await wait_for_calls(kartei.store, lambda e: len(e) == 2)
        assert of_type(events, "CallRinging")[0].caller == "+4930555111"
        assert events[0].stream == "call-office-0-20260302090000"
        await kartei.projections["calls"].wait_for(events[-1].position)
        log = kartei.projection("calls")
        async with kartei.store.db.read() as conn:
            (row,) = await log.recent(conn)  # type: ignore[attr-defined]
        assert row["cause"] == "missed" and row["number"] == "+4930555111"
    finally:
        stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(running, 30)
        await peer.close()
