"""A WSGI application answering its worker's pid (tests/api_common/test_gunicorn_conf.py)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable


def application(environ: dict, start_response: Callable) -> Iterable[bytes]:
    body = f"{os.getpid()};".encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
