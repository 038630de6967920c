"""bonus credit batches stored, their workflow carrying only the batch's id

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-29
"""

from __future__ import annotations

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A batch of bonus credits as staff sent it (up to 100,000 lines): the workflow's input is the batch id, so no
    # workflow input or activity argument grows with a batch (Temporal refuses payloads over 2 MB by default).
    op.execute(
        """
        CREATE TABLE bonus_batches (
            id uuid PRIMARY KEY,
            currency char(3) NOT NULL,
            points_rate numeric,
            reason text NOT NULL,
            credits integer NOT NULL,
            created_by uuid,
            created_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE TABLE bonus_batch_credits (
            batch_id uuid NOT NULL REFERENCES bonus_batches (id),
            line integer NOT NULL,
            wallet_id uuid NOT NULL,
            amount bigint,
            points bigint,
            PRIMARY KEY (batch_id, line)
        );
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE bonus_batch_credits; DROP TABLE bonus_batches")
