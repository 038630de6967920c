"""The chart of accounts: every purpose the platform books money under, with its kind and normal side.

Nothing else spells an account purpose. House accounts (the company's own: settlement, income, expense) are split
into shards per currency so concurrent postings do not queue on one row; owner accounts (a loan's receivables, a
user's wallet, a partner's commission wallet) belong to one business object. Under the ledger's credit-positive
convention an asset or expense grows with negative amounts, the rest with positive ones (`domain/ledger.py`)."""

from __future__ import annotations

from enum import StrEnum

from domain.ledger import NORMAL_SIGN, AccountKind
from domain.lending.engine import Component


class Side(StrEnum):
    DEBIT = "debit"
    CREDIT = "credit"


class HouseAccount(StrEnum):
    SETTLEMENT = "settlement"  # cash at the payment provider: disbursements out, repayments and top-ups in
    FEE_INCOME = "fee_income"  # loan origination fees and wallet transfer fees
    INTEREST_INCOME = "interest_income"
    PENALTY_INCOME = "penalty_income"
    FINE_INCOME = "fine_income"
    LOAN_LOSS = "loan_loss"  # principal written off or waived
    FX_POSITION = "fx_position"  # the company's position in each currency after conversions
    BONUS_EXPENSE = "bonus_expense"  # bonuses credited to wallets
    COMMISSION_EXPENSE = "commission_expense"  # partners' commissions

    @property
    def kind(self) -> AccountKind:
        return _HOUSE_KINDS[self]

    @property
    def normal_side(self) -> Side:
        return normal_side(self.kind)

    @property
    def code_prefix(self) -> str:
        """What every shard's code starts with: how reports group the shards of one purpose."""
        return f"house:{self.value}"

    def code(self, currency: str, shard: int) -> str:
        return f"{self.code_prefix}:{currency}:{shard}"


class OwnerAccount(StrEnum):
    """Accounts of one business object; the owner type is the first part of the account's code."""

    LOAN_RECEIVABLE = "loan"  # one per loan component: what the borrower owes
    WALLET = "wallet"  # what the company owes a user (a partner's commission wallet is one of them)

    @property
    def kind(self) -> AccountKind:
        return AccountKind.ASSET if self is OwnerAccount.LOAN_RECEIVABLE else AccountKind.LIABILITY

    @property
    def normal_side(self) -> Side:
        return normal_side(self.kind)


_HOUSE_KINDS = {
    HouseAccount.SETTLEMENT: AccountKind.ASSET,
    HouseAccount.FEE_INCOME: AccountKind.INCOME,
    HouseAccount.INTEREST_INCOME: AccountKind.INCOME,
    HouseAccount.PENALTY_INCOME: AccountKind.INCOME,
    HouseAccount.FINE_INCOME: AccountKind.INCOME,
    HouseAccount.LOAN_LOSS: AccountKind.EXPENSE,
    HouseAccount.FX_POSITION: AccountKind.EQUITY,
    HouseAccount.BONUS_EXPENSE: AccountKind.EXPENSE,
    HouseAccount.COMMISSION_EXPENSE: AccountKind.EXPENSE,
}

# Where each charge of a loan is earned; principal is not income.
INCOME_FOR: dict[Component, HouseAccount] = {
    Component.INTEREST: HouseAccount.INTEREST_INCOME,
    Component.FEES: HouseAccount.FEE_INCOME,
    Component.PENALTY: HouseAccount.PENALTY_INCOME,
    Component.FINES: HouseAccount.FINE_INCOME,
}


def normal_side(kind: AccountKind) -> Side:
    return Side.DEBIT if NORMAL_SIGN[kind] < 0 else Side.CREDIT


def loan_account_code(loan_id: object, component: Component) -> str:
    return f"{OwnerAccount.LOAN_RECEIVABLE.value}:{loan_id}:{component.value}"


def wallet_account_code(wallet_id: object) -> str:
    return f"{OwnerAccount.WALLET.value}:{wallet_id}"
