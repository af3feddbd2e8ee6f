"""The web app's layers: views and the API call webapp.services; services never import views or the API, and
create_app has no side effects (no tables, no thread)."""

from __future__ import annotations

import ast
import threading
from pathlib import Path

from sqlalchemy import inspect

WEBAPP = Path(__file__).resolve().parents[2] / "webapp"


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_services_never_import_views_or_the_api():
    offenders = {
        str(path.relative_to(WEBAPP)): sorted(n for n in _imports(path) if n.startswith(("webapp.views", "webapp.api")))
        for path in sorted((WEBAPP / "services").rglob("*.py"))
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_indexer_does_not_import_services_views_or_the_api():
    for path in sorted((WEBAPP / "indexer").rglob("*.py")):
        bad = [n for n in _imports(path) if n.startswith(("webapp.services", "webapp.views", "webapp.api"))]
        assert bad == [], path


def test_create_app_creates_no_table_and_starts_no_thread(tmp_path):
    from webapp import create_app
    from webapp.extensions import db

    before = {t.name for t in threading.enumerate()}
    app = create_app({"SECRET_KEY": "k" * 32, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'untouched.db'}",
                      "INDEXER_ENABLED": True})  # fmt: skip
    with app.app_context():
        assert inspect(db.engine).get_table_names() == []
        db.engine.dispose()
    assert "indexer" not in {t.name for t in threading.enumerate()} - before
