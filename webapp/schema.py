"""The database schema through Alembic migrations (webapp/migrations): upgrade to the newest, check it is current.

A database made by the web app before migrations existed (tables from `db.create_all()`, no alembic_version) has
exactly the schema of the first migration, BASELINE: it is stamped with it, then upgraded like any other.
"""

from __future__ import annotations

from pathlib import Path

import flask_migrate
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from sqlalchemy import inspect

from webapp.extensions import db

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
BASELINE = "0001_initial"


class SchemaOutdated(RuntimeError):
    pass


def head_revision() -> str:
    script = ScriptDirectory(str(MIGRATIONS_DIR))
    head = script.get_current_head()
    assert head is not None
    return head


def current_revision(app: Flask) -> str | None:
    with app.app_context(), db.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(app: Flask) -> str:
    """Bring the app's database to the newest schema (creating it when empty); returns the revision."""
    with app.app_context():
        tables = set(inspect(db.engine).get_table_names())
        if "users" in tables and "alembic_version" not in tables:
            flask_migrate.stamp(directory=str(MIGRATIONS_DIR), revision=BASELINE)
        flask_migrate.upgrade(directory=str(MIGRATIONS_DIR))
    revision = current_revision(app)
    assert revision is not None
    return revision


def require_current(app: Flask) -> None:
    """Refuse to run on a database whose schema is missing or older than this code."""
    current = current_revision(app)
    if current != head_revision():
        with app.app_context():
            url = db.engine.url.render_as_string(hide_password=True)
        raise SchemaOutdated(
            f"the database {url} is at schema {current or 'none'}, this code needs "
            f"{head_revision()}: run `python -m webapp upgrade` first"
        )
