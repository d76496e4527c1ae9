"""Pause Python's cyclic garbage collector around bulk work that allocates many short-lived objects: the one
pause for parsers (the CSV column converters) and for the ingest services alike.

An ingest parses thousands of records and builds thousands of rows, dicts and tuples, almost none of them in
reference cycles: reference counting frees them. The cyclic collector still counts every allocation and runs
every 700 of them, and every tenth young collection walks the older generation, which holds the ~1M
long-lived objects of Django and the imported libraries: measured on the newest LiteLLM file
(bench/ingest.py), 147 young, 14 middle and 1 full collection, 0.27-0.40 s of one ingest under load, the
full one alone up to 0.29 s. Paused for the duration of the work, the collector runs once afterwards, at its
own pace (CPython re-enables it, and the next threshold crossing collects what cycles the work left).

Process-wide (the collector is): a depth counter under a lock keeps nested and concurrent users (two ingests
on runserver's threads) from re-enabling it while another still runs, and it is left disabled if it was
disabled before.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0
_we_disabled = False


@contextmanager
def collections_paused() -> Iterator[None]:
    global _depth, _we_disabled
    with _lock:
        if _depth == 0:
            _we_disabled = gc.isenabled()
            if _we_disabled:
                gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _we_disabled:
                gc.enable()
                _we_disabled = False
