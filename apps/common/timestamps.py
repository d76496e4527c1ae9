"""The one way tokenwatch writes a point in time: ``2025-02-06T02:56:03.000000Z``.

UTC, a ``T``, always six fractional digits, a ``Z``; the API (JSON and CSV) and
the dashboard's CSV exports all write this. Why this form:

- We store microseconds, and they carry meaning: a price's ``last_confirmed_at``
  and the snapshots of one fetch run can fall in the same second, and their
  order is how "newest confirmation wins" is decided. Truncating to seconds would
  make such rows tie for an analyst who re-sorts them.
- Fixed width: a column has one format, so ``pandas.to_datetime(column, utc=True)``
  infers it from the first value and parses every row (a mix of
  ``...03Z`` and ``...43.215560Z`` makes it fail), the text sorts in time order,
  and BI tools (Power BI, Tableau, Superset) read it as an ISO 8601 / RFC 3339
  date-time.

Dates (a day, no time) stay ``YYYY-MM-DD``: they are a different type.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import lru_cache

# strftime form, for DRF's ``DATETIME_FORMAT`` (settings.REST_FRAMEWORK). The "Z" is literal: values are in UTC
# (TIME_ZONE = "UTC" and no view activates another zone; tests.api.test_timestamps checks both).
DATETIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
TIMESTAMP_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")
# The same text written by PostgreSQL (CSV by COPY, JSON pages): ``{x}`` is a timestamptz expression.
TIMESTAMP_SQL = "to_char(({x}) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"


@lru_cache(maxsize=4096)
def timestamp_text(value: datetime) -> str:
    """``value`` in the one format; a naive datetime is taken to be UTC already (as pandas frames hold them).

    Cached: the rows of one snapshot share a handful of instants (a market refresh writes thousands), and
    ``isoformat`` rather than ``strftime``, which is several times slower and pads years differently by
    platform; both give DATETIME_FORMAT's text for years 1000-9999.
    """
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat(timespec="microseconds") + "Z"
