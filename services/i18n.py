"""Translations from the gettext catalogs in locales/ (English message ids, one `messages.po` per language).

The catalogs are read from their .po files and compiled in memory once per process, so nothing compiled is kept
in the repository or forgotten in a deploy. Plural forms come from each catalog's `Plural-Forms` header
(Ukrainian has three, Vietnamese one). In strict mode (the tests) a message id a catalog lacks is an error, so a
page with a string left untranslated fails instead of falling back to English unseen."""

from __future__ import annotations

import gettext
import io
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from domain.language import DEFAULT_LANGUAGE, LANGUAGES

LOCALES = Path(__file__).resolve().parent / "locales"
_strict = False


class Untranslated(LookupError):
    """A message id the language's catalog has no translation for (raised in strict mode only)."""


def set_strict(strict: bool) -> None:
    global _strict
    _strict = strict


class Translator:
    """One language's gettext and ngettext, with the check strict mode asks for."""

    def __init__(self, language: str, catalog: gettext.NullTranslations, known: frozenset[str]) -> None:
        self.language = language
        self._catalog = catalog
        self._known = known

    def _check(self, message: str) -> None:
        if _strict and self.language != DEFAULT_LANGUAGE and message not in self._known:
            raise Untranslated(f"{self.language}: {message!r}")

    def gettext(self, message: str) -> str:
        self._check(message)
        return self._catalog.gettext(message)

    def ngettext(self, singular: str, plural: str, count: int) -> str:
        self._check(singular)
        return self._catalog.ngettext(singular, plural, count)


@cache
def translator(language: str) -> Translator:
    if language not in LANGUAGES:
        language = DEFAULT_LANGUAGE
    path = LOCALES / language / "LC_MESSAGES" / "messages.po"
    if language == DEFAULT_LANGUAGE or not path.exists():
        return Translator(language, gettext.NullTranslations(), frozenset())
    with path.open("rb") as source:
        catalog = read_po(source, locale=language)
    known = frozenset(
        str(m.id[0] if isinstance(m.id, (tuple, list)) else m.id)
        for m in catalog
        if m.id and not m.fuzzy and (all(m.string) if isinstance(m.string, (tuple, list)) else m.string)
    )
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return Translator(language, gettext.GNUTranslations(compiled), known)
