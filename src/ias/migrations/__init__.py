"""Alembic migrations for SQLite and PostgreSQL; run them through `ias.migrations.runner`."""
