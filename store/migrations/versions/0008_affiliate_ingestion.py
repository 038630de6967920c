"""affiliate ingestion: client integrations, events taken once per client id, referrals (user -> partner)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE integrations (
            id uuid PRIMARY KEY,
            project_id uuid NOT NULL REFERENCES projects (id),
            name text NOT NULL,
            format text NOT NULL CHECK (format IN ('json', 'csv')),
            mapping jsonb NOT NULL,
            secret_encrypted bytea NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT uq_integrations_name UNIQUE (project_id, name)
        );

        -- Which partner brought a client's user: set by their registration's referral code, once.
        CREATE TABLE referrals (
            project_id uuid NOT NULL REFERENCES projects (id),
            user_ref text NOT NULL,
            partner_id uuid NOT NULL REFERENCES partners (id),
            created_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (project_id, user_ref)
        );

        CREATE TABLE affiliate_events (
            id bigserial PRIMARY KEY,
            project_id uuid NOT NULL REFERENCES projects (id),
            integration_id uuid NOT NULL REFERENCES integrations (id),
            client_event_id text NOT NULL,
            kind text NOT NULL,
            user_ref text NOT NULL,
            partner_id uuid REFERENCES partners (id),
            amount bigint NOT NULL,
            currency char(3),
            occurred_at timestamptz NOT NULL,
            received_at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT uq_affiliate_events_client UNIQUE (integration_id, client_event_id)
        );
        CREATE INDEX ix_affiliate_events_project_time ON affiliate_events (project_id, occurred_at);
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE affiliate_events; DROP TABLE referrals; DROP TABLE integrations")
