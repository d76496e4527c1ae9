"""Stored documents: lz4-compressed on PostgreSQL (migration sources 0010), byte for byte what arrived."""

from datetime import UTC, datetime

import pytest
from django.db import connection

from apps.sources.models import IngestRun, Snapshot

pytestmark = pytest.mark.django_db


def test_a_document_is_kept_lz4_compressed_and_byte_for_byte(postgres, ingest_file, shared_data):
    path = "litellm/model_prices_2026-07-24_rocry-8442b93.json"
    run = ingest_file("litellm", path, observed_at=datetime(2026, 7, 24, tzinfo=UTC))
    assert run.status == IngestRun.Status.OK, run.message
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_column_compression(content), octet_length(content), pg_column_size(content) "
                       "FROM sources_snapshot WHERE id = %s", [run.snapshot_id])
        method, length, stored = cursor.fetchone()
    assert method == "lz4"
    assert stored < length / 5  # compressed, not kept plain
    assert bytes(Snapshot.objects.get(pk=run.snapshot_id).content) == (shared_data / path).read_bytes()
