"""ledger: accounts, journal entries, postings, holds; wallets, wallet types, FX rates

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22

The rules that must hold whatever code writes here live in the schema:
- a posting is never changed or removed (triggers), and neither is a journal entry;
- the postings an INSERT statement adds balance to zero per entry and currency (statement trigger);
- an account that may not go negative never has postings and holds that take it there (CHECK);
- an idempotency key names one entry only (UNIQUE).
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE accounts (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            code text NOT NULL UNIQUE,
            owner_type text NOT NULL CHECK (owner_type IN ('company', 'user', 'partner', 'loan')),
            owner_id uuid,
            currency char(3) NOT NULL,
            kind text NOT NULL CHECK (kind IN ('asset', 'liability', 'income', 'expense', 'equity')),
            allow_negative boolean NOT NULL,
            balance bigint NOT NULL DEFAULT 0,
            pending_debit bigint NOT NULL DEFAULT 0 CHECK (pending_debit >= 0),
            created_at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT ck_accounts_spendable CHECK (allow_negative OR balance - pending_debit >= 0)
        );
        CREATE INDEX ix_accounts_owner ON accounts (owner_type, owner_id);

        CREATE TABLE journal_entries (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            idempotency_key text NOT NULL UNIQUE,
            content_hash bytea NOT NULL,
            kind text NOT NULL,
            value_date date NOT NULL,
            recorded_at timestamptz NOT NULL DEFAULT now(),
            corrects_entry_id bigint REFERENCES journal_entries (id),
            metadata jsonb NOT NULL DEFAULT '{}'
        );
        CREATE INDEX ix_journal_entries_value_date ON journal_entries (value_date);

        CREATE TABLE postings (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            entry_id bigint NOT NULL REFERENCES journal_entries (id),
            account_id bigint NOT NULL REFERENCES accounts (id),
            amount bigint NOT NULL CHECK (amount <> 0),
            currency char(3) NOT NULL,
            value_date date NOT NULL
        );
        CREATE INDEX ix_postings_entry ON postings (entry_id);
        CREATE INDEX ix_postings_account_value_date ON postings (account_id, value_date);

        CREATE FUNCTION postings_balance() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            bad record;
        BEGIN
            SELECT entry_id, currency, sum(amount) AS total INTO bad
            FROM new_postings GROUP BY entry_id, currency HAVING sum(amount) <> 0 LIMIT 1;
            IF FOUND THEN
                RAISE EXCEPTION 'journal entry % does not balance in %: %', bad.entry_id, bad.currency, bad.total
                    USING ERRCODE = 'check_violation';
            END IF;
            RETURN NULL;
        END $$;
        CREATE TRIGGER postings_balance AFTER INSERT ON postings
            REFERENCING NEW TABLE AS new_postings FOR EACH STATEMENT EXECUTE FUNCTION postings_balance();
        CREATE TRIGGER postings_append_only BEFORE UPDATE OR DELETE ON postings
            FOR EACH ROW EXECUTE FUNCTION refuse_change();
        CREATE TRIGGER journal_entries_append_only BEFORE UPDATE OR DELETE ON journal_entries
            FOR EACH ROW EXECUTE FUNCTION refuse_change();

        CREATE TABLE holds (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            idempotency_key text NOT NULL UNIQUE,
            account_id bigint NOT NULL REFERENCES accounts (id),
            amount bigint NOT NULL CHECK (amount > 0),
            currency char(3) NOT NULL,
            status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'posted', 'voided', 'expired')),
            posted_amount bigint NOT NULL DEFAULT 0 CHECK (posted_amount >= 0 AND posted_amount <= amount),
            expires_at timestamptz,
            created_at timestamptz NOT NULL DEFAULT now(),
            resolved_at timestamptz,
            resolution_entry_id bigint REFERENCES journal_entries (id),
            metadata jsonb NOT NULL DEFAULT '{}'
        );
        CREATE INDEX ix_holds_pending_expiry ON holds (expires_at) WHERE status = 'pending';

        CREATE TABLE fx_rates (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            base char(3) NOT NULL,
            quote char(3) NOT NULL,
            rate numeric(30, 12) NOT NULL CHECK (rate > 0),
            valid_from timestamptz NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT uq_fx_rates_pair_from UNIQUE (base, quote, valid_from),
            CHECK (base <> quote)
        );

        CREATE TABLE wallet_types (
            code text PRIMARY KEY,
            currencies text[] NOT NULL,
            rules_currency char(3) NOT NULL,
            min_amount bigint NOT NULL DEFAULT 0 CHECK (min_amount >= 0),
            max_amount bigint CHECK (max_amount IS NULL OR max_amount >= min_amount),
            fee_percent numeric(9, 4) NOT NULL DEFAULT 0 CHECK (fee_percent >= 0 AND fee_percent < 100),
            fee_fixed bigint NOT NULL DEFAULT 0 CHECK (fee_fixed >= 0),
            allow_negative boolean NOT NULL DEFAULT false,
            payouts_allowed boolean NOT NULL DEFAULT true,
            topups_allowed boolean NOT NULL DEFAULT true,
            updated_at timestamptz NOT NULL DEFAULT now()
        );

        CREATE TABLE wallets (
            id uuid PRIMARY KEY,
            owner_id uuid NOT NULL REFERENCES users (id),
            type_code text NOT NULL REFERENCES wallet_types (code),
            currency char(3) NOT NULL,
            account_id bigint NOT NULL UNIQUE REFERENCES accounts (id),
            created_at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT uq_wallets_owner_type_currency UNIQUE (owner_id, type_code, currency)
        );
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP TABLE wallets; DROP TABLE wallet_types; DROP TABLE fx_rates; DROP TABLE holds;
        DROP TRIGGER journal_entries_append_only ON journal_entries;
        DROP TRIGGER postings_append_only ON postings; DROP TRIGGER postings_balance ON postings;
        DROP FUNCTION postings_balance(); DROP TABLE postings; DROP TABLE journal_entries; DROP TABLE accounts;
        """
    )
