"""The control for the stale-connection drill: the project's settings minus CONN_HEALTH_CHECKS.

A gunicorn on these settings must answer 500 to the first request each worker serves on a connection
that a PostgreSQL restart killed; that shows the drill really leaves the connections stale, so the same
requests answering 200 on the real settings means something.
"""

from tokenwatch.settings.base import *  # noqa: F403
from tokenwatch.settings.base import DATABASES

DATABASES["default"]["CONN_HEALTH_CHECKS"] = False
