"""Sealed events read back as they were appended, whatever the row around the seal holds.

The store opens a seal written as `seal` writes it (the row's last member) in place: the
sealed fields' JSON goes where the seal was and the row is parsed once. These rows keep
a real seal and change what surrounds it; each must read as the seal's owner wrote it,
or be reported as the row it is."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import sqlalchemy as sa

from hub.events import Event, EventCodec, UnreadableEvent
from hub.store import NO_STREAM, EventStore
from hub.store.schema import events
from tests.hub.events import Pinged, test_codec


async def test_rows_around_a_real_seal_read_as_written_or_as_unreadable(make_store) -> None:  # type: ignore[no-untyped-def]
    store: EventStore = await make_store(test_codec())
    await store.append("s-1", NO_STREAM, [Pinged(n=1, who="Eva Öztürk", contact="c3")])
    async with store.db.write() as conn:
        row = (await conn.execute(sa.select(events).where(events.c.position == 1))).one()
        at = row.data.index('"$pd":')
        seal = row.data[at:-1]  # the member, without the closing brace
        cipher = seal.index('"c":"') + 5
        flipped = seal[:cipher] + ("B" if seal[cipher] == "A" else "A") + seal[cipher + 1 :]
        rows = {
            2: '{"n": 2, "contact": "c3", ' + seal + "}",  # other spacing
            3: '{"n": 3, "who": "not Eva", ' + seal + "}",  # a sealed name in the clear too
            4: "{" + seal + "}",  # the seal alone: n is missing
            5: '{"n": [5, "contact": "c3", ' + seal + "}",  # broken before the seal
            6: '{"n": 6, ' + flipped + "}",  # a seal that does not open
            7: '{"n": 7, "contact": "c3",' + seal + "}}",  # one brace too many
        }
        for position, data in rows.items():
            values = {**row._asdict(), "position": position, "data": data}
            values.update(stream=f"row-{position}", version=1, idempotency_key=None)
            await conn.execute(sa.insert(events).values(**values))

    for reader in (store, EventStore(store.db, test_codec())):  # keys cached, and not
        records = await reader.read_all()
        got = [r.event for r in records]
        assert got[:3] == [
            Pinged(n=1, who="Eva Öztürk", contact="c3"),
            Pinged(n=2, who="Eva Öztürk", contact="c3"),
            Pinged(n=3, who="Eva Öztürk"),  # the seal's fields win, as ever
        ]
        assert [type(e) for e in got[3:]] == [UnreadableEvent] * 4
        errors = [e.error for e in got[3:]]  # type: ignore[attr-defined]
        assert "invalid Pinged data" in errors[0]
        assert "corrupt JSON" in errors[1]
        assert "do not open" in errors[2]
        assert "corrupt JSON" in errors[3]
        assert not any(r.erased for r in records)


@dataclass(frozen=True, slots=True, kw_only=True)
class PingedV2(Event):
    """Pinged as a later version: `n` is called `count`."""

    schema_version: ClassVar[int] = 2
    personal_fields: ClassVar[frozenset[str]] = frozenset({"who"})
    count: int
    who: str = ""
    contact: str = "c1"

    def data_subject(self) -> str | None:
        return f"contact:{self.contact}"


def _count_was_n(data: dict[str, Any]) -> dict[str, Any]:
    return {**{k: v for k, v in data.items() if k != "n"}, "count": data["n"]}


async def test_a_sealed_event_of_an_older_version_is_upcast_after_opening(
    make_store: Callable[..., Any],
) -> None:
    store: EventStore = await make_store(test_codec())
    await store.append("s-1", NO_STREAM, [Pinged(n=1, who="Eva Öztürk", contact="c3")])
    later = EventCodec({"Pinged": PingedV2}, {("Pinged", 1): _count_was_n})
    [record] = await EventStore(store.db, later).read_all()
    assert record.event == PingedV2(count=1, who="Eva Öztürk", contact="c3")

    broken = EventCodec({"Pinged": PingedV2}, {("Pinged", 1): lambda data: {"count": data["m"]}})
    [record] = await EventStore(store.db, broken).read_all()
    assert isinstance(record.event, UnreadableEvent)
    assert "'m'" in record.event.error


async def test_sealed_rows_that_do_not_validate_say_why(make_store: Callable[..., Any]) -> None:
    store: EventStore = await make_store(test_codec())
    await store.append("s-1", NO_STREAM, [Pinged(n=1, who="Eva Öztürk", contact="c3")])
    async with store.db.write() as conn:
        row = (await conn.execute(sa.select(events).where(events.c.position == 1))).one()
        seal = row.data[row.data.index('"$pd":') : -1]
        rows = {
            2: '{"n": "zwei", "contact": "c3", ' + seal + "}",  # not a number
            3: '{"n": 3, "contact": ["c3"], ' + seal + "}",  # not a string
            4: '{"n": NaN, "contact": "c3", ' + seal + "}",  # not JSON
        }
        for position, data in rows.items():
            values = {**row._asdict(), "position": position, "data": data}
            values.update(stream=f"row-{position}", version=1, idempotency_key=None)
            await conn.execute(sa.insert(events).values(**values))

    got = [r.event for r in await store.read_all()]
    assert got[0] == Pinged(n=1, who="Eva Öztürk", contact="c3")
    assert [type(e) for e in got[1:]] == [UnreadableEvent] * 3
    errors = [e.error for e in got[1:]]  # type: ignore[attr-defined]
    assert "invalid Pinged data" in errors[0] and "n" in errors[0]
    assert "invalid Pinged data" in errors[1] and "contact" in errors[1]
    assert "corrupt JSON" in errors[2]
