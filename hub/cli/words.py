"""What the command line says, in the configured language (`[kartei] language`, German
unless set to "en"), from the web's catalogue (hub/web/i18n.py): one wording for both."""

from __future__ import annotations

from hub.settings import Settings
from hub.web.i18n import counted, said


class Words:
    """`say(key, **values)`: the catalogue key translated, numbers written as the
    language writes them ("1.234"); `counted` picks singular or plural."""

    def __init__(self, language: str) -> None:
        self.language = language

    def __call__(self, key: str, **values: object) -> str:
        return said([(key, values)], self.language)

    def counted(self, count: int, one: str, many: str, **values: object) -> str:
        return counted(count, one, many, self.language, **values)


def words(loaded: Settings) -> Words:
    return Words(loaded.kartei.language)
