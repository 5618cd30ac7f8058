"""Settings, read from the environment once when the app is created.

`DATABASE_URL` chooses the database (default: a SQLite file under `instance/`), `REDIS_URL` the
shared store for rate limits (default: memory, fine for one process), and `TELEHEALTH_ENV` the
settings class (`development`, `test` or `production`).
"""

from __future__ import annotations

import json
import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})
#: The placeholder that means "not set": development replaces it with a secret of its own under
#: `instance/`, production refuses it.
DEV_SECRET = "dev-only-secret-change-me-0123456789abcdef"


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw else default


def _env_json(name: str, default: Any) -> Any:
    raw = os.environ.get(name)
    if not raw:
        return default
    try:
        return json.loads(raw)
    except ValueError:
        raise RuntimeError(f"{name} must be JSON") from None


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    return float(raw) if raw else default


def _env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    return default if not raw else raw.strip().lower() in {"1", "true", "yes", "on"}


def _development_secret(path: Path) -> str:
    """A development secret (the audit key, the token signing key): made once under
    `instance/` (readable by its owner only), then reused, so the chain written yesterday still
    verifies today and a restart keeps everyone signed in. Never a constant from the repository,
    which anyone could use to sign tokens for a development server."""
    if not path.exists():
        # Written whole under another name, then linked into place: a web process and a worker
        # starting together agree on one key (the second link fails; both read the first).
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f"{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_hex(32))
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text().strip()


def _database_url(default: str) -> str:
    url = os.environ.get("DATABASE_URL", default)
    # Hosting platforms still hand out `postgres://`; SQLAlchemy wants an explicit driver.
    if url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgres://")
    elif url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


