"""credit products and their effective-dated versions

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE credit_products (
            id uuid PRIMARY KEY,
            code text NOT NULL UNIQUE,
            name text NOT NULL,
            currency char(3) NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now()
        );
        -- A version is never changed: a new one with a later valid_from replaces it for loans started from then.
        CREATE TABLE credit_product_versions (
            id uuid PRIMARY KEY,
            product_id uuid NOT NULL REFERENCES credit_products (id),
            version integer NOT NULL,
            valid_from timestamptz NOT NULL,
            terms jsonb NOT NULL,
            profile text,
            min_repaid_loans integer NOT NULL DEFAULT 0 CHECK (min_repaid_loans >= 0),
            max_repaid_loans integer CHECK (max_repaid_loans IS NULL OR max_repaid_loans >= min_repaid_loans),
            created_at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT uq_credit_product_versions_number UNIQUE (product_id, version)
        );
        CREATE INDEX ix_credit_product_versions_in_force ON credit_product_versions (product_id, valid_from DESC);
        CREATE TRIGGER credit_product_versions_append_only BEFORE UPDATE OR DELETE ON credit_product_versions
            FOR EACH ROW EXECUTE FUNCTION refuse_change();
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE credit_product_versions; DROP TABLE credit_products;")
