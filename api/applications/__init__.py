"""Loan applications: the borrower's side and the underwriters'."""