class Config:
    """Defaults shared by every environment."""

    ENV_NAME = "base"
    TESTING = False
    SECRET_KEY = os.environ.get("SECRET_KEY", DEV_SECRET)
    DATABASE_URL = _database_url(f"sqlite:///{ROOT / 'instance' / 'telehealth.sqlite3'}")
    DATABASE_ECHO = False
    # PostgreSQL connection pool per process: connections kept, extra ones allowed under load,
    # and how many seconds a request waits for one before failing.
    DATABASE_POOL_SIZE = _env_int("DATABASE_POOL_SIZE", 10)
    DATABASE_MAX_OVERFLOW = _env_int("DATABASE_MAX_OVERFLOW", 10)
    DATABASE_POOL_TIMEOUT = _env_int("DATABASE_POOL_TIMEOUT", 5)
    REDIS_URL = os.environ.get("REDIS_URL") or None

    MAX_CONTENT_LENGTH = _env_int("MAX_CONTENT_LENGTH", 64 * 1024)
    TRUSTED_PROXY_COUNT = _env_int("TRUSTED_PROXY_COUNT", 0)
    # Strict-Transport-Security max-age in seconds; 0 sends none (production sets a year).
    HSTS_MAX_AGE = _env_int("HSTS_MAX_AGE", 0)

    # Tokens: one algorithm, checked issuer and audience, short-lived access tokens.
    JWT_SECRET_KEY = os.environ.get("JWT_SECRET_KEY", SECRET_KEY)
    JWT_ALGORITHM = "HS256"
    JWT_DECODE_ALGORITHMS = ["HS256"]
    JWT_ENCODE_ISSUER = JWT_DECODE_ISSUER = os.environ.get("JWT_ISSUER", "telehealth")
    JWT_ENCODE_AUDIENCE = JWT_DECODE_AUDIENCE = os.environ.get("JWT_AUDIENCE", "telehealth-api")
    JWT_ACCESS_TOKEN_EXPIRES = timedelta(minutes=15)
    # The audit chain's HMAC key (telehealth.audit.chain). Never stored in the database: whoever
    # holds it can rewrite the trail undetectably, so keep it with the other secrets.
    AUDIT_KEY: str | None = os.environ.get("AUDIT_KEY") or None
    # How often the worker logs a signed head of the audit chain (an anchor), in minutes.
    AUDIT_ANCHOR_MINUTES = _env_int("AUDIT_ANCHOR_MINUTES", 60)
    JWT_REFRESH_TOKEN_EXPIRES = timedelta(days=_env_int("REFRESH_TOKEN_DAYS", 30))
    # A refresh token presented again this soon after it was spent answers the same pair (a
    # phone retrying on a bad network); later, reuse revokes the sign-in.
    REFRESH_REUSE_GRACE_SECONDS = _env_int("REFRESH_REUSE_GRACE_SECONDS", 10)
    JWT_TOKEN_LOCATION = ["headers"]
    # POST /auth/refresh also reads the refresh token from a JSON body, as OAuth clients send it.
    JWT_REFRESH_JSON_KEY = "refresh_token"
    JWT_COOKIE_CSRF_PROTECT = False  # tokens travel in headers only
    INVITATION_TTL = timedelta(days=_env_int("INVITATION_TTL_DAYS", 7))
    PASSWORD_MIN_LENGTH = 12
    # How long a password reset link works after its email is sent (at most an hour), and how
    # many resets may be asked for from one address and for one email address.
    PASSWORD_RESET_TTL = timedelta(minutes=_env_int("PASSWORD_RESET_TTL_MINUTES", 30))
    PASSWORD_RESET_RATE_LIMIT_PER_ADDRESS = os.environ.get(
        "PASSWORD_RESET_RATE_LIMIT_PER_ADDRESS", "10/hour"
    )
    PASSWORD_RESET_RATE_LIMIT_PER_EMAIL = os.environ.get(
        "PASSWORD_RESET_RATE_LIMIT_PER_EMAIL", "3/hour"
    )

    # Rate limits (flask-limiter). Memory storage is per process: production sets REDIS_URL.
    RATELIMIT_ENABLED = True
    RATELIMIT_HEADERS_ENABLED = True
    RATELIMIT_STRATEGY = "moving-window"
    LOGIN_RATE_LIMIT_PER_ADDRESS = os.environ.get("LOGIN_RATE_LIMIT_PER_ADDRESS", "20/minute")
    # Per account from one address (a stranger elsewhere cannot lock its owner out), and a
    # higher ceiling per account from all addresses together, so spread guessing stays slow.
    LOGIN_RATE_LIMIT_PER_ACCOUNT = os.environ.get(
        "LOGIN_RATE_LIMIT_PER_ACCOUNT", "5/minute;30/hour"
    )
    LOGIN_RATE_LIMIT_PER_ACCOUNT_ALL_ADDRESSES = os.environ.get(
        "LOGIN_RATE_LIMIT_PER_ACCOUNT_ALL_ADDRESSES", "100/hour"
    )
    # Fetches of secret calendar feed URLs from one address. Generous: a calendar service
    # (Google, Microsoft) polls every subscriber's feed from a few shared addresses.
    CALENDAR_FEED_RATE_LIMIT_PER_ADDRESS = os.environ.get(
        "CALENDAR_FEED_RATE_LIMIT_PER_ADDRESS", "120/minute"
    )

    # OpenAPI and the offline docs page (assets served by the app itself).
    API_TITLE = "Telehealth API"
    API_VERSION = "1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/"
    OPENAPI_JSON_PATH = "openapi.json"
    OPENAPI_SWAGGER_UI_PATH = "docs"
    OPENAPI_SWAGGER_UI_URL = "/docs/assets/"

    LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")

    # At-home monitoring (clinical reference): checkpoint times after medication_taken_at, the
    # grace period before a checkpoint is overdue, and the vital-sign review flags.
    CHECKPOINT_PLUS_40_MINUTES = 40
    CHECKPOINT_END_OF_SESSION_MINUTES = _env_int("CHECKPOINT_END_OF_SESSION_MINUTES", 120)
    CHECKPOINT_GRACE_MINUTES = _env_int("CHECKPOINT_GRACE_MINUTES", 15)
    REVIEW_FLAGS = {
        "systolic_at_least": 160,
        "diastolic_at_least": 100,
        "heart_rate_at_least": 110,
        "heart_rate_below": 50,
        "spo2_below": 92,
        "respiratory_rate_below": 10,
        "sedation_at_most": 2,
    }
    # Measurement-based care: the PCL-5 "probable PTSD" screen cut-off (published range 31-33).
    PCL5_CUTOFF = _env_int("PCL5_CUTOFF", 33)
    # Shown to a patient whose check-in raises a suicidal-ideation alert. Check-ins are not
    # monitored around the clock, so it points to help that is.
    CRISIS_MESSAGE = os.environ.get(
        "CRISIS_MESSAGE",
        "Your care team has been notified and will follow up, but check-ins are not monitored "
        "around the clock. If you are thinking about hurting yourself, call or text 988 (the "
        "988 Suicide & Crisis Lifeline) now, any time, day or night. If you are in immediate "
        "danger, call 911.",
    )
    # Idempotency keys are kept at least this long (the contract asks for 24 hours).
    IDEMPOTENCY_TTL_HOURS = _env_int("IDEMPOTENCY_TTL_HOURS", 48)
    # How far ahead of the server clock a client's "it happened at" time may be (clock skew).
    CLOCK_SKEW_MINUTES = 5

    # Time bounds on what clients send (session-day rules). A session starts no earlier than
    # this grace before now (clock skew, a form left open) and at most this far ahead.
    SESSION_PAST_GRACE_MINUTES = _env_int("SESSION_PAST_GRACE_MINUTES", 15)
    SESSION_MAX_DAYS_AHEAD = _env_int("SESSION_MAX_DAYS_AHEAD", 366)
    # A session's day opens this long before its scheduled start: it may be started, and the
    # medication and notes observed, from then on (a patient ready early); never before.
    SESSION_EARLY_START_MINUTES = _env_int("SESSION_EARLY_START_MINUTES", 60)
    # A phone that was offline may send a check-in late, but not older than this: older answers
    # would silently move baselines and outcomes.
    CHECKIN_MAX_AGE_DAYS = _env_int("CHECKIN_MAX_AGE_DAYS", 14)
    # Checkpoint windows, counted from medication_taken_at: +40 min opens this many minutes
    # after it, end-of-session this many minutes before its due time.
    CHECKPOINT_PLUS_40_OPENS_MINUTES = 30
    CHECKPOINT_END_OF_SESSION_OPENS_EARLY_MINUTES = 10

    # The background worker (flask --app wsgi worker): how often its periodic checks run
    # (escalation, overdue checkpoints, reminders, the sweep), in whole seconds from 1 to 60.
    WORKER_TICK_SECONDS = _env_int("WORKER_TICK_SECONDS", 15)
    # How many tasks one worker process runs at once (threads: the work waits on the network).
    WORKER_THREADS = _env_int("WORKER_THREADS", 4)
    # Minutes an open alert waits for an acknowledgement before it escalates, by kind: level 1
    # after one window (the care team again), level 2 after a second (the admins). The
    # environment's JSON object (fractions allowed) is merged over these defaults.
    ALERT_ESCALATION_MINUTES: dict[str, float] = {
        "suicidal_ideation": 15,
        "adverse_event": 15,
        "checkpoint_overdue": 15,
        "vital_sign": 30,
        "severe_score": 240,
        "deterioration": 1440,
        "missed_checkins": 1440,
        **_env_json("ALERT_ESCALATION_MINUTES", {}),
    }
    # Check-in reminders: none in these local hours (from, to), and a second one this many
    # hours after the first, the same day, if the item is still not done.
    CHECKIN_QUIET_HOURS = ("21:00", "08:00")
    CHECKIN_SECOND_REMINDER_HOURS = _env_int("CHECKIN_SECOND_REMINDER_HOURS", 4)
    # Session reminders to the patient and the clinician, hours before the start.
    SESSION_REMINDER_HOURS = _env_json("SESSION_REMINDER_HOURS", [24, 1])

    # Email (telehealth.mail). The SMTP server, `smtp://[user:pass@]host:port` (`smtps://` for
    # TLS from the start, `smtp+starttls://` to require STARTTLS); unset, no email is sent at
    # all. The sender; how long one SMTP conversation may take; the waits before each retry of a
    # failed email (a JSON list of seconds: after the last, it is failed for good).
    SMTP_URL = os.environ.get("SMTP_URL") or None
    MAIL_FROM = os.environ.get("MAIL_FROM", "Telehealth <no-reply@localhost>")
    SMTP_TIMEOUT_SECONDS = _env_float("SMTP_TIMEOUT_SECONDS", 10)
    MAIL_RETRY_DELAYS_SECONDS: list[float] = _env_json(
        "MAIL_RETRY_DELAYS_SECONDS", [30, 120, 600, 3600, 21600]
    )
    # Where people open the app: links in emails (`{PUBLIC_URL}/alerts/{id}`, activation).
    PUBLIC_URL = os.environ.get("PUBLIC_URL", "http://127.0.0.1:5000").rstrip("/")
    # Whether POST /clinicians and POST /patients answer with the new account's invitation token
    # (development and test: the demo and the tests activate with it). Production emails it to
    # the invited person instead, so nobody else can activate their account.
    RETURN_INVITATION_TOKEN = _env_bool("RETURN_INVITATION_TOKEN", True)

    # Webhooks (telehealth.webhooks). How long one POST may wait for the connection and for the
    # answer (each); the waits before each retry, a JSON list of seconds (unset: the default
    # schedule, 5 s up to 10 h, about 28 h in all; production refuses one under 24 h); whether
    # a webhook may be plain http and reach loopback addresses (development and test: a receiver
    # on this machine; never in production, where only https to public addresses is sent).
    WEBHOOK_TIMEOUT_SECONDS = _env_float("WEBHOOK_TIMEOUT_SECONDS", 10)
    WEBHOOK_RETRY_DELAYS_SECONDS: list[float] | None = _env_json(
        "WEBHOOK_RETRY_DELAYS_SECONDS", None
    )
    WEBHOOK_ALLOW_LOOPBACK = True

    @property
    def RATELIMIT_STORAGE_URI(self) -> str:  # noqa: N802 - Flask reads upper-case settings
        return self.REDIS_URL or "memory://"

    def validate(self) -> None:
        """Refuse settings that would be unsafe or clinically meaningless."""
        if not 1 <= self.PCL5_CUTOFF <= 80:
            raise RuntimeError("PCL5_CUTOFF must be a PCL-5 total, 1-80 (published: 31-33)")
        delays = self.MAIL_RETRY_DELAYS_SECONDS
        if (
            not isinstance(delays, list)
            or not delays
            or not all(
                isinstance(delay, int | float) and not isinstance(delay, bool) and delay > 0
                for delay in delays
            )
        ):
            raise RuntimeError("MAIL_RETRY_DELAYS_SECONDS must be a JSON list of positive seconds")
        if not self.SMTP_TIMEOUT_SECONDS > 0:
            raise RuntimeError("SMTP_TIMEOUT_SECONDS must be positive")
        if self.SMTP_URL is not None:
            from telehealth.mail.sender import SmtpSettings

            SmtpSettings.from_url(self.SMTP_URL)  # RuntimeError when it cannot be used
        if not self.AUDIT_KEY:
            raise RuntimeError("AUDIT_KEY must be set (the audit chain's HMAC key)")
        if not timedelta(minutes=1) <= self.PASSWORD_RESET_TTL <= timedelta(hours=1):
            raise RuntimeError("PASSWORD_RESET_TTL_MINUTES must be from 1 to 60")
        if self.AUDIT_ANCHOR_MINUTES < 1:
            raise RuntimeError("AUDIT_ANCHOR_MINUTES must be at least 1")
        if not 1 <= self.CHECKIN_SECOND_REMINDER_HOURS <= 12:
            raise RuntimeError("CHECKIN_SECOND_REMINDER_HOURS must be from 1 to 12")
        if not 1 <= self.WORKER_TICK_SECONDS <= 60:
            raise RuntimeError("WORKER_TICK_SECONDS must be from 1 to 60")
        kinds = {"suicidal_ideation", "adverse_event", "checkpoint_overdue", "vital_sign",
                 "severe_score", "deterioration", "missed_checkins"}  # fmt: skip
        windows = self.ALERT_ESCALATION_MINUTES
        if set(windows) - kinds or not all(
            isinstance(m, int | float) and m > 0 for m in windows.values()
        ):
            raise RuntimeError("ALERT_ESCALATION_MINUTES must map alert kinds to positive minutes")
        if not 0 < self.WEBHOOK_TIMEOUT_SECONDS <= 30:
            # A send must end well within the worker's claim on the delivery (60 s).
            raise RuntimeError("WEBHOOK_TIMEOUT_SECONDS must be more than 0 and at most 30")
        webhook_delays = self.WEBHOOK_RETRY_DELAYS_SECONDS
        if webhook_delays is not None and (
            not isinstance(webhook_delays, list)
            or not webhook_delays
            or not all(
                isinstance(delay, int | float) and not isinstance(delay, bool) and delay >= 0
                for delay in webhook_delays
            )
        ):
            raise RuntimeError("WEBHOOK_RETRY_DELAYS_SECONDS must be a JSON list of seconds")


