"""affiliate events queued in lanes that distribution takes in parallel

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-29
"""

from __future__ import annotations

from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The lane (0-1023) is a hash of the integration and the client id of the event, or of the event it reverses: a
    # refund always waits in its deposit's lane, and one lane is taken in event order, so a reversal never meets its
    # original in another transaction running beside it. Distribution in n parallel parts takes lane % n = k.
    op.execute(
        """
        CREATE FUNCTION affiliate_event_lane(integration uuid, client_event_id text, reverses text)
        RETURNS smallint LANGUAGE sql IMMUTABLE PARALLEL SAFE
        RETURN (hashtextextended(integration::text || ':' || coalesce(reverses, client_event_id), 0) & 1023)::smallint;
        ALTER TABLE affiliate_event_queue ADD COLUMN lane smallint NOT NULL DEFAULT 0;
        UPDATE affiliate_event_queue q
           SET lane = affiliate_event_lane(e.integration_id, e.client_event_id, e.reverses_client_event_id)
          FROM affiliate_events e WHERE e.id = q.event_id;
        """
    )


def downgrade() -> None:
    op.execute("ALTER TABLE affiliate_event_queue DROP COLUMN lane; DROP FUNCTION affiliate_event_lane")
