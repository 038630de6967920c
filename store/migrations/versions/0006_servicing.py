"""loan servicing: close of business, accrual projections, loan events and payments, collections, report snapshots

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        -- What the ledger holds for the loan's charges (kept in the transaction that posts them, so close of business
        -- and the engine's corrections compare against one number), and through which night accrual is posted.
        ALTER TABLE loans
            ADD COLUMN accrued_interest bigint NOT NULL DEFAULT 0,
            ADD COLUMN accrued_penalty bigint NOT NULL DEFAULT 0,
            ADD COLUMN accrued_fines bigint NOT NULL DEFAULT 0,
            ADD COLUMN accrued_fees bigint NOT NULL DEFAULT 0,
            ADD COLUMN settled jsonb NOT NULL DEFAULT '{}'::jsonb,
            ADD COLUMN accrued_through date,
            ADD COLUMN projected_until date,
            ADD COLUMN overdue_since date,
            ADD COLUMN extensions integer NOT NULL DEFAULT 0,
            ADD COLUMN closed_on date,
            ADD COLUMN collector_id uuid;
        UPDATE loans SET accrued_fees = origination_fee, accrued_through = start_date - 1;
        CREATE INDEX ix_loans_projected_until ON loans (projected_until) WHERE status IN ('active', 'overdue');
        CREATE INDEX ix_loans_overdue ON loans (overdue_since) WHERE status = 'overdue';

        -- One row per business date: closed once, in order.
        CREATE TABLE cob_runs (
            business_date date PRIMARY KEY,
            status text NOT NULL CHECK (status IN ('running', 'closed')),
            workflow_id text NOT NULL,
            loans_accrued integer NOT NULL DEFAULT 0,
            projections_refreshed integer NOT NULL DEFAULT 0,
            notices integer NOT NULL DEFAULT 0,
            started_at timestamptz NOT NULL DEFAULT now(),
            finished_at timestamptz
        );

        -- The engine's projection of each loan's coming nights (domain/lending/engine.project_nights): only nights
        -- that post something, change the loan's status, or carry a notice. Keyed by date first, so close of business
        -- reads one date's rows as a range.
        CREATE TABLE loan_night_projections (
            accrual_date date NOT NULL,
            loan_id uuid NOT NULL REFERENCES loans (id),
            interest bigint NOT NULL,
            penalty bigint NOT NULL,
            fines bigint NOT NULL,
            status text,
            overdue_since date,
            notice text,
            PRIMARY KEY (accrual_date, loan_id)
        );
        CREATE INDEX ix_loan_night_projections_loan ON loan_night_projections (loan_id, accrual_date);

        -- What happened to a loan, in the engine's terms: its events are these rows, ordered by (value_date, id).
        CREATE TABLE loan_events (
            id bigserial PRIMARY KEY,
            loan_id uuid NOT NULL REFERENCES loans (id),
            kind text NOT NULL CHECK (kind IN ('repayment', 'extension', 'fee', 'waiver', 'write_off', 'rate_change',
                                                'recovery')),
            value_date date NOT NULL,
            amount bigint,
            days integer,
            component text,
            daily_rate numeric,
            reference text NOT NULL UNIQUE,
            entry_id bigint REFERENCES journal_entries (id),
            actor_id uuid,
            reason text,
            recorded_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX ix_loan_events_loan ON loan_events (loan_id, value_date, id);

        -- Money asked of the borrower's card: a repayment, an extension's price, an automatic collections debit.
        CREATE TABLE loan_payments (
            id uuid PRIMARY KEY,
            loan_id uuid NOT NULL REFERENCES loans (id),
            purpose text NOT NULL CHECK (purpose IN ('repayment', 'extension', 'auto_debit')),
            amount bigint NOT NULL CHECK (amount > 0),
            currency char(3) NOT NULL,
            payment_method text NOT NULL,
            customer_reference text,
            extension_days integer,
            status text NOT NULL DEFAULT 'pending',
            provider_reference text,
            failure_code text,
            value_date date,
            requested_by uuid,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX ix_loan_payments_loan ON loan_payments (loan_id, created_at);

        -- Collections: the ladder staff configure per product (append-only versions), one case per overdue spell.
        CREATE TABLE collection_ladders (
            id bigserial PRIMARY KEY,
            product_id uuid NOT NULL REFERENCES credit_products (id),
            steps jsonb NOT NULL,
            created_by uuid,
            created_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX ix_collection_ladders_product ON collection_ladders (product_id, id DESC);
        CREATE TABLE collection_cases (
            loan_id uuid PRIMARY KEY REFERENCES loans (id),
            status text NOT NULL DEFAULT 'open',
            steps_done text[] NOT NULL DEFAULT '{}',
            failed_debits integer NOT NULL DEFAULT 0,
            last_decline text,
            escalated boolean NOT NULL DEFAULT false,
            handed_over_to text,
            opened_on date NOT NULL,
            closed_on date,
            updated_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE TABLE collection_contacts (
            id bigserial PRIMARY KEY,
            loan_id uuid NOT NULL REFERENCES loans (id),
            staff_id uuid,
            channel text NOT NULL,
            outcome text NOT NULL,
            note text,
            created_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE TABLE payment_promises (
            id bigserial PRIMARY KEY,
            loan_id uuid NOT NULL REFERENCES loans (id),
            promised_date date NOT NULL,
            amount bigint NOT NULL CHECK (amount > 0),
            status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'kept', 'broken', 'replaced')),
            paid_before bigint NOT NULL,
            staff_id uuid,
            created_at timestamptz NOT NULL DEFAULT now(),
            resolved_on date
        );
        CREATE INDEX ix_payment_promises_due ON payment_promises (promised_date) WHERE status = 'open';

        -- The daily report as close of business recorded it.
        CREATE TABLE daily_reports (
            business_date date PRIMARY KEY,
            figures jsonb NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now()
        );
        """
    )


def downgrade() -> None:
    op.execute(
        "DROP TABLE daily_reports; DROP TABLE payment_promises; DROP TABLE collection_contacts;"
        " DROP TABLE collection_cases; DROP TABLE collection_ladders; DROP TABLE loan_payments; DROP TABLE loan_events;"
        " DROP TABLE loan_night_projections; DROP TABLE cob_runs;"
        " ALTER TABLE loans DROP COLUMN accrued_interest, DROP COLUMN accrued_penalty, DROP COLUMN accrued_fines,"
        " DROP COLUMN accrued_fees, DROP COLUMN settled, DROP COLUMN accrued_through, DROP COLUMN projected_until,"
        " DROP COLUMN overdue_since, DROP COLUMN extensions, DROP COLUMN closed_on, DROP COLUMN collector_id"
    )
