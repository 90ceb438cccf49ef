"""Storage: SQLAlchemy models, the engine set-up for SQLite and PostgreSQL, migrations and every query."""
