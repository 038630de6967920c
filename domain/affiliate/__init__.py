"""Affiliate revenue share: commission plans, partners' effective-dated terms, distribution up the line, and the
differences a retroactive change owes (issue 7; the pure rules only so far)."""
