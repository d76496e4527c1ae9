"""Hostile files end to end (issue 9, findings 5 and 7): through `manage.py ingest` and the Celery task.

A file that cannot be read at all (nested 200,000 levels deep, 20 MB of
nesting) fails with one plain line that names it, is kept as a failed
snapshot, and creates no offering or price. A single pathological value
(1e308, NaN, exactly 0.01 USD per token) quarantines its row and the rest of
the file is ingested.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from apps.catalog.models import Offering
from apps.pricing.models import Price
from apps.sources.models import IngestRun, Rejection, Snapshot
from apps.sources.services import FetchMeta, snapshot_store, snapshot_submit
from apps.sources.tasks import ingest_snapshot
from tests.conftest import get_source

pytestmark = pytest.mark.django_db

OBSERVED = "2026-01-01"
OBSERVED_AT = datetime(2026, 1, 1, tzinfo=UTC)
GOOD = '"good-model": {"litellm_provider": "openai", "mode": "chat", "input_cost_per_token": 1e-06, ' \
       '"output_cost_per_token": 2e-06}'


def _with_bad_price(literal: str) -> bytes:
    """A LiteLLM map: one good model and one whose input price is the raw JSON literal ``literal``."""
    bad = (f'"bad-model": {{"litellm_provider": "openai", "mode": "chat", "input_cost_per_token": {literal}, '
           '"output_cost_per_token": 1e-06}')
    return ("{" + GOOD + ", " + bad + "}").encode()


# name -> (bytes, what the one line says)
UNREADABLE = {
    "deep.json": (lambda: b"[" * 200_000 + b"]" * 200_000, "the JSON nests 200000 levels deep (limit 64)"),
    "deep-object.json": (lambda: b'{"gpt-4o": ' + b"[" * 200_000 + b"}", "the JSON nests 200001 levels deep"),
    "nest-20mb.json": (lambda: b"[" * (10 << 20) + b"]" * (10 << 20), "the JSON nests 10485760 levels deep"),
}

# name -> (bytes, the quarantine reason of bad-model)
ONE_BAD_VALUE = {
    "huge.json": (_with_bad_price("1e308"),
                  "input_cost_per_token is absurd (1E+314 USD per 1M tokens, at or above 10000)"),
    "huge-1e22.json": (_with_bad_price("1e22"),
                       "input_cost_per_token is absurd (1E+28 USD per 1M tokens, at or above 10000)"),
    "nan.json": (_with_bad_price("NaN"), "input_cost_per_token is not a number (NaN)"),
    "infinity.json": (_with_bad_price("-Infinity"), "input_cost_per_token is not a number (-Infinity)"),
    "out-of-range.json": (_with_bad_price("1e999999999"), "input_cost_per_token is not a number (1e999999999)"),
    "cent.json": (_with_bad_price("0.01"),
                  "input_cost_per_token is absurd (10000 USD per 1M tokens, at or above 10000)"),
    "cent-exp.json": (_with_bad_price("1e-2"),
                      "input_cost_per_token is absurd (10000 USD per 1M tokens, at or above 10000)"),
}


def _write(tmp_path: Path, name: str, content: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


def _assert_nothing_ingested() -> None:
    assert Offering.objects.count() == 0
    assert Price.objects.count() == 0


def _assert_one_bad_row_quarantined(reason: str) -> None:
    assert set(Offering.objects.values_list("source_model_id", flat=True)) == {"good-model"}
    assert Price.objects.get().input_usd_per_mtok == Decimal("1")
    assert dict(Rejection.objects.values_list("locator", "reason")) == {"bad-model": reason}


# --- manage.py ingest --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(UNREADABLE))
def test_the_command_fails_an_unreadable_file_with_one_line_naming_it(tmp_path: Path, name: str) -> None:
    get_source("litellm")
    make, needle = UNREADABLE[name]
    path = _write(tmp_path, name, make())
    with pytest.raises(CommandError) as excinfo:
        call_command("ingest", "litellm", file=[str(path)], observed_at=OBSERVED)
    message = str(excinfo.value)
    assert "\n" not in message
    assert message.startswith(f"{name}: {needle}"), message
    assert "Traceback" not in message and "RecursionError" not in message
    run = IngestRun.objects.get()
    assert run.status == IngestRun.Status.FAILED
    assert run.message == message
    # Nothing is lost: the bytes are kept, as a failed snapshot.
    snapshot = Snapshot.objects.get()
    assert snapshot.parse_status == Snapshot.Status.FAILED
    assert snapshot.size_bytes == path.stat().st_size
    _assert_nothing_ingested()


@pytest.mark.parametrize("name", sorted(ONE_BAD_VALUE))
def test_the_command_quarantines_one_pathological_value_and_ingests_the_rest(tmp_path: Path, name: str,
                                                                               capsys) -> None:
    get_source("litellm")
    content, reason = ONE_BAD_VALUE[name]
    path = _write(tmp_path, name, content)
    call_command("ingest", "litellm", file=[str(path)], observed_at=OBSERVED)
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1
    assert out[0].startswith(f"{name}: ") and out[0].endswith("1 rejected")
    assert IngestRun.objects.get().status == IngestRun.Status.OK
    _assert_one_bad_row_quarantined(reason)


def test_the_command_keeps_going_past_a_hostile_file(tmp_path: Path) -> None:
    get_source("litellm")
    deep = _write(tmp_path, "deep.json", b"[" * 200_000 + b"]" * 200_000)
    good = _write(tmp_path, "good.json", ("{" + GOOD + "}").encode())
    with pytest.raises(CommandError) as excinfo:
        call_command("ingest", "litellm", file=[str(deep), str(good)], observed_at=OBSERVED)
    assert str(excinfo.value).startswith("deep.json: the JSON nests 200000 levels deep")
    assert list(IngestRun.objects.order_by("pk").values_list("status", flat=True)) == [
        IngestRun.Status.FAILED, IngestRun.Status.OK]
    assert set(Offering.objects.values_list("source_model_id", flat=True)) == {"good-model"}


# --- the Celery task (eager in tests) ----------------------------------------------------------------


def _store(name: str, content: bytes) -> Snapshot:
    snapshot, created = snapshot_store(source=get_source("litellm"), content=content, observed_at=OBSERVED_AT,
                                       meta=FetchMeta(filename=name))
    assert created
    return snapshot


@pytest.mark.parametrize("name", sorted(UNREADABLE))
def test_the_task_fails_an_unreadable_snapshot_with_one_line(name: str) -> None:
    make, needle = UNREADABLE[name]
    snapshot = _store(name, make())
    run_id = ingest_snapshot.delay(snapshot.pk).get()
    run = IngestRun.objects.get(pk=run_id)
    assert run.status == IngestRun.Status.FAILED
    assert "\n" not in run.message
    assert needle in run.message
    # The task re-parses a stored snapshot: its line names the file and the snapshot it is stored as.
    assert run.message.startswith(f"{name} (snapshot {snapshot.pk}): "), run.message
    snapshot.refresh_from_db()
    assert snapshot.filename == name
    assert snapshot.parse_status == Snapshot.Status.FAILED
    assert snapshot.error == run.message
    _assert_nothing_ingested()


@pytest.mark.parametrize("name", sorted(ONE_BAD_VALUE))
def test_the_task_quarantines_one_pathological_value(name: str) -> None:
    content, reason = ONE_BAD_VALUE[name]
    snapshot = _store(name, content)
    run = IngestRun.objects.get(pk=ingest_snapshot.delay(snapshot.pk).get())
    assert run.status == IngestRun.Status.OK, run.message
    assert run.rejected_count == 1
    snapshot.refresh_from_db()
    assert snapshot.parse_status == Snapshot.Status.OK
    _assert_one_bad_row_quarantined(reason)


def test_an_upload_of_a_hostile_file_fails_on_the_worker(django_capture_on_commit_callbacks) -> None:
    # snapshot_submit queues the task once the snapshot is committed, as an upload does.
    with django_capture_on_commit_callbacks(execute=True):
        snapshot = snapshot_submit(source=get_source("litellm"), content=b"[" * 200_000 + b"]" * 200_000,
                                   observed_at=OBSERVED_AT, meta=FetchMeta(filename="upload.json"))
    snapshot.refresh_from_db()
    assert snapshot.parse_status == Snapshot.Status.FAILED
    run = IngestRun.objects.get(snapshot=snapshot)
    assert run.status == IngestRun.Status.FAILED
    assert "\n" not in run.message and "the JSON nests 200000 levels deep (limit 64)" in run.message
    _assert_nothing_ingested()


def test_an_upload_with_a_nan_price_quarantines_that_row(django_capture_on_commit_callbacks) -> None:
    content, reason = ONE_BAD_VALUE["nan.json"]
    with django_capture_on_commit_callbacks(execute=True):
        snapshot = snapshot_submit(source=get_source("litellm"), content=content, observed_at=OBSERVED_AT,
                                   meta=FetchMeta(filename="nan.json"))
    snapshot.refresh_from_db()
    assert snapshot.parse_status == Snapshot.Status.OK
    _assert_one_bad_row_quarantined(reason)


def test_the_json_of_the_cases_is_what_it_claims() -> None:
    # Guard against a typo making a "bad value" file invalid JSON (which would test the wrong path).
    for content, _reason in ONE_BAD_VALUE.values():
        json.loads(content)
