"""The call-back task says when the call was missed, as a person reads it: the time in
the firm's time zone and language, under the caller's name the task list shows from the
task's contact; never an internal stream id, and no name or number stored in the task,
whose fields are not sealed per person (both databases).

Regression: the reason read "Verpasster Anruf (call-fritzbox-0-20261206181205)".
"""

from __future__ import annotations

import pytest

from adapters.telephony.model import CallTracker
from hub.bootstrap import bootstrap
from hub.capture import Capture
from hub.events.contacts import ContactCreated, Phone
from hub.phone import normalize
from hub.settings import settings_from_dict
from hub.store import EventStore
from projections.calls import CallLog
from projections.identity import IdentityIndex
from projections.tasks import TaskQueue
from tests.telephony.test_callbacks import call, open_callbacks, settle


@pytest.mark.parametrize(
    ("kartei", "reason"),
    [
        ({}, "Verpasster Anruf am 02.03.2026 um 10:01 Uhr"),
        ({"language": "en", "timezone": "Europe/Lisbon"}, "Missed call on 2026-03-02 at 09:01"),
    ],
)
async def test_the_callback_task_says_when_the_call_rang(
    store: EventStore, kartei: dict[str, str], reason: str
) -> None:
    settings = settings_from_dict({"kartei": kartei})
    projections = [TaskQueue(), IdentityIndex(), CallLog()]
    app = bootstrap(settings, store=store, projections=projections, adapters=[])
    for runner in [*app.projections.values(), *app.policies.values()]:
        await runner.prepare()
    erika = ContactCreated(
        contact_id="c1",
        given_name="Erika",
        family_name="Muster",
        company="Muster GmbH",
        phones=(Phone(number="+4930555111", label="mobile", raw="030 555111"),),
    )
    await store.append("contact-c1", 0, [erika])
    tracker = CallTracker("fritzbox", lambda raw: normalize(raw, "DE"))
    capture = Capture(store, "fritzbox", app.health.component("fritzbox"))
    await call(capture, tracker, "k1", "030555111")  # rang 09:01 UTC
    await settle(app)
    (task,) = await open_callbacks(app)
    assert task.reason == reason  # type: ignore[attr-defined]
    assert task.contact_id == "c1"  # type: ignore[attr-defined]
