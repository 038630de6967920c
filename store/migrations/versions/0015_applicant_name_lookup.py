"""staff find a customer by the name on their applications

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-29
"""

from __future__ import annotations

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Names are personal data, stored encrypted: a keyed digest of the normalised full name (case and spacing
    # folded) finds exact matches without making the name readable. Applications taken before this have none.
    op.execute("ALTER TABLE loan_applications ADD COLUMN name_lookup bytea")
    op.execute(
        "CREATE INDEX ix_loan_applications_name ON loan_applications (name_lookup) WHERE name_lookup IS NOT NULL"
    )


def downgrade() -> None:
    op.execute("DROP INDEX ix_loan_applications_name")
    op.execute("ALTER TABLE loan_applications DROP COLUMN name_lookup")
