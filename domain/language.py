"""Which language and time zone a person is spoken to in, before they choose: the country of their phone number
(parsed by libphonenumber, not by prefix) names a language we speak, else the browser's Accept-Language, else
English. The languages are those with a complete catalog in locales/."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

import phonenumbers
from phonenumbers import timezone as phone_timezones

from domain.phones import country_of

LANGUAGES: tuple[str, ...] = ("en", "vi", "uk")
DEFAULT_LANGUAGE = "en"
LANGUAGE_NAMES = {"en": "English", "vi": "Tiếng Việt", "uk": "Українська"}
_COUNTRY_LANGUAGE = {"VN": "vi", "UA": "uk"}


def _parsed(phone: str) -> phonenumbers.PhoneNumber | None:
    try:
        return phonenumbers.parse(phone, None)
    except phonenumbers.NumberParseException:
        return None


def language_for_phone(phone: str) -> str:
    return _COUNTRY_LANGUAGE.get(country_of(phone) or "", DEFAULT_LANGUAGE)


def zone_for_phone(phone: str, fallback: str) -> str:
    """The phone's country's time zone when it has exactly one (Vietnam, Ukraine, the UK); a country spread over
    several (the US) keeps the market's."""
    parsed = _parsed(phone)
    if parsed is None:
        return fallback
    zones = [z for z in phone_timezones.time_zones_for_number(parsed) if z != "Etc/Unknown"]
    return zones[0] if len(set(zones)) == 1 else fallback


def negotiate(accept_language: str | None) -> str | None:
    """The first language of the browser's list that we speak (weights honoured, regions ignored)."""
    if not accept_language:
        return None
    ranked: list[tuple[Decimal, int, str]] = []
    for position, part in enumerate(accept_language.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        weight = Decimal(1)
        if params.strip().startswith("q="):
            try:
                weight = Decimal(params.strip()[2:])
            except InvalidOperation:
                weight = Decimal(0)
        ranked.append((-weight, position, tag.strip().split("-")[0].lower()))
    for weight, _, language in sorted(ranked):
        if weight < 0 and language in LANGUAGES:
            return language
    return None
