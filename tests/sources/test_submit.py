"""An upload stores the bytes now and ingests them on a worker: the snapshot it leaves must be the one the
command path leaves for the same file (found by the fault drills, tests/faults, issue 12)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from django.db import transaction

from apps.sources.models import Snapshot
from apps.sources.services import FetchMeta, snapshot_submit
from tests.conftest import get_source

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_records_the_documents_own_date_when_a_worker_ingests_an_upload():
    # A LiteLLM map as RoCry's mirror writes it: the document says when it was taken.
    content = json.dumps({"last_updated": "2025-05-31T22:06:56.632259+00:00",
                          "m1": {"litellm_provider": "openai", "mode": "chat", "input_cost_per_token": 1e-06,
                                 "output_cost_per_token": 2e-06}}).encode()
    with transaction.atomic():  # eager Celery: ingested on commit, as a worker would
        snapshot = snapshot_submit(source=get_source("litellm"), content=content,
                                   observed_at=datetime(2025, 6, 1, tzinfo=UTC), meta=FetchMeta(filename="m.json"))
    snapshot = Snapshot.objects.get(pk=snapshot.pk)
    assert snapshot.parse_status == Snapshot.Status.OK
    assert snapshot.stated_at == datetime(2025, 5, 31, 22, 6, 56, 632259, tzinfo=UTC)
