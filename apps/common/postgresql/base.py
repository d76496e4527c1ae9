"""Django's PostgreSQL backend, with a health check that asks the socket before it asks the server.

``CONN_HEALTH_CHECKS`` (on since issue 12, so a connection killed by a database restart is replaced
instead of failing a request) makes Django send ``SELECT 1`` before the first query of every request:
a round trip per API page, and on a loaded machine a wait for the backend to be scheduled (py-spy on a
gunicorn worker under bench/api_vs_datasette.py: ~20 % of its threads' wall time, issue 14).

A server that ends a connection says so on the socket: on a fast or smart shutdown (a restart) the
backend writes a FATAL "terminating connection due to administrator command" and closes; a killed
or crashed backend's socket is closed by the kernel (EOF). Either way the socket of an idle connection,
where nothing is owed to us, turns readable. So an idle connection with nothing to read is as usable as
``SELECT 1`` would find it, and one with anything to read (or in any other state) still gets the
``SELECT 1``. Neither way notices a peer that vanished without a word (a cut cable): that waits for
TCP's own timeouts, as before.
"""

from __future__ import annotations

import select

from django.db.backends.postgresql import base
from psycopg import Error, pq

_READABLE = select.POLLIN | select.POLLPRI | select.POLLERR | select.POLLHUP


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        connection = self.connection
        if connection is None or connection.closed or connection.broken:
            return False
        pgconn = connection.pgconn
        if pgconn.status != pq.ConnStatus.OK:
            return False
        if pgconn.transaction_status != pq.TransactionStatus.IDLE:
            return super().is_usable()
        try:
            poller = select.poll()
            poller.register(pgconn.socket, _READABLE)
            said_something = bool(poller.poll(0))
        except (OSError, ValueError, Error):
            return False
        # Nothing arrived unasked: no termination notice, no EOF.
        return True if not said_something else super().is_usable()
