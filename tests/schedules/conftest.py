"""The schedule tests walk simulated days, thousands of scheduler passes over every plan. On
PostgreSQL the suite's rolled-back transactions leave dead rows that autovacuum may not have
reached by the time these run (after a fault test restarts the server it can be tens of
thousands), and every pass would read through them: vacuum and analyze once, as a live
database's autovacuum would have."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import text

from telehealth.extensions import db


@pytest.fixture(scope="module", autouse=True)
def vacuumed(migrated_app: Flask) -> Iterator[None]:
    with migrated_app.app_context():
        engine = db.engine
        if engine.dialect.name == "postgresql":
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(text("VACUUM ANALYZE"))
    yield
