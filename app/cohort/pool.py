"""Validating a large file's chunks in worker processes while the import writes earlier ones.

Validation is pure per-row work (the NHS number's check digit, dates, phones through
libphonenumber, codes, the formula check, the row hash), so chunks go to a small process pool
and come back in the order they were read: every error still cites its line and column, and the
chunks are written in file order exactly as without the pool. Meanwhile the importing process
reads the next chunks and writes (and commits) the finished ones. Starting the workers costs
about a second, so the pool is used only for files of ``POOL_MIN_ROWS`` rows or more, and only
where there is a CPU to spare for it.

Workers are started with ``spawn`` (never ``fork``): the importing process may hold threads and
open database connections (a web server, the test suite), which a forked child must not inherit.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor

from app.cohort.reader import Record
from app.cohort.rows import CheckedChunk, RowValidator

POOL_MIN_ROWS = 50_000
MAX_WORKERS = 4

_validator: RowValidator | None = None


def default_workers() -> int:
    """Worker processes to use: one CPU is left to the importing process (0: no pool)."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return min(MAX_WORKERS, (cpus or 1) - 1)


def _install(validator: RowValidator) -> None:
    global _validator
    _validator = validator


def _check(chunk: list[tuple[int, Record]]) -> CheckedChunk:
    assert _validator is not None
    return _validator.check(chunk)


def checked_chunks(
    chunks: Iterator[list[tuple[int, Record]]],
    validator: RowValidator,
    *,
    expected_rows: int,
    workers: int | None = None,
    min_rows: int | None = None,
) -> Iterator[CheckedChunk]:
    """Each chunk validated, in order; in a pool of ``workers`` when the file has at least
    ``min_rows`` rows (default ``POOL_MIN_ROWS``)."""
    count = default_workers() if workers is None else workers
    if count < 1 or expected_rows < (POOL_MIN_ROWS if min_rows is None else min_rows):
        for chunk in chunks:
            yield validator.check(chunk)
        return
    pool = ProcessPoolExecutor(
        count,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_install,
        initargs=(validator,),
    )
    try:
        pending: deque[Future[CheckedChunk]] = deque()
        for chunk in chunks:
            pending.append(pool.submit(_check, chunk))
            # One chunk per worker in hand plus one queued: the workers never wait for the
            # reader, and memory stays a few chunks deep however large the file.
            if len(pending) > count:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
