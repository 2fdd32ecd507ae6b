"""PostgreSQL's pool pings only connections that sat idle, and replaces one that died meanwhile."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

from app import db
from tests.support.databases import backend, fresh_database
from tests.support.settings import make_settings

pytestmark = pytest.mark.skipif(backend() != "postgresql", reason="PostgreSQL's pool only")


@pytest.fixture
def pg_engine(tmp_path: Path) -> Iterator[Engine]:
    with fresh_database(tmp_path) as url:
        engine = db.make_engine(url, pool_size=1, max_overflow=0)
        yield engine
        engine.dispose()


def _pings(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    pings: list[object] = []
    real = db._ping

    def counted(dbapi_connection: object) -> None:
        pings.append(dbapi_connection)
        real(dbapi_connection)

    monkeypatch.setattr(db, "_ping", counted)
    return pings


def _kill_pooled_connection(engine: Engine) -> int:
    with engine.connect() as connection:
        pid = int(connection.scalar(text("SELECT pg_backend_pid()")) or 0)
    killer = db.make_engine(engine.url.render_as_string(hide_password=False))
    with killer.connect() as other:
        other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        other.commit()
    killer.dispose()
    return pid


def test_it_sends_no_ping_for_a_new_connection_or_one_just_returned(
    pg_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    pings = _pings(monkeypatch)

    for _ in range(3):
        with pg_engine.connect() as connection:
            assert connection.scalar(text("SELECT 42")) == 42

    assert pings == []


def test_it_pings_a_connection_that_sat_idle(
    pg_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pg_engine.connect() as connection:
        connection.scalar(text("SELECT 1"))
    pings = _pings(monkeypatch)
    monkeypatch.setattr(db, "PING_IDLE_SECONDS", 0.0)

    with pg_engine.connect() as connection:
        assert connection.scalar(text("SELECT 42")) == 42

    assert len(pings) == 1


def test_it_replaces_a_connection_that_died_while_idle(
    pg_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    dead = _kill_pooled_connection(pg_engine)
    monkeypatch.setattr(db, "PING_IDLE_SECONDS", 0.0)

    with pg_engine.connect() as connection:
        assert connection.scalar(text("SELECT pg_backend_pid()")) != dead


def test_without_the_idle_ping_a_dead_connection_would_fail_the_request(
    pg_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The control: the ping above is what saves the request, not some other retry.
    _kill_pooled_connection(pg_engine)
    monkeypatch.setattr(db, "PING_IDLE_SECONDS", 3600.0)

    with (
        pytest.raises(OperationalError, match=r"terminat|closed|connection"),
        pg_engine.connect() as connection,
    ):
        connection.scalar(text("SELECT 1"))


def test_each_statement_commits_alone_and_the_next_session_has_a_transaction_again(
    pg_engine: Engine,
) -> None:
    factory = db.make_session_factory(pg_engine)
    with factory() as session:
        session.execute(text("CREATE TABLE mark (n int)"))
        session.commit()
    with factory() as session:
        db.statement_by_statement(session).execute(text("INSERT INTO mark VALUES (1)"))
        session.rollback()  # too late: the INSERT committed by itself
    with factory() as session:  # the pool's one connection again, in a transaction as usual
        session.execute(text("INSERT INTO mark VALUES (2)"))
        session.rollback()
        assert list(session.scalars(text("SELECT n FROM mark"))) == [1]


def _backends_serving(engine: Engine, at_once: int) -> set[int]:
    """The PostgreSQL backends that serve ``at_once`` requests holding a connection together."""
    connections = [engine.connect() for _ in range(at_once)]
    try:
        return {int(c.scalar(text("SELECT pg_backend_pid()")) or 0) for c in connections}
    finally:
        for connection in connections:
            connection.close()


def test_a_process_keeps_the_connections_a_busy_moment_needed(tmp_path: Path) -> None:
    """SQLAlchemy's default pool keeps five and closes any more as they come back: a web worker
    with a dozen webhooks in flight forked a backend for most of them. The configured pool keeps
    them for the next burst."""
    with fresh_database(tmp_path) as url:
        engine = db.engine_for(make_settings(url))
        try:
            first = _backends_serving(engine, at_once=12)
            again = _backends_serving(engine, at_once=12)
        finally:
            engine.dispose()

    assert len(first) == 12 and again == first


def test_the_default_pool_would_open_new_backends_for_the_same_burst(tmp_path: Path) -> None:
    # The control: without the configured size, the second burst is served by new backends.
    with fresh_database(tmp_path) as url:
        engine = db.make_engine(url)
        try:
            first = _backends_serving(engine, at_once=12)
            again = _backends_serving(engine, at_once=12)
        finally:
            engine.dispose()

    assert len(again - first) == 7  # all but SQLAlchemy's five
