"""Provider profiles (hub/defaults/fax-providers.toml, or an admin's own file): how each fax
service writes its email."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from importlib.resources.abc import Traversable
from pathlib import Path

from hub import defaults

_FLAGS = re.IGNORECASE | re.MULTILINE


class ProfileError(ValueError):
    """The profiles file cannot be used (syntax, unknown key, bad pattern)."""


@dataclass(frozen=True, slots=True)
class Profile:
    """One provider's patterns; compiled once."""

    name: str
    match_from: re.Pattern[str] | None = None
    match_subject: re.Pattern[str] | None = None
    match_body: re.Pattern[str] | None = None
    sender: tuple[re.Pattern[str], ...] = ()
    receiver: tuple[re.Pattern[str], ...] = ()
    pages: tuple[re.Pattern[str], ...] = ()
    attachment: re.Pattern[str] | None = None

    def matches(self, sender: str, subject: str, body: str) -> bool:
        checks = ((self.match_from, sender), (self.match_subject, subject), (self.match_body, body))
        return all(p is None or p.search(text) for p, text in checks)


_KEYS = {"name", "match_from", "match_subject", "match_body", "sender", "receiver", "pages"}
_KEYS |= {"attachment"}


def load_profiles(path: Path | Traversable | None = None) -> tuple[Profile, ...]:
    """Reads and compiles the profiles (without a path: the shipped ones); ProfileError says why."""
    path = path or defaults.shipped(defaults.FAX_PROVIDERS)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise ProfileError(f"{path}: {err}") from err
    entries = data.get("profile", [])
    if not isinstance(entries, list) or not entries:
        raise ProfileError(f"{path}: no [[profile]] entries")
    return tuple(_profile(entry, f"{path}: profile {i + 1}") for i, entry in enumerate(entries))


def _profile(entry: object, where: str) -> Profile:
    if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
        raise ProfileError(f"{where}: needs a name")
    unknown = set(entry) - _KEYS
    if unknown:
        raise ProfileError(f"{where}: unknown keys {sorted(unknown)}")
    where = f"{where} ({entry['name']})"
    return Profile(
        name=entry["name"],
        match_from=_one(entry.get("match_from"), where),
        match_subject=_one(entry.get("match_subject"), where),
        match_body=_one(entry.get("match_body"), where),
        sender=_many(entry.get("sender"), where, "number"),
        receiver=_many(entry.get("receiver"), where, "number"),
        pages=_many(entry.get("pages"), where, "pages"),
        attachment=_one(entry.get("attachment"), where),
    )


def _one(value: object, where: str) -> re.Pattern[str] | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise ProfileError(f"{where}: a pattern must be a string, not {value!r}")
    try:
        return re.compile(value, _FLAGS)
    # re raises OverflowError (not re.error) for a repeat count like {99999999999}.
    except (re.error, OverflowError, RecursionError) as err:
        raise ProfileError(f"{where}: bad pattern {value!r}: {err}") from err


def _many(value: object, where: str, group: str) -> tuple[re.Pattern[str], ...]:
    items = [value] if isinstance(value, str) else (value or [])
    if not isinstance(items, list):
        raise ProfileError(f"{where}: expected a list of patterns")
    patterns = tuple(p for p in (_one(v, where) for v in items) if p is not None)
    for p in patterns:
        if group not in p.groupindex:
            raise ProfileError(f"{where}: pattern {p.pattern!r} lacks the group (?P<{group}>...)")
    return patterns
