"""The benchmark's yardstick: the service's libraries doing the least work an endpoint can do.

Bench-only. Flask, flask-jwt-extended (HS256, checked issuer and audience, header tokens),
a typed SQLAlchemy 2 model, marshmallow schemas and psycopg 3, like the service; but no
user lookup, no audit trail, no idempotency and no logging. Its numbers are the ceiling that
the service's matching endpoints are compared with.

- `GET /bare`: plain JSON, no database, no token.
- `POST /items`: verify the token, insert one row through the ORM, commit, 201 with the row.
- `GET /items?limit=50[&cursor=]`: verify the token, one keyset page of the caller's rows,
  newest first, read through the (owner_id, created_at, id) index.

Run under gunicorn with the factory: `gunicorn -c config/gunicorn.conf.py
'bench.reference_app:create_app()'`, with `REFERENCE_DATABASE_URL` and `REFERENCE_JWT_SECRET`
set. `prepare()` creates and fills the table once, before the workers start.
"""

from __future__ import annotations

import base64
import os
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask, current_app, g, request
from flask_jwt_extended import (
    JWTManager,
    create_access_token,
    get_jwt_identity,
    verify_jwt_in_request,
)
from marshmallow import Schema, ValidationError, fields, validate
from sqlalchemy import (
    DateTime,
    Engine,
    Index,
    SmallInteger,
    Text,
    Uuid,
    create_engine,
    select,
    text,
    tuple_,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

TABLE = "reference_items"
#: Rows of the one owner whose page is read, like the seed's busy patient's check-ins.
BUSY_OWNER_ROWS = 1000
OWNERS = 1000
BUSY_OWNER = uuid.UUID(int=0)
ISSUER, AUDIENCE = "reference", "reference-api"


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: DateTime(timezone=True), uuid.UUID: Uuid}


class ReferenceItem(Base):
    __tablename__ = TABLE
    __table_args__ = (Index("ix_reference_items_owner_created_id", "owner_id", "created_at", "id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    owner_id: Mapped[uuid.UUID]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    mood: Mapped[int] = mapped_column(SmallInteger)
    note: Mapped[str | None] = mapped_column(Text)


class ItemIn(Schema):
    mood = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=10))
    note = fields.String(allow_none=True, validate=validate.Length(max=2000))


class ItemOut(Schema):
    id = fields.UUID(required=True)
    owner_id = fields.UUID(required=True)
    created_at = fields.AwareDateTime(required=True)
    mood = fields.Integer(required=True)
    note = fields.String(allow_none=True)


class PageQuery(Schema):
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=100))
    cursor = fields.String(validate=validate.Length(max=512))


ITEM_IN, ITEM_OUT, ITEMS_OUT, PAGE_QUERY = ItemIn(), ItemOut(), ItemOut(many=True), PageQuery()


def owner_id(index: int) -> uuid.UUID:
    """The seeded owners are uuid(int=0) .. uuid(int=OWNERS - 1); owner 0 is the busy one."""
    return uuid.UUID(int=index % OWNERS)


def build_engine(url: str) -> Engine:
    """The service's pool settings, so both sides pay the same for a connection."""
    return create_engine(
        url, hide_parameters=True, pool_pre_ping=True, pool_size=10, max_overflow=10
    )


FILL = text(
    "INSERT INTO reference_items (id, owner_id, created_at, mood, note) "
    "SELECT gen_random_uuid(), "
    "CASE WHEN g <= :busy THEN :busy_owner "
    "ELSE ('00000000-0000-0000-0000-' || lpad(to_hex(1 + g % (:owners - 1)), 12, '0'))::uuid END, "
    "CASE WHEN g <= :busy THEN now() - make_interval(days => g) "
    "ELSE now() - make_interval(hours => g) END, "
    "(g % 11)::smallint, 'seeded row ' || g "
    "FROM generate_series(1, :rows) AS g"
)


