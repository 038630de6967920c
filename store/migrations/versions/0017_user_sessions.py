"""the borrower's and partner's pages: browser sessions; the agreement as a PDF

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-29
"""

from __future__ import annotations

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # One row per browser session of a borrower or partner (web/people/). The cookie holds a random token; only
    # its SHA-256 is kept. Ended rows are kept for the sign-in trail.
    op.execute(
        """
        CREATE TABLE user_sessions (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            token_digest bytea NOT NULL UNIQUE,
            user_id uuid NOT NULL REFERENCES users (id),
            csrf_token text NOT NULL,
            language text NOT NULL,
            time_zone text NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            last_seen_at timestamptz NOT NULL DEFAULT now(),
            expires_at timestamptz NOT NULL,
            ended_at timestamptz
        );
        CREATE INDEX ix_user_sessions_live ON user_sessions (user_id) WHERE ended_at IS NULL;
        """
    )
    # The agreement as the PDF the borrower downloads, produced once beside the text (encrypted like it), and the
    # PDF's SHA-256: the signature covers both hashes.
    op.execute("ALTER TABLE loan_agreements ADD COLUMN pdf bytea, ADD COLUMN pdf_hash text")
    # A partner's earnings "today" read commission lines by time: append-only and written in time order, so a BRIN
    # index (a few pages, nearly free to keep up under COPY) narrows the read to the day's blocks.
    # Where a project's partners send people: their referral link is this with `?ref=<code>`.
    op.execute("ALTER TABLE projects ADD COLUMN site_url text")
    op.execute("CREATE INDEX ix_commission_lines_created_brin ON commission_lines USING brin (created_at)")


def downgrade() -> None:
    op.execute("DROP INDEX ix_commission_lines_created_brin")
    op.execute("ALTER TABLE projects DROP COLUMN site_url")
    op.execute("ALTER TABLE loan_agreements DROP COLUMN pdf_hash, DROP COLUMN pdf")
    op.execute("DROP TABLE user_sessions")
