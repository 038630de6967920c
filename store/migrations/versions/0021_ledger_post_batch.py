"""entries that stand alone, posted together: one transaction, one commit, each entry on its own

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-29
"""

from __future__ import annotations

from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The posting pool's group commit (store/posting_pool.py): entries that arrive while a connection is busy travel
    # together as one jsonb array, each item the arguments of ledger_post_one. Every account of the batch is locked
    # first, in id order, so a batch takes its locks in the same order as a single entry does and two batches never
    # deadlock on accounts. Each entry runs in a subtransaction of its own: an overdraft or a wrong account refuses
    # that entry alone (reported by name, not raised) and the rest commit. A taken key returns no id and no failure,
    # as ledger_post_one does; the client compares content.
    op.execute(
        """
        CREATE FUNCTION ledger_post_batch(p_entries jsonb)
            RETURNS TABLE (entry_id bigint, failure text) LANGUAGE plpgsql AS $$
        DECLARE
            v_item jsonb;
            v_constraint text;
        BEGIN
            PERFORM 1 FROM accounts
            WHERE id IN (SELECT a.value::bigint FROM jsonb_array_elements(p_entries) e,
                                                     jsonb_array_elements_text(e.value -> 5) a)
            ORDER BY id FOR NO KEY UPDATE;
            FOR v_item IN SELECT value FROM jsonb_array_elements(p_entries) LOOP
                failure := NULL;
                BEGIN
                    entry_id := ledger_post_one(
                        v_item ->> 0, v_item ->> 1, (v_item ->> 2)::date, (v_item ->> 3)::bigint, v_item -> 4,
                        ARRAY(SELECT x::bigint FROM jsonb_array_elements_text(v_item -> 5) x),
                        ARRAY(SELECT x::bigint FROM jsonb_array_elements_text(v_item -> 6) x),
                        v_item ->> 7);
                EXCEPTION
                    WHEN check_violation THEN
                        GET STACKED DIAGNOSTICS v_constraint = CONSTRAINT_NAME;
                        IF v_constraint <> 'ck_accounts_spendable' THEN
                            RAISE;
                        END IF;
                        entry_id := NULL;
                        failure := 'overdraft';
                    WHEN SQLSTATE 'LF001' THEN
                        entry_id := NULL;
                        failure := 'account_mismatch';
                END;
                RETURN NEXT;
            END LOOP;
        END $$;
        """
    )


def downgrade() -> None:
    op.execute("DROP FUNCTION ledger_post_batch")
