"""Credit bureaus and scoring providers."""
