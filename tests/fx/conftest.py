"""Small ECB files for hand-worked conversions, ingested through the real pipeline."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from apps.sources.services import FetchMeta, source_ingest_bytes
from tests.api.conftest import client_user, prices, user  # noqa: F401 (fixtures the fx tests share with the API's)
from tests.conftest import get_source

# A hand-made excerpt in the ECB's history CSV layout (newest first, trailing comma, N/A = not quoted).
# 2022-03-01 is the ECB's last RUB rate; 2024-03-01 is a Friday, 03-04 the Monday after.
HIST = b"""Date,USD,JPY,RUB,GBP,
2024-03-05,1.0850,162.50,N/A,0.85500,
2024-03-04,1.0860,162.75,N/A,0.85700,
2024-03-01,1.1000,130.00,N/A,0.85000,
2022-03-02,1.1124,128.40,N/A,0.83430,
2022-03-01,1.1000,128.00,120.00,0.83500,
"""


def ingest(content: bytes, *, filename: str = "eurofxref-hist.csv", at: datetime | None = None):
    return source_ingest_bytes(source=get_source("ecb-fx"), content=content, trigger="command",
                               observed_at=at, meta=FetchMeta(filename=filename))


@pytest.fixture
def hist_rates(db):
    run = ingest(HIST, at=datetime(2024, 3, 5, 16, tzinfo=UTC))
    assert run.status == "ok", run.message
    return run
