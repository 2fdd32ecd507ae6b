"""``waitlist worklist``: the list as JSON (overdue first, and alone), and a removal's letters
printed as one PDF batch."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path

from pypdf import PdfReader
from sqlalchemy.orm import Session

from app.db import make_engine
from app.models import Decision, Outcome, Role
from app.outcomes.service import record_outcome
from app.review.decisions import decide
from app.schema import upgrade
from tests.conftest import MIGRATIONS
from tests.review.conftest import make_user, queue_pathway
from tests.support.databases import fresh_database
from tests.support.factories import make_pathway
from tests.test_cli import run_waitlist


def test_the_list_and_the_letters_batch(tmp_path: Path) -> None:
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=30)
    with fresh_database(tmp_path) as url:
        upgrade(url, MIGRATIONS)
        engine = make_engine(url)
        with Session(engine) as session:
            record_outcome(session, pathway=make_pathway(session), outcome=Outcome.UNVERIFIED)
            late = make_pathway(session)
            record_outcome(session, pathway=late, outcome=Outcome.OPTED_OUT, now=long_ago)
            item = queue_pathway(session, outcome=Outcome.LEAVE, given_name="Nia", now=long_ago)
            clinician = make_user(session, role=Role.CLINICIAN, name="Alice")
            decide(
                session,
                item_id=item.id,
                seen_version=item.version,
                decision=Decision.REMOVE,
                by=clinician,
                note="Treated elsewhere",
                rtt_status_code="35",
                now=long_ago,
            )
            session.commit()
        engine.dispose()
        env = {"WAITLIST_DATABASE_URL": url}

        listed = run_waitlist("worklist", "list", "--json", cwd=tmp_path, env=env)
        overdue = run_waitlist("worklist", "list", "--overdue", "--json", cwd=tmp_path, env=env)
        out = tmp_path / "letters.pdf"
        printed = run_waitlist(
            "worklist", "letters", "--out", str(out), "--json", cwd=tmp_path, env=env
        )

    assert listed.returncode == 0, listed.stderr
    document = json.loads(listed.stdout)
    assert document["by_reason"]["unverified"] == 1
    assert document["overdue"] == 1
    assert document["tasks"][0]["reason"] == "opted_out"  # overdue first
    assert overdue.returncode == 0, overdue.stderr
    assert [t["reason"] for t in json.loads(overdue.stdout)["tasks"]] == ["opted_out"]
    assert printed.returncode == 0, printed.stderr
    summary = json.loads(printed.stdout)
    assert summary["by_kind"] == {"removal_confirmation": 1, "gp_discharge": 1}
    pages = [
        " ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(out.read_bytes())).pages
    ]
    assert any("Dear Nia Testpatient" in page for page in pages)
    assert any("Dear Doctor" in page for page in pages)
