"""one journal entry in one round trip, with the database deriving what it can

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-29
"""

from __future__ import annotations

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Like ledger_post (0002), with fewer and cheaper parameters: the net change per account is summed here rather
    # than sent, the currencies travel as one text ("USD" for all postings, or "USD,EUR,..." one per posting), and
    # no content hash is stored: a replay compares the stored postings with the new draft (store/ledger.py), as the
    # bulk path always has. Called on an autocommit connection, the function is the whole transaction: one round
    # trip per entry.
    op.execute(
        """
        CREATE FUNCTION ledger_post_one(p_key text, p_kind text, p_value_date date, p_corrects bigint,
            p_metadata jsonb, p_accounts bigint[], p_amounts bigint[], p_currencies text)
            RETURNS bigint LANGUAGE plpgsql AS $$
        DECLARE
            v_entry bigint;
            v_currencies text[];
            v_found bigint;
        BEGIN
            INSERT INTO journal_entries (idempotency_key, content_hash, kind, value_date, corrects_entry_id, metadata)
            VALUES (p_key, NULL, p_kind, p_value_date, p_corrects, p_metadata)
            ON CONFLICT (idempotency_key) DO NOTHING RETURNING id INTO v_entry;
            IF v_entry IS NULL THEN
                RETURN NULL;
            END IF;
            IF length(p_currencies) = 3 THEN
                v_currencies := array_fill(p_currencies, ARRAY[cardinality(p_accounts)]);
            ELSE
                v_currencies := string_to_array(p_currencies, ',');
            END IF;
            -- The accounts are locked in id order (concurrent entries over the same accounts queue instead of
            -- deadlocking) by the same statement that checks each posting names an account that exists and holds
            -- its currency: a wrong account is its own error (LF001), raised before any row is written.
            SELECT count(*) INTO v_found FROM (
                SELECT 1 FROM accounts a
                JOIN (SELECT DISTINCT x.id, x.currency FROM unnest(p_accounts, v_currencies) AS x(id, currency)) p
                  ON a.id = p.id AND a.currency = p.currency
                ORDER BY a.id FOR NO KEY UPDATE OF a
            ) locked;
            IF v_found <> (SELECT count(*) FROM (SELECT DISTINCT x.id, x.currency
                                                 FROM unnest(p_accounts, v_currencies) AS x(id, currency)) wanted) THEN
                RAISE EXCEPTION 'a posting names an unknown account or one held in another currency'
                    USING ERRCODE = 'LF001';
            END IF;
            UPDATE accounts a SET balance = a.balance + d.delta
            FROM (SELECT x.id, sum(x.amount) AS delta FROM unnest(p_accounts, p_amounts) AS x(id, amount)
                  GROUP BY x.id) d
            WHERE a.id = d.id AND d.delta <> 0;
            INSERT INTO postings (entry_id, account_id, amount, currency, value_date)
            SELECT v_entry, p.account_id, p.amount, p.currency, p_value_date
            FROM unnest(p_accounts, p_amounts, v_currencies) AS p(account_id, amount, currency);
            RETURN v_entry;
        END $$;
        """
    )


def downgrade() -> None:
    op.execute("DROP FUNCTION ledger_post_one")
