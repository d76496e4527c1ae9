from __future__ import annotations

import pytest

from .seed import load_subset


@pytest.fixture
def subset(db) -> None:
    """The small real-data slice, ingested through the pipeline."""
    load_subset()


@pytest.fixture
def analyst(db, client):
    """A signed-in analyst: an ordinary (not staff) user."""
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user("analyst", password="pw-analyst-1")
    client.force_login(user)
    return client
