"""Configuration picks each provider: the real SDK adapter or the local fake (the development default)."""

from __future__ import annotations

from dataclasses import dataclass

from config import Settings
from providers.cpa.postback import FakeCpaNetworks, HttpPostback, PostbackSender
from providers.credit.fake_credit import FakeBureau, FakeCreditBehaviour, FakeScoring
from providers.credit.http_credit import HttpBureau, HttpScoring
from providers.credit.protocol import CreditBureau, ScoringProvider
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
    bureaus: dict[str, CreditBureau]  # in the order they are asked: primary first
    scoring: ScoringProvider
    postbacks: PostbackSender


def build_credit_providers(settings: Settings) -> tuple[dict[str, CreditBureau], ScoringProvider]:
    named = [(bureau.name, bureau.url) for bureau in settings.bureaus]
    bureaus: dict[str, CreditBureau] = {}
    scoring: ScoringProvider
    if settings.credit_provider == "http":
        for name, url in named:
            bureaus[name] = HttpBureau(name, url, settings.bureau_api_key)
        scoring = HttpScoring(settings.scoring_name, settings.scoring_url, settings.scoring_api_key)
    else:
        for name, _ in named:
            bureaus[name] = FakeBureau(name, FakeCreditBehaviour(latency_s=settings.fake_bureau_latency_ms / 1000))
        scoring = FakeScoring(
            settings.scoring_name,
            settings.credit_webhook_secret,
            behaviour=FakeCreditBehaviour(latency_s=settings.fake_scoring_latency_ms / 1000),
        )
    return bureaus, scoring


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
            f"{settings.public_base_url.rstrip('/')}/v1/webhooks/stripe",
            settings.stripe_webhook_secret,
            behaviour=FakePaymentsBehaviour(
                latency_s=settings.fake_payments_latency_ms / 1000,
                answer_latency_s=settings.fake_payments_answer_latency_ms / 1000,
            ),
            # Kept beside the dev stack's data, so it outlives a worker restart as a real provider would.
            state_path=settings.data_dir / "fake-payments.sqlite3",
        )
    bureaus, scoring = build_credit_providers(settings)
    postbacks: PostbackSender = HttpPostback() if settings.cpa_provider == "http" else FakeCpaNetworks()
    return Providers(sms=sms, email=email, payments=payments, bureaus=bureaus, scoring=scoring, postbacks=postbacks)
