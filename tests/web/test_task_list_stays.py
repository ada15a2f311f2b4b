"""Completing, snoozing or assigning a task from the team's list comes back to the team's list.

Regression (found by the morning journey, tests/journeys): every action answered with a
redirect to /tasks, i.e. "Meine Aufgaben", so a user working through the team's call-backs
was thrown to their own (often empty) list after each click.
"""

from __future__ import annotations

import re

import httpx
import pytest

from tests.web.conftest import Web

ACTIONS = ("complete", "snooze", "assign")


def action_form(html: str, task_id: str, action: str) -> dict[str, str]:
    """The hidden and preset fields of a task's action form, as the browser submits them."""
    form = re.search(
        rf'<form method="post" action="/tasks/{task_id}/{action}">(.*?)</form>', html, re.S
    )
    assert form is not None, html
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form[1]))
    if action == "snooze":
        fields["until"] = "1d"
    if action == "assign":
        fields["assignee"] = "anna"
    return fields


@pytest.mark.parametrize("scope", ["team", "mine"])
async def test_task_actions_return_to_the_list_they_came_from(
    web: Web, admin: tuple[httpx.AsyncClient, str], scope: str
) -> None:
    http, csrf = admin
    for title in ACTIONS:
        await http.post("/tasks", data={"title": title, "csrf": csrf})
    await web.settle()
    listed = await http.get(f"/tasks?scope={scope}")
    ids = dict(
        (title, task_id)
        for task_id, title in re.findall(
            r'data-task="([0-9a-f]+)">\s*<td class="title">(\w+)', listed.text
        )
    )
    assert set(ids) == set(ACTIONS)
    for action in ACTIONS:
        fields = action_form(listed.text, ids[action], action)
        done = await http.post(f"/tasks/{ids[action]}/{action}", data=fields)
        assert done.status_code == 303
        assert done.headers["location"] == f"/tasks?scope={scope}", action


async def test_a_foreign_back_address_is_not_followed(
    web: Web, admin: tuple[httpx.AsyncClient, str]
) -> None:
    http, csrf = admin
    await http.post("/tasks", data={"title": "Eins", "csrf": csrf})
    await web.settle()
    [task_id] = re.findall(r'data-task="([0-9a-f]+)"', (await http.get("/tasks")).text)
    for back in ("https://evil.example/", "//evil.example/tasks", "/contacts/x"):
        done = await http.post(f"/tasks/{task_id}/snooze", data={"csrf": csrf, "back": back})
        assert done.headers["location"] == "/tasks", back
