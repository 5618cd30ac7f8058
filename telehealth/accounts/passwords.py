"""Password hashing with argon2id; parameters come from settings so tests can run fast."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

# Verifying against this when the email is unknown makes both failures cost the same time.
_DUMMY_PASSWORD = "not-a-real-password-used-for-timing-only"


def hasher() -> PasswordHasher:
    config = current_app.config
    if "ARGON2_TIME_COST" not in config:
        return PasswordHasher()
    return PasswordHasher(
        time_cost=config["ARGON2_TIME_COST"],
        memory_cost=config["ARGON2_MEMORY_COST"],
        parallelism=config["ARGON2_PARALLELISM"],
    )


def hash_password(password: str) -> str:
    return hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when `password` matches; always does the work of one verification."""
    ph = hasher()
    try:
        return ph.verify(password_hash or _dummy_hash(ph), password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return hasher().check_needs_rehash(password_hash)


def _dummy_hash(ph: PasswordHasher) -> str:
    key = ("dummy_hash", ph.time_cost, ph.memory_cost, ph.parallelism)
    cached = current_app.extensions.setdefault("argon2_dummy", {})
    if key not in cached:
        cached[key] = ph.hash(_DUMMY_PASSWORD)
    return cached[key]  # type: ignore[no-any-return]
