"""The schema comes from the migrations: `upgrade` makes an empty database match the models, takes a database of
the commit before migrations existed (db.create_all(), captured in tests/webapp/data/) to the newest schema with its
rows intact, and the app's commands refuse a database that is not upgraded. On SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, select, text

from webapp import create_app
from webapp.extensions import db
from webapp.models import IndexerState, User
from webapp.schema import SchemaOutdated, head_revision, require_current, upgrade

DATA = Path(__file__).parent / "data"


def _app(url: str):
    return create_app({"SECRET_KEY": "k" * 32, "SQLALCHEMY_DATABASE_URI": url})


def _differences(app) -> list:
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, db.metadata)


def _dispose(app) -> None:
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_upgrade_creates_the_models_schema_in_an_empty_database(databases):
    app = _app(databases.empty())
    try:
        with pytest.raises(SchemaOutdated, match="python -m webapp upgrade"):
            require_current(app)
        assert upgrade(app) == head_revision()
        assert _differences(app) == []
        require_current(app)
        assert upgrade(app) == head_revision()  # a second run changes nothing
    finally:
        _dispose(app)


def test_upgrade_takes_the_schema_from_before_migrations(databases):
    url = databases.empty()
    ddl = (DATA / f"schema-before-migrations.{databases.backend}.sql").read_text()
    engine = create_engine(url)
    with engine.begin() as connection:  # the previous commit's database, with a user and indexer progress in it
        for statement in ddl.split(";\n"):
            body = "\n".join(line for line in statement.splitlines() if not line.startswith("--")).strip()
            if body:
                connection.execute(text(body))
        connection.execute(text("INSERT INTO users (username, address, is_operator, created_at) "
                                "VALUES ('before', '0x" + "ab" * 20 + "', false, CURRENT_TIMESTAMP)"))  # fmt: skip
        connection.execute(text("INSERT INTO indexer_state (key, value) VALUES ('last_block', '42')"))
    engine.dispose()
    app = _app(url)
    try:
        assert upgrade(app) == head_revision()
        assert _differences(app) == []
        with app.app_context():
            assert db.session.scalar(select(User.username)) == "before"
            assert db.session.get(IndexerState, "last_block").value == "42"
    finally:
        _dispose(app)


def test_upgrade_from_the_previous_revision_moves_to_server_side_sessions(databases):
    """0002 -> 0003: users stay, the old API tokens (an in-memory-cached table) are gone, sessions, SIWE nonces and
    top-up requests exist, and the result is exactly the models' schema."""
    import flask_migrate

    from webapp.schema import MIGRATIONS_DIR

    app = _app(databases.empty())
    try:
        with app.app_context():
            flask_migrate.upgrade(directory=str(MIGRATIONS_DIR), revision="0002_indexer_state_text")
            db.session.execute(text("INSERT INTO users (username, address, is_operator, created_at) "
                                    "VALUES ('kept', '0x" + "cd" * 20 + "', false, CURRENT_TIMESTAMP)"))  # fmt: skip
            db.session.execute(text("INSERT INTO api_tokens (token_hash, user_id, expires_at) "
                                    "VALUES ('" + "0" * 64 + "', 1, CURRENT_TIMESTAMP)"))  # fmt: skip
            db.session.commit()
        assert upgrade(app) == head_revision()
        assert _differences(app) == []
        with app.app_context():
            assert db.session.scalar(select(User.username)) == "kept"
            tables = set(db.inspect(db.engine).get_table_names())
        assert {"auth_sessions", "siwe_nonces", "topup_requests"} <= tables and "api_tokens" not in tables
    finally:
        _dispose(app)


def test_upgrade_from_the_previous_revision_adds_display_names_and_sealed_commitments(databases):
    """0004 -> 0005: accounts and their sessions stay, users get an empty display_name, sealed_commitments exists,
    and the result is exactly the models' schema."""
    import flask_migrate

    from webapp.schema import MIGRATIONS_DIR

    app = _app(databases.empty())
    try:
        with app.app_context():
            flask_migrate.upgrade(directory=str(MIGRATIONS_DIR), revision="0004_reindex_offer_fills")
            db.session.execute(text("INSERT INTO users (username, address, is_operator, created_at) "
                                    "VALUES ('kept', '0x" + "ef" * 20 + "', false, CURRENT_TIMESTAMP)"))  # fmt: skip
            db.session.commit()
        assert upgrade(app) == head_revision()
        assert _differences(app) == []
        with app.app_context():
            assert db.session.execute(select(User.username, User.display_name)).one() == ("kept", None)
            assert "sealed_commitments" in set(db.inspect(db.engine).get_table_names())
    finally:
        _dispose(app)
