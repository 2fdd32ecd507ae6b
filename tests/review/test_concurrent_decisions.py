from __future__ import annotations

import threading

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from app.db import make_session_factory, session_scope
from app.errors import ConflictError
from app.models import ClinicalDecision, Decision, Outcome, ReviewItem, Role, User
from app.review.decisions import decide
from tests.review.conftest import make_user, queue_pathway


def test_two_clinicians_deciding_at_once_one_wins_and_the_other_is_told(
    committed_engine: Engine,
) -> None:
    factory: sessionmaker[Session] = make_session_factory(committed_engine)
    with session_scope(factory) as session:
        item = queue_pathway(session, outcome=Outcome.LEAVE)
        alice = make_user(session, role=Role.CLINICIAN, name="Alice")
        dora = make_user(session, role=Role.CLINICIAN, name="Dora")
        item_id, seen = item.id, item.version
        clinicians = {"Alice": alice.id, "Dora": dora.id}

    start = threading.Barrier(2)
    results: dict[str, str] = {}

    def clinician(name: str, decision: Decision) -> None:
        start.wait()
        try:
            with session_scope(factory) as session:
                user = session.get(User, clinicians[name])
                assert user is not None
                decide(
                    session,
                    item_id=item_id,
                    seen_version=seen,
                    decision=decision,
                    rtt_status_code="35" if decision == Decision.REMOVE else None,
                    note="Reviewed the conversation.",
                    by=user,
                )
            results[name] = "decided"
        except ConflictError as exc:
            results[name] = str(exc)

    threads = [
        threading.Thread(target=clinician, args=("Alice", Decision.REMOVE)),
        threading.Thread(target=clinician, args=("Dora", Decision.KEEP)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    [winner] = [name for name, result in results.items() if result == "decided"]
    [loser] = [name for name in results if name != winner]
    assert results[loser].startswith(f"Already decided by {winner} on ")
    with session_scope(factory) as session:
        assert session.scalar(select(func.count()).select_from(ClinicalDecision)) == 1
        stored = session.get(ReviewItem, item_id)
        assert stored is not None
        assert stored.decided_by_id == clinicians[winner]
