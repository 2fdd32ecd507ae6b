"""Database plumbing: the declarative base, column types, engines and sessions.

SQLite (the embedded default) and PostgreSQL (production) run the same code. Domain functions take
a ``Session``, flush when they need ids and never commit: whoever opened the session commits (a
request's session dependency, or the webhook route itself; a CLI command; a worker's loop).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from enum import StrEnum
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import (
    BigInteger,
    CursorResult,
    DateTime,
    Enum,
    Integer,
    MetaData,
    Result,
    create_engine,
    event,
)
from sqlalchemy import exc as exc_module
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

if TYPE_CHECKING:
    from app.config import Settings

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit identity.
BigIntPK = BigInteger().with_variant(Integer(), "sqlite")


def str_enum(enum_class: type[StrEnum]) -> Enum:
    """A VARCHAR column holding a StrEnum's values (not names), read back as enum members.

    No native PostgreSQL enum and no CHECK constraint: adding a state must not need a table
    rewrite, and the guarded transitions in the domain code are what keep states valid.
    """
    return Enum(
        enum_class,
        native_enum=False,
        create_constraint=False,
        length=24,
        values_callable=lambda members: [member.value for member in members],
    )


def utcnow() -> dt.datetime:
    """The current time, timezone-aware in UTC (the only kind of datetime we store)."""
    return dt.datetime.now(dt.UTC)


class AwareDateTime(TypeDecorator[dt.datetime]):
    """A timestamp that is always timezone-aware in Python and UTC in the database.

    PostgreSQL stores ``timestamptz``; SQLite has no time zones, so values are stored as naive
    UTC and made aware again on the way out. Naive values are refused: they hide bugs.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to AwareDateTime; use app.db.utcnow()")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    """Declarative base whose metadata names every constraint predictably (for migrations)."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dt.datetime: AwareDateTime()}


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # Take transaction control away from pysqlite (it breaks SAVEPOINT); see _begin_immediate.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


READ_ONLY = {"sqlite_begin": "DEFERRED"}
"""Execution options for read-only work: on SQLite, do not take the write lock.

They act on a connection (``engine.connect().execution_options(**READ_ONLY)``) or a session
(:func:`read_only`); set on a statement they do nothing, because the transaction has begun.
"""


def read_only(session: Session) -> Session:
    """Begin ``session``'s transaction without SQLite's write lock; call before its first query."""
    session.connection(execution_options=READ_ONLY)
    return session


def statement_by_statement(session: Session) -> Session:
    """On PostgreSQL, commit each of ``session``'s statements on its own (autocommit).

    For a unit of work whose every statement is complete by itself (a worker's one guarded
    UPDATE recording what the provider said): it saves the BEGIN and COMMIT round trips, two of
    three. SQLite keeps its transaction (its BEGIN costs no round trip and takes the write lock
    the statement needs anyway). Call before the session's first statement.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
    return session


def _begin(connection: Any) -> None:
    # IMMEDIATE by default: writers queue on busy_timeout instead of failing with SQLITE_BUSY
    # when a read-then-write transaction races another writer (web app and worker share a file).
    mode = connection.get_execution_options().get("sqlite_begin", "IMMEDIATE")
    connection.exec_driver_sql(f"BEGIN {mode}")


PING_IDLE_SECONDS = 5.0
"""A pooled PostgreSQL connection idle longer than this is pinged before it is handed out."""


def _note_checkin(_dbapi_connection: Any, record: Any) -> None:
    record.info["checked_in_at"] = time.monotonic()


def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    """Ping a connection that sat idle (a restart or a firewall may have dropped it).

    SQLAlchemy's ``pool_pre_ping`` pings on every checkout: a round trip and a statement for
    PostgreSQL on every webhook, a fifth of its statements. A connection checked in moments ago
    was alive then; one idle for longer is pinged, and a dead one is replaced (the pool retries
    on ``DisconnectionError``), so a request never gets a connection that died while idle.
    """
    if time.monotonic() - record.info.get("checked_in_at", 0.0) < PING_IDLE_SECONDS:
        return
    try:
        _ping(dbapi_connection)
    except Exception as exc:
        raise exc_module.DisconnectionError() from exc


def _ping(dbapi_connection: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("SELECT 1")
    finally:
        cursor.close()
    dbapi_connection.rollback()  # end the ping's transaction: the pool hands out none open


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url`` with the settings each backend needs."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False}, **kwargs)
        event.listen(engine, "connect", _configure_sqlite)
        event.listen(engine, "begin", _begin)
        return engine
    engine = create_engine(url, **kwargs)
    if not kwargs.get("pool_pre_ping"):
        event.listen(engine, "connect", _note_checkin)
        event.listen(engine, "checkin", _note_checkin)
        event.listen(engine, "checkout", _ping_if_idle)
    return engine


def engine_for(settings: Settings) -> Engine:
    """The process's engine for the configured database, its pool sized by the settings.

    SQLAlchemy's default keeps five connections and closes any extra one as it is returned. A
    web worker serving a dozen webhooks at once then opened and closed a PostgreSQL connection
    for most of them: 2,294 backends forked in a 150 s benchmark day, each with cold caches and
    none running long enough for psycopg to prepare its statements.
    """
    if settings.database_url.startswith("sqlite"):
        return make_engine(settings.database_url)  # one writer at a time: the default serves
    return make_engine(
        settings.database_url,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_max_overflow,
    )


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit (routes render after committing)."""
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A unit of work for CLI commands and worker ticks: commit on success, roll back on error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def changed(result: Result[Any]) -> int:
    """How many rows an UPDATE or DELETE changed: the one way to read a guarded transition.

    ``Session.execute`` is typed as returning a plain ``Result``; for a DML statement it is a
    ``CursorResult``, whose ``rowcount`` is what the guard's caller needs.
    """
    return int(cast(CursorResult[Any], result).rowcount)


# Ids a batched look-up puts in one ``IN`` list (well inside SQLite's and PostgreSQL's limits).
IN_LIST_SIZE = 1000


def in_batches(ids: Sequence[int]) -> Iterator[Sequence[int]]:
    """``ids`` in slices of ``IN_LIST_SIZE``: one query a slice, not one a row."""
    for start in range(0, len(ids), IN_LIST_SIZE):
        yield ids[start : start + IN_LIST_SIZE]
