"""A worker process for the crash test: the real loop against a provider that survives it.

The provider appends each accepted contact to a file (flushed before it answers), so what the
"outside world" saw survives a SIGKILL and reconciliation can ask it what happened.

With ``--hang-in-placing accepted|unsent`` the first call stops inside the placing window (the
move to ``placing`` is committed and the provider has not answered): ``accepted`` after the
provider recorded the contact, ``unsent`` before. It writes the attempt's token to a marker file
and sleeps, so the test's SIGKILL lands exactly there. The hook lives only in this test provider.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import signal
import sys
import threading
import time
from pathlib import Path

from app.campaigns.budget import LocalBudget
from app.campaigns.dispatcher import DispatchConfig
from app.campaigns.worker import Worker, single_worker_lock
from app.db import make_engine, make_session_factory
from app.telephony.events import ContactState
from app.telephony.provider import (
    CallRequest,
    ChannelName,
    Placed,
    ProviderContact,
    ProviderTimeoutError,
    SmsRequest,
)
from tests.campaigns.support import script_composer


class FileProvider:
    """Accepts contacts into an append-only file; sometimes times out after accepting."""

    name = "file"

    def __init__(self, path: Path, *, hang_in_placing: str | None = None) -> None:
        self.path = path
        self.rng = random.Random(os.getpid())
        self.hang_in_placing = hang_in_placing
        self._hang_lock = threading.Lock()

    def _maybe_hang(self, request: CallRequest, *, moment: str) -> None:
        """Stop this thread for good at ``moment`` on the first call, once the test can see it."""
        if self.hang_in_placing != moment:
            return
        with self._hang_lock:
            if self.hang_in_placing is None:
                return
            self.hang_in_placing = None
        Path(f"{self.path}.hung").write_text(request.token)
        threading.Event().wait()  # until the SIGKILL

    def _contacts(self) -> list[dict[str, str]]:
        if not self.path.exists():
            return []
        return [json.loads(line) for line in self.path.read_text().splitlines() if line.strip()]

    def place_call(self, request: CallRequest) -> Placed:
        time.sleep(self.rng.uniform(0, 0.004))
        self._maybe_hang(request, moment="unsent")
        sid = f"CA{os.getpid()}x{time.monotonic_ns()}"
        record = {
            "sid": sid,
            "to": request.to,
            "token": request.token,
            "at": dt.datetime.now(dt.UTC).isoformat(),
        }
        with self.path.open("a") as handle:
            handle.write(json.dumps(record) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        self._maybe_hang(request, moment="accepted")
        if self.rng.random() < 0.02:
            raise ProviderTimeoutError("read timeout after the provider accepted")
        return Placed(sid=sid)

    def send_sms(self, request: SmsRequest) -> Placed:
        return self.place_call(CallRequest(to=request.to, token=request.token))

    def find_contact(
        self, *, channel: ChannelName, to: str, since: dt.datetime, sid: str | None = None
    ) -> ProviderContact | None:
        for record in reversed(self._contacts()):
            at = dt.datetime.fromisoformat(record["at"])
            if record["sid"] == sid or (record["to"] == to and at >= since):
                return ProviderContact(sid=record["sid"], state=ContactState.PLACED, created_at=at)
        return None


def main() -> None:
    url, contacts, seconds = sys.argv[1], Path(sys.argv[2]), float(sys.argv[3])
    hang = sys.argv[5] if sys.argv[4:5] == ["--hang-in-placing"] else None
    engine = make_engine(url)
    config = DispatchConfig(
        worker_id=f"crash-{os.getpid()}",
        account_key="crash",
        account_calls_per_second=1e6,
        concurrency=4,
        lease=dt.timedelta(seconds=2),
        reconcile_after=dt.timedelta(seconds=0.3),
        backoff_base_seconds=0.05,
        backoff_cap_seconds=0.2,
    )
    worker = Worker(
        session_factory=make_session_factory(engine),
        provider=FileProvider(contacts, hang_in_placing=hang),
        budget=LocalBudget(),
        composer=script_composer(),
        config=config,
        housekeeping_every=0.3,
        idle_sleep=0.05,
    )
    signal.signal(signal.SIGTERM, lambda _signum, _frame: worker.stop.set())
    Path(f"{contacts}.ready-{os.getpid()}").touch()  # the test may now stop it with SIGTERM
    with single_worker_lock(url):
        worker.run(max_seconds=seconds)


if __name__ == "__main__":
    main()
