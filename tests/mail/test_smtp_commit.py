"""The SMTP intake's commit groups: a delivery still being prepared when a commit starts
joins that commit instead of waiting for it and paying one of its own.

The parse of one message is held back (a gate) until the commit loop has taken the other
one, so the order of events does not depend on the machine's speed.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence

import pytest

import adapters.mail.smtp_commit as smtp_commit
from adapters.mail.pipeline import MailIntake, MailRules, Prepared, prepare_batch
from adapters.mail.smtp import IntakeRules
from hub.store import EventStore
from tests.mail import messages
from tests.mail.test_smtp import JOURNAL, send, start
from tests.mail.test_smtp_stop import until

SLOW = b"Subject: Anfrage Nummer 1\n"  # messages.simple(1): its parse waits for the gate


async def test_a_delivery_being_prepared_joins_the_commit_that_starts(
    store: EventStore, intake: MailIntake, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = threading.Event()
    quick_prepared = threading.Event()

    def gated(
        raws: Sequence[tuple[bytes, str]], rules: MailRules, root: str, *, sync: bool = True
    ) -> list[Prepared]:
        slow = any(SLOW in raw.replace(b"\r\n", b"\n") for raw, _ in raws)
        if slow:
            gate.wait(30)
        items = prepare_batch(raws, rules, root, sync=sync)
        if not slow:
            quick_prepared.set()
        return items

    monkeypatch.setattr(smtp_commit, "prepare_batch", gated)
    # The gate decides, not the clock (raising=False: the test also runs on code without it).
    monkeypatch.setattr(smtp_commit, "JOIN_WAIT", 60.0, raising=False)
    rules = IntakeRules.of([JOURNAL], ["127.0.0.0/8"], 2_000_000)
    adapter, task = await start(store, intake, rules)
    assert adapter.bound_port is not None and adapter.handler is not None
    deliveries = adapter.handler.deliveries
    port = adapter.bound_port
    try:
        slow = asyncio.create_task(asyncio.to_thread(send, port, messages.simple(1)))
        await until(lambda: deliveries.batches == 1)  # its parse waits at the gate
        quick = asyncio.create_task(asyncio.to_thread(send, port, messages.simple(2)))
        # The quick one is prepared and taken by the commit loop (which committed it alone
        # at once before this change).
        await until(lambda: quick_prepared.is_set() and deliveries._prepared.empty())
        await asyncio.sleep(0.05)
        gate.set()
        answers = [code for code, _ in await asyncio.gather(slow, quick)]
    finally:
        gate.set()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert answers == [250, 250]
    assert deliveries.groups == 1  # one transaction for both
    assert len(await store.read_all(0, 10)) == 2
