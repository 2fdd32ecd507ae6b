"""A notice's states have one home (``app/notices.py``), and a notice is sent at most once."""

from __future__ import annotations

import re
from pathlib import Path

from app import notices
from app.models import NoticeStatus

ROOT = Path(__file__).resolve().parents[1]
N = NoticeStatus
# An UPDATE of the notice table, or a status set on a loaded notice, outside app/notices.py.
_WRITES = re.compile(
    r"update\(\s*ContactNotice\b|\bupdate\s+contact_notice\b|notice\w*\.status\s*=[^=]",
    re.IGNORECASE,
)


def test_every_state_has_its_transitions_and_every_target_is_a_state() -> None:
    assert set(notices.TRANSITIONS) == set(NoticeStatus)
    assert all(onward <= set(NoticeStatus) for onward in notices.TRANSITIONS.values())


def test_a_notice_once_claimed_is_never_planned_again_after_it_may_have_gone() -> None:
    # Only a claim given back before the provider was asked returns to the queue.
    may_have_gone = {N.IN_DOUBT, N.SENT, N.FAILED}
    assert all(N.PLANNED not in notices.TRANSITIONS[state] for state in may_have_gone)
    assert all(N.SENDING not in notices.TRANSITIONS[state] for state in may_have_gone)
    assert set(notices.TERMINAL) == {N.FAILED, N.CANCELLED}


def test_no_other_module_writes_a_notices_status() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{source[: match.start()].count(chr(10)) + 1}"
        for path in sorted((ROOT / "app").rglob("*.py"))
        if path != ROOT / "app" / "notices.py"
        for source in [path.read_text(encoding="utf-8")]
        for match in _WRITES.finditer(source)
    ]
    assert found == []


def test_the_source_check_sees_a_status_written_directly() -> None:
    for planted in (
        "session.execute(update(ContactNotice).values(status=N.SENT))",
        "notice.status = NoticeStatus.SENT",
        "text('UPDATE contact_notice SET status = :s')",
    ):
        assert _WRITES.search(planted), planted
    assert not _WRITES.search("if notice.status == N.SENDING:")
