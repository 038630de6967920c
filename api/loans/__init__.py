"""A borrower's loans."""
