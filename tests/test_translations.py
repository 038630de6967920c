"""The catalogs are whole: every text the borrower's and partner's pages and the platform's messages show (as
`make messages` extracts it from the code and templates) is translated in every language, with the same
placeholders, in as many plural forms as the language has. A text added without its translations fails here."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from domain.language import LANGUAGES, language_for_phone, negotiate, zone_for_phone
from domain.money import Money
from domain.phones import PhoneProblem, parse_phone
from services.i18n import Untranslated, translator
from services.wording import say, say_to

ROOT = Path(__file__).resolve().parent.parent
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None, "NN_": (1, 2)}
PLACEHOLDER = re.compile(r"\{[a-z_]+\}|%\([a-z_]+\)s")


def extracted() -> dict[str, str | tuple[str, str]]:
    with (ROOT / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    found: dict[str, str | tuple[str, str]] = {}
    for _, _, message, _, _ in extract_from_dir(str(ROOT), method_map, options_map, keywords=KEYWORDS):
        key = message[0] if isinstance(message, tuple) else message
        found[key] = message
    return found


def _placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


@pytest.mark.parametrize("language", [lang for lang in LANGUAGES if lang != "en"])
def test_every_text_people_read_is_translated(language: str) -> None:
    texts = extracted()
    assert len(texts) > 200  # the extraction found the pages' texts, not nothing
    with (ROOT / "services" / "locales" / language / "LC_MESSAGES" / "messages.po").open("rb") as source:
        catalog = read_po(source, locale=language)
    translated = {(m.id[0] if isinstance(m.id, (tuple, list)) else m.id): m for m in catalog if m.id}
    missing = sorted(set(texts) - set(translated))
    assert not missing, f"{language}: not in the catalog (run `make messages`, then translate): {missing}"
    stale = sorted(set(translated) - set(texts))
    assert not stale, f"{language}: the catalog holds texts the code no longer has: {stale}"
    for key, message in translated.items():
        assert not message.fuzzy, f"{language}: fuzzy {key!r}"
        strings = message.string if isinstance(message.string, (tuple, list)) else (message.string,)
        assert all(strings), f"{language}: untranslated {key!r}"
        if isinstance(message.id, (tuple, list)):
            assert len(strings) == catalog.num_plurals, f"{language}: {key!r} needs {catalog.num_plurals} forms"
        for form in strings:
            assert _placeholders(form) == _placeholders(key), f"{language}: placeholders differ in {key!r}"


def test_plural_forms_come_from_the_catalog() -> None:
    uk = translator("uk")
    forms = [uk.ngettext("Extend by %(num)s day", "Extend by %(num)s days", n) % {"num": n} for n in (1, 2, 5, 11, 21)]
    assert forms == [
        "Продовжити на 1 день",
        "Продовжити на 2 дні",
        "Продовжити на 5 днів",
        "Продовжити на 11 днів",
        "Продовжити на 21 день",
    ]
    vi = translator("vi")
    assert vi.ngettext("Extend by %(num)s day", "Extend by %(num)s days", 3) % {"num": 3} == "Gia hạn 3 ngày"


def test_strict_mode_refuses_a_text_no_catalog_has() -> None:
    with pytest.raises(Untranslated):
        translator("vi").gettext("A text nobody translated")
    assert translator("en").gettext("A text nobody translated") == "A text nobody translated"


def test_messages_speak_the_language_of_the_phones_country() -> None:
    assert say_to("due_today", "+84912345678", amount="100.000 VND").startswith("Hôm nay")
    assert say_to("overdue", "+380501234567", days=2, amount="10 UAH").startswith("Ваш кредит прострочено на 2 дні")
    assert say_to("overdue", "+447700900123", days=1, amount="£1.00").startswith("Your loan is 1 day overdue")
    funded = say("funded", "vi", amount=Money(30_000, "GBP"), due_date=date(2027, 1, 5))
    assert "300,00" in funded and "5 thg 1, 2027" in funded  # the recipient's way of writing money and dates


def test_phones_are_parsed_by_country_and_must_take_sms() -> None:
    assert parse_phone("0912 345 678", "VN") == "+84912345678"
    assert parse_phone("+44 7700 900123", None) == "+447700900123"
    for typed, country, code in (
        ("020 7123 4567", "GB", "fixed_line"),
        ("12", "GB", "not_possible"),
        ("not a phone", "GB", "not_a_number"),
        ("+４４７７００９００１２３", None, "not_a_number"),  # noqa: RUF001 - fullwidth digits on purpose
    ):
        with pytest.raises(PhoneProblem) as refused:
            parse_phone(typed, country)
        assert refused.value.code == code
    assert language_for_phone("+380501234567") == "uk" and language_for_phone("+12025550123") == "en"
    assert zone_for_phone("+84912345678", "Europe/London") == "Asia/Ho_Chi_Minh"
    assert negotiate("fr-FR,uk;q=0.9,en;q=0.8") == "uk" and negotiate("de-DE") is None
