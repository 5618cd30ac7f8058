"""`flask.g` has one owner, `telehealth.context`: every key is read and written through it."""

from __future__ import annotations

import ast
from pathlib import Path

import telehealth
from telehealth import context
from telehealth.extensions import db

PACKAGE = Path(telehealth.__file__).parent


def modules_using_g() -> list[str]:
    """The app's modules that import `g` from flask (or reach `flask.g`)."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            imports_g = isinstance(node, ast.ImportFrom) and node.module == "flask"
            if (imports_g and any(alias.name == "g" for alias in node.names)) or (
                isinstance(node, ast.Attribute) and ast.unparse(node) == "flask.g"
            ):
                found.append(str(path.relative_to(PACKAGE.parent)))
                break
    return found


def test_only_the_context_module_touches_flask_g():
    assert modules_using_g() == ["telehealth/context.py"]


def test_each_key_reads_back_what_was_written(app):
    with app.test_request_context("/"):
        assert context.request_id() is None
        assert context.started() is None
        assert context.current_actor() is None
        assert context.audit() is None
        assert context.keep_changes() is False
        context.set_request_id("abc")
        context.set_started(1.5)
        context.set_keep_changes()
        assert (context.request_id(), context.started(), context.keep_changes()) == (
            "abc",
            1.5,
            True,
        )
        context.set_request_id(None)
        assert context.request_id() is None


def test_nothing_is_carried_from_one_request_to_the_next(app):
    with app.test_request_context("/"):
        context.set_request_id("first")
        context.set_keep_changes()
    with app.test_request_context("/"):
        assert context.request_id() is None
        assert context.keep_changes() is False


def test_the_session_is_opened_on_first_use_and_forgotten_at_teardown(app):
    with app.app_context():
        assert context.db_session() is None
        session = db.session
        assert context.db_session() is session
        assert db.session is session
    with app.app_context():
        assert context.db_session() is None
