"""gunicorn settings for the API and pages: ``gunicorn -c python:tokenwatch.gunicorn_conf tokenwatch.wsgi``.

Threaded workers (gthread) instead of gunicorn's default sync workers, because a sync worker
closes the connection after every response: a BI tool paging through prices (or a load balancer
keeping connections open) pays a TCP accept and close per page (a profile of a sync worker under
bench/api_vs_datasette.py found about a third of its wall time in writing headers and closing).
gthread keeps connections alive and lets one thread's Python run while another waits on
PostgreSQL. Each thread holds its own database connection: workers x threads connections per
machine (4 by default on 2 cores). Figures: bench/README.md, "Issue 14: API against Datasette".
Override with WEB_CONCURRENCY (workers) and GUNICORN_THREADS.

Two things decide how well the workers share the load of clients that keep their connections open
(BI tools, a proxy's pool of upstream connections):

- Where a connection lands. With one listening socket shared by every worker, whichever worker wakes
  first accepts a burst of new connections, and a kept-alive connection stays with the worker that
  accepted it: 16 clients connecting together all landed on one of two workers in most trials, whose
  GIL then held the API to one core (bench/api_servers.py: ~250-300 pages a second against ~500 with
  the connections split). ``reuse_port`` gives each worker a listening socket of its own
  (SO_REUSEPORT) and the kernel spreads new connections over them by a hash of the address pair.
  Not for a Unix socket (Linux refuses SO_REUSEPORT there and the workers fail to boot; and gunicorn
  unlinks the path before each bind), so ``on_starting`` turns it off for those. The price: connections
  the kernel has queued on a worker's own socket but the worker has not yet accepted are reset when that
  worker exits (a reload, a timeout), unless ``net.ipv4.tcp_migrate_req=1`` (Linux 5.14+) hands them to
  the other workers' sockets.
- Threads per worker. More threads per process wait longer for the GIL the busier the process is;
  two per worker (one runs Python while the other waits on PostgreSQL) served more pages with a lower
  p99 than four at 16 connections.
"""

from __future__ import annotations

import os
from typing import Any

workers = int(os.environ.get("WEB_CONCURRENCY", os.cpu_count() or 2))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "2"))
# GUNICORN_REUSE_PORT=0: one shared socket. With SO_REUSEPORT a second server started on the same port by the
# same user binds too and takes a share of the connections, where a shared socket's bind would fail.
reuse_port = os.environ.get("GUNICORN_REUSE_PORT", "1") != "0"
keepalive = 5  # seconds an idle client connection stays open
timeout = 60


def on_starting(server: Any) -> None:
    """No SO_REUSEPORT for Unix sockets, nor for sockets handed over (systemd, a re-exec): see above."""
    inherited = bool(os.environ.get("LISTEN_FDS") or os.environ.get("GUNICORN_FD"))
    if inherited or any(not isinstance(address, tuple) for address in server.cfg.address):
        server.cfg.set("reuse_port", False)
