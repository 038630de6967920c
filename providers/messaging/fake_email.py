"""A local e-mail provider: accepts every well-formed address and reports it delivered at once, as an SMTP
relay that accepted the message would. Its messages appear in the dev outbox like the fake SMS."""

from __future__ import annotations

import secrets

from providers.messaging.protocol import OutgoingEmail, ProviderReceipt, RecipientRejected


class FakeEmail:
    name = "fake"

    def __init__(self) -> None:
        self.sent: list[OutgoingEmail] = []

    async def send_email(self, message: OutgoingEmail) -> ProviderReceipt:
        if "@" not in message.to or message.to.endswith("@invalid"):
            raise RecipientRejected("550", "mailbox unavailable")
        self.sent.append(message)
        return ProviderReceipt(self.name, "em_" + secrets.token_hex(12), "delivered")
