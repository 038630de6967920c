"""What a partner is told when a period closes, in the language of their phone's country."""

from __future__ import annotations

from domain.currency import minor_units
from domain.lending.reminders import language_for

_STATEMENT = {
    "en": "{project}: your commission statement for {period} is ready. Credited this period: {amount}.",
    "vi": "{project}: bảng kê hoa hồng kỳ {period} đã sẵn sàng. Số tiền ghi có trong kỳ: {amount}.",
    "uk": "{project}: ваш звіт про комісію за {period} готовий. Нараховано за період: {amount}.",
}


def shown(amount: int, currency: str) -> str:
    exponent = minor_units(currency)
    sign, units = ("-" if amount < 0 else ""), abs(amount)
    if not exponent:
        return f"{sign}{units} {currency}"
    return f"{sign}{units // 10**exponent}.{units % 10**exponent:0{exponent}d} {currency}"


def statement_notice(phone: str, project: str, period: str, total: int, currency: str) -> str:
    return _STATEMENT[language_for(phone)].format(project=project, period=period, amount=shown(total, currency))
