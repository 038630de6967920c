"""Queries named after what they answer. Each function takes the session it works in; callers own transactions."""
