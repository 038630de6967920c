"""applications announce their status changes (NOTIFY), so a borrower's app follows them without polling

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-29
"""

from __future__ import annotations

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Every status change, whichever step wrote it, is announced on the channel `application_status` with the
    # application's id, delivered when its transaction commits (store/notifications.py listens).
    op.execute(
        """
        CREATE FUNCTION announce_application_status() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('application_status', NEW.id::text);
            RETURN NULL;
        END $$;
        CREATE TRIGGER application_status_announced AFTER UPDATE OF status ON loan_applications
            FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
            EXECUTE FUNCTION announce_application_status();
        """
    )


def downgrade() -> None:
    op.execute(
        "DROP TRIGGER application_status_announced ON loan_applications; DROP FUNCTION announce_application_status()"
    )
