"""Pure money logic: no I/O, nothing of ours imported. Products, calculator, accrual, allocation, ledger rules."""
