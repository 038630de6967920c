"""Conversion postbacks to CPA networks."""