class DevelopmentConfig(Config):
    ENV_NAME = "development"

    def __init__(self) -> None:
        if not self.AUDIT_KEY:
            self.AUDIT_KEY = _development_secret(ROOT / "instance" / "audit.key")
        if self.SECRET_KEY == DEV_SECRET:
            self.SECRET_KEY = _development_secret(ROOT / "instance" / "secret.key")
        if self.JWT_SECRET_KEY == DEV_SECRET:
            self.JWT_SECRET_KEY = self.SECRET_KEY


class TestConfig(Config):
    ENV_NAME = "test"
    TESTING = True
    DATABASE_URL = _database_url(os.environ.get("TEST_DATABASE_URL", "sqlite://"))
    SECRET_KEY = JWT_SECRET_KEY = "test-secret-key-that-is-long-enough-for-hs256"
    AUDIT_KEY = "test-audit-key-fixed-and-not-secret-0123456789"
    # Generous limits keep tests independent; the rate-limit tests lower them per test.
    LOGIN_RATE_LIMIT_PER_ADDRESS = "10000/minute"
    LOGIN_RATE_LIMIT_PER_ACCOUNT = "10000/minute"
    LOGIN_RATE_LIMIT_PER_ACCOUNT_ALL_ADDRESSES = "10000/minute"
    CALENDAR_FEED_RATE_LIMIT_PER_ADDRESS = "10000/minute"
    PASSWORD_RESET_RATE_LIMIT_PER_ADDRESS = "10000/minute"
    PASSWORD_RESET_RATE_LIMIT_PER_EMAIL = "10000/minute"
    # Fast hashing keeps the suite quick; production parameters are argon2-cffi's defaults.
    ARGON2_TIME_COST = 1
    ARGON2_MEMORY_COST = 1024
    ARGON2_PARALLELISM = 1


