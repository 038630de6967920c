"""E-mail through any SMTP relay (stdlib smtplib, run in a thread). A relay that accepts a message is the
last status we learn, so the receipt says `sent`."""

from __future__ import annotations

import asyncio
import smtplib
from email.message import EmailMessage

from providers.messaging.protocol import (
    OutgoingEmail,
    ProviderReceipt,
    ProviderUnavailable,
    RecipientRejected,
)


class SmtpEmail:
    name = "smtp"

    def __init__(self, host: str, port: int, sender: str, timeout_s: float = 10.0) -> None:
        self._host, self._port, self._sender, self._timeout = host, port, sender, timeout_s

    async def send_email(self, message: OutgoingEmail) -> ProviderReceipt:
        return await asyncio.to_thread(self._send, message)

    def _send(self, message: OutgoingEmail) -> ProviderReceipt:
        mail = EmailMessage()
        mail["From"], mail["To"], mail["Subject"] = self._sender, message.to, message.subject
        mail["Message-ID"] = f"<{message.message_id}@lendflow>"
        mail.set_content(message.body)
        try:
            with smtplib.SMTP(self._host, self._port, timeout=self._timeout) as smtp:
                smtp.send_message(mail)
        except smtplib.SMTPRecipientsRefused as err:
            raise RecipientRejected("550", str(err.recipients)) from err
        except (smtplib.SMTPException, OSError) as err:
            raise ProviderUnavailable(f"smtp: {err}") from err
        return ProviderReceipt(self.name, message.message_id, "sent")
