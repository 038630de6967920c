"""All configuration of a lendflow process, read from `LENDFLOW_*` variables (and `DATABASE_URL`,
`TEMPORAL_ADDRESS`). docs/configuration.md lists every field; keep the two in step.

Development defaults make the whole platform run on one machine with fakes and embedded servers; in production
(`LENDFLOW_ENV=prod`) the secrets must be set, or the process refuses to start.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, BaseModel, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from config.task_queues import Family, family_queue

DEV_JWT_SECRET = "dev-only-jwt-secret-change-me-0123456789abcdef"
# A Fernet key (32 url-safe base64 bytes) used only when none is configured outside production.
DEV_PII_KEY = "ZGV2LW9ubHktcGlpLWtleS1jaGFuZ2UtbWUtMDEyMzQ="
DEV_TWILIO_AUTH_TOKEN = "dev-twilio-auth-token"
DEV_ADMIN_PASSWORD = "lendflow-admin"
DEV_STRIPE_WEBHOOK_SECRET = "whsec_dev_only"
# The AES-256 key that encrypts workflow payloads when none is configured outside production (32 bytes, base64).
DEV_PAYLOAD_KEYS = {"dev-1": "ZGV2LW9ubHktcGF5bG9hZC1rZXktY2hhbmdlLW1lLTE="}


class BureauSetting(BaseModel):
    name: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_-]*$")
    url: str


class Settings(BaseSettings):
    """Everything a process needs to know about its surroundings."""

    model_config = SettingsConfigDict(env_prefix="LENDFLOW_", env_file=".env", extra="ignore")

    env: Literal["dev", "test", "prod"] = "dev"
    data_dir: Path = Path(".lendflow")

    # Infrastructure: unset URLs mean "start the embedded server" (dev) — see workers/devstack.
    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("DATABASE_URL", "LENDFLOW_DATABASE_URL")
    )
    # Autocommit connections per worker process for postings that are their whole transaction (docs/ledger.md).
    posting_pool_size: int = Field(default=4, ge=1, le=256)
    # Connections each API or worker process keeps (and half as many more it may open at a peak, closed after):
    # a peak past the kept ones opens and closes a connection per request, a new PostgreSQL backend each time.
    database_pool_size: int = Field(default=20, ge=1, le=500)
    temporal_address: str | None = Field(
        default=None, validation_alias=AliasChoices("TEMPORAL_ADDRESS", "LENDFLOW_TEMPORAL_ADDRESS")
    )
    temporal_namespace: str = "default"
    # How long a self-hosted cluster keeps closed workflows' histories (`lendflow temporal-setup` registers the
    # namespace with it when missing; a loan's history is its evidence of what happened and when).
    temporal_retention_days: int = Field(default=30, ge=1, le=3_650)
    # A real cluster or Temporal Cloud (docs/configuration.md): TLS with the system's CAs or a server CA of your own,
    # mTLS with a client certificate and key, or an API key (which travels only over TLS).
    temporal_tls: bool = False
    temporal_tls_server_ca: Path | None = None
    temporal_tls_client_cert: Path | None = None
    temporal_tls_client_key: Path | None = None
    temporal_tls_server_name: str | None = None
    temporal_api_key: str | None = None
    # Worker tuning (docs/deployment.md): concurrent work, pollers, the sticky cache, and how long running
    # activities may finish on SIGTERM before they are cancelled and retried elsewhere.
    worker_max_concurrent_activities: int = Field(default=100, ge=1, le=10_000)
    worker_max_concurrent_workflow_tasks: int = Field(default=8, ge=2, le=10_000)
    worker_activity_pollers: int = Field(default=5, ge=1, le=100)
    worker_workflow_pollers: int = Field(default=5, ge=2, le=100)
    worker_max_cached_workflows: int = Field(default=1_000, ge=0, le=1_000_000)
    worker_graceful_shutdown_seconds: int = Field(default=30, ge=0, le=3_600)
    # The worker process's event loop: uvloop (as the API's, through uvicorn) or the standard library's.
    worker_event_loop: Literal["uvloop", "asyncio"] = "uvloop"
    # Bulk parts (a COB range, a distribution lane) one process runs at once: each keeps a core busy (the database's
    # for COB's statements, the worker's for the commission rules), so capacity grows by adding processes.
    worker_bulk_slots: int = Field(default=1, ge=1, le=64)
    # A worker process touches this file while all its workers run; `lendflow healthcheck worker` reads its age
    # (the worker has no HTTP port of its own for a container's health check).
    worker_health_file: Path = Path("/tmp/lendflow-worker.alive")
    # host:port where a worker process serves Prometheus metrics (the Temporal SDK's and ours); unset: none.
    worker_metrics_address: str | None = None
    # Task queues: one per process family, `<prefix>-<family>` (config/task_queues.py). A worker polls
    # `task_queues` (family names or queue names); by default every family's queue.
    task_queue_prefix: str = "lendflow"
    task_queues: list[str] | None = None
    embedded_postgres_port: int = 54329
    temporal_port: int = 7233
    temporal_ui_port: int = 8233

    api_host: str = "127.0.0.1"
    api_port: int = 8000
    public_base_url: str = "http://127.0.0.1:8000"
    log_level: str = "INFO"
    log_format: Literal["text", "json"] | None = None  # default: json in prod, text elsewhere
    # Traces (OpenTelemetry) from an HTTP request through its workflows and activities to SQL, exported over
    # OTLP/HTTP to this endpoint (e.g. http://otel-collector:4318/v1/traces); unset: no tracing.
    otlp_endpoint: str | None = None
    max_body_bytes: int = 20 * 1024 * 1024  # the largest request body (a CSV upload of events is the largest)

    # Secrets
    jwt_secret: str = DEV_JWT_SECRET
    jwt_ttl_minutes: int = 60
    pii_key: str = DEV_PII_KEY
    admin_email: str = "admin@lendflow.dev"
    admin_password: str = DEV_ADMIN_PASSWORD

    # Workflow and activity payloads are encrypted (AES-256-GCM) before they reach Temporal (docs/operations.md).
    # Key id -> 32 random bytes, base64: LENDFLOW_PAYLOAD_KEYS='{"2026-12": "...", "2026-06": "..."}'. New payloads
    # use LENDFLOW_PAYLOAD_KEY_ID; the others stay readable (rotation: add a key, make it current, keep the old).
    payload_keys: dict[str, str] = Field(default_factory=lambda: dict(DEV_PAYLOAD_KEYS))
    payload_key_id: str = "dev-1"
    # The codec server (`/codec/encode`, `/codec/decode`) for the Temporal Web UI: who may call it and from where.
    codec_server_token: str | None = None  # a bearer token for it besides an admin's staff token
    codec_cors_origins: list[str] = ["http://127.0.0.1:8233", "http://localhost:8233"]

    # `lendflow dev` walks demo borrowers and partners through a fresh platform (workers/demo_activity.py)
    demo_activity: bool = True

    # The staff console (docs/console.md)
    console_session_hours: int = Field(default=12, ge=1, le=24 * 7)  # a session ends this long after sign-in
    console_idle_minutes: int = Field(default=30, ge=1, le=24 * 60)  # or after this long without a request
    console_totp_required: bool | None = None  # a second factor for staff; default: required except in dev
    console_secure_cookie: bool | None = None  # the session cookie is Secure; default: except in dev and test

    # Sign-in by one-time code
    otp_ttl_seconds: int = 300
    otp_max_attempts: int = 5
    otp_window_seconds: int = 600
    otp_max_per_phone: int = 3
    otp_max_per_address: int = 20

    # Messaging
    sms_provider: Literal["fake", "twilio"] = "fake"
    twilio_account_sid: str = "ACdev00000000000000000000000000000"
    twilio_auth_token: str = DEV_TWILIO_AUTH_TOKEN
    twilio_from: str = "+15005550006"
    twilio_api_base: str | None = None
    email_provider: Literal["fake", "smtp"] = "fake"
    smtp_host: str = "localhost"
    smtp_port: int = 25
    smtp_from: str = "no-reply@lendflow.local"
    fake_sms_latency_ms: int = 200
    payment_provider: Literal["fake", "stripe"] = "fake"
    stripe_api_key: str = "sk_test_dev"
    stripe_webhook_secret: str = DEV_STRIPE_WEBHOOK_SECRET
    stripe_api_base: str | None = None
    fake_payments_latency_ms: int = 200
    fake_payments_answer_latency_ms: int = 0
    topup_confirm_wait_seconds: int = 1800
    payout_confirm_wait_seconds: int = 86400
    message_send_attempts: int = 5
    message_status_wait_seconds: int = 900

    # Credit bureaus, asked in order (the first that answers decides), scoring, CPA networks. `credit_bureaus`
    # names any number: LENDFLOW_CREDIT_BUREAUS='[{"name": "bureau-a", "url": "https://..."}, ...]'. Without it
    # the primary and the fallback below are the list (the fallback only when its URL is set).
    credit_provider: Literal["fake", "http"] = "fake"
    credit_bureaus: list[BureauSetting] | None = None
    bureau_primary_name: str = "bureau-a"
    bureau_primary_url: str = "http://127.0.0.1:9100"
    bureau_fallback_name: str = "bureau-b"
    bureau_fallback_url: str | None = "http://127.0.0.1:9101"
    bureau_api_key: str = "dev-bureau-key"
    scoring_name: str = "scoring"
    scoring_url: str = "http://127.0.0.1:9102"
    scoring_api_key: str = "dev-scoring-key"
    credit_webhook_secret: str = "dev-credit-webhook-secret"
    fake_bureau_latency_ms: int = 300
    fake_scoring_latency_ms: int = 500
    cpa_provider: Literal["fake", "http"] = "fake"
    # Network name -> postback URL template (placeholders: domain/lending/cpa.py).
    cpa_networks: dict[str, str] = {
        "admitad": "https://ad.admitad.com/r?campaign_code=lendflow&postback=1&postback_key=dev&action_code=1"
        "&uid={click_id}&order_id={order_id}&tariff_code=1&currency_code={currency}&price={amount}&payment_type=sale",
        "salesdoubler": "https://rdr.salesdoubler.com.ua/in/postback/lendflow/{click_id}?trans_id={order_id}&token=dev",
    }

    # Origination: how long each wait lasts (docs/origination.md)
    score_wait_seconds: int = 600
    review_target_seconds: int = 3600
    review_expiry_seconds: int = 3 * 86400
    offer_expiry_seconds: int = 3 * 86400
    signing_code_ttl_seconds: int = 300
    signing_max_attempts: int = 3
    signing_max_codes: int = 3
    signing_wait_seconds: int = 86400
    card_wait_seconds: int = 86400
    disbursement_wait_seconds: int = 3600
    disbursement_attempts: int = 3
    payout_status_polls: int = 6  # polls of the provider's record (the wait doubling) before cancel or a staff case
    payout_poll_max_seconds: int = 6 * 3600
    provider_attempts: int = 3  # tries of one bureau or scoring call before the fallback
    postback_retry_seconds: int = 60  # first retry of a refused CPA postback (doubling up to an hour)

    # Servicing: close of business (docs/servicing.md)
    market_timezone: str = "Asia/Ho_Chi_Minh"
    cob_time: str = "00:30"  # local time the daily Schedule closes the day that just ended
    cob_schedule_enabled: bool = True
    cob_allow_future: bool | None = None  # closing dates not over yet; default: allowed except in prod
    cob_batch_size: int = 5_000  # loans per accrual statement
    cob_parts: int = Field(default=8, ge=1, le=256)  # loan id ranges a date's close splits into (bulk queue)
    commission_parts: int = Field(default=4, ge=1, le=64)  # event lanes of a project's distribution (bulk queue)
    cob_max_days_ahead: int = 400  # how far past the open business date staff may close in one request
    loan_payment_confirm_wait_seconds: int = 1800

    # Affiliate commissions (docs/affiliate.md)
    commission_close_time: str = "01:00"  # UTC time each project's Schedule closes the period that just ended
    commission_batch_size: int = 20_000  # events per distribution transaction
    # Ingestion nudges a real-time distributor at once; this is its longest nap when a nudge was lost.
    commission_realtime_wait_seconds: float = 30.0
    recalculation_approval_wait_seconds: int = 30 * 86_400  # an unapproved recalculation expires after this

    @property
    def future_cob_allowed(self) -> bool:
        return self.cob_allow_future if self.cob_allow_future is not None else self.env != "prod"

    @model_validator(mode="after")
    def _temporal_tls_is_whole(self) -> Settings:
        """A half-made TLS setup is refused at start, with what is missing, rather than failing to connect later."""
        problems = []
        if (self.temporal_tls_client_cert is None) != (self.temporal_tls_client_key is None):
            problems.append("LENDFLOW_TEMPORAL_TLS_CLIENT_CERT and LENDFLOW_TEMPORAL_TLS_CLIENT_KEY go together")
        for name in ("temporal_tls_server_ca", "temporal_tls_client_cert", "temporal_tls_client_key"):
            path = getattr(self, name)
            if path is not None and not Path(path).is_file():
                problems.append(f"LENDFLOW_{name.upper()}: no file at {path}")
        if self.temporal_api_key and not self.temporal_uses_tls:
            problems.append("an API key travels only over TLS: set LENDFLOW_TEMPORAL_TLS=true")
        if problems:
            raise ValueError("Temporal TLS: " + "; ".join(problems))
        return self

    @model_validator(mode="after")
    def _payload_keys_are_whole(self) -> Settings:
        """Refused at start: a current key that is not among the keys, or a key that is not 32 bytes."""
        if self.payload_key_id not in self.payload_keys:
            raise ValueError(f"LENDFLOW_PAYLOAD_KEY_ID {self.payload_key_id!r} is not in LENDFLOW_PAYLOAD_KEYS")
        for key_id, encoded in self.payload_keys.items():
            try:
                raw = base64.b64decode(encoded, validate=True)
            except ValueError:
                raw = b""
            if len(raw) != 32:
                raise ValueError(f"LENDFLOW_PAYLOAD_KEYS[{key_id!r}] must be 32 bytes, base64 encoded")
        return self

    @property
    def temporal_uses_tls(self) -> bool:
        return self.temporal_tls or any(
            p is not None
            for p in (self.temporal_tls_server_ca, self.temporal_tls_client_cert, self.temporal_tls_client_key)
        )

    @model_validator(mode="after")
    def _production_needs_real_secrets(self) -> Settings:
        if self.env == "prod":
            missing = [
                name
                for name, dev_value in (
                    ("LENDFLOW_JWT_SECRET", DEV_JWT_SECRET),
                    ("LENDFLOW_PII_KEY", DEV_PII_KEY),
                    ("LENDFLOW_ADMIN_PASSWORD", DEV_ADMIN_PASSWORD),
                )
                if getattr(self, name.removeprefix("LENDFLOW_").lower()) == dev_value
            ]
            if any(self.payload_keys.get(k) == v for k, v in DEV_PAYLOAD_KEYS.items()):
                missing.append("LENDFLOW_PAYLOAD_KEYS")
            if self.database_url is None:
                missing.append("DATABASE_URL")
            if self.temporal_address is None:
                missing.append("TEMPORAL_ADDRESS")
            if missing:
                raise ValueError(f"production needs these set: {', '.join(missing)}")
        return self

    @property
    def bureaus(self) -> list[BureauSetting]:
        """The credit bureaus in the order they are asked."""
        if self.credit_bureaus is not None:
            return list(self.credit_bureaus)
        named = [BureauSetting(name=self.bureau_primary_name, url=self.bureau_primary_url)]
        if self.bureau_fallback_url:
            named.append(BureauSetting(name=self.bureau_fallback_name, url=self.bureau_fallback_url))
        return named

    @property
    def totp_required(self) -> bool:
        return self.console_totp_required if self.console_totp_required is not None else self.env != "dev"

    @property
    def logs_as_json(self) -> bool:
        return self.log_format == "json" if self.log_format is not None else self.env == "prod"

    @property
    def secure_cookies(self) -> bool:
        return self.console_secure_cookie if self.console_secure_cookie is not None else self.env == "prod"

    @property
    def is_dev(self) -> bool:
        return self.env == "dev"

    @property
    def temporal_target(self) -> str:
        return self.temporal_address or f"127.0.0.1:{self.temporal_port}"

    def queue_for(self, family: Family) -> str:
        """The task queue a workflow of this family is started on."""
        return family_queue(self.task_queue_prefix, family)

    @property
    def polled_queues(self) -> list[str]:
        """What this process's workers poll: the queues named (a family name stands for its queue), else all."""
        if not self.task_queues:
            return [self.queue_for(family) for family in Family]
        return [self.queue_for(Family(q)) if q in Family.__members__.values() else q for q in self.task_queues]


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment, with explicit overrides winning (used by the CLI and the tests)."""
    return Settings(**overrides)  # type: ignore[arg-type]
