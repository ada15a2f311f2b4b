"""Templates and the request context every page gets (user, language, CSRF token)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from hub.phone import written_form
from hub.sql import aware
from hub.web import labels
from hub.web.auth import User
from hub.web.i18n import (
    counted,
    format_date,
    format_datetime,
    format_duration,
    format_number,
    said,
    translator,
)

HERE = Path(__file__).parent

environment = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
environment.filters["duration"] = format_duration
environment.globals.update(
    phone_label=labels.phone_label,
    component=labels.component,
    health_state=labels.HEALTH_STATE_TEXT,
    roles=labels.ROLE_TEXT,
    languages=labels.LANGUAGE_NAMES,
    file_formats=labels.FILE_FORMAT_TEXT,
)


def shown_time(moment: datetime | date | None, language: str, tz: ZoneInfo) -> str:
    """A moment in the firm's time zone (a naive one is UTC), or a day as a day."""
    if isinstance(moment, datetime):
        return format_datetime(aware(moment), language, tz)
    if isinstance(moment, date):
        return format_date(moment, language)
    return ""


WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def day_heading(moment: datetime | None, language: str, tz: ZoneInfo) -> str:
    """A timeline's day separator: "Heute", "Gestern" or "Montag, 07.12.2026"."""
    if moment is None:
        return ""
    day = aware(moment).astimezone(tz).date()
    today = datetime.now(tz).date()
    t = translator(language)
    if day == today:
        return t("Today")  # type: ignore[no-any-return]
    if (today - day).days == 1:
        return t("Yesterday")  # type: ignore[no-any-return]
    return f"{t(WEEKDAYS[day.weekday()])}, {format_date(day, language)}"


def user_of(request: Request) -> User:
    """The signed-in user the security middleware put on the request."""
    return request.state.user  # type: ignore[no-any-return]


def page(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """Renders a page in the user's language (German before login)."""
    user: User | None = getattr(request.state, "user", None)
    language = user.language if user is not None else request.app.state.language
    tz: ZoneInfo = request.app.state.tz
    region = request.app.state.kartei.settings.contacts.default_region
    html = environment.get_template(template).render(
        request=request,
        user=user,
        lang=language,
        t=translator(language),
        dt=lambda moment: shown_time(moment, language, tz),
        num=lambda value, digits=0: format_number(value, language, digits),
        phone=lambda number: written_form(number, region),
        counted=lambda count, one, many, **values: counted(count, one, many, language, **values),
        said=lambda remarks: said(remarks, language),
        day=lambda moment: day_heading(moment, language, tz),
        pop_fade=request.app.state.pop_fade_seconds,
        csrf=user.csrf if user is not None else "",
        **context,
    )
    return HTMLResponse(html, status_code=status_code)
