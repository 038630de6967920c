"""Persistence: SQLAlchemy models, repositories named after what they answer, Alembic migrations."""
