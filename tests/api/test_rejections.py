"""/api/v1/rejections/: quarantined rows with where and why."""

from __future__ import annotations

import pytest

from tests.api.conftest import all_pages, csv_rows

pytestmark = pytest.mark.django_db
URL = "/api/v1/rejections/"


def test_it_lists_quarantined_rows_with_locator_and_reason(client_user, prices):
    rows = all_pages(client_user, f"{URL}?snapshot={prices[0].snapshot_id}")
    assert [(r["source"], r["locator"]) for r in rows] == [("litellm", "broken/model")]
    assert "not a number" in rows[0]["reason"]
    assert len(all_pages(client_user, f"{URL}?source=litellm&reason=NOT A NUMBER")) == 2


def test_it_exports_csv(client_user, prices):
    rows = csv_rows(client_user.get(f"{URL}?format=csv&source=litellm"))
    assert len(rows) == 2 and rows[0]["locator"] == "broken/model"
