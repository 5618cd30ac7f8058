"""The telehealth service: `create_app()` builds a configured Flask app."""

from __future__ import annotations

from pathlib import Path

import swagger_ui_bundle
from flask import Flask, send_from_directory
from werkzeug.middleware.proxy_fix import ProxyFix

from config import Config, load_config
from telehealth.errors import register_error_handlers
from telehealth.extensions import api, db, jwt, limiter, migrate
from telehealth.jsonio import OrjsonProvider


def create_app(config: Config | str | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    app.json = OrjsonProvider(app)
    settings = config if isinstance(config, Config) else load_config(config)
    app.config.from_object(settings)
    if app.config["DATABASE_URL"].startswith("sqlite:///"):
        Path(app.config["DATABASE_URL"].removeprefix("sqlite:///")).parent.mkdir(
            parents=True, exist_ok=True
        )
    if app.config["TRUSTED_PROXY_COUNT"]:
        count = app.config["TRUSTED_PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count)  # type: ignore[method-assign]

    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_commands(app)
    return app


def register_extensions(app: Flask) -> None:
    import telehealth.models
    import telehealth.worker.tasks  # noqa: F401 - committed outbox events reach the queue
    from telehealth.discovery.info import spec_info
    from telehealth.guards import register_request_guards
    from telehealth.headers import register_security_headers
    from telehealth.observability import register_observability
    from telehealth.openapi import OperationDocs
    from telehealth.transactions import register_transaction_boundary

    # Order matters for after_request hooks (last registered runs first): commit, log, then
    # the security headers, on whatever answer the commit left (a 503 included).
    register_security_headers(app)
    register_observability(app)
    register_transaction_boundary(app)
    # before_request hooks run first-registered first: the guards once the request id is set.
    register_request_guards(app)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(__file__).parent.parent / "migrations"))
    jwt.init_app(app)
    limiter.init_app(app)
    api.init_app(
        app,
        spec_kwargs={
            "info": spec_info(app.config),
            "components": {
                "securitySchemes": {
                    "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
                }
            },
            "security": [{"bearerAuth": []}],
            # Every error, header and media type each operation really answers with.
            "extra_plugins": [OperationDocs(app)],
        },
    )


def register_blueprints(app: Flask) -> None:
    from telehealth.accounts.routes import blp as clinicians
    from telehealth.alerts.routes import blp as alerts
    from telehealth.audit.routes import blp as audit
    from telehealth.auth.routes import blp as auth
    from telehealth.calendar.routes import blp as calendar
    from telehealth.checkins.routes import blp as checkins
    from telehealth.discovery.routes import blp as index
    from telehealth.export.routes import blp as export
    from telehealth.instruments.routes import blp as instruments
    from telehealth.monitoring.routes import blp as monitoring
    from telehealth.observability import health
    from telehealth.outbound.routes import blp as inbox
    from telehealth.passwords.routes import blp as passwords
    from telehealth.patients.routes import blp as patients
    from telehealth.schedules.routes import blp as schedules
    from telehealth.sessions.routes import blp as sessions
    from telehealth.webhooks.routes import blp as webhooks

    for blueprint in (
        index,
        health,
        auth,
        passwords,
        clinicians,
        patients,
        sessions,
        calendar,
        monitoring,
        instruments,
        checkins,
        alerts,
        audit,
        export,
        inbox,
        webhooks,
        schedules,
    ):
        api.register_blueprint(blueprint)

    assets = Path(swagger_ui_bundle.swagger_ui_path)

    @app.get("/docs/assets/<path:filename>")
    def docs_assets(filename: str):  # type: ignore[no-untyped-def]
        """Swagger UI's files, served here so the docs page works with no internet."""
        return send_from_directory(assets, filename, max_age=86400)


def register_errorhandlers(app: Flask) -> None:
    register_error_handlers(app)


def register_commands(app: Flask) -> None:
    from telehealth.commands import commands

    for command in commands:
        app.cli.add_command(command)
