"""affiliate network: projects, partners (a tree by sponsor per project), partner terms (bitemporal)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE projects (
            id uuid PRIMARY KEY,
            code text NOT NULL UNIQUE,
            name text NOT NULL,
            currency char(3) NOT NULL,
            revenue text NOT NULL CHECK (revenue IN ('deposits', 'net_revenue', 'registrations')),
            registration_amount bigint NOT NULL DEFAULT 0,
            level_shares numeric[] NOT NULL,
            points_per_unit numeric NOT NULL CHECK (points_per_unit > 0),
            point_value numeric NOT NULL CHECK (point_value > 0),
            accrual text NOT NULL CHECK (accrual IN ('realtime', 'daily', 'period')),
            period text NOT NULL CHECK (period IN ('week', 'month')),
            created_at timestamptz NOT NULL DEFAULT now()
        );

        -- A partner belongs to one project; the tree is by sponsor within it. `depth` and `path` (ids from the root)
        -- let the upline and the network be read without recursion.
        CREATE TABLE partners (
            id uuid PRIMARY KEY,
            project_id uuid NOT NULL REFERENCES projects (id),
            user_id uuid NOT NULL REFERENCES users (id),
            sponsor_id uuid REFERENCES partners (id),
            name text NOT NULL,
            referral_code text NOT NULL UNIQUE,
            depth integer NOT NULL,
            path uuid[] NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT uq_partners_user_project UNIQUE (project_id, user_id)
        );
        CREATE INDEX ix_partners_sponsor ON partners (sponsor_id);
        CREATE INDEX ix_partners_path ON partners USING gin (path);

        -- Terms are never changed, only superseded by later records (recorded_at says when the platform knew).
        CREATE TABLE partner_terms (
            id bigserial PRIMARY KEY,
            partner_id uuid NOT NULL REFERENCES partners (id),
            level_shares numeric[] NOT NULL,
            valid_from timestamptz NOT NULL,
            valid_to timestamptz,
            recorded_at timestamptz NOT NULL DEFAULT clock_timestamp(),
            recorded_by uuid,
            CHECK (valid_to IS NULL OR valid_to > valid_from)
        );
        CREATE INDEX ix_partner_terms_partner ON partner_terms (partner_id, recorded_at);
        CREATE TRIGGER partner_terms_append_only BEFORE UPDATE OR DELETE ON partner_terms
            FOR EACH ROW EXECUTE FUNCTION refuse_change();
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE partner_terms; DROP TABLE partners; DROP TABLE projects")
