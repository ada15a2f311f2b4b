"""A fax captured before Message-IDs were hashed is recognized, not captured twice."""

from __future__ import annotations

from pathlib import Path

from adapters.fax.intake import FaxRules, prepare_fax, stream_for
from adapters.mail.pipeline import store_prepared
from hub.events import NewEvent
from hub.events.fax import FaxReceived
from hub.store import ANY, EventStore
from tests.fax import messages
from tests.fax.conftest import PROFILES, Documents


async def test_a_fax_stored_under_its_plain_message_id_key_is_not_captured_again(
    store: EventStore, docs: Documents, tmp_path: Path
) -> None:
    """An upgraded store: the fax was stored by an earlier version under the key with its
    Message-ID in plain; the same fax delivered again adds nothing."""
    raw = messages.fritzbox(docs.text_layer)
    rules = FaxRules(PROFILES, ocr=False)
    item = prepare_fax(raw, "smtp:fax", rules, str(tmp_path / "archive"))
    assert item.event is not None and item.legacy_key is not None
    assert item.legacy_key.startswith("fax:email:<") and item.key != item.legacy_key
    old = NewEvent(item.event, item.legacy_key)
    await store.append(stream_for(item.legacy_key), ANY, [old])

    again = prepare_fax(raw, "smtp:fax", rules, str(tmp_path / "archive"))
    async with store.transaction() as tx:
        assert await store_prepared(tx, [again], "fax") == 0
    recorded = await store.read_all(0, 100)
    assert [type(r.event) for r in recorded] == [FaxReceived]
    assert [r.idempotency_key for r in recorded] == [item.legacy_key]
