"""wallet operations: top-ups and payouts with their provider references

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE wallet_operations (
            id uuid PRIMARY KEY,
            kind text NOT NULL CHECK (kind IN ('topup', 'payout')),
            wallet_id uuid NOT NULL REFERENCES wallets (id),
            owner_id uuid NOT NULL REFERENCES users (id),
            amount bigint NOT NULL CHECK (amount > 0),
            currency char(3) NOT NULL,
            instrument text NOT NULL,
            status text NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'processing', 'succeeded', 'failed')),
            provider text,
            provider_reference text,
            failure_code text,
            hold_id bigint REFERENCES holds (id),
            entry_id bigint REFERENCES journal_entries (id),
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX ix_wallet_operations_owner ON wallet_operations (owner_id, created_at DESC);
        CREATE UNIQUE INDEX uq_wallet_operations_provider_reference
            ON wallet_operations (provider, provider_reference) WHERE provider_reference IS NOT NULL;
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE wallet_operations")
