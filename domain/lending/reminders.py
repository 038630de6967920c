# ruff: noqa: RUF001
"""What borrowers are told about their loan, per language. The language follows the borrower's phone number's
country (the market they borrowed in); English when the number says nothing we have templates for. (RUF001 is off: the Ukrainian templates are
Cyrillic on purpose.)"""

from __future__ import annotations

TEMPLATES: dict[str, dict[str, str]] = {
    "en": {
        "due_soon": "Reminder: {amount} is due on your loan on {due_date}.",
        "due_today": "Your loan payment of {amount} is due today.",
        "overdue": "Your loan is {days} days overdue. {amount} is owed. Please pay now to stop charges growing.",
        "collections": "Your loan is {days} days overdue and {amount} is owed. Contact us to agree a plan.",
        "repaid": "Thank you: your loan is repaid in full.",
        "payment_received": "We received {amount} for your loan. Still owed: {owed}.",
        "extended": "Your loan is extended. New due date: {due_date}.",
        "written_off": "Your loan account has been closed. Contact us about the remaining balance.",
    },
    "vi": {
        "due_soon": "Nhắc nhở: khoản vay của bạn đến hạn {amount} vào ngày {due_date}.",
        "due_today": "Hôm nay là hạn thanh toán {amount} cho khoản vay của bạn.",
        "overdue": "Khoản vay của bạn quá hạn {days} ngày. Số tiền nợ: {amount}. Vui lòng thanh toán ngay.",
        "collections": "Khoản vay quá hạn {days} ngày, số nợ {amount}. Hãy liên hệ với chúng tôi.",
        "repaid": "Cảm ơn bạn: khoản vay đã được thanh toán đầy đủ.",
        "payment_received": "Chúng tôi đã nhận {amount}. Số còn nợ: {owed}.",
        "extended": "Khoản vay đã được gia hạn. Hạn mới: {due_date}.",
        "written_off": "Tài khoản khoản vay đã đóng. Hãy liên hệ với chúng tôi về số dư còn lại.",
    },
    "uk": {
        "due_soon": "Нагадування: {due_date} настає термін сплати {amount} за вашим кредитом.",
        "due_today": "Сьогодні термін сплати {amount} за вашим кредитом.",
        "overdue": "Ваш кредит прострочено на {days} дн. Борг: {amount}. Будь ласка, сплатіть зараз.",
        "collections": "Кредит прострочено на {days} дн., борг {amount}. Зв'яжіться з нами.",
        "repaid": "Дякуємо: ваш кредит повністю погашено.",
        "payment_received": "Ми отримали {amount}. Залишок боргу: {owed}.",
        "extended": "Ваш кредит продовжено. Нова дата сплати: {due_date}.",
        "written_off": "Кредитний рахунок закрито. Зв'яжіться з нами щодо залишку.",
    },
}

_COUNTRY_LANGUAGES = (("+84", "vi"), ("+380", "uk"), ("+44", "en"), ("+1", "en"))


def language_for(phone: str) -> str:
    for prefix, language in _COUNTRY_LANGUAGES:
        if phone.startswith(prefix):
            return language
    return "en"


def render(template: str, phone: str, **values: object) -> str:
    language = language_for(phone)
    return TEMPLATES[language][template].format(**values)
