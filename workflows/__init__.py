"""Deterministic orchestration of long-running processes: waits, timers, retries, compensation."""
