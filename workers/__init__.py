"""Processes: the `lendflow` command, Temporal workers, and the embedded servers of the dev stack."""
