"""The ingest pipeline: invariants 1-3 and 6 on real files, and bad input that loses nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from apps.catalog.models import Offering
from apps.pricing.models import Price, PriceChange, PriceObservation
from apps.sources.models import IngestRun, Rejection, Snapshot
from apps.sources.services import FetchMeta, snapshot_reparse, source_ingest_bytes
from tests.conftest import get_source

NEWEST = "litellm/model_prices_2026-07-24_rocry-8442b93.json"
pytestmark = pytest.mark.django_db


def table_counts() -> dict[str, int]:
    return {m.__name__: m.objects.count() for m in (Offering, Price, PriceChange, PriceObservation, Rejection)}


def ingest_bytes(key: str, content: bytes, observed_at: datetime | None = None, name: str = "x.json") -> IngestRun:
    return source_ingest_bytes(source=get_source(key), content=content, trigger="command",
                               observed_at=observed_at, meta=FetchMeta(filename=name))


def test_it_ingests_the_newest_litellm_file_with_exact_money(ingest_file):
    run = ingest_file("litellm", NEWEST)
    assert run.status == IngestRun.Status.OK, run.message
    snapshot = run.snapshot
    assert snapshot.parse_status == Snapshot.Status.OK
    assert snapshot.observed_at == datetime(2026, 7, 24, 18, 23, 43, 215560, tzinfo=UTC)  # the file's last_updated
    price = Price.objects.get(offering__source_model_id="gpt-4o", offering__service_tier="standard",
                              offering__min_prompt_tokens=0)
    # 2.5e-06 USD per token is exactly 2.5 USD per 1M tokens (invariant 5).
    assert price.input_usd_per_mtok == Decimal("2.5")
    assert str(price.input_usd_per_mtok.normalize()) == "2.5"
    assert price.output_usd_per_mtok == Decimal("10")
    assert price.effective_to is None
    # Every figure names its source and observation time (invariant 6).
    assert price.snapshot_id == snapshot.pk
    assert price.offering.source.key == "litellm"
    assert run.created_count > 2000
    assert run.message.endswith(f"{run.rejected_count} rejected")


def test_it_keeps_raw_bytes_and_changes_nothing_the_second_time(ingest_file, shared_data):
    first = ingest_file("litellm", NEWEST)
    before = table_counts()
    second = ingest_file("litellm", NEWEST)
    assert second.status == IngestRun.Status.UNCHANGED
    assert second.snapshot_id == first.snapshot_id
    assert table_counts() == before
    assert Snapshot.objects.count() == 1
    assert bytes(Snapshot.objects.get().content) == (shared_data / NEWEST).read_bytes()


def test_it_reparses_a_stored_snapshot_without_changing_history(ingest_file):
    run = ingest_file("litellm", NEWEST)
    before = table_counts()
    prices = list(Price.objects.order_by("pk").values_list("pk", "input_usd_per_mtok", "effective_from"))
    again = snapshot_reparse(snapshot=run.snapshot)
    assert again.status == IngestRun.Status.OK
    assert again.created_count == 0 and again.changed_count == 0
    assert table_counts() == before
    assert list(Price.objects.order_by("pk").values_list("pk", "input_usd_per_mtok", "effective_from")) == prices


BAD_FILES = {
    "truncated": (b'{"gpt-4o": {"litellm_provider": "openai", "input_cost_per_token": 2.5e-06', "not valid JSON"),
    "html": (b"<!DOCTYPE html><html><body>502 Bad Gateway</body></html>", "HTML"),
    "array": (b'[{"litellm_provider": "openai"}]', "JSON object"),
    "empty": (b"", "empty"),
    "non_utf8": (b'{"gpt-4o": "\xff\xfe"}', "UTF-8"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_it_fails_a_broken_file_clearly_and_changes_nothing(case, ingest_file):
    ingest_file("litellm", NEWEST)
    before = table_counts()
    content, needle = BAD_FILES[case]
    run = ingest_bytes("litellm", content, observed_at=datetime(2026, 8, 1, tzinfo=UTC), name=f"{case}.json")
    assert run.status == IngestRun.Status.FAILED
    assert run.message.startswith(f"{case}.json: ")
    assert needle in run.message
    assert "Traceback" not in run.message
    snapshot = run.snapshot
    assert snapshot.parse_status == Snapshot.Status.FAILED
    assert snapshot.error == run.message
    assert bytes(snapshot.content) == content  # nothing is lost, even a broken file
    assert table_counts() == before


def test_it_refuses_a_file_over_the_size_limit(settings, monkeypatch):
    monkeypatch.setattr("apps.sources.services.MAX_UPLOAD_BYTES", 100)
    run = ingest_bytes("litellm", b"{" + b" " * 200 + b"}", observed_at=datetime(2026, 1, 1, tzinfo=UTC))
    assert run.status == IngestRun.Status.FAILED
    assert "over the 100-byte limit" in run.message
    assert Snapshot.objects.count() == 0


def test_it_quarantines_bad_rows_and_ingests_the_rest():
    doc = {
        "good-model": {"litellm_provider": "openai", "mode": "chat", "input_cost_per_token": 1e-06,
                       "output_cost_per_token": 2e-06},
        "negative-model": {"litellm_provider": "openai", "mode": "chat", "input_cost_per_token": -1e-06},
        "absurd-model": {"litellm_provider": "openai", "mode": "chat", "input_cost_per_token": 5},
        "typed-model": {"litellm_provider": "openai", "mode": "chat", "input_cost_per_token": "cheap"},
    }
    run = ingest_bytes("litellm", json.dumps(doc).encode(), observed_at=datetime(2026, 1, 1, tzinfo=UTC))
    assert run.status == IngestRun.Status.OK, run.message
    assert set(Offering.objects.values_list("source_model_id", flat=True)) == {"good-model"}
    assert Price.objects.get().input_usd_per_mtok == Decimal("1")
    rejected = dict(Rejection.objects.values_list("locator", "reason"))
    assert set(rejected) == {"negative-model", "absurd-model", "typed-model"}
    assert "negative" in rejected["negative-model"]
    assert "absurd" in rejected["absurd-model"]
    assert run.rejected_count == 3


def test_it_rolls_back_everything_when_the_apply_step_crashes(ingest_file, monkeypatch):
    ingest_file("litellm", "litellm/model_prices_2024-04-22_tokencost-569280a.json",
                observed_at=datetime(2024, 4, 23, tzinfo=UTC))
    before = table_counts()

    def crash(**kwargs):
        raise RuntimeError("simulated crash half-way")

    # After the prices are written, in the shortcut for the newest document and in the full rebuild alike.
    monkeypatch.setattr("apps.pricing.services.market_refresh_for_source", crash)
    run = ingest_file("litellm", "litellm/model_prices_2024-09-23_tokencost-50ea0a0.json",
                      observed_at=datetime(2024, 9, 23, tzinfo=UTC))
    assert run.status == IngestRun.Status.FAILED
    assert "nothing was changed" in run.message
    assert table_counts() == before
    assert run.snapshot.parse_status == Snapshot.Status.FAILED


def test_it_requires_observed_at_for_files_without_a_date(ingest_file, shared_data):
    run = ingest_file("litellm", "litellm/model_prices_2024-04-22_tokencost-569280a.json")
    assert run.status == IngestRun.Status.FAILED
    assert "--observed-at" in run.message
    assert Snapshot.objects.count() == 0


def test_the_command_prints_one_summary_line(shared_data, capsys):
    path = shared_data / "litellm/model_prices_2024-04-22_tokencost-569280a.json"
    call_command("ingest", "litellm", "--file", str(path),
                 "--observed-at", "2024-04-22T23:50:00-07:00")
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1
    assert "created" in out[0] and "unchanged" in out[0] and "rejected" in out[0]


def test_the_command_fails_with_one_plain_line(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_bytes(b"<html>oops</html>")
    with pytest.raises(CommandError) as excinfo:
        call_command("ingest", "litellm", "--file", str(bad), "--observed-at", "2026-01-01")
    message = str(excinfo.value)
    assert message.startswith("bad.json: ") and "HTML" in message
    assert "\n" not in message


def test_the_command_rejects_a_bad_date_and_unknown_source(tmp_path):
    with pytest.raises(CommandError, match="not an ISO 8601"):
        call_command("ingest", "litellm", "--file", str(tmp_path / "x"), "--observed-at", "yesterday")
    with pytest.raises(CommandError, match="no source 'nope'"):
        call_command("ingest", "nope")


def test_the_reparse_command_reapplies_stored_snapshots(ingest_file, capsys):
    run = ingest_file("litellm", NEWEST)
    before = table_counts()
    call_command("reparse", "--source", "litellm")
    assert capsys.readouterr().out.strip() == (
        f"{Path(NEWEST).name} (snapshot {run.snapshot_id}): 0 created, 0 changed, "
        f"{run.created_count} unchanged, {run.rejected_count} rejected")
    assert table_counts() == before
    with pytest.raises(CommandError, match="no snapshot with id 999999"):
        call_command("reparse", "999999")
