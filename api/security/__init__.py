"""Credentials: bearer tokens, staff passwords, one-time codes."""
