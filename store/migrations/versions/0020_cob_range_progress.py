"""close-of-business progress kept per range

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-29
"""

from __future__ import annotations

from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Each range of a date's close adds its batches' loans to a row of its own, in the batch's transaction: ranges
    # running side by side never wait on one shared row (each batch's commit would hold it through its WAL flush).
    # A running date's progress is the sum; the rows go when the date closes.
    op.execute(
        """
        CREATE TABLE cob_range_progress (
            business_date date NOT NULL,
            range_through uuid NOT NULL,
            loans integer NOT NULL,
            PRIMARY KEY (business_date, range_through)
        );
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE cob_range_progress")
