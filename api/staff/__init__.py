"""Routes for staff: sign-in, staff accounts, the audit log (and, later, every back-office tool)."""
