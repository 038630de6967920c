"""Configuration picks each provider: the real SDK adapter or the local fake (the development default)."""

from __future__ import annotations

from dataclasses import dataclass

from config import Settings
from providers.messaging.fake_email import FakeEmail
from providers.messaging.fake_sms import FakeSms, FakeSmsBehaviour
from providers.messaging.protocol import EmailSender, SmsSender
from providers.messaging.smtp_email import SmtpEmail
from providers.messaging.twilio_sms import TwilioSms
from providers.payments.fake_payments import FakePayments, FakePaymentsBehaviour
from providers.payments.protocol import PaymentProvider
from providers.payments.stripe_payments import StripePayments


@dataclass
class Providers:
    sms: SmsSender
    email: EmailSender
    payments: PaymentProvider


def build_providers(settings: Settings) -> Providers:
    sms: SmsSender
    if settings.sms_provider == "twilio":
        sms = TwilioSms(
            settings.twilio_account_sid,
            settings.twilio_auth_token,
            settings.twilio_from,
            api_base=settings.twilio_api_base,
        )
    else:
        sms = FakeSms(
            settings.twilio_auth_token,
            settings.twilio_account_sid,
            behaviour=FakeSmsBehaviour(latency_s=settings.fake_sms_latency_ms / 1000),
        )
    email: EmailSender
    if settings.email_provider == "smtp":
        email = SmtpEmail(settings.smtp_host, settings.smtp_port, settings.smtp_from)
    else:
        email = FakeEmail()
    payments: PaymentProvider
    if settings.payment_provider == "stripe":
        payments = StripePayments(settings.stripe_api_key, api_base=settings.stripe_api_base)
    else:
        payments = FakePayments(
            f"{settings.public_base_url.rstrip('/')}/v1/webhooks/stripe", settings.stripe_webhook_secret,
            behaviour=FakePaymentsBehaviour(latency_s=settings.fake_payments_latency_ms / 1000),
        )  # fmt: skip
    return Providers(sms=sms, email=email, payments=payments)
