"""The demo user at the desk this morning: notes on the calls worth one, tasks with due
dates, typed into the web app's own forms as a logged-in user (blocking; run in a thread)."""

from __future__ import annotations

from datetime import date, timedelta

from hub.demo import firm
from hub.demo.browser import Browser
from hub.demo.script import Note, Task


def staff_work(base_url: str, notes: list[Note], tasks: list[Task], today: date) -> None:
    """The demo user at the desk: a note on each call worth one, tasks with due dates."""
    desk = Browser(base_url)
    desk.login(firm.USER, firm.PASSWORD)
    for note in notes:
        calls = desk.get_json(f"/api/contacts/{note.contact_id}/timeline?kind=call")
        about = calls[0]["entry_id"] if calls else ""
        fields = {"text": note.text, "about": about, "back": "none"}
        desk.post(f"/contacts/{note.contact_id}/notes", fields)
    for task in tasks:
        due = (today + timedelta(days=task.due_days)).isoformat()
        fields = {"title": task.title, "due": due, "assignee": task.assignee or "", "back": "none"}
        desk.post(f"/contacts/{task.contact_id}/tasks" if task.contact_id else "/tasks", fields)
