"""Card charges and payouts."""
