"""A Kartei for commands that read the whole store: every read model at the log's head.

`kartei privacy` and `kartei retention` both judge contacts from the read models, and
erasure brings them to the head again after its events (the `settle` it is given).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from hub.bootstrap import Kartei, bootstrap
from hub.cli.common import up_to_date
from hub.settings import Settings


@contextlib.asynccontextmanager
async def settled(loaded: Settings) -> AsyncIterator[Kartei]:
    """The store (no adapters, no policies) with every read model at the log's head."""
    kartei = bootstrap(loaded, adapters=[], policies=[])
    await kartei.store.start()
    try:
        await settle(kartei)
        yield kartei
    finally:
        await kartei.store.close()


async def settle(kartei: Kartei) -> None:
    """Brings every read model to the log's head, or exits saying which could not."""
    for runner in kartei.projections.values():
        await up_to_date(runner)