class ProductionConfig(Config):
    ENV_NAME = "production"
    HSTS_MAX_AGE = _env_int("HSTS_MAX_AGE", 365 * 24 * 3600)
    RETURN_INVITATION_TOKEN = False
    WEBHOOK_ALLOW_LOOPBACK = False

    def validate(self) -> None:
        super().validate()
        for name in ("SECRET_KEY", "JWT_SECRET_KEY"):
            value = getattr(self, name)
            if not value or value == DEV_SECRET or len(value) < 32:
                raise RuntimeError(
                    f"{name} must be set to a random value of at least 32 characters in production"
                )
        if not self.AUDIT_KEY or len(self.AUDIT_KEY) < 32:
            raise RuntimeError(
                "AUDIT_KEY must be set to a random value of at least 32 characters in production"
            )
        if self.DATABASE_URL.startswith("sqlite"):
            raise RuntimeError("DATABASE_URL must point at PostgreSQL in production")
        # Invitations reach people only by email in production: nobody may be left without one.
        if self.RETURN_INVITATION_TOKEN:
            raise RuntimeError("RETURN_INVITATION_TOKEN must be off in production")
        if not self.SMTP_URL:
            raise RuntimeError("SMTP_URL must be set in production (invitations go by email)")
        from telehealth.mail.sender import SmtpSettings, mail_from_address

        smtp = SmtpSettings.from_url(self.SMTP_URL)
        if smtp.password and smtp.security == "plain" and smtp.host not in LOOPBACK_HOSTS:
            raise RuntimeError(
                "SMTP_URL sends a password in clear text: use smtp+starttls:// or smtps://"
            )
        address = mail_from_address(self.MAIL_FROM)
        if address is None or address.rpartition("@")[2] in {"localhost", "localhost.localdomain"}:
            raise RuntimeError("MAIL_FROM must be set to the clinic's sender address in production")
        # Webhooks reach only https on public addresses, and keep trying for a day (contract).
        if self.WEBHOOK_ALLOW_LOOPBACK:
            raise RuntimeError("WEBHOOK_ALLOW_LOOPBACK must be off in production")
        if (
            self.WEBHOOK_RETRY_DELAYS_SECONDS is not None
            and sum(self.WEBHOOK_RETRY_DELAYS_SECONDS) < 24 * 3600
        ):
            raise RuntimeError("WEBHOOK_RETRY_DELAYS_SECONDS must add up to at least 24 hours")


CONFIGS: dict[str, type[Config]] = {
    "development": DevelopmentConfig,
    "test": TestConfig,
    "production": ProductionConfig,
}


def load_config(name: str | None = None, **overrides: Any) -> Config:
    """The settings object for `name` (default: `TELEHEALTH_ENV`, else development)."""
    name = name or os.environ.get("TELEHEALTH_ENV", "development")
    try:
        config = CONFIGS[name]()
    except KeyError:
        raise RuntimeError(f"unknown TELEHEALTH_ENV {name!r}") from None
    for key, value in overrides.items():
        setattr(config, key, value)
    config.validate()
    return config
