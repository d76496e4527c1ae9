"""gunicorn settings for the API and pages: ``gunicorn -c python:tokenwatch.gunicorn_conf tokenwatch.wsgi``.

Threaded workers (gthread) instead of gunicorn's default sync workers, because a sync worker
closes the connection after every response: a BI tool paging through prices (or a load balancer
keeping connections open) pays a TCP accept and close per page (a profile of a sync worker under
bench/api_vs_datasette.py found about a third of its wall time in writing headers and closing).
gthread keeps connections alive and lets one thread's Python run while another waits on
PostgreSQL. Each thread holds its own database connection: workers x threads connections per
machine (8 by default on 2 cores). Figures: bench/README.md, "Issue 14: API against Datasette".
Override with WEB_CONCURRENCY (workers) and GUNICORN_THREADS.
"""

from __future__ import annotations

import os

workers = int(os.environ.get("WEB_CONCURRENCY", os.cpu_count() or 2))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
keepalive = 5  # seconds an idle client connection stays open
timeout = 60
