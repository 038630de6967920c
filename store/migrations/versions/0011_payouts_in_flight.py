"""a loan application's payout in flight: the provider reference and attempt asked for, and a case for staff

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The payout asked for is recorded when the provider answers, so a callback can be matched to it and staff can
    # see (and reconcile) payouts in flight; `payout_case` is set when the workflow cannot decide by itself.
    op.execute(
        "ALTER TABLE loan_applications ADD COLUMN payout_reference text, ADD COLUMN payout_attempt integer,"
        " ADD COLUMN payout_requested_at timestamptz, ADD COLUMN payout_case text"
        " CHECK (payout_case IN ('unknown_at_provider', 'unconfirmed'))"
    )
    op.execute(
        "CREATE INDEX loan_applications_payouts_in_flight ON loan_applications (payout_requested_at)"
        " WHERE status = 'disbursing'"
    )


def downgrade() -> None:
    op.execute("DROP INDEX loan_applications_payouts_in_flight")
    op.execute(
        "ALTER TABLE loan_applications DROP COLUMN payout_reference, DROP COLUMN payout_attempt,"
        " DROP COLUMN payout_requested_at, DROP COLUMN payout_case"
    )