def prepare(database_url: str, rows: int) -> None:
    """Create the table if missing and refill it with exactly `rows` rows in one statement.

    The first BUSY_OWNER_ROWS rows belong to the busy owner (one a day, newest first); the rest
    spread over the other owners, an hour apart.
    """
    engine = build_engine(database_url)
    try:
        Base.metadata.create_all(engine)
        with engine.begin() as connection:
            connection.execute(text("TRUNCATE reference_items"))
            connection.execute(
                FILL,
                {"busy": BUSY_OWNER_ROWS, "busy_owner": BUSY_OWNER, "owners": OWNERS, "rows": rows},
            )
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE reference_items"))
    finally:
        engine.dispose()


def encode_cursor(item: ReferenceItem) -> str:
    raw = f"{item.created_at.isoformat()}|{item.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode()


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        created, item_id = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
        return datetime.fromisoformat(created), uuid.UUID(item_id)
    except ValueError:
        raise ValidationError({"cursor": ["Not a cursor."]}) from None


def session() -> Session:
    """One session per request, closed at teardown."""
    if "db_session" not in g:
        g.db_session = current_app.extensions["reference_sessions"]()
    return g.db_session  # type: ignore[no-any-return]


def close_session(_error: BaseException | None) -> None:
    opened: Session | None = g.pop("db_session", None)
    if opened is not None:
        opened.close()


def bad_request(error: ValidationError) -> tuple[dict[str, Any], int]:
    return {"errors": error.messages}, 422


def bare() -> dict[str, str]:
    return {"status": "ok"}


def create_item() -> tuple[dict[str, Any], int]:
    verify_jwt_in_request()
    body = ITEM_IN.load(request.get_json())
    item = ReferenceItem(owner_id=uuid.UUID(get_jwt_identity()), **body)
    session().add(item)
    session().commit()
    return ITEM_OUT.dump(item), 201


def list_items() -> dict[str, Any]:
    verify_jwt_in_request()
    query = PAGE_QUERY.load(request.args)
    statement = select(ReferenceItem).where(ReferenceItem.owner_id == get_jwt_identity())
    if "cursor" in query:
        key = tuple_(ReferenceItem.created_at, ReferenceItem.id)
        statement = statement.where(key < tuple_(*decode_cursor(query["cursor"])))
    statement = statement.order_by(ReferenceItem.created_at.desc(), ReferenceItem.id.desc())
    rows = list(session().scalars(statement.limit(query["limit"] + 1)))
    items = rows[: query["limit"]]
    more = len(rows) > query["limit"]
    return {
        "items": ITEMS_OUT.dump(items),
        "next_cursor": encode_cursor(items[-1]) if more else None,
    }


def create_app(database_url: str | None = None, jwt_secret: str | None = None) -> Flask:
    app = Flask(__name__)
    app.config.update(
        JWT_SECRET_KEY=jwt_secret or os.environ["REFERENCE_JWT_SECRET"],
        JWT_ALGORITHM="HS256",
        JWT_DECODE_ALGORITHMS=["HS256"],
        JWT_ENCODE_ISSUER=ISSUER,
        JWT_DECODE_ISSUER=ISSUER,
        JWT_ENCODE_AUDIENCE=AUDIENCE,
        JWT_DECODE_AUDIENCE=AUDIENCE,
        JWT_ACCESS_TOKEN_EXPIRES=timedelta(minutes=15),
        JWT_TOKEN_LOCATION=["headers"],
    )
    JWTManager(app)
    engine = build_engine(database_url or os.environ["REFERENCE_DATABASE_URL"])
    app.extensions["reference_sessions"] = sessionmaker(engine, expire_on_commit=False)
    app.teardown_appcontext(close_session)
    app.register_error_handler(ValidationError, bad_request)
    app.add_url_rule("/bare", view_func=bare, methods=["GET"])
    app.add_url_rule("/items", view_func=create_item, methods=["POST"])
    app.add_url_rule("/items", view_func=list_items, methods=["GET"])
    return app


def mint_token(app: Flask, owner: uuid.UUID, lifetime: timedelta) -> str:
    """An access token for `owner`, signed with the reference app's own secret."""
    with app.app_context():
        token: str = create_access_token(identity=str(owner), expires_delta=lifetime)
        return token
