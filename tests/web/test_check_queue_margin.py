"""The "Bitte prüfen" queue says what its number is: the margin between the model's first
and second choice, in percentage points, not how sure the model was. Both databases.

Regression: a message scored complaint 0.52, neutral 0.43 showed "(sicher: 9 %)", which
reads as "9 % sure" although the model gave its label 52 %.
"""

from __future__ import annotations

import re

import httpx

from hub.store import EventStore
from policies.classifier.policy import message_of
from tests.web.conftest import Web
from tests.web.test_label_check import classified
from tests.web.test_pages import contact

CLOSE = {"complaint": 0.52, "neutral": 0.43, "praise": 0.05}  # 9 points apart
NEARLY_TIED = {"complaint": 0.45, "neutral": 0.44, "praise": 0.11}  # 1 point apart


def queue_lines(html: str) -> list[str]:
    """The text of each queue entry, tags and extra white space removed."""
    items = re.findall(r'<li class="to-check[^"]*"[^>]*>(.*?)</li>', html, re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", item).split()) for item in items]


async def test_queue_names_the_margin_over_the_runner_up(
    web: Web, store: EventStore, admin: tuple[httpx.AsyncClient, str]
) -> None:
    web.app.state.message_words = message_of
    http, csrf = admin
    cid = await contact(store)
    await classified(store, cid, "Lieferung unvollständig", CLOSE, minutes_ago=60)
    await classified(store, cid, "Frage zur Rechnung", NEARLY_TIED, minutes_ago=120)
    await web.settle()

    german = queue_lines((await http.get("/classifications")).text)
    assert any("Abstand zur zweiten Wahl: 9 Prozentpunkte" in line for line in german), german
    assert any("Abstand zur zweiten Wahl: 1 Prozentpunkt)" in line for line in german), german
    assert not any("sicher" in line for line in german)

    await http.post("/settings", data={"language": "en", "csrf": csrf})
    english = queue_lines((await http.get("/classifications")).text)
    assert any("margin over the runner-up: 9 percentage points" in line for line in english)
    assert any("margin over the runner-up: 1 percentage point)" in line for line in english)
    assert not any("sure" in line for line in english), english
