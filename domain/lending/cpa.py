"""Conversion postbacks to CPA networks: each network takes a URL template with its own placeholders (Admitad's
`https://ad.admitad.com/r?campaign_code=...&uid={click_id}&order_id={order_id}...`, SalesDoubler's
`https://rdr.salesdoubler.com.ua/in/postback/.../{click_id}?trans_id={order_id}`). Values are URL-encoded, and a
template naming a placeholder we do not know is refused when staff configure it, not when a loan is funded."""

from __future__ import annotations

import string
from urllib.parse import quote

PLACEHOLDERS = frozenset({"click_id", "order_id", "amount", "currency", "status", "product"})


class TemplateInvalid(ValueError):
    pass


def check_template(template: str) -> str:
    if not template.startswith(("https://", "http://")):
        raise TemplateInvalid("a postback template must be an http(s) URL")
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
    except ValueError as err:
        raise TemplateInvalid(f"the template does not parse: {err}") from None
    unknown = names - PLACEHOLDERS
    if unknown:
        raise TemplateInvalid(f"unknown placeholders {sorted(unknown)}; known: {sorted(PLACEHOLDERS)}")
    if "click_id" not in names:
        raise TemplateInvalid("the template must carry {click_id}, or the network cannot match the conversion")
    return template


def postback_url(template: str, values: dict[str, str]) -> str:
    check_template(template)
    return template.format_map({name: quote(values.get(name, ""), safe="") for name in PLACEHOLDERS})
