"""Alembic environment: runs migrations on the engine handed over by ``db.migrate``."""

from __future__ import annotations

from alembic import context

from db.engine import make_engine
from db.migrate import include_name
from db.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    """Run migrations on a live connection (batch mode on SQLite, where ALTER is limited)."""
    engine = config.attributes.get("engine") or make_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
            include_name=include_name,  # the search index and job engine are not models
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations_online()
