"""Alembic environment: the app's engine and `Base.metadata`, types compared, batch mode so
the same revisions run on SQLite (which cannot ALTER most things in place) and PostgreSQL."""

from __future__ import annotations

import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app

import telehealth.models  # noqa: F401 - registers every table on Base.metadata
from telehealth.db import Base, UTCTimestamp

config = context.config
if config.config_file_name is not None and not logging.getLogger("telehealth").handlers:
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata


def render_item(type_: str, obj: object, autogen_context: object) -> str | bool:
    """Write the app's column types as plain SQLAlchemy types, so that a revision never imports
    application code (which moves on while the revision stays as written)."""
    if type_ == "type" and isinstance(obj, UTCTimestamp):
        return "sa.DateTime(timezone=True)"
    return False


def _options() -> dict[str, object]:
    return {
        "target_metadata": target_metadata,
        "compare_type": True,
        "compare_server_default": True,
        "render_as_batch": True,
        "render_item": render_item,
    }


def run_migrations_offline() -> None:
    context.configure(url=current_app.config["DATABASE_URL"], literal_binds=True, **_options())
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connectable = current_app.extensions["migrate"].db.get_engine()
    with connectable.connect() as connection:
        context.configure(connection=connection, **_options())
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
