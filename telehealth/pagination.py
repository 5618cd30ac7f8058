"""Keyset (cursor) pagination, written once for every list.

A cursor is the sort key of the last row of a page, base64url-encoded. It stays fast at any
depth because the next page starts with an index seek, not by skipping rows. Authorization is
in the statement the cursor narrows, so a forged cursor can only move within what the caller
may see anyway.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Generic, TypeVar

from marshmallow import Schema, fields, validate
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Select,
    SmallInteger,
    and_,
    bindparam,
    or_,
    select,
    true,
)
from sqlalchemy.orm import Session

from telehealth.db import plain_rows
from telehealth.errors import UnprocessableEntity
from telehealth.schemas import EARLIEST, LATEST, StrictSchema

T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 100


class PageQuery(Schema):
    limit = fields.Integer(
        load_default=DEFAULT_LIMIT,
        validate=validate.Range(min=1, max=MAX_LIMIT),
        metadata={"description": f"Page size, 1 to {MAX_LIMIT}."},
    )
    cursor = fields.String(
        validate=[
            validate.Length(max=512),
            validate.Regexp(r"^[A-Za-z0-9_=-]*$", error="Not a cursor from this list."),
        ],
        metadata={"description": "Opaque cursor from the previous page's `next_cursor`."},
    )


def page_schema(item_schema: type[Schema], name: str) -> type[Schema]:
    """The `{items, next_cursor}` envelope around `item_schema`, with a name for OpenAPI."""
    return StrictSchema.from_dict(
        {
            "items": fields.List(fields.Nested(item_schema), required=True),
            "next_cursor": fields.String(required=True, allow_none=True),
        },
        name=name,
    )


@dataclass
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


@dataclass(frozen=True)
class SortKey:
    """A column of the sort order and how to read its value from a row."""

    column: Any
    attribute: str

    def value_of(self, row: Any) -> Any:
        if isinstance(row, dict):  # a plain page's row
            return row[self.attribute]
        value = row
        for part in self.attribute.split("."):
            value = getattr(value, part)
        return value


def _encode(values: Sequence[Any]) -> str:
    def plain(value: Any) -> Any:
        if isinstance(value, datetime | date):
            return value.isoformat()
        if isinstance(value, uuid.UUID):
            return str(value)
        return value

    raw = json.dumps([plain(v) for v in values], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str, keys: Sequence[SortKey]) -> list[Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
        if not isinstance(values, list) or len(values) != len(keys):
            raise ValueError
        return [_coerce(key, value) for key, value in zip(keys, values, strict=True)]
    except (ValueError, TypeError, OverflowError, binascii.Error, UnicodeDecodeError):
        raise UnprocessableEntity(
            "The cursor is not valid.", errors={"cursor": "Not a cursor from this list."}
        ) from None


def _coerce(key: SortKey, value: Any) -> Any:
    python_type = key.column.type.python_type
    if value is None:
        # `_after` cannot seek past a null (`column > NULL`), so no cursor of ours holds one.
        raise ValueError
    # A forged cursor must not carry what the database cannot compare: a time outside the
    # range every column holds, an integer beyond the column's type, a NUL, a boolean.
    if python_type is datetime:
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None or not EARLIEST <= parsed.astimezone(UTC) <= LATEST:
            raise ValueError
        return parsed
    if python_type is date:
        return date.fromisoformat(value)
    if python_type is uuid.UUID:
        if not isinstance(value, str):
            raise ValueError
        return uuid.UUID(value)
    if not isinstance(value, python_type) or isinstance(value, bool):
        raise ValueError
    if isinstance(value, int) and abs(value) > _largest_int(key):
        raise ValueError
    if isinstance(value, str) and "\x00" in value:
        raise ValueError
    return value


def _largest_int(key: SortKey) -> int:
    column_type = key.column.type
    if isinstance(column_type, SmallInteger):
        return 2**15 - 1
    if isinstance(column_type, BigInteger):
        return 2**63 - 1
    return 2**31 - 1


def _after(keys: Sequence[SortKey], values: Sequence[Any], descending: bool) -> ColumnElement[bool]:
    """Rows strictly after `values` in the sort order (expanded, so every backend can seek)."""
    clauses = []
    for i, key in enumerate(keys):
        equal_before = [k.column == v for k, v in zip(keys[:i], values[:i], strict=True)]
        beyond = key.column < values[i] if descending else key.column > values[i]
        clauses.append(and_(*equal_before, beyond))
    return or_(*clauses)


def keyset_page(
    session: Session,
    statement: Select[Any],
    keys: Sequence[SortKey],
    *,
    limit: int,
    cursor: str | None = None,
    descending: bool = False,
    plain: bool = False,
) -> Page[Any]:
    """One page of `statement` ordered by `keys`, the last key unique (usually the id): its
    ORM objects, or with `plain=True` the rows of a statement of columns as plain dicts. Those
    cost a fraction of building objects (for pages nothing is written back to), and a dict is
    what the compiled dump reads fastest (a Row it hands to marshmallow, which reads by key)."""
    if cursor:
        statement = statement.where(_after(keys, _decode(cursor, keys), descending))
    order = [k.column.desc() if descending else k.column.asc() for k in keys]
    ordered = statement.order_by(*order).limit(limit + 1)
    items: list[Any] = (
        plain_rows(session, ordered) if plain else list(session.execute(ordered).scalars().unique())
    )
    return cut(items, keys, limit)


def cut(items: list[T], keys: Sequence[SortKey], limit: int) -> Page[T]:
    """The page of `limit` rows out of the `limit + 1` read, and the cursor after it when
    there are more."""
    if len(items) <= limit:
        return Page(items, None)
    items = items[:limit]
    return Page(items, _encode([key.value_of(items[-1]) for key in keys]))


#: The bound parameters of a page statement built once, besides its filters (named after
#: them): the caller, the rows to read and the cursor's values.
ACTOR, PAGE_SIZE, AFTER = "actor_id", "page_size", "after_"


def bound_page(
    statement: Select[Any], keys: Sequence[SortKey], *, after: bool, descending: bool = False
) -> Select[Any]:
    """`statement` ordered by `keys` (the last one unique), `PAGE_SIZE` rows, and with `after`
    only those after a cursor: a page statement to build once and run with `page_params`."""
    if after:
        values: list[Any] = [bindparam(f"{AFTER}{i}") for i in range(len(keys))]
        statement = statement.where(_after(keys, values, descending))
    order = [k.column.desc() if descending else k.column.asc() for k in keys]
    return statement.order_by(*order).limit(bindparam(PAGE_SIZE))


def page_params(keys: Sequence[SortKey], limit: int, cursor: str | None) -> dict[str, Any]:
    """The page size and cursor values a `bound_page` statement takes: `limit + 1` rows, the
    page and a look past its end, for `cut`."""
    params: dict[str, Any] = {PAGE_SIZE: limit + 1}
    if cursor:
        params.update({f"{AFTER}{i}": value for i, value in enumerate(_decode(cursor, keys))})
    return params


@dataclass(frozen=True, eq=False)
class GroupedList:
    """A list of rows that fall into groups its caller may see (a clinician's care-team
    patients), read a page at a time, ascending by `keys` (the last one unique), as dicts.

    `group IN (visible groups) ORDER BY key LIMIT n` makes PostgreSQL gather and sort every
    visible row, which grows with the history. Instead each group's first n rows after the
    cursor are read by its own index seek (a LATERAL join), and only those are merged: the work
    is bounded by groups x page size, however long the history. SQLite has no LATERAL, and is
    not where histories grow: there the plain query runs.

    Its statements are built once per shape (database, caller's role, filters used, first page
    or not), with every value a bound parameter: the caller (`ACTOR`), each filter (by its
    name), the cursor and the page size. Building the merged statement on every request cost
    more CPU than running it.
    """

    #: The columns a page reads.
    columns: Select[Any]
    keys: tuple[SortKey, ...]
    #: The column that names a row's group.
    group: Any
    #: The ids of the groups a caller of a role may see, the caller's id bound as `ACTOR`.
    visible_groups: Callable[[Any], Select[Any]]
    #: Optional filters, each a condition on a bound parameter of its own name.
    filters: Mapping[str, ColumnElement[bool]] = field(default_factory=dict)
    _built: dict[tuple[Any, ...], Select[Any]] = field(default_factory=dict, init=False)

    def page(
        self,
        session: Session,
        role: Any,
        actor_id: Any,
        *,
        limit: int,
        cursor: str | None = None,
        **filters: Any,
    ) -> Page[dict[str, Any]]:
        """One page, filtered by the filters given a value (None: not filtered)."""
        used = {name: value for name, value in filters.items() if value is not None}
        shape = (session.get_bind().dialect.name, role, tuple(sorted(used)), bool(cursor))
        statement = self._built.get(shape)
        if statement is None:  # two threads may both build it: the same statement either way
            statement = self._built[shape] = self._build(*shape)
        params = {**used, ACTOR: actor_id, **page_params(self.keys, limit, cursor)}
        return cut(plain_rows(session, statement, params), self.keys, limit)

    def _build(self, dialect: str, role: Any, filters: tuple[str, ...], after: bool) -> Select[Any]:
        conditions = [self.filters[name] for name in filters]
        if after:
            values: list[Any] = [bindparam(f"{AFTER}{i}") for i in range(len(self.keys))]
            conditions.append(_after(self.keys, values, descending=False))
        order = [k.column.asc() for k in self.keys]
        size: Any = bindparam(PAGE_SIZE)
        visible = self.visible_groups(role)
        if dialect != "postgresql":
            where = self.columns.where(self.group.in_(visible), *conditions)
            return where.order_by(*order).limit(size)
        groups = visible.subquery()
        (group_id,) = groups.c
        key = self.keys[-1].column  # unique: it names the page's rows
        first_rows = (
            select(*(k.column for k in self.keys))
            .where(self.group == group_id, *conditions)
            .order_by(*order)
            .limit(size)
            .correlate(groups)
            .lateral()
        )
        # The page's keys are chosen among the candidates from the index alone; only then
        # are its rows read.
        candidates = (
            select(first_rows.c[key.key])
            .select_from(groups)
            .join(first_rows, true())
            .order_by(*(first_rows.c[k.column.key].asc() for k in self.keys))
            .limit(size)
        )
        return self.columns.where(key.in_(candidates)).order_by(*order).limit(size)
