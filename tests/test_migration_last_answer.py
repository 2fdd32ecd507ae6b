"""The upgrade that keeps each pathway's newest definitive answer on its row fills it from the
outcomes already recorded, exactly as ``record_outcome`` would have kept it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import insert, select

from tests.support.databases import fresh_database
from tests.test_migration_rounds import _at, _pathway, upgraded

BEFORE_LAST_ANSWER = "7d3f0a9c2e51"


def test_the_upgrade_fills_the_newest_definitive_answer_of_each_pathway(tmp_path: Path) -> None:
    with fresh_database(tmp_path) as url:
        engine, old = upgraded(url, BEFORE_LAST_ANSWER)
        twice = _pathway(engine, old, 1, "unreachable")
        unclear_only = _pathway(engine, old, 2, "unclear")
        never = _pathway(engine, old, 3, "pending")
        worse = _pathway(engine, old, 4, "worsened")
        history = [
            (twice, "stay", 3),
            (twice, "leave", 9),  # the newest definitive answer, not the newest outcome
            (twice, "unreachable", 20),
            (unclear_only, "unclear", 5),
            (worse, "worsened", 7),
        ]
        with engine.begin() as connection:
            connection.execute(
                insert(old.tables["pathway_outcome"]),
                [
                    {"pathway_id": p, "outcome": o, "recorded": {}, "recorded_at": _at(engine, d)}
                    for p, o, d in history
                ],
            )
        engine.dispose()
        engine, new = upgraded(url)
        pathway = new.tables["pathway"]
        with engine.connect() as connection:
            filled = dict(connection.execute(select(pathway.c.id, pathway.c.last_answer_at)).all())
        engine.dispose()

    def naive(day: int) -> dt.datetime:
        return dt.datetime(2026, 6, day, 10, 0, tzinfo=dt.UTC).replace(tzinfo=None)

    assert {p: (at.replace(tzinfo=None) if at else None) for p, at in filled.items()} == {
        twice: naive(9),
        unclear_only: None,
        never: None,
        worse: naive(7),
    }
