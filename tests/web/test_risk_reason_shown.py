"""Why a customer is at risk, on the card (badge, timeline, kind-letter task), the
dashboard and the risk list, in the user's language (both databases).

Regression: the German card timeline read "3 complaints in 90 days".
"""

from __future__ import annotations

from hub.events.classification import CustomerAtRisk
from hub.store import EventStore
from policies.churn import ChurnPolicy
from tests.classifier.test_churn import started
from tests.web.conftest import Web
from tests.web.test_pages import contact
from tests.web.test_risk import complaints


async def test_card_and_dashboard_say_why_in_the_users_language(
    web: Web, store: EventStore, admin
) -> None:
    http, csrf = admin
    cid = await contact(store)
    await complaints(store, cid, 3)
    await (await started(store, ChurnPolicy(store))).catch_up()
    await web.settle()
    card = (await http.get(f"/contacts/{cid}")).text
    assert 'title="3 Beschwerden in 90 Tagen"' in card  # the badge
    # The badge's title, the reason under the name, the timeline's entry.
    assert card.count("3 Beschwerden in 90 Tagen") == 3
    assert "complaints in" not in card
    assert "3 Beschwerden in 90 Tagen" in (await http.get("/")).text
    assert "3 Beschwerden in 90 Tagen" in (await http.get("/risks")).text
    assert "3 Beschwerden in 90 Tagen" in (await http.get("/tasks?scope=team")).text
    await http.post("/settings", data={"language": "en", "csrf": csrf})
    card = (await http.get(f"/contacts/{cid}")).text
    assert 'title="3 complaints in 90 days"' in card and "Beschwerden" not in card


async def test_an_older_risk_is_shown_as_it_was_written(web: Web, store: EventStore, admin) -> None:
    """Events from before the counts keep their text (nothing to translate from)."""
    http, _ = admin
    cid = await contact(store)
    await complaints(store, cid, 3)
    old = CustomerAtRisk(contact_id=cid, complaints=(1, 2, 3), score=3.0, reason="alt: 3")
    await store.append(f"risk-{cid}", None, [old])
    await web.settle()
    assert "alt: 3" in (await http.get(f"/contacts/{cid}")).text
