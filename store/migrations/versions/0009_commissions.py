"""commissions: lines per event and partner, periods and their statements, recalculations and their differences

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-22
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        -- A refund or chargeback may name the client's id of the event it takes back; distribution then reverses
        -- that event's commissions up the same line.
        ALTER TABLE affiliate_events ADD COLUMN reverses_client_event_id text;
        -- Events wait here until distribution takes them (in real time, daily, or at the period's close). A narrow
        -- queue: taking a batch deletes its rows, where marking the wide, much-indexed events would rewrite them.
        CREATE TABLE affiliate_event_queue (
            project_id uuid NOT NULL,
            event_id bigint NOT NULL REFERENCES affiliate_events (id),
            occurred_at timestamptz NOT NULL,
            PRIMARY KEY (project_id, event_id)
        );
        INSERT INTO affiliate_event_queue SELECT project_id, id, occurred_at FROM affiliate_events;
        -- A recalculation reads the events of a partner's network in a window.
        CREATE INDEX ix_affiliate_events_referrer ON affiliate_events (partner_id, occurred_at);
        -- ... and the refunds that name those events.
        CREATE INDEX ix_affiliate_events_reverses ON affiliate_events (integration_id, reverses_client_event_id)
            WHERE reverses_client_event_id IS NOT NULL;

        -- Where each partner stood in the tree over time: a move to another sponsor from a date gives the partner and
        -- everyone below it a new path from that date, and events are shared up the line of their own time.
        -- `partners.path` stays the current one. `network_version` tells distributors their cached lines are stale.
        CREATE TABLE partner_paths (
            partner_id uuid NOT NULL REFERENCES partners (id),
            valid_from timestamptz NOT NULL,
            path uuid[] NOT NULL,
            recorded_at timestamptz NOT NULL DEFAULT clock_timestamp(),
            PRIMARY KEY (partner_id, valid_from)
        );
        INSERT INTO partner_paths (partner_id, valid_from, path) SELECT id, '1970-01-01 00:00:00+00', path FROM partners;
        ALTER TABLE projects ADD COLUMN network_version bigint NOT NULL DEFAULT 0;
        -- A project may pay partners out when a period closes, to the destination each partner gave.
        ALTER TABLE projects ADD COLUMN payouts_at_close boolean NOT NULL DEFAULT false;
        ALTER TABLE partners ADD COLUMN payout_destination text;

        CREATE TABLE commission_periods (
            project_id uuid NOT NULL REFERENCES projects (id),
            period text NOT NULL,
            starts_at timestamptz NOT NULL,
            ends_at timestamptz NOT NULL,
            status text NOT NULL CHECK (status IN ('closing', 'closed')),
            closed_at timestamptz,
            closed_by uuid,
            PRIMARY KEY (project_id, period)
        );

        -- What each partner earned on each event: `period` is the event's period (what the line is for),
        -- `posted_period` the period whose statement carries the money (a late event or an adjustment lands in the
        -- open period, never in a closed one). Append-only: a correction is an adjustment line that names its
        -- recalculation. Millions of rows are written by COPY: no key of their own (an event's lines are found by
        -- the event, a statement's by partner and period) and no project (the partner's).
        CREATE TABLE commission_lines (
            event_id bigint NOT NULL,
            partner_id uuid NOT NULL,
            level smallint NOT NULL,
            points bigint NOT NULL,
            amount bigint NOT NULL,
            period text NOT NULL,
            posted_period text NOT NULL,
            entry_id bigint,  -- none when the lines of a batch net to nothing for every partner
            kind text NOT NULL CHECK (kind IN ('commission', 'reversal', 'adjustment')),
            recalculation_id bigint,
            created_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX ix_commission_lines_event ON commission_lines (event_id);

        -- What each batch (or recalculation) carried per partner, statement period and kind: statements and the
        -- partner's view read these few rows instead of an index over every line (which cost a fifth of
        -- distribution's time).
        CREATE TABLE commission_totals (
            partner_id uuid NOT NULL,
            posted_period text NOT NULL,
            kind text NOT NULL,
            events integer NOT NULL,
            points bigint NOT NULL,
            amount bigint NOT NULL,
            entry_id bigint
        );
        CREATE INDEX ix_commission_totals_statement ON commission_totals (partner_id, posted_period);
        CREATE TRIGGER commission_totals_append_only BEFORE UPDATE OR DELETE ON commission_totals
            FOR EACH ROW EXECUTE FUNCTION refuse_change();
        CREATE TRIGGER commission_lines_append_only BEFORE UPDATE OR DELETE ON commission_lines
            FOR EACH ROW EXECUTE FUNCTION refuse_change();

        CREATE TABLE commission_statements (
            project_id uuid NOT NULL REFERENCES projects (id),
            period text NOT NULL,
            partner_id uuid NOT NULL REFERENCES partners (id),
            events integer NOT NULL,
            points bigint NOT NULL,
            commissions bigint NOT NULL,
            reversals bigint NOT NULL,
            adjustments bigint NOT NULL,
            total bigint NOT NULL,
            wallet_balance bigint NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (project_id, period, partner_id)
        );

        CREATE TABLE commission_recalculations (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            project_id uuid NOT NULL REFERENCES projects (id),
            partner_id uuid NOT NULL REFERENCES partners (id),
            terms_id bigint REFERENCES partner_terms (id),
            valid_from timestamptz NOT NULL,
            valid_to timestamptz,
            -- terms: the partner's own terms changed; move: the partner moved to another sponsor (`scope` holds its
            -- old and new uplines, whose lines the move changes).
            cause text NOT NULL DEFAULT 'terms' CHECK (cause IN ('terms', 'move')),
            scope uuid[],
            status text NOT NULL CHECK (status IN ('computing', 'previewed', 'posted', 'unchanged', 'expired')),
            events integer NOT NULL DEFAULT 0,
            total bigint NOT NULL DEFAULT 0,
            requested_by uuid,
            approved_by uuid,
            entry_id bigint,
            posted_period text,
            created_at timestamptz NOT NULL DEFAULT now(),
            decided_at timestamptz
        );

        CREATE TABLE recalculation_differences (
            recalculation_id bigint NOT NULL REFERENCES commission_recalculations (id),
            partner_id uuid NOT NULL REFERENCES partners (id),
            period text NOT NULL,
            paid bigint NOT NULL,
            should_be bigint NOT NULL,
            PRIMARY KEY (recalculation_id, partner_id, period)
        );
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP TABLE recalculation_differences; DROP TABLE commission_recalculations; DROP TABLE commission_statements;
        DROP TABLE commission_totals; DROP TABLE commission_lines; DROP TABLE commission_periods; DROP TABLE partner_paths;
        ALTER TABLE projects DROP COLUMN network_version, DROP COLUMN payouts_at_close;
        ALTER TABLE partners DROP COLUMN payout_destination;
        DROP TABLE affiliate_event_queue;
        ALTER TABLE affiliate_events DROP COLUMN reverses_client_event_id;
        """
    )
