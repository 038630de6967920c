"""the staff console: browser sessions and a second factor for staff

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-29
"""

from __future__ import annotations

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A staff member's TOTP secret (encrypted like personal data), when it was enrolled, and the last time step a
    # code was accepted for, so one code cannot sign in twice.
    op.execute(
        "ALTER TABLE staff ADD COLUMN totp_secret_encrypted bytea, ADD COLUMN totp_enrolled_at timestamptz,"
        " ADD COLUMN totp_last_step bigint"
    )
    # One row per browser session. The cookie holds a random token; only its SHA-256 is kept. Roles and projects
    # are those the member had when signing in: a change ends the session on the next request, as does disabling.
    op.execute(
        """
        CREATE TABLE console_sessions (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            token_digest bytea NOT NULL UNIQUE,
            staff_id uuid NOT NULL REFERENCES staff (id),
            roles text[] NOT NULL,
            projects text[] NOT NULL,
            csrf_token text NOT NULL,
            second_factor_done boolean NOT NULL DEFAULT false,
            pending_totp_encrypted bytea,
            code_attempts integer NOT NULL DEFAULT 0,
            created_at timestamptz NOT NULL DEFAULT now(),
            last_seen_at timestamptz NOT NULL DEFAULT now(),
            expires_at timestamptz NOT NULL,
            ended_at timestamptz,
            ended_reason text
        );
        CREATE INDEX ix_console_sessions_live ON console_sessions (staff_id) WHERE ended_at IS NULL;
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE console_sessions")
    op.execute(
        "ALTER TABLE staff DROP COLUMN totp_last_step, DROP COLUMN totp_enrolled_at, DROP COLUMN totp_secret_encrypted"
    )
