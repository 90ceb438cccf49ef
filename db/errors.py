"""Errors the storage layer raises on purpose."""


class SchemaOutOfDateError(Exception):
    """The database schema is not at the migration head; ``labourwatch db upgrade`` fixes it."""
