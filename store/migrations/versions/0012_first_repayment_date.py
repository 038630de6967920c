"""a loan application may name its first repayment date, and the loan keeps it

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29
"""

from __future__ import annotations

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The schedule is rebuilt from the terms, the start and the term whenever the loan is serviced; the first due
    # date is the one more input a quote with a broken first period needs to be the loan.
    op.execute("ALTER TABLE loan_applications ADD COLUMN first_repayment_date date")
    op.execute("ALTER TABLE loans ADD COLUMN first_due_date date")


def downgrade() -> None:
    op.execute("ALTER TABLE loans DROP COLUMN first_due_date")
    op.execute("ALTER TABLE loan_applications DROP COLUMN first_repayment_date")
