"""loan origination: applications, credit checks, rule sets, blacklist, agreements, cards, loans, CPA postbacks

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        -- Underwriting rules per product, versioned: a decision names the version it was made under.
        CREATE TABLE credit_rule_sets (
            id uuid PRIMARY KEY,
            product_id uuid NOT NULL REFERENCES credit_products (id),
            version integer NOT NULL,
            rules jsonb NOT NULL,
            created_by uuid,
            created_at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT uq_credit_rule_sets_version UNIQUE (product_id, version)
        );
        CREATE TRIGGER credit_rule_sets_append_only BEFORE UPDATE OR DELETE ON credit_rule_sets
            FOR EACH ROW EXECUTE FUNCTION refuse_change();

        -- Personal data is in applicant_encrypted; the lookups are keyed hashes for velocity and customer views.
        CREATE TABLE loan_applications (
            id uuid PRIMARY KEY,
            user_id uuid NOT NULL REFERENCES users (id),
            product_id uuid NOT NULL REFERENCES credit_products (id),
            product_version_id uuid NOT NULL REFERENCES credit_product_versions (id),
            principal bigint NOT NULL CHECK (principal > 0),
            term_days integer NOT NULL CHECK (term_days > 0),
            currency char(3) NOT NULL,
            monthly_income bigint NOT NULL CHECK (monthly_income >= 0),
            applicant_encrypted bytea NOT NULL,
            national_id_lookup bytea NOT NULL,
            phone_lookup bytea NOT NULL,
            device_lookup bytea,
            client_address text,
            cpa_network text,
            cpa_click_id text,
            status text NOT NULL,
            decision jsonb,
            offer jsonb,
            loan_id uuid,
            failure_code text,
            escalated_at timestamptz,
            created_at timestamptz NOT NULL DEFAULT now(),
            status_changed_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX ix_loan_applications_queue ON loan_applications (status, status_changed_at);
        CREATE INDEX ix_loan_applications_user ON loan_applications (user_id, created_at DESC);
        CREATE INDEX ix_loan_applications_national_id ON loan_applications (national_id_lookup, created_at);
        CREATE INDEX ix_loan_applications_phone ON loan_applications (phone_lookup, created_at);
        CREATE INDEX ix_loan_applications_device ON loan_applications (device_lookup, created_at);

        -- What bureaus, scoring and anti-fraud said, kept for staff and for the borrower's credit history.
        CREATE TABLE credit_checks (
            id bigserial PRIMARY KEY,
            application_id uuid NOT NULL REFERENCES loan_applications (id),
            user_id uuid NOT NULL REFERENCES users (id),
            kind text NOT NULL CHECK (kind IN ('bureau', 'score', 'fraud')),
            provider text NOT NULL,
            reference text NOT NULL,
            status text NOT NULL,
            summary jsonb NOT NULL DEFAULT '{}'::jsonb,
            created_at timestamptz NOT NULL DEFAULT now(),
            received_at timestamptz,
            CONSTRAINT uq_credit_checks_reference UNIQUE (provider, kind, reference)
        );
        CREATE INDEX ix_credit_checks_user ON credit_checks (user_id, created_at DESC);

        CREATE TABLE blacklist (
            kind text NOT NULL CHECK (kind IN ('phone', 'national_id', 'device')),
            value_lookup bytea NOT NULL,
            reason text NOT NULL,
            created_by uuid,
            created_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (kind, value_lookup)
        );

        -- The agreement as the borrower saw it, its hash, the signing code (hashed) and the evidence of signing.
        CREATE TABLE loan_agreements (
            application_id uuid PRIMARY KEY REFERENCES loan_applications (id),
            document text NOT NULL,
            document_hash text NOT NULL,
            code_hash bytea,
            code_expires_at timestamptz,
            attempts integer NOT NULL DEFAULT 0,
            codes_sent integer NOT NULL DEFAULT 0,
            signed_at timestamptz,
            signer_id uuid,
            signer_phone_encrypted bytea,
            signer_address text,
            voided_at timestamptz,
            created_at timestamptz NOT NULL DEFAULT now()
        );

        -- Only the provider's tokens: card numbers never reach us.
        CREATE TABLE payment_cards (
            id uuid PRIMARY KEY,
            user_id uuid NOT NULL REFERENCES users (id),
            provider text NOT NULL,
            payment_method text NOT NULL,
            customer_reference text,
            brand text,
            last4 text,
            created_at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT uq_payment_cards_method UNIQUE (user_id, payment_method)
        );

        -- A funded loan. Its balances are ledger balances of the accounts named in `accounts` (DESIGN principle 1).
        CREATE TABLE loans (
            id uuid PRIMARY KEY,
            application_id uuid NOT NULL UNIQUE REFERENCES loan_applications (id),
            user_id uuid NOT NULL REFERENCES users (id),
            product_id uuid NOT NULL REFERENCES credit_products (id),
            product_version_id uuid NOT NULL REFERENCES credit_product_versions (id),
            currency char(3) NOT NULL,
            principal bigint NOT NULL CHECK (principal > 0),
            origination_fee bigint NOT NULL CHECK (origination_fee >= 0),
            term_days integer NOT NULL,
            start_date date NOT NULL,
            due_date date NOT NULL,
            status text NOT NULL,
            card_id uuid REFERENCES payment_cards (id),
            disbursement_reference text,
            disbursement_entry_id bigint,
            accounts jsonb NOT NULL,
            terms jsonb NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX ix_loans_user ON loans (user_id, created_at DESC);
        CREATE INDEX ix_loans_status ON loans (status);
        ALTER TABLE loan_applications ADD CONSTRAINT fk_loan_applications_loan FOREIGN KEY (loan_id) REFERENCES loans (id);

        CREATE TABLE cpa_postbacks (
            application_id uuid PRIMARY KEY REFERENCES loan_applications (id),
            network text NOT NULL,
            url text NOT NULL,
            status text NOT NULL DEFAULT 'pending',
            attempts integer NOT NULL DEFAULT 0,
            last_error text,
            accepted_at timestamptz,
            created_at timestamptz NOT NULL DEFAULT now()
        );
        """
    )


def downgrade() -> None:
    op.execute(
        "DROP TABLE cpa_postbacks; ALTER TABLE loan_applications DROP CONSTRAINT fk_loan_applications_loan; "
        "DROP TABLE loans; DROP TABLE payment_cards; DROP TABLE loan_agreements; DROP TABLE blacklist; "
        "DROP TABLE credit_checks; DROP TABLE loan_applications; DROP TABLE credit_rule_sets;"
    )
